"""Training triples (s0, s_t, instruction) → {0, 1} for language-conditioned rewards, from STRUCTURED labels.

LOReL (anchors §1) labelled a pair negative when its label *string* differed from the instruction's,
so "open drawer" was a negative for an episode labelled "open drawer and move white mug up" (a false
negative), and it only ever used an episode's first and last frames. Here every decision is made on
the structured labels of ``robolearn.data.labels``:

* ``LabelIndex`` preloads every episode's object-state trajectory (float32 (T+1, K), ~1 kB per
  episode) and computes ``labels_at(names, trajectory, t, thresholds)`` for every frame t, into one
  boolean matrix ``holds[frame, label]``. A pair (frame 0, frame t) *shows* label L iff ``holds``.
* ``RewardPairDataset`` draws items with keyed randomness (``numpy.random.default_rng([seed, epoch,
  i])``, as ``robolearn.data.loader``): with probability ``positive_fraction`` a POSITIVE — a task
  label L chosen uniformly among the task labels (balanced, rare tasks are not drowned), an episode
  in which L happens, and any frame t at which L holds (intermediate frames included, not only the
  last) — else a NEGATIVE for an L chosen the same way, of one of these kinds (weights configurable):

  ``other_episode``  another episode's (s0', s_t') whose labels at t' do not contain L (LOReL's
                     negative, checked structurally instead of by string inequality);
  ``reversed``       a positive pair reversed, (s_t, s0) (LOReL); kept only if the reversed change,
                     relabelled with the same rules, does not contain L (a button press survives
                     reversal when the button sprang back in between);
  ``opposite``       right object, wrong change: "open the drawer" on a pair where the drawer closed,
                     "move the white mug up" where it moved left or down;
  ``wrong_object``   the same change happened to another object ("open the drawer" where the cabinet
                     opened; "move the white mug up" where the black mug moved up);
  ``no_change``      a pair in which nothing changed (``DO_NOTHING``), e.g. the hand wandered around;
  ``incomplete``     the positive's own episode at a frame where L does not hold (not yet reached the
                     threshold, or undone): the hardest negative, it sharpens the decision at the threshold.
  ``attempted``      an episode whose task was L's (its ``task`` attribute: what the planner was told,
                     in a recording of ``robolearn plan record=DIR``) at a frame where L does not hold:
                     the failures of an attempt at L. On a planner's recording, with predicted frames,
                     these are the exact plans a video model and reward were fooled by. Off by default.

  A kind that has no candidate for L (there is no "opposite" of pressing the button) falls back to
  ``other_episode``; the item's ``kind`` says what it really is.

s0 is always frame 0 of an episode (frame t0 = t for ``reversed``); frames are read two at a time with
``DatasetReader.frames(i, "rgb", (t0, t1))`` (one ``pread`` + inflate each, ~20 µs at 64×64).

Example:
    >>> reader = DatasetReader("data/desk")
    >>> train, val = split_episodes(reader.indices(), 0.1, seed=0)
    >>> ds = RewardPairDataset(reader, train, seed=0)
    >>> item = ds[SampleKey(0, 0, 7)]
    >>> item["s0"].shape, item["instruction"], item["target"], item["kind"]
    (torch.Size([3, 64, 64]), 'pull the drawer open', 1.0, 'positive')
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler
from tqdm import tqdm

from robolearn.data.labels import DO_NOTHING, Label, hindsight_labels, label_to_task, label_vocabulary, labels_at
from robolearn.data.language import describe
from robolearn.data.loader import PROPRIO, SampleKey
from robolearn.data.metadata import DatasetError, meta_value
from robolearn.data.reader import DatasetReader
from robolearn.data.schema import META_FILE
from sim.config import SuccessThresholds
from sim.plumbing.checks import shown
from sim.plumbing.settings import check_knobs, knob

__all__ = [
    "NEGATIVE_KINDS",
    "POSITIVE",
    "LabelIndex",
    "NegativeWeights",
    "RewardPairDataset",
    "StepSampler",
    "dataset_thresholds",
    "opposite_labels",
    "wrong_object_labels",
]

POSITIVE = "positive"
#: negative kinds, in the order of ``NegativeWeights``' fields
NEGATIVE_KINDS: tuple[str, ...] = (
    "other_episode",
    "reversed",
    "opposite",
    "wrong_object",
    "no_change",
    "incomplete",
    "attempted",
)
# Rejection sampling: tries before a kind is declared impossible for this label and the item falls back
# to ``other_episode``. Any label is rare enough (< 50% of frames) that 32 tries almost never all fail.
MAX_TRIES = 32
DEFAULT_MODALITY = "rgb"
POOL_STREAM = 0x1A5E1  # rng stream id of the instruction pools (keys [seed, POOL_STREAM, label column])
PREDICT_STREAM = 0x9BED  # rng stream id of the prediction starts (keys [seed, epoch, i, PREDICT_STREAM])


@dataclass(frozen=True)
class NegativeWeights:
    """Relative frequency of each negative kind (need not sum to 1; zero disables a kind): ``negatives`` of
    ``conf/train.yaml``, whose comments are these knobs' docs.

    Defaults: LOReL's two kinds (other episode, reversed) make half of the negatives; the rest are the
    hard kinds a planner's imagined frames run into (a change of the right object in the wrong
    direction, of the wrong object, none at all, not enough).
    """

    other_episode: float = knob(
        0.3, "LOReL's negative: another episode's (s0, s_t) whose labels do not contain the instruction", lo=0
    )
    reversed: float = knob(0.2, "the positive pair reversed, (s_t, s0): LOReL's other negative", lo=0)
    opposite: float = knob(0.2, 'same object, other change or direction ("open drawer" where the drawer closed)', lo=0)
    wrong_object: float = knob(0.1, 'the same change on another object ("open drawer" where the cabinet opened)', lo=0)
    no_change: float = knob(0.1, "a pair in which nothing changed", lo=0)
    incomplete: float = knob(
        0.1, "the positive's episode at a frame where the change has not (yet) reached the threshold", lo=0
    )
    attempted: float = knob(
        0.0,
        "an episode whose task was the instruction's (e.g. a recorded planner episode) where it did not happen; "
        "0 = off",
        lo=0,
    )

    def __post_init__(self) -> None:
        check_knobs(self, "negatives")
        if self.total() <= 0:
            raise ValueError("negatives: at least one negative kind needs a weight > 0")

    def total(self) -> float:
        return float(sum(getattr(self, k) for k in NEGATIVE_KINDS))

    def probabilities(self) -> np.ndarray:
        """float64 (len(NEGATIVE_KINDS),): the weights normalised to sum to 1."""
        w = np.array([getattr(self, k) for k in NEGATIVE_KINDS], dtype=np.float64)
        return w / w.sum()


def dataset_thresholds(reader: DatasetReader) -> SuccessThresholds:
    """The success thresholds the dataset was labelled with (``meta["env"]["thresholds"]``), else the defaults.

    Using the dataset's own thresholds keeps our labels identical to the stored hindsight labels and
    to task success in the environment that collected it.
    """
    raw = (reader.meta.get("env") or {}).get("thresholds")
    if not isinstance(raw, Mapping):
        return SuccessThresholds()
    try:
        return SuccessThresholds(**raw)
    except (TypeError, ValueError) as e:
        raise DatasetError(
            f"{reader.root / META_FILE}: env.thresholds {shown(dict(raw))} are not success thresholds "
            f"({' '.join(str(e).split())}); meta.json was edited or damaged: restore it, or collect the dataset again"
        ) from None


def opposite_labels(label: Label, vocab: Sequence[Label]) -> list[Label]:
    """Labels of the same object with another change or direction ("open drawer" → "close drawer";
    "move white mug up" → down, left, right). Empty for the button (it cannot be un-pressed)."""
    obj = label[0]
    return [l for l in vocab if l[0] == obj and l != label and l != DO_NOTHING]


def wrong_object_labels(label: Label, vocab: Sequence[Label]) -> list[list[Label]]:
    """Labels of *other* objects, in tiers of decreasing similarity to ``label``.

    Tier 0: the same change and direction (black mug up for white mug up; cabinet open for drawer open);
    tier 1: the same change (any direction); tier 2: any other object's change. Samplers use the first
    tier that has data.
    """
    others = [l for l in vocab if l[0] != label[0] and l != DO_NOTHING]
    tier0 = [l for l in others if l[1:] == label[1:]]
    tier1 = [l for l in others if l[1] == label[1] and l not in tier0]
    tier2 = [l for l in others if l not in tier0 and l not in tier1]
    return [t for t in (tier0, tier1, tier2) if t]


class LabelIndex:
    """Which labels hold between frame 0 and frame t, for every frame of every episode of a split.

    Args:
        reader: the dataset.
        episodes: episode indices to index (e.g. one split); default all.
        thresholds: labelling thresholds; default ``dataset_thresholds(reader)``.
        progress: show a tqdm bar while labelling (~25 µs per frame: ~10 s for 20k episodes of 20 steps).
        with_tasks: also read each episode's ``task`` attribute (``tasks``; ~0.2–0.5 ms per episode).

    Attributes:
        names: object-state names (``meta["object_state_names"]``), K of them.
        vocab: ``label_vocabulary(names)``; column v of ``holds`` is ``vocab[v]``.
        task_ids: vocab columns of instructable labels (``label_to_task(L)`` is a task), vocab order.
        episodes: int64 (E,) episode indices; row r of the index is ``episodes[r]``.
        lengths: int64 (E,) T of each episode (frames 0..T).
        offsets: int64 (E + 1,) first row of episode r in ``holds`` / ``states`` is ``offsets[r]``.
        states: float32 (sum(T+1), K) object states of every frame (``ObjectStates.vector()``).
        holds: bool (sum(T+1), V) whether ``vocab[v]`` is in ``labels_at(names, states_r, t, thresholds)``.
        rows_with: per vocab column, int64 array of the rows in which the label holds at some t ≥ 1.
        tasks: (with ``with_tasks``) each row's episode task (str, or None when not recorded), else None.
    """

    def __init__(
        self,
        reader: DatasetReader,
        episodes: Sequence[int] | None = None,
        thresholds: SuccessThresholds | None = None,
        progress: bool = False,
        with_tasks: bool = False,
    ):
        self.thresholds = thresholds or dataset_thresholds(reader)
        self.names: list[str] = list(
            meta_value(reader.meta, "object_state_names", reader.root, "labelling its episodes for reward training")
        )
        self.vocab: list[Label] = label_vocabulary(self.names)
        self.column: dict[Label, int] = {l: v for v, l in enumerate(self.vocab)}
        self.task_ids: list[int] = [v for v, l in enumerate(self.vocab) if label_to_task(l) is not None]
        self.nothing_id = self.column[DO_NOTHING]
        eps = np.asarray(reader.indices() if episodes is None else list(episodes), dtype=np.int64)
        trajs = []
        it: Any = eps.tolist()
        if progress:
            it = tqdm(it, desc="labelling episodes", unit="ep", leave=False, disable=None)  # on a terminal only
        holds = []
        for e in it:
            traj = np.asarray(reader.read(int(e), "object_states"), dtype=np.float32)
            h = np.zeros((traj.shape[0], len(self.vocab)), dtype=bool)
            for t in range(traj.shape[0]):
                for label in labels_at(self.names, traj, t, self.thresholds):
                    h[t, self.column[tuple(label)]] = True  # type: ignore[index]
            trajs.append(traj)
            holds.append(h)
        self.episodes = eps
        self.lengths = np.array([tr.shape[0] - 1 for tr in trajs], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths + 1)]).astype(np.int64)
        k = len(self.names)
        self.states = np.concatenate(trajs) if trajs else np.zeros((0, k), np.float32)
        self.holds = np.concatenate(holds) if holds else np.zeros((0, len(self.vocab)), bool)
        # Which labels hold at some frame t >= 1 of each row: OR over each row's frames, frame 0 excluded
        # (frame 0 against itself is always DO_NOTHING).
        later = self.holds.copy()
        later[self.offsets[:-1]] = False
        any_t = np.logical_or.reduceat(later, self.offsets[:-1], axis=0) if len(eps) else later[:0]
        self.rows_with: list[np.ndarray] = [
            np.flatnonzero(any_t[:, v]).astype(np.int64) for v in range(len(self.vocab))
        ]
        self.tasks: list[str | None] | None = None
        if with_tasks:
            self.tasks = [reader.attrs(int(e)).get("task") for e in eps.tolist()]

    def __len__(self) -> int:
        return int(self.episodes.size)

    def trajectory(self, row: int) -> np.ndarray:
        """float32 (T+1, K) object states of row ``row``."""
        return self.states[self.offsets[row] : self.offsets[row + 1]]

    def frames_holding(self, row: int, v: int, without: int | None = None) -> np.ndarray:
        """Frames t ≥ 1 of row ``row`` at which column ``v`` holds (and column ``without`` does not)."""
        h = self.holds[self.offsets[row] + 1 : self.offsets[row + 1]]
        ok = h[:, v] if without is None else h[:, v] & ~h[:, without]
        return np.flatnonzero(ok) + 1

    def frames_lacking(self, row: int, v: int) -> np.ndarray:
        """Frames t ≥ 1 of row ``row`` at which column ``v`` does not hold."""
        return np.flatnonzero(~self.holds[self.offsets[row] + 1 : self.offsets[row + 1], v]) + 1

    def labels(self, row: int, t: int) -> list[Label]:
        """The labels between frame 0 and frame ``t`` of row ``row`` (as ``labels_at``)."""
        return [self.vocab[v] for v in np.flatnonzero(self.holds[self.offsets[row] + t])]

    def final_labels(self, row: int) -> list[Label]:
        """The labels of the whole episode (frame 0 → frame T)."""
        return self.labels(row, int(self.lengths[row]))

    def pair_labels(self, row: int, t0: int, t1: int) -> list[Label]:
        """Labels of the change from frame ``t0`` to frame ``t1`` (either order), by the same rules.

        Used for pairs that do not start at frame 0 (reversed pairs); the button's peak is taken over the
        frames between them, in the pair's direction.
        """
        traj = self.trajectory(row)
        step = 1 if t1 >= t0 else -1
        path = traj[t0 : t1 + step if t1 + step >= 0 else None : step]
        return hindsight_labels(self.names, traj[t0], traj[t1], self.thresholds, trajectory=path)


class RewardPairDataset(Dataset):
    """Keyed random (s0, s_t, instruction, target) items; see the module docstring for the sampling.

    Args:
        reader_or_root: the dataset (a ``DatasetReader`` is shared with forked workers).
        episodes: episode indices of this split (default all).
        negatives: weights of the negative kinds.
        positive_fraction: probability that an item is a positive.
        phrasing: ``describe`` split of the instructions: "train" (training phrasings) or "heldout".
        typo_rate: ``describe``'s typo rate (crowd-sourced text has typos).
        seed: seed of plain-int items (``SampleKey(seed, 0, i)``); ``SampleKey`` items carry their own.
        length: nominal number of items (``len``): what an ``EpochSampler`` enumerates. Default: the
            number of episodes. Any key is valid whatever the length: items are drawn, not indexed.
        index: a prebuilt ``LabelIndex`` of exactly these episodes (else built here).
        modality: image modality to read.
        progress: progress bar while labelling.
        instruction_pool: if > 0, each label's instructions are drawn from a fixed pool of this many
            descriptions (made once from ``seed``) instead of a fresh description per item: a frozen
            text encoder then embeds each pool entry once (its cache) instead of nearly every item's
            new sentence, which on a CPU costs more than the image CNN. 0 = fresh descriptions.
        predict_horizon: if > 0, items also carry what a video model needs to predict ``st`` the way
            a planner would see it: from the real frames at a start k drawn uniformly in
            [max(0, t1 − predict_horizon), t1 − 1], through the episode's actions k .. t1 − 1.
        context_frames: real frames the video model starts from (frames k − context_frames + 1 .. k,
            the first frame repeated before the episode's start, as the planner does).
        context_proprio: (with ``predict_horizon``) items also carry the robot's proprioception at frame
            k, for a video model that conditions on it (the data must have ``obs/proprio``).

    Items (dicts):
        s0, st: uint8 (C, H, W) tensors: frames t0 and t1 of ``episode``.
        instruction: str, a description of the instructed label (``describe([L], rng, phrasing)``).
        target: float, 1.0 for a positive, 0.0 for a negative.
        kind: str, "positive" or one of ``NEGATIVE_KINDS`` (after fallbacks).
        task: str, the task name of the instructed label L.
        episode, t0, t1: int, where the pair comes from (t0 = 0 except for "reversed").
        With ``predict_horizon`` > 0 also: ``context`` uint8 (context_frames, C, H, W), ``actions``
        float32 (predict_horizon, A) (actions k .. t1 − 1, zero-padded) and ``pred_steps`` int
        (t1 − k ≥ 1; 0 when ``st`` is not a future of the episode's start, i.e. "reversed" pairs);
        with ``context_proprio`` also ``proprio`` float32 (P,) at frame k.
    """

    def __init__(
        self,
        reader_or_root: DatasetReader | str | os.PathLike[str],
        episodes: Sequence[int] | None = None,
        negatives: NegativeWeights | None = None,
        positive_fraction: float = 0.5,
        phrasing: str = "train",
        typo_rate: float = 0.03,
        seed: int = 0,
        length: int | None = None,
        index: LabelIndex | None = None,
        modality: str = DEFAULT_MODALITY,
        progress: bool = False,
        instruction_pool: int = 0,
        predict_horizon: int = 0,
        context_frames: int = 2,
        context_proprio: bool = False,
    ):
        if predict_horizon < 0 or context_frames < 1:
            raise ValueError(
                f"predict_horizon={predict_horizon!r} must be ≥ 0 and context_frames={context_frames!r} ≥ 1"
            )
        self.predict_horizon, self.context_frames = int(predict_horizon), int(context_frames)
        self.context_proprio = bool(context_proprio)
        self._action_dim: int | None = None
        self.reader = reader_or_root if isinstance(reader_or_root, DatasetReader) else DatasetReader(reader_or_root)
        if not 0.0 <= positive_fraction <= 1.0:
            raise ValueError(f"positive_fraction={positive_fraction!r} must be in [0, 1]")
        if phrasing not in ("train", "heldout"):
            raise ValueError(f"phrasing={phrasing!r} must be 'train' or 'heldout'")
        if seed < 0:
            raise ValueError(f"seed must be ≥ 0, got {seed}")
        self.negatives = negatives or NegativeWeights()
        self.index = (
            index
            if index is not None
            else LabelIndex(self.reader, episodes, progress=progress, with_tasks=self.negatives.attempted > 0)
        )
        if self.negatives.attempted > 0 and self.index.tasks is None:
            raise ValueError("negatives.attempted > 0 needs an index built with with_tasks=True")
        if (
            episodes is not None
            and index is not None
            and not np.array_equal(np.asarray(list(episodes), dtype=np.int64), self.index.episodes)
        ):
            raise ValueError("index was built for other episodes than `episodes`")
        self.kind_p = self.negatives.probabilities()
        self.positive_fraction = float(positive_fraction)
        self.phrasing, self.typo_rate, self.seed, self.modality = phrasing, float(typo_rate), int(seed), modality
        idx = self.index
        # Instructable labels that actually happen in this split: a label never seen cannot be a positive.
        self.labels = [v for v in idx.task_ids if idx.rows_with[v].size]
        # rows whose episode was an attempt at each label's task ("attempted" negatives)
        row_tasks = np.array(idx.tasks, dtype=object) if idx.tasks is not None else None
        attempts = (
            {v: np.flatnonzero(row_tasks == label_to_task(idx.vocab[v])) for v in idx.task_ids}
            if row_tasks is not None
            else {}
        )
        #: True for a planner's recordings in which no attempt succeeded: every item is an "attempted" negative
        #: of the task an episode was planned for (what the planner mistook for success is exactly what to learn)
        self.attempts_only = not self.labels and self.negatives.attempted > 0
        if self.attempts_only:
            self.labels = [
                v
                for v in idx.task_ids
                if attempts.get(v, np.zeros(0)).size and idx.frames_lacking(int(attempts[v][0]), v).size
            ]
        if not self.labels:
            raise ValueError(
                f"no task label happens in the {len(idx)} episodes given: nothing to train on "
                "(collect more episodes, or with more expert exploration; a planner's recordings in "
                "which every attempt failed train with negatives.attempted > 0)"
            )
        self.length = int(length) if length is not None else len(idx)
        self._opposite = {
            v: [idx.column[l] for l in opposite_labels(idx.vocab[v], idx.vocab) if idx.rows_with[idx.column[l]].size]
            for v in self.labels
        }
        self._wrong = {}
        for v in self.labels:
            tiers = [
                [idx.column[l] for l in tier if idx.rows_with[idx.column[l]].size]
                for tier in wrong_object_labels(idx.vocab[v], idx.vocab)
            ]
            self._wrong[v] = next((t for t in tiers if t), [])
        self._tasks = {v: label_to_task(idx.vocab[v]) for v in self.labels}
        self._attempts = {v: attempts[v] for v in self.labels if v in attempts}
        if instruction_pool < 0:
            raise ValueError(f"instruction_pool={instruction_pool!r} must be ≥ 0")
        self._pool: dict[int, list[str]] = {}
        for v in self.labels if instruction_pool else ():
            pool_rng = np.random.default_rng([self.seed, POOL_STREAM, v])
            self._pool[v] = [
                describe([idx.vocab[v]], pool_rng, split=phrasing, typo_rate=self.typo_rate)
                for _ in range(instruction_pool)
            ]

    def instructions(self) -> list[str]:
        """Every distinct instruction of the pools (empty without a pool), e.g. to embed them up front."""
        return list(dict.fromkeys(s for pool in self._pool.values() for s in pool))

    def __len__(self) -> int:
        return self.length

    @property
    def tasks(self) -> list[str]:
        """Task names of the labels this dataset instructs, in vocabulary order."""
        return [str(self._tasks[v]) for v in self.labels]

    # ------------------------------------------------------------------ sampling (pure, keyed)
    def sample(self, key: SampleKey | int) -> tuple[int, int, int, int, str, float, str]:
        """The item's choices without reading frames: (label column, row, t0, t1, kind, target, instruction)."""
        key = self._key(key)
        rng = np.random.default_rng([key.seed, key.epoch, key.i])
        idx = self.index
        v = self.labels[int(rng.integers(len(self.labels)))]
        if self.attempts_only:  # no positive exists: the item is an attempt that did not happen
            pair = self._attempted(v, rng)
            if pair is None:
                raise RuntimeError(f"no frame of an attempt at {self._tasks[v]} lacks its label")
            instruction = (
                self._pool[v][int(rng.integers(len(self._pool[v])))]
                if self._pool
                else describe([idx.vocab[v]], rng, split=self.phrasing, typo_rate=self.typo_rate)
            )
            return v, pair[0], pair[1], pair[2], "attempted", 0.0, instruction
        # The positive's own pair is drawn for every item: "reversed" and "incomplete" negatives derive
        # from it, and drawing it always keeps the random stream of an item simple.
        row = int(idx.rows_with[v][int(rng.integers(idx.rows_with[v].size))])
        ts = idx.frames_holding(row, v)
        t = int(ts[int(rng.integers(ts.size))])
        positive = rng.random() < self.positive_fraction
        kind_draw = int(rng.choice(len(NEGATIVE_KINDS), p=self.kind_p))
        if self._pool:
            pool = self._pool[v]
            instruction = pool[int(rng.integers(len(pool)))]
        else:
            instruction = describe([idx.vocab[v]], rng, split=self.phrasing, typo_rate=self.typo_rate)
        if positive:
            return v, row, 0, t, POSITIVE, 1.0, instruction
        kind = NEGATIVE_KINDS[kind_draw]
        pair = self._negative(kind, v, row, t, rng)
        if pair is None:
            kind, pair = "other_episode", self._other_episode(v, rng)
        return v, pair[0], pair[1], pair[2], kind, 0.0, instruction

    def _negative(self, kind: str, v: int, row: int, t: int, rng: np.random.Generator) -> tuple[int, int, int] | None:
        """(row, t0, t1) of a negative of ``kind`` for column ``v``, or None if this kind has no candidate."""
        idx = self.index
        if kind == "other_episode":
            return self._other_episode(v, rng)
        if kind == "reversed":
            return (row, t, 0) if idx.vocab[v] not in idx.pair_labels(row, t, 0) else None
        if kind == "incomplete":
            ts = idx.frames_lacking(row, v)
            return (row, 0, int(ts[int(rng.integers(ts.size))])) if ts.size else None
        if kind == "no_change":
            return self._holding(idx.nothing_id, v, rng)
        if kind == "attempted":
            return self._attempted(v, rng)
        candidates = self._opposite[v] if kind == "opposite" else self._wrong[v]
        if not candidates:
            return None
        return self._holding(candidates[int(rng.integers(len(candidates)))], v, rng)

    def _holding(self, w: int, v: int, rng: np.random.Generator) -> tuple[int, int, int] | None:
        """A pair (row, 0, t) at which column ``w`` holds and column ``v`` does not."""
        rows = self.index.rows_with[w]
        if not rows.size:
            return None
        for _ in range(MAX_TRIES):
            row = int(rows[int(rng.integers(rows.size))])
            ts = self.index.frames_holding(row, w, without=v)
            if ts.size:
                return row, 0, int(ts[int(rng.integers(ts.size))])
        return None

    def _attempted(self, v: int, rng: np.random.Generator) -> tuple[int, int, int] | None:
        """A pair (row, 0, t) of an episode whose task was column ``v``'s, at a frame where ``v`` does not hold."""
        rows = self._attempts.get(v)
        if rows is None or not rows.size:
            return None
        for _ in range(MAX_TRIES):
            row = int(rows[int(rng.integers(rows.size))])
            ts = self.index.frames_lacking(row, v)
            if ts.size:
                return row, 0, int(ts[int(rng.integers(ts.size))])
        return None

    def _other_episode(self, v: int, rng: np.random.Generator) -> tuple[int, int, int]:
        """A random (row, 0, t) at which column ``v`` does not hold (LOReL's negative, checked structurally)."""
        idx = self.index
        n = len(idx)
        for _ in range(MAX_TRIES):
            row = int(rng.integers(n))
            T = int(idx.lengths[row])
            if T < 1:
                continue
            t = int(rng.integers(1, T + 1))
            if not idx.holds[idx.offsets[row] + t, v]:
                return row, 0, t
        # Label v holds almost everywhere (tiny or odd datasets): search exhaustively.
        frames = np.flatnonzero(~idx.holds[:, v])
        frame_row = np.searchsorted(idx.offsets, frames, side="right") - 1
        t_of = frames - idx.offsets[frame_row]
        ok = np.flatnonzero(t_of >= 1)
        if not ok.size:
            raise ValueError(f"label {idx.vocab[v]} holds in every frame of every episode: no negative exists")
        j = int(ok[int(rng.integers(ok.size))])
        return int(frame_row[j]), 0, int(t_of[j])

    # ------------------------------------------------------------------ items
    def __getitem__(self, item: SampleKey | int) -> dict[str, Any]:
        v, row, t0, t1, kind, target, instruction = self.sample(item)
        episode = int(self.index.episodes[row])
        pair = torch.from_numpy(self.reader.frames(episode, self.modality, (t0, t1))).permute(0, 3, 1, 2)
        out = {
            "s0": pair[0],
            "st": pair[1],
            "instruction": instruction,
            "target": target,
            "kind": kind,
            "task": self._tasks[v],
            "episode": episode,
            "t0": t0,
            "t1": t1,
        }
        if self.predict_horizon:
            key = self._key(item)
            item_rng = np.random.default_rng([key.seed, key.epoch, key.i, PREDICT_STREAM])
            out.update(self._prediction_inputs(episode, t0, t1, pair, item_rng))
        return out

    def _key(self, item: SampleKey | int) -> SampleKey:
        """An int item is ``SampleKey(self.seed, 0, item)`` (plain DataLoader samplers)."""
        return item if isinstance(item, SampleKey) else SampleKey(self.seed, 0, int(item))

    def _prediction_inputs(
        self, episode: int, t0: int, t1: int, pair: Tensor, rng: np.random.Generator
    ) -> dict[str, Any]:
        """Context frames, actions and step count from which a video model predicts ``st`` (see items)."""
        horizon, c = self.predict_horizon, self.context_frames
        if t0 != 0 or t1 < 1:  # not a future of the episode's start: nothing to predict
            if self._action_dim is None:  # read once per worker, not per item
                self._action_dim = int(self.reader.read(episode, "actions", slice(0, 1)).shape[1])
            out = {
                "context": pair[:1].expand(c, -1, -1, -1).clone(),
                "actions": torch.zeros(horizon, self._action_dim),
                "pred_steps": 0,
            }
            if self.context_proprio:  # a placeholder of the right size (never used: pred_steps = 0)
                out["proprio"] = torch.from_numpy(self.reader.read(episode, PROPRIO, 0).astype(np.float32))
            return out
        k = int(rng.integers(max(0, t1 - horizon), t1))
        first = max(0, k - c + 1)
        frames = self.reader.frames(episode, self.modality, slice(first, k + 1))
        rows = [max(0, j) - first for j in range(k - c + 1, k + 1)]  # repeat frame 0 before the start
        context = torch.from_numpy(frames[rows]).permute(0, 3, 1, 2).contiguous()
        real = self.reader.read(episode, "actions", slice(k, t1)).astype(np.float32)
        self._action_dim = real.shape[1]
        actions = torch.zeros(horizon, real.shape[1])
        actions[: t1 - k] = torch.from_numpy(real)
        out = {"context": context, "actions": actions, "pred_steps": t1 - k}
        if self.context_proprio:
            out["proprio"] = torch.from_numpy(self.reader.read(episode, PROPRIO, k).astype(np.float32))
        return out


class StepSampler(Sampler[SampleKey]):
    """Yields ``SampleKey(seed, step, j)`` for j < batch_size, step = start, start+1, ..., stop-1.

    With ``DataLoader(batch_size=batch_size, sampler=StepSampler(...))`` the batch of training step s
    depends only on (seed, s): a resumed run draws exactly the batches an uninterrupted run would.
    """

    def __init__(self, seed: int, batch_size: int, start: int, stop: int):
        if seed < 0 or batch_size < 1 or start < 0 or stop < start:
            raise ValueError(f"StepSampler: invalid seed={seed}, batch_size={batch_size}, start={start}, stop={stop}")
        self.seed, self.batch_size, self.start, self.stop = int(seed), int(batch_size), int(start), int(stop)

    def __len__(self) -> int:
        return (self.stop - self.start) * self.batch_size

    def __iter__(self) -> Iterator[SampleKey]:
        return (SampleKey(self.seed, s, j) for s in range(self.start, self.stop) for j in range(self.batch_size))
