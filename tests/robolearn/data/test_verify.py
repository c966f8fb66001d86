"""robolearn.data.verify: the cheap checks and the full decode find what they must, and pass good datasets."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from robolearn.data.files import ATTR_COLUMNS_GROUP, FRAME_CHUNKS_GROUP, INDEX_DATASET
from robolearn.data.metadata import DatasetError, read_meta
from robolearn.data.reader import DatasetReader
from robolearn.data.schema import META_FILE, shard_file
from robolearn.data.verify import check_dataset, missing_ranges
from tests.robolearn.data.dataset_helpers import N_EPISODES, T, write_all


def test_missing_ranges() -> None:
    assert missing_ranges([]) == []
    assert missing_ranges([0, 1, 2]) == []
    assert missing_ranges([1, 2, 5, 9]) == [(0, 0), (3, 4), (6, 8)]


def test_a_good_dataset_passes_both_checks(root: Path) -> None:
    writer = write_all(root)
    writer.pack(episodes_per_shard=4, min_episodes=4)  # one shard of 4, two loose episodes
    reader = DatasetReader(root)
    cheap = check_dataset(reader)
    assert (cheap.shards, cheap.loose, cheap.episodes, cheap.missing, cheap.decoded) == (1, 2, N_EPISODES, [], False)
    full = check_dataset(reader, decode=True)
    assert full.decoded and full.arrays == N_EPISODES * 6  # rgb, depth, actions, expert, states, object_states
    assert full.decoded_bytes > 0


def test_missing_episodes_are_ranges_but_not_in_a_recording(root: Path) -> None:
    write_all(root, indices=[0, 1, 4])
    assert check_dataset(DatasetReader(root)).missing == [(2, 3)]
    meta = read_meta(root)
    meta["exploration"] = {"mode": "planner"}  # plan record=: one index per (task, seed), sparse by design
    (root / META_FILE).write_text(json.dumps(meta))
    assert check_dataset(DatasetReader(root)).missing == []


def test_an_index_row_that_disagrees_with_its_episode_is_found_by_the_decode(root: Path) -> None:
    write_all(root).pack(episodes_per_shard=N_EPISODES)
    with h5py.File(root / shard_file(0), "r+") as f:
        table = f[INDEX_DATASET][()]
        table["length"][3] = T - 1
        f[INDEX_DATASET][...] = table
    reader = DatasetReader(root)
    check_dataset(reader)  # only each file's first episode is checked cheaply
    with pytest.raises(DatasetError, match=r"shard_00000\.h5: episode 3.*corrupt: delete it"):
        check_dataset(reader, decode=True)


def test_an_attribute_column_that_disagrees_with_its_episode(root: Path) -> None:
    write_all(root).pack(episodes_per_shard=N_EPISODES)
    with h5py.File(root / shard_file(0), "r+") as f:
        column = f[f"{ATTR_COLUMNS_GROUP}/task"]
        values = column.asstr()[()].tolist()
        values[2] = "close_drawer"
        column[...] = np.array(values, dtype=object)
    with pytest.raises(DatasetError, match=r"episode 2, attribute task: differs from the shard's episode_attrs/task"):
        check_dataset(DatasetReader(root), decode=True)


def test_a_frame_table_pointing_past_the_end_is_found_cheaply(root: Path) -> None:
    write_all(root).pack(episodes_per_shard=N_EPISODES)
    with h5py.File(root / shard_file(0), "r+") as f:
        offsets = f[f"{FRAME_CHUNKS_GROUP}/rgb/offset"]
        values = offsets[()]
        values[-1] = 1 << 40
        del f[f"{FRAME_CHUNKS_GROUP}/rgb/offset"]
        f.create_dataset(f"{FRAME_CHUNKS_GROUP}/rgb/offset", data=values)
    with pytest.raises(DatasetError, match=r"frame table frame_chunks/rgb: .*past the end"):
        check_dataset(DatasetReader(root))


def test_an_episode_without_an_array_is_found_cheaply(root: Path) -> None:
    write_all(root, indices=[0])
    with h5py.File(root / "episodes" / "ep_0000000.h5", "r+") as f:
        del f["data/ep_0000000/actions"]
    with pytest.raises(DatasetError, match=r"ep_0000000\.h5: episode 0, array actions: missing"):
        check_dataset(DatasetReader(root))
