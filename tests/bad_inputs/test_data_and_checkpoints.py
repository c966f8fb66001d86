"""Bad datasets and checkpoints: corrupted, truncated, deleted, mismatched; every verb that reads them answers in
one line naming the file (and the episode, array or kind) and the fix, never a traceback or a wrong result.

The datasets are copies of a tiny collected one (``collect_dataset``), damaged in ``tmp_path``; the checkpoints
are the shipped ones, tiny video models built here, and damaged copies of both.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import h5py
import pytest
import torch

from robolearn.cli import main
from robolearn.paths import SHIPPED_DIR
from tests.bad_inputs.conftest import BadApi, BadCli
from tests.conftest import CollectDataset

SHARD = "shard_00000.h5"
#: the tiny dataset: 4 desk episodes of 20 steps, RGB only (no proprioception), one shard
TINY = ("episodes=4", "workers=1", "progress_bar=false")
#: 6 episodes in 3 shards of 2
SHARDED = ("episodes=6", "workers=1", "progress_bar=false", "storage.episodes_per_shard=2")
VIDEO = SHIPPED_DIR / "video_model.pt"
REWARD = SHIPPED_DIR / "lorel_reward.pt"
POLICY = SHIPPED_DIR / "lcbc_policy.pt"
COUNTER_VIDEO = SHIPPED_DIR / "counter_video_model.pt"
#: plan options that load no reward model (no sentence encoder): the failures below come from the video model
NO_REWARD = ("objective=goal_image", "video.path=null", "task=open_drawer")


@pytest.fixture(scope="module")
def tiny(collect_dataset: CollectDataset) -> Path:
    return collect_dataset(TINY)


def copy(src: Path, tmp_path: Path, name: str = "ds") -> Path:
    dst = tmp_path / name
    shutil.copytree(src, dst)
    return dst


def flip(path: Path, offset: int, n: int = 8) -> None:
    """Invert ``n`` bytes of a file at ``offset`` (a bit rot of the disk)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        data = f.read(n)
        f.seek(offset)
        f.write(bytes(b ^ 0xFF for b in data))


def flip_frame(shard: Path, frame: int) -> None:
    """Damage the compressed chunk of one RGB frame (numbered across the shard) in its middle."""
    with h5py.File(shard, "r") as f:
        table = f["frame_chunks/rgb"]
        offset, size = int(table["offset"][frame]), int(table["nbytes"][frame])
    flip(shard, offset + size // 2)


def flip_array(shard: Path, episode: int, name: str) -> None:
    with h5py.File(shard, "r") as f:
        info = f[f"data/ep_{episode:07d}/{name}"].id.get_chunk_info(0)
    flip(shard, info.byte_offset + info.size // 2)


def edit_meta(root: Path, **changes: object) -> None:
    meta = json.loads((root / "meta.json").read_text())
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    (root / "meta.json").write_text(json.dumps(meta))


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


def video_checkpoint(path: Path, **config: object) -> Path:
    """A tiny video model (2 ms to build) saved as a checkpoint, with ``config`` overrides."""
    from planners.video import VideoConfig, VideoModel
    from planners.video.checkpoint import save_checkpoint

    small = {"encoder_channels": (4,), "latent_channels": 4, "transition_hidden": 4, "action_embed": 4}
    return save_checkpoint(path, VideoModel(VideoConfig(**{**small, "proprio_dim": 0, **config})))


def truncated(src: Path, dst: Path, keep: int = 4000) -> Path:
    dst.write_bytes(src.read_bytes()[:keep])
    return dst


# ---------------------------------------------------------------------------------------------- data info
def test_info_verify_names_the_episode_and_array_of_a_flipped_frame(
    bad_cli: BadCli, tiny: Path, tmp_path: Path
) -> None:
    ds = copy(tiny, tmp_path)
    flip_frame(ds / SHARD, 30)  # episode 1's frame 9 (21 frames per episode)
    bad_cli(["data", "info", str(ds), "--verify"], SHARD, "episode 1", "obs/rgb", "corrupt", "rerun the same collect")


def test_info_verify_finds_a_flipped_actions_chunk(bad_cli: BadCli, tiny: Path, tmp_path: Path) -> None:
    ds = copy(tiny, tmp_path)
    flip_array(ds / SHARD, 2, "actions")
    bad_cli(["data", "info", str(ds), "--verify"], SHARD, "episode 2", "array actions", "delete it")


def test_info_without_verify_says_it_did_not_decode(
    capsys: pytest.CaptureFixture[str], tiny: Path, tmp_path: Path
) -> None:
    ds = copy(tiny, tmp_path)
    flip_frame(ds / SHARD, 30)
    assert main(["data", "info", str(ds)]) == 0  # the headers are fine: nothing cheap can see a flipped chunk
    out = " ".join(capsys.readouterr().out.split())
    assert "not decoded" in out and "--verify" in out and "1 shard" in out


def test_info_verify_of_a_good_dataset_says_what_it_decoded(capsys: pytest.CaptureFixture[str], tiny: Path) -> None:
    assert main(["data", "info", str(tiny), "--verify"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "verified: every array of the 4 episodes decoded" in out


@pytest.mark.parametrize("verb", [["data", "info"], ["data", "show"], ["train", "dynamics"], ["collect"]])
def test_a_truncated_shard_is_named_by_every_verb(bad_cli: BadCli, tiny: Path, tmp_path: Path, verb: list[str]) -> None:
    ds = copy(tiny, tmp_path)
    with open(ds / SHARD, "r+b") as f:
        f.truncate((ds / SHARD).stat().st_size // 2)
    argv = {
        "info": [*verb, str(ds)],
        "show": [*verb, str(ds), "-o", str(tmp_path / "sheet.png")],
        "dynamics": [*verb, f"data={ds}", f"out={tmp_path / 'run'}", "steps=1"],
        "collect": [*verb, f"out={ds}", *TINY],
    }[verb[-1]]
    bad_cli(argv, SHARD, "truncated", "rerun the same collect command")


def test_a_shard_missing_from_the_middle_is_reported(
    capsys: pytest.CaptureFixture[str], bad_cli: BadCli, collect_dataset: CollectDataset, tmp_path: Path
) -> None:
    ds = copy(collect_dataset(SHARDED), tmp_path)
    (ds / "shard_00001.h5").unlink()
    assert main(["data", "info", str(ds)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "warning: episodes 2–3 are missing (2 of 6)" in out and "regenerate" in out
    bad_cli(["data", "info", str(ds), "--verify"], "episodes 2–3 are missing", "rerun the collect command")


def test_collect_regenerates_the_episodes_of_a_deleted_shard(
    capsys: pytest.CaptureFixture[str], collect_dataset: CollectDataset, tmp_path: Path
) -> None:
    ds = copy(collect_dataset(SHARDED), tmp_path)
    (ds / "shard_00001.h5").unlink()
    assert main(["collect", f"out={ds}", *SHARDED]) == 0
    assert "collected 2 episodes" in capsys.readouterr().out
    assert main(["data", "info", str(ds), "--verify"]) == 0


@pytest.mark.parametrize("verb", ["show", "train"])
def test_a_dataset_whose_shards_were_all_deleted_holds_no_episodes(
    bad_cli: BadCli, tiny: Path, tmp_path: Path, verb: str
) -> None:
    ds = copy(tiny, tmp_path)
    (ds / SHARD).unlink()
    argv = (
        ["data", "show", str(ds), "-o", str(tmp_path / "s.png")]
        if verb == "show"
        else ["train", "dynamics", f"data={ds}", f"out={tmp_path / 'run'}", "steps=1"]
    )
    bad_cli(argv, str(ds), "holds no episodes", "robolearn collect out=")


def test_a_group_missing_from_a_shard_is_found_without_decoding(bad_cli: BadCli, tiny: Path, tmp_path: Path) -> None:
    ds = copy(tiny, tmp_path)
    with h5py.File(ds / SHARD, "r+") as f:
        del f["data/ep_0000001"]
    bad_cli(["data", "info", str(ds)], SHARD, "episode 1", "delete it")


# ---------------------------------------------------------------------------------------------- meta.json
@pytest.mark.parametrize(
    ("change", "needles"),
    [
        ({"observations": [1, 2]}, ("meta.json", "observations is [1, 2]", "not a mapping")),
        ({"seed": "zero"}, ("meta.json", "seed is 'zero'", "not an integer")),
        ({"env": "desk"}, ("meta.json", "env is 'desk'", "collect the dataset again")),
        ({"object_state_names": [1, 2]}, ("object_state_names holds 1",)),
        ({"observations": {"rgb": {"shape": [64, -1, 3], "dtype": "uint8"}}}, ("observations.rgb.shape",)),
        ({"observations": {"rgb": {"shape": [64, 64, 3], "dtype": "pixels"}}}, ("observations.rgb.dtype", "'pixels'")),
        ({"format": None}, ("not a robolearn dataset", "it has no format")),
        ({"format_version": "1"}, ("invalid format_version '1'",)),
    ],
    ids=[
        "observations-list",
        "seed-str",
        "env-str",
        "names-ints",
        "shape-negative",
        "dtype-unknown",
        "no-format",
        "version-str",
    ],
)
def test_meta_json_of_the_wrong_types(
    bad_cli: BadCli, tiny: Path, tmp_path: Path, change: dict[str, object], needles: tuple[str, ...]
) -> None:
    ds = copy(tiny, tmp_path)
    edit_meta(ds, **change)
    bad_cli(["data", "info", str(ds)], *needles)


def test_meta_json_that_is_not_json(bad_cli: BadCli, tiny: Path, tmp_path: Path) -> None:
    ds = copy(tiny, tmp_path)
    (ds / "meta.json").write_text('{"format": "robolearn-episodes", ')
    bad_cli(["train", "dynamics", f"data={ds}", f"out={tmp_path / 'run'}"], "meta.json is not valid JSON")


def test_meta_json_that_lists_other_frames_than_the_files(bad_cli: BadCli, tiny: Path, tmp_path: Path) -> None:
    ds = copy(tiny, tmp_path)
    edit_meta(ds, observations={"rgb": {"shape": [32, 32, 3], "dtype": "uint8"}})
    bad_cli(["data", "info", str(ds)], SHARD, "obs/rgb", "(21, 64, 64, 3)", "(21, 32, 32, 3)", "meta.json")


def test_meta_json_without_observations_still_shows(tiny: Path, tmp_path: Path) -> None:
    ds = copy(tiny, tmp_path)
    edit_meta(ds, observations=None)
    assert main(["data", "show", str(ds), "-e", "0", "-o", str(tmp_path / "sheet.png")]) == 0  # read from the file


def test_meta_json_without_the_names_reward_labels_need(bad_api: BadApi, tiny: Path, tmp_path: Path) -> None:
    from robolearn.data.metadata import DatasetError
    from robolearn.data.reader import DatasetReader
    from robolearn.training.reward_data import LabelIndex

    ds = copy(tiny, tmp_path)
    edit_meta(ds, object_state_names=None)
    bad_api(lambda: LabelIndex(DatasetReader(ds)), DatasetError, "meta.json has no 'object_state_names'", "collect")


def test_plan_refuses_a_damaged_record_folder_before_planning(bad_cli: BadCli, tiny: Path, tmp_path: Path) -> None:
    ds = copy(tiny, tmp_path)
    (ds / "meta.json").write_text("[")
    bad_cli(["plan", "objective=oracle", "task=open_drawer", f"record={ds}"], "record=", "meta.json is not valid JSON")


def test_eval_of_a_checkpoint_whose_training_data_is_gone(bad_cli: BadCli, tmp_path: Path) -> None:
    from sim.plumbing.checkpoints import write_atomic

    path = video_checkpoint(tmp_path / "video.pt")
    data = torch.load(path, weights_only=True)
    data["extra"] = {"config": {"data": str(tmp_path / "gone")}}
    write_atomic(path, data)
    bad_cli(["eval", f"checkpoint={path}"], "was trained on", "gone", "pass data=FOLDER")


# ---------------------------------------------------------------------------------------------- collect
def test_collect_fewer_episodes_than_held_leaves_the_dataset_untouched(
    capsys: pytest.CaptureFixture[str], tiny: Path, tmp_path: Path
) -> None:
    ds = copy(tiny, tmp_path)
    before = digest(ds)
    assert main(["collect", f"out={ds}", "episodes=2", "workers=1", "progress_bar=false"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "already holds 4 episodes, more than episodes=2: none collected" in out
    assert "raise episodes= above 4" in out and "another out=" in out
    assert digest(ds) == before


# ---------------------------------------------------------------------------------------------- checkpoints
@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Damaged checkpoint files: truncated copies of the shipped video model and reward, an empty file, a folder."""
    root = tmp_path_factory.mktemp("damaged")
    (root / "empty.pt").write_bytes(b"")
    (root / "run").mkdir()
    torch.save({"not": "a checkpoint"}, root / "run" / "best.pt")
    return {
        "video": truncated(VIDEO, root / "video.pt"),
        "reward": truncated(REWARD, root / "reward.pt"),
        "empty": root / "empty.pt",
        "folder": root / "run",
    }


@pytest.mark.parametrize(
    ("which", "needles"),
    [
        ("video", ("video-model checkpoint that cannot be read", "truncated", "robolearn train dynamics")),
        ("reward", ("reward checkpoint that cannot be read", "truncated", "robolearn train`")),
        ("empty", ("empty (0 bytes)", "give a reward checkpoint")),
        ("folder", ("is a folder", "best.pt")),
    ],
)
def test_eval_names_the_kind_of_a_damaged_checkpoint(
    bad_cli: BadCli, tiny: Path, damaged: dict[str, Path], which: str, needles: tuple[str, ...]
) -> None:
    bad_cli(["eval", f"checkpoint={damaged[which]}", f"data={tiny}"], str(damaged[which]), *needles)


def test_eval_on_damaged_frames_names_the_shard_and_episode(bad_cli: BadCli, tiny: Path, tmp_path: Path) -> None:
    ds = copy(tiny, tmp_path)
    for frame in range(4 * 21):  # every frame of the 4 episodes
        flip_frame(ds / SHARD, frame)
    model = video_checkpoint(tmp_path / "video.pt")
    bad_cli(
        ["eval", f"checkpoint={model}", f"data={ds}", "max_episodes=all"], SHARD, "cannot read episode", "delete it"
    )


def test_eval_of_a_video_model_on_data_without_proprioception(bad_cli: BadCli, tiny: Path) -> None:
    answer = bad_cli(["eval", f"checkpoint={VIDEO}", f"data={tiny}"], "no proprioception", "proprio_dim=14")
    assert "frames" not in answer.message  # not "no held-out episode has 12 frames": they have 21


@pytest.mark.parametrize(
    ("option", "path", "needles"),
    [
        ("dynamics_model", REWARD, ("not a robolearn video-model checkpoint: it is a reward checkpoint",)),
        ("dynamics_model", POLICY, ("it is a policy checkpoint", "robolearn train dynamics")),
        ("reward_checkpoint", VIDEO, ("not a robolearn reward checkpoint: it is a video-model checkpoint",)),
    ],
    ids=["reward-as-video", "policy-as-video", "video-as-reward"],
)
def test_plan_refuses_a_checkpoint_of_another_kind(
    bad_cli: BadCli, option: str, path: Path, needles: tuple[str, ...]
) -> None:
    extra = ["objective=lorel", f"dynamics_model={VIDEO}"] if option == "reward_checkpoint" else []
    bad_cli(["plan", *NO_REWARD, *extra, f"{option}={path}"], path.name, *needles)


def test_demo_names_a_truncated_reward_given_as_video_model(bad_cli: BadCli, damaged: dict[str, Path]) -> None:
    bad_cli(
        ["demo", "open the drawer", f"dynamics_model={damaged['reward']}"],
        "not a robolearn video-model checkpoint: it is a reward checkpoint",
        "truncated",
    )


@pytest.mark.parametrize("option", ["dynamics_model", "reward_checkpoint"])
def test_plan_given_a_folder_names_the_checkpoints_inside(
    bad_cli: BadCli, damaged: dict[str, Path], option: str
) -> None:
    bad_cli(["plan", *NO_REWARD, f"{option}={damaged['folder']}"], f"{option}=", "is a folder", "best.pt")


@pytest.mark.parametrize(
    ("config", "needles"),
    [
        ({"image_size": 32}, ("takes 32x32 images", "env renders 64x64", "env.width=32")),
        ({"action_dim": 3}, ("3-D actions", "4-D")),
        ({"proprio_dim": 7}, ("7-D proprioception", "env=desk has 14-D")),
    ],
    ids=["image-size", "action-dim", "proprio-dim"],
)
def test_plan_checks_the_video_model_fits_the_env_before_planning(
    bad_cli: BadCli, tmp_path: Path, config: dict[str, object], needles: tuple[str, ...]
) -> None:
    path = video_checkpoint(tmp_path / "video.pt", **config)
    bad_cli(["plan", *NO_REWARD, f"dynamics_model={path}"], "dynamics_model=", *needles)


def test_demo_checks_the_counter_video_model_against_the_desk(bad_cli: BadCli) -> None:
    bad_cli(["demo", "open the drawer", f"dynamics_model={COUNTER_VIDEO}"], "11-D proprioception", "14-D")


def test_plan_in_the_counter_with_the_desk_video_model(bad_cli: BadCli) -> None:
    bad_cli(
        ["plan", "env=counter", "objective=lorel", f"reward_checkpoint={REWARD}", f"dynamics_model={VIDEO}"],
        "14-D proprioception",
        "env=counter has 11-D",
    )


def test_a_checkpoint_whose_weights_do_not_fit_its_config(bad_cli: BadCli, tmp_path: Path) -> None:
    from sim.plumbing.checkpoints import write_atomic

    path = video_checkpoint(tmp_path / "video.pt")
    data = torch.load(path, weights_only=True)
    name = next(iter(data["state_dict"]))
    data["state_dict"][name] = torch.zeros(3, 3)  # an edited file: a tensor of another shape
    write_atomic(path, data)
    bad_cli(["plan", *NO_REWARD, f"dynamics_model={path}"], "do not fit the VideoModel", f"shape mismatch: {name}")


def test_a_checkpoint_with_an_invalid_config(bad_cli: BadCli, tmp_path: Path) -> None:
    from sim.plumbing.checkpoints import write_atomic

    path = video_checkpoint(tmp_path / "video.pt")
    data = torch.load(path, weights_only=True)
    data["config"]["wings"] = 2
    write_atomic(path, data)
    bad_cli(["plan", *NO_REWARD, f"dynamics_model={path}"], "invalid VideoConfig", "wings")


@pytest.mark.parametrize(
    ("agent", "spec", "needles"),
    [
        ("lcbc", f"agent_specs.lcbc.checkpoint={VIDEO}", ("agent 'lcbc'", "it is a video-model checkpoint")),
        (
            "vmpc_goal_image",
            f"agent_specs.vmpc_goal_image.plan.dynamics_model={COUNTER_VIDEO}",
            ("agent 'vmpc_goal_image'", "11-D proprioception", "14-D"),
        ),
    ],
    ids=["video-as-policy", "counter-video-at-the-desk"],
)
def test_bench_checks_every_agent_before_any_episode(
    bad_cli: BadCli, tmp_path: Path, agent: str, spec: str, needles: tuple[str, ...]
) -> None:
    bad_cli(["bench", f"agents=[{agent}]", "trials=1", "workers=1", f"out={tmp_path / 'b'}", spec], *needles)
    assert not (tmp_path / "b" / "episodes.jsonl").exists()


def test_resuming_from_a_truncated_last_checkpoint(bad_cli: BadCli, tiny: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    truncated(VIDEO, run / "last.pt")
    bad_cli(
        ["train", "dynamics", f"data={tiny}", f"out={run}", "steps=1"],
        "cannot resume from",
        "last.pt",
        "truncated",
        "delete it to start the run over",
    )


@pytest.mark.parametrize(
    ("source", "needles"),
    [
        (VIDEO, ("other model settings", "proprio_dim: 14 != 0", "set dynamics.proprio_dim=14")),
        (REWARD, ("init_from=", "it is a reward checkpoint")),
    ],
    ids=["other-config", "other-kind"],
)
def test_init_from_a_checkpoint_that_does_not_fit(
    bad_cli: BadCli, tiny: Path, tmp_path: Path, source: Path, needles: tuple[str, ...]
) -> None:
    bad_cli(["train", "dynamics", f"data={tiny}", f"out={tmp_path / 'run'}", f"init_from={source}"], *needles)


# ---------------------------------------------------------------------------------------------- plumbing
def test_sniff_format_reads_the_kind_of_a_truncated_file(damaged: dict[str, Path]) -> None:
    from sim.plumbing.checkpoints import peek_format, sniff_format

    assert sniff_format(damaged["video"]) == peek_format(damaged["video"]) == "robolearn.dynamics"
    assert sniff_format(damaged["reward"]) == "robolearn.reward"
    assert sniff_format(damaged["empty"]) is None and sniff_format(damaged["folder"]) is None


def test_an_error_raised_in_a_dataloader_worker_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from torch.utils.data import DataLoader, Dataset

    from robolearn.cli import _error
    from robolearn.data.metadata import DatasetError

    class Damaged(Dataset[int]):
        def __len__(self) -> int:
            return 2

        def __getitem__(self, i: int) -> int:
            raise DatasetError(f"{tmp_path}/shard_00000.h5: cannot read episode {i} (inflate: bad); delete it")

    def load() -> Iterator[int]:
        yield from DataLoader(Damaged(), num_workers=1)

    with pytest.raises(DatasetError) as info:
        list(load())
    assert "Traceback" in str(info.value)  # torch's re-raise carries the worker's traceback...
    _error("train", str(info.value))
    assert capsys.readouterr().err == (  # ...which the command line leaves out
        f"robolearn train: error: {tmp_path}/shard_00000.h5: cannot read episode 0 (inflate: bad); delete it\n"
    )
