"""robolearn.data.writer: HDF5 layout of written episodes and shards, packing, crash safety (tmp files, killed packs)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from robolearn.data.files import atomic_h5
from robolearn.data.reader import DatasetReader
from robolearn.data.schema import META_FILE, TMP_MARKER, loose_episode_file, shard_file
from robolearn.data.writer import DatasetWriter
from sim.plumbing import files as plumbing_files
from tests.robolearn.data.dataset_helpers import (
    DEAD_PID,
    N_EPISODES,
    SIZE,
    T,
    assert_same,
    make_episode,
    write_all,
)


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


def test_written_tmp_files_carry_the_marker_clean_tmp_looks_for(root: Path) -> None:
    """Files are written as ``<name>.tmp-<pid>`` (sim.plumbing.files), the marker ``clean_tmp`` looks for."""
    assert plumbing_files.TMP_MARKER == TMP_MARKER
    final = root / "episodes" / "ep_0000000.h5"
    with pytest.raises(RuntimeError, match="killed"), atomic_h5(final, durable=False) as f:
        f.attrs["x"] = 1
        assert [p.name for p in final.parent.iterdir()] == [f"{final.name}{TMP_MARKER}{os.getpid()}"]
        raise RuntimeError("killed")
    assert not list(final.parent.iterdir())


def _fill(f: h5py.File) -> None:
    rng = np.random.default_rng(0)
    g = f.create_group("data/ep_0000000")
    g.create_dataset("rgb", data=rng.integers(0, 255, (5, SIZE, SIZE, 3), np.uint8), chunks=(1, SIZE, SIZE, 3))
    g.attrs["labels"] = "[]"


@pytest.mark.parametrize("expected_bytes", [0, 1 << 40], ids=["in-memory", "straight-to-disk"])
def test_atomic_h5_writes_the_bytes_of_hdf5s_default_driver(tmp_path: Path, expected_bytes: int, monkeypatch) -> None:
    """The in-memory (core driver) file is byte for byte what h5py writes to a path; so is a file too big for
    memory (written to disk once the free space is checked: here the check is skipped)."""
    with h5py.File(tmp_path / "plain.h5", "w", libver=("v110", "latest")) as f:
        _fill(f)
    monkeypatch.setattr("robolearn.data.files.reserve_space", lambda *a: None)
    with atomic_h5(tmp_path / "atomic.h5", durable=False, expected_bytes=expected_bytes) as f:
        _fill(f)
    assert (tmp_path / "atomic.h5").read_bytes() == (tmp_path / "plain.h5").read_bytes()


def test_a_file_too_big_for_the_disk_is_an_output_error_before_hdf5_writes(root: Path, monkeypatch) -> None:
    """The space for an HDF5 file is reserved before HDF5 writes it on close: a full disk is an OutputError naming
    the episode (HDF5 itself crashed, or lost data silently, when a write failed while closing)."""

    def full(fd: int, nbytes: int, path: object) -> None:
        raise plumbing_files.output_error(OSError(28, "No space left on device"), path)

    monkeypatch.setattr("robolearn.data.files.reserve_space", full)
    with pytest.raises(plumbing_files.OutputError, match=r"^no space left on device writing .*ep_0000000\.h5; free"):
        DatasetWriter(root).write_episode(make_episode(0))
    assert not list((root / "episodes").iterdir()), "nothing half-written is left"
