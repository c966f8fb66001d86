"""robolearn.data.loader: aligned (s0, s_t) pairs and clips, deterministic DataLoaders, episode splits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from robolearn.data.episode import Episode
from robolearn.data.loader import (
    ClipDataset,
    EpochSampler,
    PairDataset,
    SampleKey,
    default_label_fn,
    make_loader,
    split_episodes,
)
from robolearn.data.metadata import create_dataset
from robolearn.data.reader import DatasetReader
from robolearn.data.writer import DatasetWriter

SIZE = 16  # image side, pixels
N_EPISODES = 6
LENGTHS = [5, 5, 5, 3, 8, 5]  # actions per episode; varied so that t and clip starts vary
K = 4  # clip length


def make_episode(index: int, steps: int) -> Episode:
    """Frame t of episode i: red = t, green = i; action t = (t, i, ·, ·); expert on even steps."""
    rng = np.random.default_rng(index)
    rgb = np.zeros((steps + 1, SIZE, SIZE, 3), np.uint8)
    rgb[..., 0] = np.arange(steps + 1)[:, None, None]
    rgb[..., 1] = index
    rgb[..., 2] = rng.integers(0, 256, (steps + 1, SIZE, SIZE))
    actions = np.zeros((steps, 4), np.float32)
    actions[:, 0] = np.arange(steps)
    actions[:, 1] = index
    return Episode(
        index=index,
        seed=index,
        task="open_drawer",
        exploration="uniform",
        obs={"rgb": rgb},
        actions=actions,
        expert=np.arange(steps) % 2 == 0,
        states=np.zeros((steps + 1, 3)),
        object_states=np.zeros((steps + 1, 2), np.float32),
        labels=[("drawer", "open", None)] if index % 2 else [("white_mug", "move", "left")],
        instructions=[f"episode {index} phrasing {j}" for j in range(3)],
    )


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 episodes: 0–3 packed into a shard, 4–5 loose (the readers must not care)."""
    root = tmp_path_factory.mktemp("loader") / "ds"
    create_dataset(root, {"seed": 0})
    writer = DatasetWriter(root, durable=False)
    for i, steps in enumerate(LENGTHS):
        writer.write_episode(make_episode(i, steps))
    writer.pack(episodes_per_shard=4, min_episodes=4)
    return root


def first_label(attrs: dict[str, Any], rng: np.random.Generator) -> str:
    """A custom label_fn: the first structured label's object (module level: picklable)."""
    return attrs["labels"][0][0]


def check_pair(sample: dict[str, Any], episode: int, t: int) -> None:
    assert sample["s0"].shape == (3, SIZE, SIZE) and sample["s0"].dtype == torch.uint8
    assert sample["st"].shape == (3, SIZE, SIZE) and sample["st"].dtype == torch.uint8
    assert torch.all(sample["s0"][0] == 0) and torch.all(sample["s0"][1] == episode)
    assert torch.all(sample["st"][0] == t) and torch.all(sample["st"][1] == episode)
    want = make_episode(episode, LENGTHS[episode]).obs["rgb"]
    np.testing.assert_array_equal(sample["s0"].permute(1, 2, 0).numpy(), want[0])
    np.testing.assert_array_equal(sample["st"].permute(1, 2, 0).numpy(), want[t])


def test_pairs_are_first_and_last_frame_of_one_episode(root: Path) -> None:
    ds = PairDataset(str(root))
    assert len(ds) == N_EPISODES
    for i in range(len(ds)):
        sample = ds[i]
        episode = int(ds.episodes[i])
        assert sample["episode"] == episode and sample["t"] == LENGTHS[episode]
        check_pair(sample, episode, LENGTHS[episode])
        assert sample["label"] in {f"episode {episode} phrasing {j}" for j in range(3)}
        want = [["drawer", "open", None]] if episode % 2 else [["white_mug", "move", "left"]]
        assert json.loads(sample["labels"]) == want


def test_uniform_t_and_deterministic_labels(root: Path) -> None:
    reader = DatasetReader(root)
    ds = PairDataset(reader, [1, 3, 4], t_sampler="uniform")
    seen_t: set[int] = set()
    for epoch in range(20):
        for i, episode in enumerate([1, 3, 4]):
            key = SampleKey(7, epoch, i)
            sample = ds[key]
            assert 1 <= sample["t"] <= LENGTHS[episode]
            check_pair(sample, episode, sample["t"])
            again = ds[key]
            assert (again["t"], again["label"]) == (sample["t"], sample["label"])
            seen_t.add(sample["t"])
    assert len(seen_t) > 3  # t really varies across epochs
    custom = PairDataset(reader, [1, 2], label_fn=first_label)
    assert [custom[i]["label"] for i in range(2)] == ["drawer", "white_mug"]


def test_default_label_fn() -> None:
    rng = np.random.default_rng(0)
    assert default_label_fn({"instructions": []}, rng) == ""
    assert default_label_fn({"instructions": ["a", "b"]}, rng) in {"a", "b"}


def test_clips_align_frames_and_actions(root: Path) -> None:
    ds = ClipDataset(root, k=K)
    assert sorted(ds.episodes.tolist()) == [0, 1, 2, 3, 4, 5]  # episode 3 has exactly K frames
    starts: set[int] = set()
    for epoch in range(10):
        for i in range(len(ds)):
            clip = ds[SampleKey(0, epoch, i)]
            episode, t0 = clip["episode"], clip["t0"]
            assert 0 <= t0 <= LENGTHS[episode] + 1 - K
            frames, actions, expert = clip["frames"], clip["actions"], clip["expert"]
            assert frames.shape == (K, 3, SIZE, SIZE) and frames.dtype == torch.uint8
            assert actions.shape == (K - 1, 4) and actions.dtype == torch.float32
            assert expert.shape == (K - 1,) and expert.dtype == torch.bool
            np.testing.assert_array_equal(frames[:, 0, 0, 0].numpy(), np.arange(t0, t0 + K))
            assert torch.all(frames[:, 1] == episode)
            np.testing.assert_array_equal(actions[:, 0].numpy(), np.arange(t0, t0 + K - 1))
            assert torch.all(actions[:, 1] == episode)
            np.testing.assert_array_equal(expert.numpy(), np.arange(t0, t0 + K - 1) % 2 == 0)
            starts.add(t0)
    assert len(starts) > 2
    assert sorted(ClipDataset(root, k=7).episodes.tolist()) == [4]  # only episode 4 has 7+ frames
    with pytest.raises(ValueError, match="no episode"):
        ClipDataset(root, k=20)


def _collect(loader: torch.utils.data.DataLoader, epochs: int) -> list[tuple[Any, ...]]:
    out = []
    for _ in range(epochs):
        for batch in loader:
            out.append(
                (batch["episode"].tolist(), batch["t"].tolist(), list(batch["label"]), batch["st"][:, 0, 0, 0].tolist())
            )
    return out


def test_dataloader_with_workers_is_deterministic(root: Path) -> None:
    ds = PairDataset(root, t_sampler="uniform")
    runs = []
    for num_workers in (2, 2, 0):
        loader = make_loader(ds, batch_size=4, num_workers=num_workers, seed=3)
        runs.append(_collect(loader, epochs=3))
    assert runs[0] == runs[1] == runs[2]  # same seed: same batches, whatever the workers
    episodes = [e for batch in runs[0][:2] for e in batch[0]]
    assert sorted(episodes) == list(range(N_EPISODES))  # an epoch is every episode once
    assert all(t == st for batch in runs[0] for t, st in zip(batch[1], batch[3], strict=True))
    other = _collect(make_loader(ds, batch_size=4, num_workers=0, seed=4), epochs=3)
    assert other != runs[0]
    batch = next(iter(make_loader(ds, batch_size=4, num_workers=2, seed=3)))
    assert batch["s0"].shape == (4, 3, SIZE, SIZE) and batch["s0"].dtype == torch.uint8


def test_clip_loader_with_workers(root: Path) -> None:
    ds = ClipDataset(root, k=K)
    a = [b["frames"].clone() for b in make_loader(ds, batch_size=3, num_workers=2, seed=1)]
    b = [b["frames"].clone() for b in make_loader(ds, batch_size=3, num_workers=2, seed=1)]
    assert len(a) == 2 and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert a[0].shape == (3, K, 3, SIZE, SIZE)


def test_epoch_sampler() -> None:
    sampler = EpochSampler(5, seed=2)
    first, second = list(sampler), list(sampler)
    assert sorted(k.i for k in first) == list(range(5)) and {k.epoch for k in first} == {0}
    assert {k.epoch for k in second} == {1} and [k.i for k in first] != [k.i for k in second]
    sampler.set_epoch(0)
    assert list(sampler) == first
    assert [k.i for k in EpochSampler(5, shuffle=False)] == list(range(5))


def test_split_episodes_by_episode() -> None:
    indices = list(range(1000))
    train, val = split_episodes(indices, val_fraction=0.1, seed=0)
    assert set(train).isdisjoint(val) and sorted(train + val) == indices
    assert 60 <= len(val) <= 140  # 0.1 in expectation (binomial sd ≈ 9.5)
    assert split_episodes(indices[::-1], 0.1, 0) == (train, val)  # deterministic, order-free
    train2, val2 = split_episodes(range(3000), 0.1, 0)  # more episodes collected later
    assert [i for i in val2 if i < 1000] == val and [i for i in train2 if i < 1000] == train
    assert split_episodes(indices, 0.1, seed=1)[1] != val
    assert split_episodes(indices, 0.0)[1] == [] and split_episodes(indices, 1.0)[0] == []
    with pytest.raises(ValueError):
        split_episodes(indices, 1.5)


def test_pair_dataset_over_a_split(root: Path) -> None:
    reader = DatasetReader(root)
    train, val = split_episodes(reader.indices(), val_fraction=0.5, seed=0)
    assert train and val
    assert set(PairDataset(reader, val).episodes.tolist()) == set(val)
    with pytest.raises(KeyError, match="99"):
        PairDataset(reader, [0, 99])


def test_loader_with_forkserver_workers(root: Path) -> None:
    """Workers that receive the dataset pickled (forkserver/spawn, Python 3.14's default) reopen files."""
    ds = PairDataset(root, t_sampler="uniform", label_fn=first_label)
    ds.reader.frames(0, "rgb", 0)  # the parent holds open handles: they must not travel
    got = _collect(make_loader(ds, batch_size=3, num_workers=1, seed=5, multiprocessing_context="forkserver"), 1)
    assert got == _collect(make_loader(ds, batch_size=3, num_workers=0, seed=5), 1)
