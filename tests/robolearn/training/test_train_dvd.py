"""`robolearn train dvd` / `eval dvd` on synthetic clips (coloured shapes; the label is the motion's direction): a
tiny model learns held-out same-task pairs, stays exactly symmetric, ranks done > partial > failed, resumes to the
same weights, and refuses a resume on another split; the evaluation writes its table and figure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest
import torch

from rewards.dvd import DVDConfig, DVDReward, load_model
from robolearn.cli import main
from robolearn.config import ConfigError
from robolearn.training.dvd_data import ClipSet, Pool
from robolearn.training.eval_dvd import DVDEvalSettings, run_eval_dvd
from robolearn.training.train_dvd import (
    DVDTrainOptions,
    DVDTrainSettings,
    attempt_groups,
    augment,
    read_data,
    run_train_dvd,
    state_coverage,
    supcon_loss,
)
from tests.rewards.dvd.synthetic import concat, make_clips

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MODEL = {
    "image_size": 32,
    "num_frames": 4,
    "cnn_channels": [8, 16, 32],
    "norm_groups": 4,
    "frame_dim": 32,
    "embed_dim": 32,
    "progress_dim": 16,
    "state_names": ["x", "y"],
    "state_dim": 16,
}


@pytest.fixture(scope="module")
def sets() -> dict[str, ClipSet]:
    """Robot demos of three directions (not "down": seen only in human videos), two human actors doing all four,
    failures and partial attempts; an evaluation set with a held-out actor ("ring") and held-out variants."""
    return {
        "robot": concat(
            "robot",
            make_clips(
                96,
                1,
                actors=("square",),
                labels=("left", "right", "up"),
                outcomes=("done", "done", "failed", "partial"),
            ),
        ),
        "human": concat("human", make_clips(160, 2, actors=("disk", "cross"), outcomes=("done", "done", "failed"))),
        "eval": concat(
            "eval",
            make_clips(48, 5, actors=("square",), outcomes=("done", "partial", "failed", "pretending")),
            make_clips(24, 6, actors=("square",), variant="new_viewpoint"),
            make_clips(24, 7, actors=("ring",)),
        ),
    }


def settings(out: Path, **over: Any) -> DVDTrainSettings:
    cfg: dict[str, Any] = {
        "data": ["robot"],
        "human_data": ["human"],
        "out": str(out),
        "steps": 60,
        "batch_size": 16,
        "eval_every": 30,
        "checkpoint_every": 30,
        "torch_threads": 1,
        "progress_bar": False,
        "warmup_steps": 10,
        "val_fraction": 0.25,
        "augment_shift": 2,  # the synthetic shapes are a few pixels of a 32-pixel frame: small moves only
        "augment_zoom": 0.0,
        "augment_rotate": 0.0,
        "reward": dict(MODEL),
        **over,
    }
    return DVDTrainSettings.from_config(cfg)


def loader(sets: Mapping[str, ClipSet]) -> Any:
    return lambda root, frames, size: sets[str(root)]


def _square_clip(side: int) -> torch.Tensor:
    """One uint8 clip (1, 2, 32, 32, 3): a white ``side``-pixel square centred on black, in both frames."""
    x = torch.zeros(1, 2, 32, 32, 3, dtype=torch.uint8)
    lo = 16 - side // 2
    x[:, :, lo : lo + side, lo : lo + side] = 255
    return x


def test_hard_negatives_are_grouped_by_the_label_they_attempted() -> None:
    # a pretended opening is labelled as pretending but attempted open_drawer: a hard negative of open_drawer
    infos = [SimpleNamespace(behaviour="open_drawer"), SimpleNamespace(behaviour="poke"), SimpleNamespace()]
    labels = ["Pretending to open something", "Pretending to poke something", "close_drawer"]
    pool = SimpleNamespace(infos=infos, labels=np.array(labels, dtype=object))
    groups = attempt_groups(cast(Pool, pool), np.arange(3), {"open_drawer", "close_drawer"})
    assert {k: v.tolist() for k, v in groups.items()} == {
        "open_drawer": [0],
        "Pretending to poke something": [1],
        "close_drawer": [2],
    }


def test_state_coverage_names_the_clips_and_states_the_head_learns_from() -> None:
    nan = np.nan
    states = np.array([[0.1, 0.0], [nan, 0.2], [0.0, 0.3]], dtype=np.float32)
    line = state_coverage(states, ("drawer", "button"))
    assert line.startswith("state head: 2 of 3 training clips record all 2") and "none records" not in line
    # imported videos record no states: the line says the head learns nothing and how to drop it
    line = state_coverage(np.full((4, 2), nan, np.float32), ("drawer", "button"))
    assert "0 of 4" in line and "none records drawer, button" in line and "reward.state_names=[]" in line


def test_infonce_can_keep_robot_clips_from_being_compared_with_each_other() -> None:
    model = DVDReward(DVDConfig(**MODEL), seed=0)
    e = torch.randn(4, MODEL["embed_dim"], generator=torch.Generator().manual_seed(3))
    codes = torch.tensor([0, 0, 1, 1])  # two robot clips of one label, two human clips of another
    robot = torch.tensor([True, True, False, False])
    none = torch.zeros(0, MODEL["embed_dim"])
    owner = torch.zeros(0, dtype=torch.int64)
    with torch.no_grad():
        kept = supcon_loss(model, e, codes, none, owner)
        apart = supcon_loss(model, e, codes, none, owner, robot)
        sim = model.similarity_matrix(e, e)

    # apart, the robot rows have no positive left (their only one is the other robot clip) and drop out; each human
    # row's positive is the other human row, its negatives both robot rows
    def row(i: int, j: int) -> torch.Tensor:
        others = [k for k in range(4) if k != i]
        return -(sim[i, j] - torch.logsumexp(sim[i, others], 0))

    assert torch.allclose(apart, (row(2, 3) + row(3, 2)) / 2, atol=1e-6)
    assert torch.allclose(kept, (row(0, 1) + row(1, 0) + row(2, 3) + row(3, 2)) / 4, atol=1e-6)


def test_augmentation_zooms_rotates_and_shifts_whole_clips() -> None:
    plain = DVDTrainOptions(augment_shift=0, augment_color=0.0, augment_zoom=0.0, augment_rotate=0.0)
    clip = _square_clip(8)
    out = augment(clip, plain, torch.Generator().manual_seed(0))
    assert torch.equal(out, clip.float() / 255)  # nothing asked, nothing changed
    areas = []
    for seed in range(20):
        z = augment(
            clip,
            DVDTrainOptions(augment_shift=0, augment_color=0.0, augment_zoom=0.4, augment_rotate=0.0),
            torch.Generator().manual_seed(seed),
        )
        assert torch.allclose(z[:, 0], z[:, 1])  # one transform per clip, all its frames alike
        assert z[0, 0, 16, 16].min() > 0.99  # zoomed about the centre: the centre stays on the square
        areas.append(float(z[0, 0, ..., 0].sum()))
    # the square's area is 64 px² scaled by zoom² with zoom in [0.6, 1.4]: both smaller and larger squares appear
    assert min(areas) < 0.7 * 64 and max(areas) > 1.4 * 64 and max(areas) < 1.5**2 * 64
    r = augment(
        _square_clip(12),
        DVDTrainOptions(augment_shift=0, augment_color=0.0, augment_zoom=0.0, augment_rotate=45.0),
        torch.Generator().manual_seed(3),
    )
    rotated = r[0, 0, ..., 0].numpy() > 0.5
    # a rotated square is no longer axis-aligned: its bounding box holds clearly more than its own area
    rows, cols = np.flatnonzero(rotated.any(1)), np.flatnonzero(rotated.any(0))
    box = (rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1)
    assert box > 1.3 * rotated.sum()
    s = augment(
        clip,
        DVDTrainOptions(augment_shift=3, augment_color=0.0, augment_zoom=0.01, augment_rotate=0.0),
        torch.Generator().manual_seed(5),
    )
    i = augment(
        clip,
        DVDTrainOptions(augment_shift=3, augment_color=0.0, augment_zoom=0.0, augment_rotate=0.0),
        torch.Generator().manual_seed(5),
    )
    # the same draws with a tiny zoom added move the clip almost exactly as the shift alone
    assert (s - i).abs().amax() < 0.2 and not torch.equal(i, clip.float() / 255)


def test_trains_symmetric_reward_that_generalises(tmp_path: Path, sets: dict[str, ClipSet]) -> None:
    summary = run_train_dvd(settings(tmp_path / "run"), echo=False, load=loader(sets))
    assert summary["step"] == 60 and summary["best_val_auc"] > 0.9
    assert summary["vocabulary"]["robot_labels"] == ["left", "right", "up"]
    model = load_model(tmp_path / "run" / "best.pt")
    assert model.vocabulary.human_only_labels == ("down",) and model.vocabulary.actors == ("cross", "disk")
    a, b = torch.from_numpy(sets["eval"].frames[:20]), torch.from_numpy(sets["eval"].frames[20:40])
    with torch.no_grad():
        assert torch.equal(model(a, b), model(b, a))
        model.eval()
        predicted = model.state_changes(model.embed(sets["eval"].frames)).numpy()
    # the state head reads the motion of held-out clips (held-out actor, variant and robot "down" included)
    for j, name in enumerate(("x", "y")):
        assert np.corrcoef(predicted[:, j], sets["eval"].state_change[name])[0, 1] > 0.6, name

    es = DVDEvalSettings.from_config(
        {
            "checkpoint": str(tmp_path / "run" / "best.pt"),
            "data": ["robot", "human", "eval"],
            "torch_threads": 1,
            "out": str(tmp_path / "report"),
        }
    )
    report = run_eval_dvd(es, echo=False, load=loader(sets))
    auc = {r["split"]: r["auc"] for r in report["splits"]}
    assert set(auc) == {"robot-robot", "robot-human", "held-out actor", "variant new_viewpoint", "human-only tasks"}
    for split in ("robot-human", "held-out actor", "human-only tasks"):
        assert auc[split] > 0.85, (split, auc)
    assert report["ranking_overall"] > 0.8
    for row in report["ranking"]:
        assert row["mean_score"]["done"] > row["mean_score"]["failed"]
    for path in report["files"].values():
        assert Path(path).stat().st_size > 0
    assert "| robot-human |" in Path(report["files"]["md"]).read_text()
    assert json.loads(Path(report["files"]["json"]).read_text())["head"] == "symmetric"


def test_resume_gives_the_same_weights_and_refuses_another_split(tmp_path: Path, sets: dict[str, ClipSet]) -> None:
    load = loader(sets)
    fast = {"steps": 8, "eval_every": 4, "checkpoint_every": 4, "val_pairs": 50}
    run_train_dvd(settings(tmp_path / "whole", **fast), echo=False, load=load)
    run_train_dvd(settings(tmp_path / "parts", **{**fast, "steps": 4}), echo=False, load=load)
    summary = run_train_dvd(settings(tmp_path / "parts", **fast), echo=False, load=load)
    assert summary["start_step"] == 4 and summary["step"] == 8
    whole = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)["state_dict"]
    parts = torch.load(tmp_path / "parts" / "last.pt", weights_only=True)["state_dict"]
    for k in whole:
        assert torch.equal(whole[k], parts[k]), k
    with pytest.raises(ConfigError, match=r"another data split \(seed: 0 != 1") as e:
        run_train_dvd(settings(tmp_path / "parts", **{**fast, "seed": 1}), echo=False, load=load)
    assert "\n" not in str(e.value)


def test_robot_only_uses_the_same_robot_clips(tmp_path: Path, sets: dict[str, ClipSet]) -> None:
    mixed = read_data(settings(tmp_path / "a"), loader(sets), lambda _: None)
    alone = read_data(settings(tmp_path / "b", robot_only=True), loader(sets), lambda _: None)
    assert alone.train.sources == [src for src, r in zip(mixed.train.sources, mixed.train.robot) if r]
    assert alone.vocabulary.human_only_labels == () and alone.vocabulary.actors == ()


def test_robot_only_reward_is_measured_on_the_same_splits(tmp_path: Path, sets: dict[str, ClipSet]) -> None:
    """A robot-only reward never reads the human clips, yet its evaluation uses the training datasets' actors and
    labels: the same splits as the reward trained with human videos, which generalises better across domains."""
    fast = {"steps": 30, "eval_every": 30, "checkpoint_every": 30}
    reports = {}
    for name, over in (("mixed", {}), ("robot", {"robot_only": True})):
        run_train_dvd(settings(tmp_path / name, **fast, **over), echo=False, load=loader(sets))
        es = DVDEvalSettings.from_config(
            {
                "checkpoint": str(tmp_path / name / "best.pt"),
                "data": ["robot", "human", "eval"],
                "torch_threads": 1,
                "out": str(tmp_path / f"report_{name}"),
            }
        )
        reports[name] = run_eval_dvd(es, echo=False, load=loader(sets))
    splits = {name: {r["split"]: r for r in rep["splits"]} for name, rep in reports.items()}
    assert set(splits["robot"]) == set(splits["mixed"]) >= {"robot-human", "held-out actor", "human-only tasks"}
    assert reports["robot"]["human_only_labels"] == ["down"] and reports["robot"]["protocol_actors"] == [
        "cross",
        "disk",
    ]
    assert splits["mixed"]["robot-human"]["auc"] > splits["robot"]["robot-human"]["auc"]


def test_bad_settings_and_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="human_fraction=2"):
        settings(tmp_path / "x", human_fraction=2)
    with pytest.raises(ConfigError, match="list a folder twice"):
        settings(tmp_path / "x", human_data=["robot"])
    with pytest.raises(ConfigError, match="reward: DVDConfig.head"):
        settings(tmp_path / "x", reward={"head": "nope"})
    assert main(["eval", "dvd", f"checkpoint={tmp_path / 'missing.pt'}", f"out={tmp_path}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("robolearn eval: error: no DVD reward checkpoint at") and "\n" not in err
    assert main(["train", "dvd", "--help"]) == 0
    assert "train_dvd.yaml" in capsys.readouterr().out
