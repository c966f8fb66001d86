"""The clip format: clips are episodes with a ``clip`` attribute in a dataset whose meta declares them;
``ClipReader``, ``ClipInfo.label``, ``load_clips``, and interaction datasets left exactly as they were."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from robolearn.data.files import ATTR_COLUMNS_GROUP
from robolearn.data.inspect import dataset_info
from robolearn.data.metadata import DatasetError, create_dataset
from robolearn.data.reader import DatasetReader
from robolearn.data.videos import ClipReader, load_clips
from robolearn.data.videos.clip import clip_attr, clip_episode, clip_label, template_class
from robolearn.data.videos.frames import even_indices, fit_square
from robolearn.data.videos.importers import clips_meta
from robolearn.data.writer import DatasetWriter
from tests.robolearn.data.dataset_helpers import META, make_episode

S = 16  # stored frame side
T1 = 9  # frames per stored clip
CLIPS = [  # (template, task, actor, outcome)
    ("Opening [something]", "open_drawer", "hand", "done"),
    ("Opening [something]", "open_cabinet", "stick", "done"),
    ("Pretending to open [something] without actually opening it", None, "hand", "pretending"),
    ("Opening [something]", "open_drawer", "panda", "partial"),
    ("Moving [something] away from the camera", None, "planar_arm", "done"),
]


def _frames(i: int) -> np.ndarray:
    """Frame t of clip i: red = 10 t, green = i."""
    f = np.zeros((T1, S, S, 3), np.uint8)
    f[..., 0] = (10 * np.arange(T1))[:, None, None]
    f[..., 1] = i
    return f


def write_clip_dataset(root: Path, packed: bool = True) -> Path:
    create_dataset(root, clips_meta({"source": "rendered", "seed": 0}, S, ["drawer"]))
    writer = DatasetWriter(root)
    for i, (template, task, actor, outcome) in enumerate(CLIPS):
        attr = clip_attr(
            template=template,
            placeholders=["drawer"],
            task=task,
            actor=actor,
            is_robot=actor == "panda",
            outcome=outcome,
            variant="train",
            source="rendered",
            progress=np.linspace(0, 1, T1),
            behaviour=task or "pretend_open_drawer",
            # the last clip names its own object state (a clip's info overrides the dataset's names)
            info={"camera": {"fov": 50.0 + i}, **({"object_state_names": ["button"]} if i == 4 else {})},
        )
        states = np.linspace(0.0, 0.01 * i, T1, dtype=np.float32)[:, None]  # the drawer opens by 0.01·i m
        actions = np.ones((T1 - 1, 4), np.float32) if actor == "panda" else None
        writer.write_episode(clip_episode(i, 100 + i, _frames(i), attr, states, actions))
    if packed:
        writer.pack()
    return root


@pytest.mark.parametrize("packed", [True, False])
def test_clips_round_trip(tmp_path: Path, packed: bool) -> None:
    root = write_clip_dataset(tmp_path / "clips", packed)
    reader = ClipReader(root)
    assert len(reader) == len(CLIPS) and reader.indices() == list(range(len(CLIPS)))
    labels = [reader.info(i).label for i in reader.indices()]
    # the desk task where there is one (drawer and cabinet apart), else the template's class
    assert labels == [
        "open_drawer",
        "open_cabinet",
        "Pretending to open something without actually opening it",
        "open_drawer",
        "Moving something away from the camera",
    ]
    info = reader.info(3)
    assert (info.actor, info.is_robot, info.outcome, info.source, info.variant) == (
        "panda",
        True,
        "partial",
        "rendered",
        "train",
    )
    assert info.placeholders == ("drawer",) and info.template == "Opening [something]"
    assert info.progress is not None and info.progress.dtype == np.float32
    np.testing.assert_allclose(info.progress, np.linspace(0, 1, T1), atol=1e-6)
    assert info.info == {"camera": {"fov": 53.0}}
    np.testing.assert_array_equal(reader.frames(2), _frames(2))
    np.testing.assert_array_equal(reader.frames(2, [0, 8]), _frames(2)[[0, 8]])
    ep = reader.dataset.episode(3)
    assert ep.actions.shape == (T1 - 1, 4) and ep.expert.all()
    assert reader.dataset.episode(0).actions.shape == (T1 - 1, 0)  # an actor has no action space
    assert ep.clip is not None and ep.clip["actor"] == "panda"


def test_packed_shard_holds_a_clip_column(tmp_path: Path) -> None:
    root = write_clip_dataset(tmp_path / "clips")
    with h5py.File(root / "shard_00000.h5", "r") as f:
        assert "clip" in f[ATTR_COLUMNS_GROUP]


def test_interaction_episodes_store_no_clip(tmp_path: Path) -> None:
    """An episode without a clip writes exactly what it wrote before the clip format: no attribute, no column."""
    create_dataset(tmp_path / "ds", META)
    writer = DatasetWriter(tmp_path / "ds")
    path = writer.write_episode(make_episode(0))
    with h5py.File(path, "r") as f:
        assert "clip" not in f["data/ep_0000000"].attrs
    writer.write_episode(make_episode(1))
    (shard,) = writer.pack()
    with h5py.File(shard, "r") as f:
        assert "clip" not in f[ATTR_COLUMNS_GROUP]
    assert DatasetReader(tmp_path / "ds").episode(1).clip is None


def test_clip_reader_refuses_an_interaction_dataset(tmp_path: Path) -> None:
    create_dataset(tmp_path / "ds", META)
    with pytest.raises(DatasetError, match='does not declare "content": "clips"'):
        ClipReader(tmp_path / "ds")


def test_load_clips_resamples_and_resizes(tmp_path: Path) -> None:
    a = write_clip_dataset(tmp_path / "a")
    b = write_clip_dataset(tmp_path / "b", packed=False)
    table = load_clips([a, b], num_frames=5, image_size=8)
    assert table.frames.shape == (10, 5, 8, 8, 3) and table.frames.dtype == np.uint8
    assert table.dataset.tolist() == [0] * 5 + [1] * 5
    # frames 0, 2, 4, 6, 8 of 9 (even spacing, first and last kept): red 0, 20, ..., 80 (flat frames resize exactly)
    np.testing.assert_array_equal(table.frames[7, :, 3, 3, 0], [0, 20, 40, 60, 80])
    assert table.frames[7, 0, 0, 0, 1] == 2  # green = the clip's index in its dataset
    np.testing.assert_allclose(table.progress[0], [0, 0.25, 0.5, 0.75, 1.0], atol=1e-6)
    assert table.labels[:2] == ["open_drawer", "open_cabinet"]
    robot = table.select([i.is_robot for i in table.infos])
    assert len(robot) == 2 and robot.frames.shape == (2, 5, 8, 8, 3)
    # each state's change from the first frame to the last, under the clip's own names (NaN where not recorded)
    drawer, button = table.state_change["drawer"], table.state_change["button"]
    np.testing.assert_allclose(drawer[[0, 1, 2, 3, 5, 8]], [0, 0.01, 0.02, 0.03, 0, 0.03], atol=1e-6)
    assert np.isnan(drawer[[4, 9]]).all() and np.isnan(button[:4]).all()
    np.testing.assert_allclose(button[[4, 9]], [0.04, 0.04], atol=1e-6)
    assert robot.state_change["drawer"].shape == (2,)


def test_info_counts_a_clip_dataset(tmp_path: Path) -> None:
    info = dataset_info(write_clip_dataset(tmp_path / "clips"))
    assert info["clips"] == 5
    assert info["counts"]["label"]["open_drawer"] == 2
    assert info["counts"]["actor"] == {"hand": 2, "stick": 1, "panda": 1, "planar_arm": 1}
    assert info["counts"]["outcome"]["pretending"] == 1
    assert info["robot"] == {"open_drawer": 1}


def test_labels_and_frame_helpers() -> None:
    assert (
        template_class("Touching (without moving) [part] of [something]")
        == "Touching (without moving) part of something"
    )
    assert clip_label(None, "Opening [something]") == "Opening something"
    assert clip_label("close_cabinet", "Closing [something]") == "close_cabinet"
    assert even_indices(10, 4).tolist() == [0, 3, 6, 9]
    assert even_indices(3, 5).tolist() == [0, 0, 1, 2, 2]  # fewer frames than asked: repeats
    wide = np.zeros((20, 40, 3), np.uint8)
    wide[:, 10:30] = 255  # the centre half, which the crop keeps
    out = fit_square(wide, 10)
    assert out.shape == (10, 10, 3) and out.min() == 255
