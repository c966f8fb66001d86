"""robolearn.training: structured-label training items, the LOReL training loop, resume, evaluation.

One small dataset is collected for the module (expert-heavy exploration, so that every task happens),
one reward is trained on it for about a minute, and the other tests reuse both.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from robolearn.cli import EXIT_USAGE, main
from robolearn.config import ConfigError, compose_config
from robolearn.data.collect import CollectSettings, run_collect
from robolearn.data.labels import DO_NOTHING, hindsight_labels
from robolearn.data.loader import SampleKey, split_episodes
from robolearn.data.reader import DatasetReader
from robolearn.training.reward_data import (
    NEGATIVE_KINDS,
    POSITIVE,
    LabelIndex,
    NegativeWeights,
    RewardPairDataset,
    dataset_thresholds,
)
from robolearn.training.train_reward import AugmentSettings, TrainSettings, augment_pair, run_train
from tests.conftest import CollectDataset

# Every test here collects data and trains a reward model (minutes on 2 cores).
pytestmark = pytest.mark.slow

EPISODES = 300  # small, but with expert-heavy exploration every task happens several times
STEPS = 20  # actions per episode (LOReL: 20); fewer leave the expert too little time to finish furniture tasks
SIZE = 48  # image side (pixels): 32 is too coarse to see a 4 cm mug push, 64 is slower to render
COLLECT = [
    f"episodes={EPISODES}",
    "env.obs_keys=[rgb,proprio]",
    f"env.width={SIZE}",
    f"env.height={SIZE}",
    f"env.max_episode_steps={STEPS}",
    "workers=2",
    "chunk_episodes=10",
    "progress_bar=false",
    "exploration.uniform=0.0",
    "exploration.correlated=0.0",
    "exploration.reach=0.3",
    "exploration.expert_mix=0.7",
]
# Settings shared by every training run here: small images, small batches, no progress bars.
TRAIN = [
    f"reward.image_size={SIZE}",
    "progress_bar=false",
    "num_workers=0",
    "torch_threads=2",
    "instruction_pool=40",
    "val_fraction=0.2",
]
# The module's reward trains for a fixed number of steps (not a wall-time budget), so that its result,
# and therefore the assertions, do not depend on how loaded the machine is: ~30 s on 2 free cores.
TRAIN_STEPS = 600
MIN_VAL_AUC = 0.8  # validation items: positives vs all negative kinds, hard ones included (measured 0.85)
MIN_EVAL_SEEN_AUC = 0.7  # eval protocol: (s0, s_T) of held-out episodes, seen phrasings (measured 0.78)


def train_settings(data: Path, out: Path, *overrides: str) -> TrainSettings:
    return TrainSettings.from_config(compose_config("train", [f"data={data}", f"out={out}", *TRAIN, *overrides]))


@pytest.fixture(scope="module")
def data(collect_dataset: CollectDataset) -> Path:
    return collect_dataset(COLLECT)


@pytest.fixture(scope="module")
def trained(data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("reward") / "run"
    summary = run_train(
        train_settings(
            data,
            out,
            f"steps={TRAIN_STEPS}",
            "batch_size=64",
            "lr=1e-3",
            "warmup_steps=50",
            "eval_every=200",
            "val_items=512",
        ),
        echo=False,
    )
    return out, summary


# ---------------------------------------------------------------------------------------- sampling
def test_negatives_never_show_the_instructed_change(data: Path) -> None:
    """Every item's target equals "the pair shows the instructed change", recomputed from raw states."""
    reader = DatasetReader(data)
    train, _ = split_episodes(reader.indices(), 0.2, 0)
    ds = RewardPairDataset(reader, train, seed=0, negatives=NegativeWeights(attempted=0.1))
    names, th = reader.meta["object_state_names"], dataset_thresholds(reader)
    states = {e: reader.read(e, "object_states") for e in train}
    kinds: Counter[str] = Counter()
    intermediate = 0
    for i in range(3000):
        v, row, t0, t1, kind, target, _ = ds.sample(SampleKey(0, 0, i))
        episode = int(ds.index.episodes[row])
        traj = states[episode]
        path = traj[t0 : t1 + 1] if t1 >= t0 else traj[t1 : t0 + 1][::-1]
        shown = ds.index.vocab[v] in hindsight_labels(names, traj[t0], traj[t1], th, trajectory=path)
        assert shown == (target == 1.0), (kind, episode, t0, t1, ds.index.vocab[v])
        assert (kind == POSITIVE) == (target == 1.0)
        assert t0 == 0 or kind == "reversed"  # s0 is the episode's first frame except for reversed pairs
        if kind == "attempted":  # a failure of an episode that was told to do this very task
            assert reader.attrs(episode)["task"] == ds.tasks[ds.labels.index(v)], (episode, ds.index.vocab[v])
        kinds[kind] += 1
        intermediate += kind == POSITIVE and t1 < len(traj) - 1
    assert set(kinds) == {POSITIVE, *NEGATIVE_KINDS}, kinds
    assert 0.4 < kinds[POSITIVE] / 3000 < 0.6
    assert intermediate > 0.2 * kinds[POSITIVE]  # positives are not only last frames


def test_failed_attempts_alone_train_as_attempted_negatives(data: Path) -> None:
    """A planner's recordings in which every attempt failed (episodes whose task's label never happened) are
    refused without ``negatives.attempted`` and otherwise give only "attempted" negatives of the task tried."""
    reader = DatasetReader(data)
    tried = [
        e
        for e in reader.indices()
        if reader.attrs(e)["task"] == "open_drawer"
        and [tuple(label) for label in reader.attrs(e)["labels"]] == [DO_NOTHING]
    ]
    index = LabelIndex(reader, tried)  # keep the episodes in which no task label holds at any frame
    happened = set().union(*(set(index.rows_with[v].tolist()) for v in index.task_ids))
    failed = [int(e) for row, e in enumerate(index.episodes) if row not in happened]
    assert len(failed) >= 3
    with pytest.raises(ValueError, match="negatives.attempted"):
        RewardPairDataset(reader, failed, seed=0)
    ds = RewardPairDataset(reader, failed, seed=0, negatives=NegativeWeights(attempted=0.2))
    assert ds.attempts_only and ds.tasks == ["open_drawer"]
    items = [ds.sample(SampleKey(0, 0, i)) for i in range(200)]
    assert {(kind, target) for *_, kind, target, _ in items} == {("attempted", 0.0)}
    assert {int(ds.index.episodes[row]) for _, row, *_ in items} <= set(failed)


def test_items_are_keyed_and_balanced_over_tasks(data: Path) -> None:
    reader = DatasetReader(data)
    ds = RewardPairDataset(reader, seed=0, instruction_pool=10)
    a, b = ds[SampleKey(0, 3, 5)], ds[SampleKey(0, 3, 5)]
    assert torch.equal(a["s0"], b["s0"]) and torch.equal(a["st"], b["st"]) and a["instruction"] == b["instruction"]
    assert a["s0"].shape == (3, SIZE, SIZE) and a["s0"].dtype == torch.uint8
    tasks = Counter(ds.sample(SampleKey(0, 0, i))[0] for i in range(3000))
    assert len(tasks) == len(ds.labels) >= 10  # the expert-heavy data has most tasks
    assert max(tasks.values()) < 2 * min(tasks.values())  # balanced over labels, not over episodes


def test_negative_weights_select_kinds(data: Path) -> None:
    only = NegativeWeights(other_episode=0, reversed=0, opposite=1, wrong_object=0, no_change=0, incomplete=0)
    ds = RewardPairDataset(DatasetReader(data), seed=0, negatives=only)
    kinds = Counter(ds.sample(SampleKey(0, 0, i))[4] for i in range(1000))
    # The button has no opposite change: its negatives fall back to other_episode.
    assert set(kinds) <= {POSITIVE, "opposite", "other_episode"} and kinds["opposite"] > kinds["other_episode"]


def test_augmentation_moves_both_frames_together() -> None:
    g = torch.Generator().manual_seed(0)
    s0 = torch.randint(0, 256, (8, 3, 16, 16), dtype=torch.uint8)
    a, b = augment_pair(s0, s0.clone(), AugmentSettings(shift=3, brightness=0.2, contrast=0.2), g)
    assert a.dtype == torch.uint8 and a.shape == s0.shape
    assert torch.equal(a, b) and not torch.equal(a, s0)  # same transform for both frames of a pair


# ---------------------------------------------------------------------------------------- training
def test_trained_reward_separates_heldout_positives_from_negatives(trained: tuple[Path, dict]) -> None:
    out, summary = trained
    assert summary["best_val_auc"] > MIN_VAL_AUC, summary
    assert (out / "last.pt").is_file() and (out / "best.pt").is_file() and (out / "summary.json").is_file()
    assert any((out / "tb").iterdir())  # TensorBoard events


def test_resume_continues_from_the_saved_step_exactly(data: Path, tmp_path: Path) -> None:
    from rewards.lorel import load_checkpoint

    # A constant learning rate makes the 10 + 10 run and the 20-step run the same computation.
    common = (
        "batch_size=16",
        "val_items=32",
        "eval_every=5",
        "checkpoint_every=5",
        "warmup_steps=0",
        "min_lr_fraction=1.0",
    )
    first = run_train(train_settings(data, tmp_path / "a", "steps=10", *common), echo=False)
    resumed = run_train(train_settings(data, tmp_path / "a", "steps=20", *common), echo=False)
    full = run_train(train_settings(data, tmp_path / "b", "steps=20", *common), echo=False)
    assert resumed["start_step"] == 10 and resumed["step"] == 20
    # the best validation value (and so best.pt) carries over a resume instead of restarting from scratch
    assert resumed["best_val_auc"] >= first["best_val_auc"]
    assert (resumed["best_val_auc"], resumed["best_step"]) == (full["best_val_auc"], full["best_step"])
    (ma, sa), (mb, sb) = load_checkpoint(tmp_path / "a" / "last.pt"), load_checkpoint(tmp_path / "b" / "last.pt")
    assert sa["step"] == sb["step"] == 20
    for (k, va), vb in zip(ma.state_dict().items(), mb.state_dict().values()):
        assert torch.equal(va, vb), k
    # last.pt resumes, so it keeps the optimizer's moments; best.pt is the model to use or ship: weights only
    _, best = load_checkpoint(tmp_path / "a" / "best.pt")
    assert sa["optimizer"]["state"] and best["optimizer"] is None
    assert (tmp_path / "a" / "best.pt").stat().st_size < 0.6 * (tmp_path / "a" / "last.pt").stat().st_size


def test_same_seed_same_scores_other_seed_other_scores(data: Path, tmp_path: Path) -> None:
    from rewards.lorel import load_model

    common = ("steps=8", "batch_size=16", "val_items=32", "eval_every=8")
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        run_train(train_settings(data, tmp_path / name, f"seed={seed}", *common), echo=False)
    frames = torch.from_numpy(DatasetReader(data).frames(0, "rgb", slice(None))).permute(0, 3, 1, 2)
    scores = {n: load_model(tmp_path / n / "last.pt").score(frames[0], frames, "open the drawer") for n in "abc"}
    assert torch.equal(scores["a"], scores["b"])
    assert not torch.equal(scores["a"], scores["c"])


def test_a_changed_model_setting_refuses_to_resume(data: Path, tmp_path: Path) -> None:
    run_train(train_settings(data, tmp_path, "steps=2", "batch_size=8", "val_items=16"), echo=False)
    with pytest.raises(ConfigError, match="other model settings.*fusion"):
        run_train(
            train_settings(data, tmp_path, "steps=4", "batch_size=8", "val_items=16", "reward.fusion=late"), echo=False
        )


# ------------------------------------------------------------------------------- predicted frames
def small_video_model(seed: int = 0, **overrides):
    from planners.video.model import VideoConfig, VideoModel

    return VideoModel(
        VideoConfig(
            image_size=SIZE,
            encoder_channels=(8, 16),
            latent_channels=16,
            transition_hidden=32,
            action_embed=16,
            **overrides,
        ),
        seed=seed,
    ).eval()


def test_prediction_inputs_are_what_a_planner_starts_from(data: Path) -> None:
    reader = DatasetReader(data)
    horizon = 5
    ds = RewardPairDataset(reader, reader.indices(), seed=0, predict_horizon=horizon, context_frames=2)
    seen_kinds = Counter()
    for i in range(80):
        item = ds[SampleKey(0, 0, i)]
        again = ds[SampleKey(0, 0, i)]
        assert again["pred_steps"] == item["pred_steps"] and torch.equal(again["actions"], item["actions"])
        n = item["pred_steps"]
        if item["t0"] != 0:
            assert item["kind"] == "reversed" and n == 0, "a reversed pair is no future of its s0"
            continue
        seen_kinds[item["kind"]] += 1
        t1, ep = item["t1"], item["episode"]
        assert 1 <= n <= min(horizon, t1)
        k = t1 - n
        frames = torch.from_numpy(reader.frames(ep, "rgb", slice(0, t1 + 1))).permute(0, 3, 1, 2)
        assert torch.equal(item["context"][1], frames[k]) and torch.equal(item["context"][0], frames[max(0, k - 1)])
        real = torch.from_numpy(reader.read(ep, "actions", slice(k, t1)).astype(np.float32))
        assert torch.equal(item["actions"][:n], real) and not item["actions"][n:].any(), "zero-padded after t1"
    assert seen_kinds[POSITIVE] > 10 and len(seen_kinds) >= 4


def test_predicted_targets_are_the_models_prediction_of_that_frame(data: Path) -> None:
    from robolearn.training.predicted_frames import predict_targets, prediction_mask

    reader = DatasetReader(data)
    ds = RewardPairDataset(reader, reader.indices(), seed=0, predict_horizon=6, context_frames=2)
    items = [it for it in (ds[SampleKey(0, 0, i)] for i in range(40)) if it["pred_steps"] > 0][:12]
    model = small_video_model()
    steps = torch.tensor([it["pred_steps"] for it in items])
    assert steps.unique().numel() > 1, "the batch mixes horizons"
    got = predict_targets(
        model, torch.stack([it["context"] for it in items]), torch.stack([it["actions"] for it in items]), steps
    )
    assert got.dtype == torch.uint8 and got.shape == (len(items), 3, SIZE, SIZE)
    for row, it in zip(got, items):
        n = it["pred_steps"]
        want = model.predict(it["context"], it["actions"][None, :n], steps=[-1])[0, 0]
        assert (row.float() - want * 255).abs().max() <= 0.5 + 1e-3
    mask = prediction_mask(torch.tensor([0, 3, 2, 1] * 50), 0.5, seed=0, step=7)
    assert not mask[::4].any(), "items with nothing to predict keep their real frame"
    assert 0.35 < mask.float().mean() / 0.75 < 0.65
    assert torch.equal(mask, prediction_mask(torch.tensor([0, 3, 2, 1] * 50), 0.5, seed=0, step=7))


def test_predictions_of_a_proprioception_model_start_from_the_robots_state(data: Path, tmp_path: Path) -> None:
    from planners.video.checkpoint import save_checkpoint
    from robolearn.training.predicted_frames import predict_targets

    reader = DatasetReader(data)
    ds = RewardPairDataset(reader, reader.indices(), seed=0, predict_horizon=6, context_frames=2, context_proprio=True)
    items = [it for it in (ds[SampleKey(0, 0, i)] for i in range(40)) if it["pred_steps"] > 0][:8]
    for it in items:  # the proprioception at the context's last frame k = t1 − pred_steps
        k = it["t1"] - it["pred_steps"]
        assert torch.equal(it["proprio"], torch.from_numpy(reader.read(it["episode"], "obs/proprio", k)))
    model = small_video_model(proprio_dim=14)
    with torch.no_grad():  # make the untrained model's prediction depend on the robot's state
        for p in model.transition.parameters():
            p.normal_(0, 0.3, generator=torch.Generator().manual_seed(0))
        model.decoder.head.bias[5] = 4.0
    stack = lambda key: torch.stack([it[key] for it in items])  # noqa: E731
    got = predict_targets(
        model, stack("context"), stack("actions"), torch.tensor([it["pred_steps"] for it in items]), stack("proprio")
    )
    for row, it in zip(got, items):
        want = model.predict(it["context"], it["actions"][None, : it["pred_steps"]], steps=[-1], proprio=it["proprio"])
        assert (row.float() - want[0, 0] * 255).abs().max() <= 0.5 + 1e-3
    # and reward training reads the proprioception for such a model
    video = save_checkpoint(tmp_path / "video.pt", model)
    summary = run_train(
        train_settings(
            data,
            tmp_path / "ft",
            "steps=1",
            "batch_size=8",
            "val_items=32",
            f"predicted_frames.video_checkpoint={video}",
        ),
        echo=False,
    )
    assert "auc_predicted" in summary["val"]


def test_training_on_predicted_frames_from_a_checkpoint(trained: tuple[Path, dict], data: Path, tmp_path: Path) -> None:
    from planners.video.checkpoint import save_checkpoint

    video = save_checkpoint(tmp_path / "video.pt", small_video_model())
    best = trained[0] / "best.pt"
    summary = run_train(
        train_settings(
            data,
            tmp_path / "ft",
            "steps=2",
            "batch_size=16",
            "val_items=256",
            "lr=1e-9",
            "warmup_steps=0",
            f"init_from={best}",
            f"predicted_frames.video_checkpoint={video}",
        ),
        echo=False,
    )
    val = summary["val"]
    # lr ≈ 0: the run starts from (and stays at) the trained weights, far above a fresh model's chance AUC
    assert val["auc"] > MIN_VAL_AUC - 0.1
    # an untrained video model's predictions are noise: the real frames' reward cannot read them
    assert "auc_predicted" in val and val["auc_predicted"] < val["auc"] - 0.05
    with pytest.raises(ConfigError, match="init_from=.*embed_dim"):
        run_train(
            train_settings(
                data,
                tmp_path / "bad",
                "steps=2",
                "batch_size=8",
                "val_items=16",
                "reward.embed_dim=64",
                f"init_from={best}",
            ),
            echo=False,
        )


# -------------------------------------------------------------------------- extra data (aggregation)
@pytest.fixture(scope="module")
def other_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second, smaller dataset of the same env and another seed: stands in for recorded planner episodes."""
    out = tmp_path_factory.mktemp("reward") / "other"
    run_collect(
        CollectSettings.from_config(compose_config("collect", [f"out={out}", *COLLECT, "episodes=40", "seed=7"])),
        echo=False,
    )
    return out


def test_extra_data_is_mixed_into_batches_by_the_fraction(data: Path, other_data: Path) -> None:
    from robolearn.training.mixing import MixedItems, draw_source

    main_ds, other_ds = RewardPairDataset(data, seed=0), RewardPairDataset(other_data, seed=0)
    mixed = MixedItems(main_ds, [other_ds], [len(main_ds.index), len(other_ds.index)], extra_fraction=0.3)
    keys = [SampleKey(0, step, j) for step in range(60) for j in range(8)]
    sources = [draw_source(k, mixed.sizes, 0.3)[0] for k in keys]
    assert 0.24 < np.mean(sources) < 0.36 and set(sources) == {0, 1}
    # an item is its source's own item for the key: labels hold in the dataset it came from
    for k in keys[:24]:
        item = mixed[k]
        ds = other_ds if item["source"] else main_ds
        assert item["episode"] in ds.index.episodes
        assert torch.equal(item["st"], ds[k]["st"]) and item["instruction"] == ds[k]["instruction"]
    # without extra data, the items are the ones an unmixed run draws
    plain = MixedItems(main_ds, [], [len(main_ds.index)], extra_fraction=0.5)
    assert all(plain[k]["instruction"] == main_ds[k]["instruction"] and plain[k]["source"] == 0 for k in keys[:16])


def test_training_with_extra_data_validates_on_it_and_refuses_another_mix(
    data: Path, other_data: Path, tmp_path: Path
) -> None:
    common = ("batch_size=16", "val_items=64", "eval_every=10", f"extra_data=[{other_data}]", "extra_fraction=0.25")
    summary = run_train(train_settings(data, tmp_path / "mix", "steps=10", *common), echo=False)
    counts = summary["extra_data"][str(other_data)]
    assert counts["train"] + counts["val"] == 40 and counts["val"] > 0
    by_source = summary["items_by_source"]
    assert set(by_source) == {"main", str(other_data)} and sum(by_source.values()) == 160
    assert 0.1 < by_source[str(other_data)] / 160 < 0.4
    val = summary["val"]  # best.pt is chosen by the AUC mixed as the batches are
    assert val["auc"] == pytest.approx(0.75 * val["main_auc"] + 0.25 * val["extra"]["auc"])
    with pytest.raises(ConfigError, match=r"extra_fraction: 0.25 != 0.5"):
        run_train(train_settings(data, tmp_path / "mix", "steps=12", *common[:-1], "extra_fraction=0.5"), echo=False)
    with pytest.raises(ConfigError, match=r"extra_data: \[.*\] != \[\]"):
        run_train(train_settings(data, tmp_path / "mix", "steps=12", *common[:3]), echo=False)


def test_bad_extra_data_is_a_one_line_error(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wide = tmp_path / "wide"
    run_collect(
        CollectSettings.from_config(
            compose_config("collect", [f"out={wide}", *COLLECT, "episodes=2", "env.width=16", "env.height=16"])
        ),
        echo=False,
    )
    base = ["train", f"data={data}", f"out={tmp_path / 'run'}", *TRAIN, "steps=2", "batch_size=8"]
    for extra, message in (
        ([f"extra_data=[{wide}]"], "16×16"),
        ([f"extra_data=[{data}]"], "repeats data"),
        ([f"extra_data=[{tmp_path / 'none'}]"], "no such dataset folder"),
        (["extra_data=[x]", "extra_fraction=0"], "extra_fraction=0.0 is out of range; use a value in (0, 1)"),
    ):
        assert main([*base, *extra]) == EXIT_USAGE, extra
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


# ------------------------------------------------------------------------------------------ eval
def test_eval_reports_tasks_and_rephrasings(
    trained: tuple[Path, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = trained
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "yank the drawer open: open_drawer\nplease give the white mug a push to the left: move_white_mug_left\n"
    )
    code = main(
        [
            "eval",
            f"checkpoint={out / 'best.pt'}",
            f"instructions={mine}",
            f"out={tmp_path}",
            "phrasings=2",
            "progress_bar=false",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    for title in ("Held-out pairs", "Rephrasing", "unseen verb", "free-form", "Your phrasings", "yank the drawer"):
        assert title in text
    report = json.loads((tmp_path / "eval_best.json").read_text())
    assert report["categories"] == ["seen", "unseen_verb", "unseen_noun", "unseen_verb_noun", "freeform", "custom"]
    assert report["seen"]["auc"] > MIN_EVAL_SEEN_AUC, report["seen"]
    assert all(report["rephrasing"][c] is not None for c in report["categories"][:5])
    assert (tmp_path / "eval_best.csv").read_text().startswith("task,category,phrasing")


def test_eval_scores_equal_the_models_score_pairs(trained: tuple[Path, dict], data: Path) -> None:
    """The evaluation encodes each pair once and re-runs only the head per phrasing: same numbers."""
    from rewards.lorel import load_model
    from robolearn.training.eval_reward import _head_scores, _pair_features

    model = load_model(trained[0] / "best.pt")
    reader = DatasetReader(data)
    pairs = torch.from_numpy(np.stack([reader.frames(e, "rgb", (0, -1)) for e in range(16)])).permute(0, 1, 4, 2, 3)
    s0, st = pairs[:, 0].contiguous(), pairs[:, 1].contiguous()
    ours = _head_scores(model, _pair_features(model, s0, st, batch=5), "open the drawer")
    torch.testing.assert_close(ours, model.score_pairs(s0, st, ["open the drawer"] * 16), atol=1e-5, rtol=1e-4)


def test_unknown_task_in_an_instruction_file_lists_the_valid_tasks(
    trained: tuple[Path, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"open it": "open_the_drawer"}))
    assert main(["eval", f"checkpoint={trained[0] / 'best.pt'}", f"instructions={bad}"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "unknown task(s) ['open_the_drawer']" in err and "close_drawer" in err and err[-1] == "\n"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("lr=-1", "lr=-1.0 is out of range; use a value > 0"),
        ("batch_size=1", "batch_size=1 is out of range; use an integer ≥ 2"),
        ("val_fraction=1.5", "val_fraction=1.5 is out of range; use a value in (0, 1)"),
        ("negatives.reversed=-0.5", "negatives.reversed=-0.5 is out of range; use a value ≥ 0"),
        ("augment.shift=2.5", "augment.shift=2.5 must be a whole number"),
        ("reward.fusion=mid", "fusion='mid' is not allowed; choose from early | late"),
        ("data=/nonexistent/folder", "no such dataset folder"),
    ],
)
def test_bad_train_config_is_a_one_line_error(
    override: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", f"out={tmp_path}", "data=/nonexistent/folder", override]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_eval_needs_a_checkpoint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval"]) == EXIT_USAGE
    assert "checkpoint=PATH is required" in capsys.readouterr().err
