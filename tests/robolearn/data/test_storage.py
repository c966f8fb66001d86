"""robolearn.data.storage: HDF5 round trip, packing, crash safety, corrupt and foreign files, resume checks."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from robolearn.data.episode import Episode
from robolearn.data.files import ATTR_COLUMNS, ATTR_COLUMNS_GROUP, FRAME_CHUNKS_GROUP
from robolearn.data.metadata import DatasetError, check_compatible, create_dataset, read_meta
from robolearn.data.reader import DatasetReader
from robolearn.data.schema import FORMAT_NAME, FORMAT_VERSION, META_FILE, loose_episode_file, shard_file
from robolearn.data.writer import DatasetWriter

T = 5  # steps per synthetic episode
SIZE = 16  # image side, pixels
N_EPISODES = 6
DEAD_PID = 99_999_999  # above Linux's pid_max (2^22): never a live process
META = {
    "seed": 100,
    "env": {"width": SIZE, "height": SIZE, "task": "open_drawer"},
    "obs": {"rgb": [SIZE, SIZE, 3]},
    "object_state_names": ["a.x", "a.y", "drawer"],
    "label_vocabulary": ["drawer"],
}


def make_episode(index: int, steps: int = T, depth: bool = True) -> Episode:
    """Frame t of episode i: red = t, green = i, blue = noise; action t = (t, i, ·, ·)."""
    rng = np.random.default_rng(index)
    rgb = np.empty((steps + 1, SIZE, SIZE, 3), np.uint8)
    rgb[..., 0] = np.arange(steps + 1)[:, None, None]
    rgb[..., 1] = index
    rgb[..., 2] = rng.integers(0, 256, (steps + 1, SIZE, SIZE))
    obs = {"rgb": rgb}
    if depth:
        obs["depth"] = rng.uniform(0.2, 3.0, (steps + 1, SIZE, SIZE)).astype(np.float32)
    actions = np.zeros((steps, 4), np.float32)
    actions[:, 0] = np.arange(steps)
    actions[:, 1] = index
    actions[:, 2:] = rng.uniform(-1, 1, (steps, 2))
    return Episode(
        index=index,
        seed=META["seed"] + index,
        task="open_drawer",
        exploration="uniform",
        obs=obs,
        actions=actions,
        expert=np.arange(steps) % 2 == 0,
        states=rng.normal(size=(steps + 1, 7)),
        object_states=rng.normal(size=(steps + 1, 3)).astype(np.float32),
        labels=[("drawer", "open", None), ("white_mug", "move", "left")],
        instructions=[f"open the drawer {index}", f"pull drawer {index}"],
        heldout_instructions=[f"slide out drawer {index}"],
        scene_params={"light": np.array([0.1, 0.2, 0.3]), "index": np.int64(index)},
    )


def assert_same(got: Episode, want: Episode) -> None:
    """Every array (in its schema dtype) and every attribute equal."""
    assert (got.index, got.seed, got.task, got.exploration) == (want.index, want.seed, want.task, want.exploration)
    assert sorted(got.obs) == sorted(want.obs)
    np.testing.assert_array_equal(got.obs["rgb"], want.obs["rgb"])
    assert got.obs["rgb"].dtype == np.uint8
    if "depth" in want.obs:
        assert got.obs["depth"].dtype == np.float16
        np.testing.assert_array_equal(got.obs["depth"], want.obs["depth"].astype(np.float16))
    np.testing.assert_array_equal(got.actions, want.actions)
    assert got.actions.dtype == np.float32
    np.testing.assert_array_equal(got.expert, want.expert)
    assert got.expert.dtype == bool
    np.testing.assert_array_equal(got.states, want.states)
    assert got.states.dtype == np.float64
    np.testing.assert_array_equal(got.object_states, want.object_states)
    assert got.labels == want.labels
    assert got.instructions == want.instructions
    assert got.heldout_instructions == want.heldout_instructions
    assert got.scene_params == json.loads(json.dumps({"light": [0.1, 0.2, 0.3], "index": want.index}))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    create_dataset(tmp_path / "ds", META)
    return tmp_path / "ds"


def write_all(root: Path, indices=range(N_EPISODES)) -> DatasetWriter:
    writer = DatasetWriter(root)
    for i in indices:
        writer.write_episode(make_episode(i))
    return writer


def test_round_trip_loose_then_packed(root: Path) -> None:
    writer = write_all(root)
    assert writer.done_indices() == set(range(N_EPISODES))
    reader = DatasetReader(root)
    assert len(reader) == N_EPISODES and reader.indices() == list(range(N_EPISODES))
    for i in range(N_EPISODES):
        assert_same(reader.episode(i), make_episode(i))

    shards = writer.pack(episodes_per_shard=4)
    assert [p.name for p in shards] == [shard_file(0), shard_file(1)]
    assert not list((root / "episodes").iterdir())  # every loose file was packed and deleted
    reader = DatasetReader(root)
    assert reader.indices() == list(range(N_EPISODES))
    np.testing.assert_array_equal(reader.lengths, [T] * N_EPISODES)
    for i in range(N_EPISODES):
        assert_same(reader.episode(i), make_episode(i))
        assert reader.file_of(i).name == shard_file(i // 4)
    attrs = reader.attrs(2)
    assert attrs["index"] == 2 and attrs["length"] == T
    assert attrs["instructions"] == ["open the drawer 2", "pull drawer 2"]
    assert reader.attrs(2, keys=["labels"]) == {"labels": [("drawer", "open", None), ("white_mug", "move", "left")]}
    assert writer.done_indices() == set(range(N_EPISODES))


def test_pack_copies_compressed_chunks_and_index_table(root: Path) -> None:
    write_all(root).pack(episodes_per_shard=10)
    with h5py.File(root / shard_file(0), "r") as f:
        table = f["index"][()]
        assert table["episode"].tolist() == list(range(N_EPISODES))
        assert table["length"].tolist() == [T] * N_EPISODES
        assert [g.decode() for g in table["group"]] == [f"data/ep_{i:07d}" for i in range(N_EPISODES)]
        rgb = f["data/ep_0000003/obs/rgb"]
        assert rgb.chunks == (1, SIZE, SIZE, 3) and rgb.compression == "gzip" and rgb.compression_opts == 4
        states = f["data/ep_0000003/states"]
        assert states.dtype == np.float64 and states.shuffle and states.compression == "gzip"
        assert f["data/ep_0000003/obs/depth"].dtype == np.float16


def test_compression_level_is_configurable(root: Path) -> None:
    DatasetWriter(root, compression_level=9).write_episode(make_episode(0))
    with h5py.File(root / loose_episode_file(0), "r") as f:
        assert f["data/ep_0000000/obs/rgb"].compression_opts == 9
    with pytest.raises(ValueError, match="compression_level"):
        DatasetWriter(root, compression_level=10)


def test_loose_and_shard_mix_with_duplicates(root: Path) -> None:
    writer = write_all(root)
    assert writer.pack(episodes_per_shard=4, min_episodes=4) == [root / shard_file(0)]  # 4, 5 stay loose
    assert sorted(p.name for p in (root / "episodes").iterdir()) == ["ep_0000004.h5", "ep_0000005.h5"]
    writer.write_episode(make_episode(1))  # a duplicate of a packed episode, as a loose file
    reader = DatasetReader(root)
    assert reader.indices() == list(range(N_EPISODES))
    assert reader.file_of(1).name == shard_file(0)  # the shard wins
    assert reader.file_of(4).name == "ep_0000004.h5"
    for i in range(N_EPISODES):
        assert_same(reader.episode(i), make_episode(i))
    assert writer.done_indices() == set(range(N_EPISODES))
    writer.pack(episodes_per_shard=4)
    assert not list((root / "episodes").iterdir())
    assert DatasetReader(root).indices() == list(range(N_EPISODES))


def test_killed_pack_keeps_every_episode_once(root: Path, tmp_path: Path) -> None:
    writer = write_all(root)
    saved = tmp_path / "saved"
    shutil.copytree(root / "episodes", saved)
    writer.pack(episodes_per_shard=4)
    # Simulate a kill after the shards were renamed into place but before the loose files were deleted,
    # plus a shard that was being written when the process died.
    for p in saved.iterdir():
        shutil.copy(p, root / "episodes" / p.name)
    (root / f"{shard_file(2)}.tmp-{DEAD_PID}").write_bytes(b"half a shard")
    (root / "episodes" / f"ep_0000009.h5.tmp-{DEAD_PID}").write_bytes(b"half an episode")
    reader = DatasetReader(root)
    assert reader.indices() == list(range(N_EPISODES))
    assert all(reader.file_of(i).name.startswith("shard_") for i in range(N_EPISODES))
    assert writer.done_indices() == set(range(N_EPISODES))
    assert writer.pack(episodes_per_shard=4) == []  # nothing new: duplicates and tmp files deleted
    assert sorted(p.name for p in root.iterdir()) == ["episodes", META_FILE, shard_file(0), shard_file(1)]
    assert not list((root / "episodes").iterdir())
    for i in range(N_EPISODES):
        assert_same(DatasetReader(root).episode(i), make_episode(i))


def test_killed_write_leaves_a_tmp_file_that_is_ignored_and_cleaned(root: Path) -> None:
    writer = write_all(root, [0, 1])
    stray = root / "episodes" / f"ep_0000002.h5.tmp-{DEAD_PID}"
    stray.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)  # an HDF5 signature and nothing else
    live = root / "episodes" / f"ep_0000003.h5.tmp-{os.getppid()}"  # a live process may still be writing
    live.write_bytes(b"")
    assert writer.done_indices() == {0, 1}
    assert DatasetReader(root).indices() == [0, 1]
    assert writer.clean_tmp() == [stray]
    assert live.exists()
    assert writer.clean_tmp(force=True) == [live]


def test_failed_write_removes_its_tmp_file(root: Path) -> None:
    ep = make_episode(0)
    ep.states = ep.states[:-1]  # T frames instead of T+1
    with pytest.raises(ValueError, match="states"):
        DatasetWriter(root).write_episode(ep)
    assert not list((root / "episodes").iterdir())
    ep = make_episode(0)
    ep.obs["segmentation"] = np.full((T + 1, SIZE, SIZE), 300, np.int32)  # does not fit uint8
    with pytest.raises(ValueError, match="segmentation"):
        DatasetWriter(root).write_episode(ep)
    assert not list((root / "episodes").iterdir())


def test_truncated_shard_is_a_clear_error(root: Path) -> None:
    write_all(root).pack(episodes_per_shard=10)
    path = root / shard_file(0)
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)
    with pytest.raises(DatasetError, match=r"shard_00000\.h5.*corrupt.*delete it.*rerun") as err:
        DatasetReader(root)
    assert str(path) in str(err.value)
    with pytest.raises(DatasetError, match=r"shard_00000\.h5"):
        DatasetWriter(root).done_indices()


def test_corrupt_loose_file_is_a_clear_error_on_access(root: Path) -> None:
    write_all(root, [0, 1])
    (root / loose_episode_file(1)).write_bytes(b"not hdf5 at all")
    reader = DatasetReader(root)  # loose files are opened lazily
    assert_same(reader.episode(0), make_episode(0))
    with pytest.raises(DatasetError, match=r"ep_0000001\.h5.*delete it"):
        reader.frames(1, "rgb", 0)


def test_foreign_folders_and_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such dataset folder"):
        DatasetReader(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="meta.json is missing"):
        DatasetReader(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / META_FILE).write_text("{not json")
    with pytest.raises(DatasetError, match="not valid JSON"):
        DatasetReader(bad)
    (bad / META_FILE).write_text(json.dumps({"format": "something-else", "format_version": 1}))
    with pytest.raises(DatasetError, match="not a robolearn dataset"):
        DatasetReader(bad)
    (bad / META_FILE).write_text(json.dumps({"format": FORMAT_NAME, "format_version": FORMAT_VERSION + 1}))
    with pytest.raises(DatasetError, match=rf"newer robolearn \(format v{FORMAT_VERSION + 1}.*upgrade"):
        DatasetReader(bad)
    with pytest.raises(DatasetError, match="newer robolearn"):
        DatasetWriter(bad)
    with pytest.raises(DatasetError, match="newer robolearn"):
        create_dataset(bad, META)


def test_foreign_hdf5_file_named_like_a_shard(root: Path) -> None:
    with h5py.File(root / shard_file(0), "w") as f:
        f["data"] = np.zeros(3)
    with pytest.raises(DatasetError, match=r"shard_00000\.h5 is not a robolearn dataset"):
        DatasetReader(root)
    with h5py.File(root / shard_file(0), "w") as f:
        f.attrs.update(format=FORMAT_NAME, format_version=FORMAT_VERSION + 1, kind="shard")
    with pytest.raises(DatasetError, match="newer robolearn"):
        DatasetReader(root)


def test_create_dataset_resume_checks(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    create_dataset(root, META)
    meta = read_meta(root)
    assert meta["format"] == FORMAT_NAME and meta["format_version"] == FORMAT_VERSION and meta["seed"] == 100
    create_dataset(root, {**META, "package_versions": {"numpy": "0"}})  # same settings: resume is fine
    assert read_meta(root) == meta  # meta.json is written once
    changed = {**META, "seed": 7, "env": {**META["env"], "width": 32}}
    with pytest.raises(DatasetError, match=r"(?s)seed: .*100.*7.*env\.width: .*16.*32.*--out") as err:
        create_dataset(root, changed)
    assert "task" not in str(err.value)
    assert not (tmp_path / "ds" / f"{META_FILE}.tmp-{os.getpid()}").exists()
    create_dataset(root, changed, resume_keys=("obs",))  # the caller chooses what must agree
    with pytest.raises(DatasetError, match=r"seed: ") as err:
        create_dataset(root, changed, resume_keys=("seed",))
    assert "env.width" not in str(err.value)


def test_check_compatible_names_missing_and_extra_keys() -> None:
    check_compatible({"seed": 1, "obs": ("rgb",)}, {"seed": 1, "obs": ["rgb"]})  # tuples equal lists
    with pytest.raises(DatasetError, match=r"obs: the existing dataset has .*missing in this run"):
        check_compatible({"seed": 1, "obs": ["rgb"]}, {"seed": 1})
    with pytest.raises(DatasetError, match=r"versions\.numpy"):
        check_compatible({"versions": {"numpy": "1"}}, {"versions": {"numpy": "2"}}, keys=None)
    check_compatible({"versions": {"numpy": "1"}}, {"versions": {"numpy": "2"}})  # not a default key


def test_create_dataset_refuses_episode_files_without_meta(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    create_dataset(root, META)
    write_all(root, [0])
    (root / META_FILE).unlink()
    with pytest.raises(DatasetError, match=r"no meta\.json.*new --out"):
        create_dataset(root, META)


def test_frame_selection(root: Path) -> None:
    write_all(root, [3])
    reader = DatasetReader(root)
    frame = reader.frames(3, "rgb", 2)
    assert frame.shape == (SIZE, SIZE, 3) and frame.dtype == np.uint8 and frame.flags.writeable
    assert frame[0, 0, 0] == 2 and frame[0, 0, 1] == 3
    assert reader.frames(3, "rgb", -1)[0, 0, 0] == T
    np.testing.assert_array_equal(reader.frames(3, "rgb", [4, 0, 4])[:, 0, 0, 0], [4, 0, 4])
    np.testing.assert_array_equal(reader.frames(3, "rgb", slice(1, 4))[:, 0, 0, 0], [1, 2, 3])
    np.testing.assert_array_equal(reader.frames(3, "rgb"), make_episode(3).obs["rgb"])
    assert reader.frames(3, "rgb", []).shape == (0, SIZE, SIZE, 3)
    depth = reader.frames(3, "depth", [0, 5])  # float16 + shuffle: the generic read path
    np.testing.assert_array_equal(depth, make_episode(3).obs["depth"][[0, 5]].astype(np.float16))
    np.testing.assert_array_equal(reader.read(3, "actions", slice(1, 3))[:, 0], [1, 2])
    with pytest.raises(IndexError):
        reader.frames(3, "rgb", T + 1)
    with pytest.raises(DatasetError, match=r"no 'obs/segmentation' \(observations stored: depth, rgb\)"):
        reader.frames(3, "segmentation", 0)
    with pytest.raises(KeyError, match="episode 4"):
        reader.frames(4, "rgb", 0)


def test_reader_reopens_files_after_fork(root: Path) -> None:
    write_all(root).pack(episodes_per_shard=4)
    reader = DatasetReader(root)
    reader.frames(0, "rgb", 1)  # the parent has open handles
    ctx = __import__("multiprocessing").get_context("fork")
    with ctx.Pool(1) as pool:
        got = pool.apply(_child_read, (reader,))
    assert got == [(i, i) for i in range(N_EPISODES)]
    assert reader.frames(5, "rgb", 0)[0, 0, 1] == 5  # the parent's handles still work


def _child_read(reader: DatasetReader) -> list[tuple[int, int]]:
    return [(i, int(reader.frames(i, "rgb", 0)[0, 0, 1])) for i in reader.indices()]


def test_shard_tables_and_their_fallbacks(root: Path) -> None:
    """Frames via a shard's frame chunk table and attributes via its columns equal the HDF5 data, and a
    shard without them (written by other code) reads the same through HDF5."""
    write_all(root).pack(episodes_per_shard=10)
    path = root / shard_file(0)
    with h5py.File(path, "r") as f:
        assert f[f"{FRAME_CHUNKS_GROUP}/rgb/start"][()].tolist() == [i * (T + 1) for i in range(N_EPISODES + 1)]
        assert "depth" not in f[FRAME_CHUNKS_GROUP]  # float16 + shuffle: not a raw-deflate frame
        assert sorted(f[ATTR_COLUMNS_GROUP]) == sorted(ATTR_COLUMNS)
        direct = {i: f[f"data/ep_{i:07d}/obs/rgb"][()] for i in range(N_EPISODES)}
    keys = [*ATTR_COLUMNS, "index", "length"]

    def check() -> None:
        reader = DatasetReader(root)
        for i in range(N_EPISODES):
            np.testing.assert_array_equal(reader.frames(i, "rgb"), direct[i])
            np.testing.assert_array_equal(reader.frames(i, "rgb", [T, 0, -2]), direct[i][[T, 0, T - 1]])
            assert reader.attrs(i, keys) == {k: v for k, v in reader.attrs(i).items() if k in keys}
            assert reader.attrs(i, ["instructions", "seed"]) == {
                "instructions": make_episode(i).instructions,
                "seed": META["seed"] + i,
            }
        with pytest.raises(IndexError):
            reader.frames(0, "rgb", T + 1)

    check()
    with h5py.File(path, "a") as f:
        del f[FRAME_CHUNKS_GROUP], f[ATTR_COLUMNS_GROUP]
    check()


def test_small_arrays_read_whole(root: Path) -> None:
    write_all(root, [2])
    reader = DatasetReader(root)
    want = make_episode(2)
    np.testing.assert_array_equal(reader.read(2, "actions"), want.actions)
    np.testing.assert_array_equal(reader.read(2, "actions", -1), want.actions[-1])
    np.testing.assert_array_equal(reader.read(2, "expert", [3, 0]), want.expert[[3, 0]])
    np.testing.assert_array_equal(reader.read(2, "states", slice(2, None)), want.states[2:])
    with pytest.raises(IndexError):
        reader.read(2, "actions", T)
