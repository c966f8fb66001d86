"""robolearn.data.reader: round trip, loose/shard mix, frame selection, fast-path tables and fallbacks, corrupt files, fork."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from robolearn.data.files import ATTR_COLUMNS, ATTR_COLUMNS_GROUP, FRAME_CHUNKS_GROUP
from robolearn.data.metadata import DatasetError
from robolearn.data.reader import DatasetReader
from robolearn.data.schema import FORMAT_NAME, FORMAT_VERSION, loose_episode_file, shard_file
from robolearn.data.writer import DatasetWriter
from tests.robolearn.data.dataset_helpers import (
    META,
    N_EPISODES,
    SIZE,
    T,
    assert_same,
    make_episode,
    write_all,
)


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


def test_foreign_hdf5_file_named_like_a_shard(root: Path) -> None:
    with h5py.File(root / shard_file(0), "w") as f:
        f["data"] = np.zeros(3)
    with pytest.raises(DatasetError, match=r"shard_00000\.h5 is not a robolearn dataset"):
        DatasetReader(root)
    with h5py.File(root / shard_file(0), "w") as f:
        f.attrs.update(format=FORMAT_NAME, format_version=FORMAT_VERSION + 1, kind="shard")
    with pytest.raises(DatasetError, match="newer robolearn"):
        DatasetReader(root)


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
