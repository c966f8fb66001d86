"""PyTorch datasets over a stored interaction dataset: (s0, s_t, label) pairs and k-frame clips.

Nothing is loaded into memory up front: every item reads just the frames it needs from the HDF5
files (``DatasetReader.frames``: one raw-chunk read + inflate per frame), with files opened lazily
in each ``DataLoader`` worker.

Randomness is keyed, not stateful: an item's random choices (which t, which instruction, which clip
start) come from ``numpy.random.default_rng([seed, epoch, i])``. ``make_loader`` feeds the datasets
``SampleKey(seed, epoch, i)`` items from an ``EpochSampler``, so the batches depend only on the
seed and the epoch — not on the number of workers, their scheduling, or persistent workers.

Example:
    >>> reader = DatasetReader("data/desk")
    >>> train, val = split_episodes(reader.indices(), val_fraction=0.1)
    >>> loader = make_loader(PairDataset(reader, train), batch_size=64, num_workers=2, seed=0)
    >>> batch = next(iter(loader))
    >>> batch["s0"].shape, batch["s0"].dtype, len(batch["label"])
    (torch.Size([64, 3, 64, 64]), torch.uint8, 64)
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
from collections.abc import Callable, Iterator, Mapping, Sequence, Sized
from typing import Any, Literal, NamedTuple, TypeVar, cast

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from robolearn.data.labels import DO_NOTHING
from robolearn.data.reader import HUMAN_KEY, DatasetReader
from sim.plumbing.processes import ctrl_c_blocked, init_worker

T_co = TypeVar("T_co", covariant=True)

__all__ = [
    "ClipDataset",
    "EpochSampler",
    "LabelFn",
    "PairDataset",
    "SampleKey",
    "StepDataset",
    "default_label_fn",
    "init_loader_worker",
    "label_fn_for",
    "make_loader",
    "seed_worker",
    "split_episodes",
]

# splitmix64 constants (Steele et al., "Fast splittable pseudorandom number generators", 2014): a
# cheap, well-mixed hash of an integer, used to assign episodes to splits independently of each other.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_MANTISSA_BITS = 53  # a float64 holds 53-bit integers exactly: hash >> 11 / 2**53 is uniform in [0, 1)
_U64_BITS = 64
DEFAULT_LABEL_KEYS = ("instructions", "labels")  # episode attributes a PairDataset reads per episode
DEFAULT_MODALITY = "rgb"
PROPRIO = "obs/proprio"  # an episode's proprioception (T+1, P), present when collected with env.obs_keys ∋ proprio
OBJECT_STATES = "object_states"  # an episode's object states (T+1, K), names in meta["object_state_names"] (every episode has them)
NUMPY_SEED_MOD = 2**32  # np.random.seed / random.seed accept 32-bit seeds

LabelFn = Callable[[Mapping[str, Any], np.random.Generator], Any]
"""``label_fn(attrs, rng)``: the episode attributes named by ``label_keys`` (decoded) and the item's rng."""


# ----------------------------------------------------------------------------------------- splits
def _splitmix64(x: np.ndarray) -> np.ndarray:
    """Vectorised splitmix64 finaliser on uint64 (wrap-around arithmetic is intended)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def split_episodes(
    indices: Sequence[int] | np.ndarray, val_fraction: float = 0.1, seed: int = 0
) -> tuple[list[int], list[int]]:
    """Split episode indices into (train, validation), by episode.

    Each episode goes to validation iff a hash of (seed, index) falls below ``val_fraction``, so the
    split of an episode never depends on which other episodes exist: adding episodes never moves one
    between splits. The validation share is therefore ``val_fraction`` in expectation, not exactly.

    Args:
        indices: episode indices (any order; duplicates are dropped).
        val_fraction: expected share of episodes in validation, in [0, 1].
        seed: a different seed gives an independent split.

    Returns:
        (train, val): disjoint, ascending lists of episode indices.
    """
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"val_fraction must be in [0, 1], got {val_fraction}")
    idx = np.unique(np.asarray(indices, dtype=np.int64))
    if idx.size and idx[0] < 0:
        raise ValueError(f"episode indices must be ≥ 0, got {int(idx[0])}")
    key = _splitmix64(np.atleast_1d(np.uint64(seed % 2**_U64_BITS)))
    h = _splitmix64(idx.astype(np.uint64) ^ key)
    u = (h >> np.uint64(_U64_BITS - _MANTISSA_BITS)).astype(np.float64) / float(2**_MANTISSA_BITS)
    is_val = u < val_fraction
    return idx[~is_val].tolist(), idx[is_val].tolist()


# ----------------------------------------------------------------------------------------- sampling
class SampleKey(NamedTuple):
    """What an item's randomness depends on: the loader seed, the epoch and the item number."""

    seed: int
    epoch: int
    i: int


class EpochSampler(Sampler[SampleKey]):
    """Yields ``SampleKey(seed, epoch, i)`` for every item, in a fresh seeded order each epoch.

    Each ``iter()`` is the next epoch (0, 1, ...); ``set_epoch`` jumps (e.g. when resuming training).
    """

    def __init__(self, n: int, seed: int = 0, shuffle: bool = True, epoch: int = 0):
        if seed < 0:
            raise ValueError(f"seed must be ≥ 0, got {seed}")
        self.n, self.seed, self.shuffle, self.epoch = int(n), int(seed), shuffle, int(epoch)

    def set_epoch(self, epoch: int) -> None:
        """The epoch the next ``iter()`` yields."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[SampleKey]:
        epoch = self.epoch
        self.epoch += 1  # here, not inside the generator: iter() alone advances the epoch
        order = np.random.default_rng([self.seed, epoch]).permutation(self.n) if self.shuffle else np.arange(self.n)
        return (SampleKey(self.seed, epoch, i) for i in order.tolist())


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn``: seed Python's and numpy's global RNGs from the worker's torch seed.

    The datasets here do not use global RNGs; this makes user code that does (a ``label_fn``,
    augmentations) reproducible too. torch derives each worker's seed from the loader's generator.
    """
    del worker_id  # torch.initial_seed() already differs per worker
    s = torch.initial_seed() % NUMPY_SEED_MOD
    np.random.seed(s)
    random.seed(s)


def init_loader_worker(worker_id: int) -> None:
    """``worker_init_fn`` of robolearn's loaders (``sim.plumbing.processes.init_worker``): the worker exits as soon
    as the process it loads for dies, however it dies (torch's own check runs only between items, every 5 s),
    and leaves Ctrl-C to that process (a worker ended by it would make the loader raise "worker exited
    unexpectedly" instead of the interrupt); then ``seed_worker``."""
    init_worker()
    seed_worker(worker_id)


class WorkerLoader(DataLoader[T_co]):
    """A ``DataLoader`` that starts its worker processes inside ``ctrl_c_blocked()``: a Ctrl-C pressed while a
    worker is still starting (before ``init_loader_worker`` hands Ctrl-C to the training process) is dropped
    instead of printing the worker's ``KeyboardInterrupt`` traceback."""

    def __iter__(self) -> Iterator[T_co]:  # type: ignore[override]  # torch types it as a private iterator class
        context = self.multiprocessing_context
        with ctrl_c_blocked(multiprocessing.get_context(context) if isinstance(context, str) else context):
            return super().__iter__()


def make_loader(
    dataset: Dataset,
    batch_size: int,
    num_workers: int = 2,
    seed: int = 0,
    shuffle: bool = True,
    drop_last: bool = False,
    **kwargs: Any,
) -> DataLoader:
    """A ``DataLoader`` whose batches depend only on ``seed`` (and the epoch).

    Uses an ``EpochSampler`` (so each iteration is a new epoch with a new order and new random
    choices), ``persistent_workers`` when ``num_workers > 0`` (workers keep their open files), a seeded
    ``generator`` and ``init_loader_worker``. Extra ``kwargs`` go to ``DataLoader`` (e.g. ``pin_memory``).

    The datasets here accept the sampler's ``SampleKey`` items; a custom dataset must too.
    """
    generator = torch.Generator()
    generator.manual_seed(seed)
    kwargs.setdefault("persistent_workers", num_workers > 0)
    return WorkerLoader(
        dataset,
        batch_size=batch_size,
        # cast: map-style datasets define __len__, which torch's Dataset class cannot declare
        sampler=EpochSampler(len(cast(Sized, dataset)), seed, shuffle),
        num_workers=num_workers,
        worker_init_fn=init_loader_worker,
        generator=generator,
        drop_last=drop_last,
        **kwargs,
    )


def default_label_fn(attrs: Mapping[str, Any], rng: np.random.Generator) -> str:
    """One of the episode's hindsight ``instructions``, uniformly; "" if it has none."""
    instructions = attrs.get("instructions") or []
    return str(instructions[int(rng.integers(len(instructions)))]) if instructions else ""


#: label sources of ``label_fn_for``: hindsight descriptions, imported human ones, or both pooled
LABEL_SOURCES = ("hindsight", "human", "both")


def label_fn_for(source: str) -> tuple[LabelFn, tuple[str, ...]]:
    """A ``label_fn`` drawing from ``source`` and the ``label_keys`` it needs.

    ``human`` uses the descriptions imported with ``robolearn data import-annotations`` (LOReL's
    crowd-sourced labels), falling back to hindsight ones for episodes nobody described; ``both``
    draws uniformly from the pooled texts.
    """
    if source not in LABEL_SOURCES:
        raise ValueError(f"unknown label source {source!r}; choose from {list(LABEL_SOURCES)}")
    if source == "hindsight":
        return default_label_fn, DEFAULT_LABEL_KEYS

    def label_fn(attrs: Mapping[str, Any], rng: np.random.Generator) -> str:
        human = list(attrs.get(HUMAN_KEY) or [])
        texts = human if (source == "human" and human) else human + list(attrs.get("instructions") or [])
        return str(texts[int(rng.integers(len(texts)))]) if texts else ""

    return label_fn, (*DEFAULT_LABEL_KEYS, HUMAN_KEY)


# ----------------------------------------------------------------------------------------- datasets
def _as_chw(frames: np.ndarray) -> torch.Tensor:
    """(n, H, W, C) or (n, H, W) numpy → (n, C, H, W) tensor view (no copy; collate stacks it)."""
    x = torch.from_numpy(frames)
    return x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)


class _EpisodeDataset(Dataset):
    """Shared plumbing: a reader, the episodes of one split with their lengths, keyed rngs."""

    def __init__(
        self,
        reader_or_root: DatasetReader | str | os.PathLike[str],
        episodes: Sequence[int] | None,
        modality: str,
        seed: int,
    ):
        self.reader = reader_or_root if isinstance(reader_or_root, DatasetReader) else DatasetReader(reader_or_root)
        self.episodes = np.asarray(self.reader.indices() if episodes is None else list(episodes), dtype=np.int64)
        missing = [int(e) for e in self.episodes if int(e) not in self.reader]
        if missing:
            raise KeyError(f"episodes not in {self.reader.root}: {missing[:10]}{' ...' if len(missing) > 10 else ''}")
        self.lengths = np.array([self.reader.length(int(e)) for e in self.episodes], dtype=np.int64)
        self.modality = modality
        if seed < 0:
            raise ValueError(f"seed must be ≥ 0, got {seed}")
        self.seed = int(seed)

    def __len__(self) -> int:
        return int(self.episodes.size)

    def _key(self, item: int | SampleKey) -> SampleKey:
        """An int item is ``SampleKey(self.seed, 0, item)`` (plain DataLoader samplers)."""
        key = item if isinstance(item, SampleKey) else SampleKey(self.seed, 0, int(item))
        if not 0 <= key.i < len(self):
            raise IndexError(f"item {key.i} out of range for {len(self)} episodes")
        return key

    @staticmethod
    def _rng(key: SampleKey) -> np.random.Generator:
        return np.random.default_rng([key.seed, key.epoch, key.i])


class PairDataset(_EpisodeDataset):
    """(s0, s_t, label) pairs, one per episode of ``episodes`` per epoch (LOReL's training pairs).

    Item ``i`` (or ``SampleKey(seed, epoch, i)``) is episode ``episodes[i]``: ``s0`` is its first frame,
    ``st`` frame ``t`` (the last, T, by default; ``t_sampler="uniform"``: uniform over 1..T), and the
    label is ``label_fn(attrs, rng)`` on the episode attributes ``label_keys``.

    Returns dicts:
        s0, st: uint8 (C, H, W) tensors (kept uint8: the model converts); float16 (1, H, W) for depth.
        t: int, the frame number of ``st`` (= number of actions between s0 and st).
        episode: int, the episode index.
        label: ``label_fn``'s result (default: one training instruction, a str).
        labels: str, the episode's structured labels as JSON (``[[object, change, direction|null], ...]``).

    Episodes with no actions (T = 0) are dropped. Each worker caches the label attributes of the
    episodes it has seen (a few hundred bytes each).
    """

    def __init__(
        self,
        reader_or_root: DatasetReader | str | os.PathLike[str],
        episodes: Sequence[int] | None = None,
        modality: str = DEFAULT_MODALITY,
        label_fn: LabelFn | None = None,
        t_sampler: Literal["last", "uniform"] = "last",
        seed: int = 0,
        label_keys: Sequence[str] = DEFAULT_LABEL_KEYS,
    ):
        super().__init__(reader_or_root, episodes, modality, seed)
        if t_sampler not in ("last", "uniform"):
            raise ValueError(f"t_sampler must be 'last' or 'uniform', got {t_sampler!r}")
        keep = self.lengths >= 1
        self.episodes, self.lengths = self.episodes[keep], self.lengths[keep]
        if not len(self):
            raise ValueError("PairDataset: no episode with at least one action")
        self.label_fn: LabelFn = label_fn or default_label_fn
        self.t_sampler = t_sampler
        self.label_keys = tuple(label_keys)
        self._label_attrs: dict[int, dict[str, Any]] = {}

    def label_attrs(self, episode: int) -> dict[str, Any]:
        """The episode's ``label_keys`` attributes, decoded (cached: attribute reads cost ~40 µs each)."""
        attrs = self._label_attrs.get(episode)
        if attrs is None:
            attrs = self._label_attrs[episode] = self.reader.attrs(episode, self.label_keys)
        return attrs

    def __getitem__(self, item: int | SampleKey) -> dict[str, Any]:
        key = self._key(item)
        rng = self._rng(key)
        episode, T = int(self.episodes[key.i]), int(self.lengths[key.i])
        t = T if self.t_sampler == "last" else int(rng.integers(1, T + 1))
        pair = _as_chw(self.reader.frames(episode, self.modality, (0, t)))
        attrs = self.label_attrs(episode)
        return {
            "s0": pair[0],
            "st": pair[1],
            "t": t,
            "episode": episode,
            "label": self.label_fn(attrs, rng),
            "labels": json.dumps(attrs.get("labels", [])),
        }


class ClipDataset(_EpisodeDataset):
    """Clips of ``k`` consecutive frames and the ``k - 1`` actions between them, from a random start.

    Item ``i`` is a clip of episode ``episodes[i]`` starting at a frame ``t0`` uniform over
    0..T+1-k (seeded by the item key). Episodes with fewer than ``k`` frames are dropped.

    Returns dicts:
        frames: uint8 (k, C, H, W): frames t0 .. t0+k-1.
        actions: float32 (k-1, A): action t0+j leads from frame t0+j to frame t0+j+1.
        expert: bool (k-1,): True where that action came from the scripted expert.
        t0: int, the first frame's number. episode: int, the episode index.
        proprio: float32 (k, P), with ``proprio=True``: the robot's proprioception at each frame.
        object_states: float32 (k, K), with ``object_states=True``: the simulator's object state at each frame.
    """

    def __init__(
        self,
        reader_or_root: DatasetReader | str | os.PathLike[str],
        episodes: Sequence[int] | None = None,
        k: int = 10,
        modality: str = DEFAULT_MODALITY,
        seed: int = 0,
        proprio: bool = False,
        object_states: bool = False,
    ):
        super().__init__(reader_or_root, episodes, modality, seed)
        if k < 1:
            raise ValueError(f"k must be ≥ 1, got {k}")
        self.k = int(k)
        self.proprio = bool(proprio)
        self.object_states = bool(object_states)
        keep = self.lengths + 1 >= self.k
        self.episodes, self.lengths = self.episodes[keep], self.lengths[keep]
        if not len(self):
            raise ValueError(f"ClipDataset: no episode has {k} frames")

    def __getitem__(self, item: int | SampleKey) -> dict[str, Any]:
        key = self._key(item)
        episode, T = int(self.episodes[key.i]), int(self.lengths[key.i])
        t0 = int(self._rng(key).integers(0, T + 2 - self.k))  # last start: T+1-k (frames 0..T)
        steps = slice(t0, t0 + self.k - 1)
        sample: dict[str, Any] = {
            "frames": _as_chw(self.reader.frames(episode, self.modality, slice(t0, t0 + self.k))),
            "actions": torch.from_numpy(self.reader.read(episode, "actions", steps).astype(np.float32, copy=False)),
            "expert": torch.from_numpy(self.reader.read(episode, "expert", steps)),
            "t0": t0,
            "episode": episode,
        }
        if self.proprio:
            rows = self.reader.read(episode, PROPRIO, slice(t0, t0 + self.k))
            sample["proprio"] = torch.from_numpy(rows.astype(np.float32, copy=False))
        if self.object_states:
            rows = self.reader.read(episode, OBJECT_STATES, slice(t0, t0 + self.k))
            sample["object_states"] = torch.from_numpy(rows.astype(np.float32, copy=False))
        return sample


class StepDataset(_EpisodeDataset):
    """Single steps (frame t, action t, instruction) of labelled episodes: behaviour cloning with hindsight labels.

    Only episodes with at least one hindsight label are kept (an episode that changed nothing teaches no
    instruction; "do nothing" episodes are dropped too: a policy is told to do things). Item ``i`` is a step of episode ``episodes[i]``, uniform over its steps 0..T-1 (with
    ``expert_only``, over the steps the scripted expert took; episodes without any are dropped).

    Returns dicts:
        frame: uint8 (C, H, W), the frame the action was taken from.
        action: float32 (A,).
        label: ``label_fn``'s result on the episode's attributes (default: one of its instructions).
        proprio: float32 (P,), with ``proprio=True``.
        t: int, the step. episode: int, the episode index.
    """

    def __init__(
        self,
        reader_or_root: DatasetReader | str | os.PathLike[str],
        episodes: Sequence[int] | None = None,
        modality: str = DEFAULT_MODALITY,
        label_fn: LabelFn | None = None,
        seed: int = 0,
        proprio: bool = False,
        expert_only: bool = False,
        label_keys: Sequence[str] = DEFAULT_LABEL_KEYS,
    ):
        super().__init__(reader_or_root, episodes, modality, seed)
        self.label_fn: LabelFn = label_fn or default_label_fn
        self.label_keys = tuple(label_keys)
        self.proprio, self.expert_only = bool(proprio), bool(expert_only)
        self._label_attrs: dict[int, dict[str, Any]] = {}
        self._expert_steps: dict[int, np.ndarray] = {}
        for e, T in zip(self.episodes.tolist(), self.lengths.tolist()):
            attrs = self.reader.attrs(int(e), self.label_keys)
            if T < 1 or not any(tuple(label) != DO_NOTHING for label in attrs.get("labels") or []):
                continue  # nothing changed: no instruction to learn from it
            if expert_only:
                steps = np.flatnonzero(self.reader.read(int(e), "expert"))
                if not steps.size:
                    continue
                self._expert_steps[int(e)] = steps
            self._label_attrs[int(e)] = attrs
        mask = np.array([int(e) in self._label_attrs for e in self.episodes.tolist()], dtype=bool)
        self.episodes, self.lengths = self.episodes[mask], self.lengths[mask]
        if not len(self):
            raise ValueError("StepDataset: no labelled episode" + (" with expert steps" if expert_only else ""))

    def __getitem__(self, item: int | SampleKey) -> dict[str, Any]:
        key = self._key(item)
        rng = self._rng(key)
        episode, T = int(self.episodes[key.i]), int(self.lengths[key.i])
        steps = self._expert_steps.get(episode)
        t = int(steps[rng.integers(steps.size)]) if steps is not None else int(rng.integers(T))
        out = {
            "frame": _as_chw(self.reader.frames(episode, self.modality, (t,)))[0],
            "action": torch.from_numpy(self.reader.read(episode, "actions", slice(t, t + 1))[0].astype(np.float32)),
            "label": self.label_fn(self._label_attrs[episode], rng),
            "t": t,
            "episode": episode,
        }
        if self.proprio:
            out["proprio"] = torch.from_numpy(self.reader.read(episode, PROPRIO, slice(t, t + 1))[0].astype(np.float32))
        return out
