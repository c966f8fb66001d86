"""``robolearn train dvd``: train a DVD video reward on robot clips and (optionally) human clips, resumably.

What one run does (``DVDTrainOptions`` declares every option, with its default, doc and range;
``conf/train_dvd.yaml`` is generated from it, ``conf/reward/dvd.yaml`` from ``rewards.dvd.DVDConfig``):

1. read every clip of the datasets (``data`` and ``human_data``; a clip is a robot demo or a human one by its
   ``is_robot`` flag; ``robot_only=true`` trains on the same robot clips alone) into memory, resampled to the model's frame count
   and size; split each dataset by clip (``val_fraction``, ``seed``); keep for training only clips in
   ``train_variants`` (robot clips rendered in held-out variants are for the evaluation) and of actors not in
   ``exclude_actors``;
2. per step, draw ``batch_size`` anchors (a share ``human_fraction`` from human clips: robot clips are over-sampled to
   the rest whatever their count, as DVD did), each with a positive (a clip of the same label that demonstrates it,
   from the other domain with probability ``cross_domain``), a negative of another label, and with
   ``hard_negatives``: a failed / partial / pretending clip that attempted the anchor's label (``attempt_groups``;
   when there is one) and the anchor played backwards. Batch ``s`` and its augmentation depend only on (seed, s),
   so a resumed run draws the same batches;
3. the loss: symmetric head: supervised InfoNCE over label identity (each clip's positives are the batch's clips of its
   label; its own hard negatives join its denominator) plus the pair cross-entropy; concat head: the pair
   cross-entropy alone (DVD's; the two inputs swapped at random while training, as DVD did, never when scoring); plus
   the progress head's cross-entropy on the rendered clips' final progress (reversed clips excluded), and the state
   head's Huber loss on the rendered clips' object-state changes (``reward.state_names``; a reversed clip's change is
   its anchor's, negated);
4. every ``eval_every`` steps, the pair ROC-AUC on held-out clips (robot candidate vs human demo when both exist,
   else all pairs); ``out/best.pt`` keeps the best, ``out/last.pt`` the latest (atomic; resumable), TensorBoard in
   ``out/tb``, a summary in ``out/summary.json``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf
from torch import Tensor

from rewards.dvd.checkpoint import load_checkpoint, save_checkpoint
from rewards.dvd.config import RUNTIME_FIELDS, DVDConfig, DVDVocabulary
from rewards.dvd.model import DVDReward
from robolearn.conf_files import parse_options
from robolearn.config import ConfigError
from robolearn.training.dvd_data import ClipSet, LoadClips, Pool, label_groups, load_clip_set, root_key, split_clips
from robolearn.training.dvd_metrics import embed_pool, pair_metrics, pair_probabilities, sample_pairs
from robolearn.training.loop import BEST, LAST, SUMMARY, TrainLoop, resume_or_build
from robolearn.training.randomness import keyed_generator
from robolearn.training.resume import init_weights, refuse_resume, split_differences
from robolearn.training.settings import RESUME_NOTE, LoopSettings, model_config
from sim.plumbing.checks import config_differences
from sim.plumbing.files import check_writable, output_keys, write_json_atomic
from sim.plumbing.settings import check_knobs, knob

__all__ = ["DVDTrainOptions", "DVDTrainSettings", "run_train_dvd"]

#: config keys that decide which clips are trained on and held out: a resumed run must share them
SPLIT_KEYS = (
    "data",
    "human_data",
    "robot_only",
    "val_fraction",
    "seed",
    "max_clips",
    "train_variants",
    "exclude_actors",
)
#: keyed random streams of a step (``keyed_generator``): the batch's clips, and their augmentation
BATCH_STREAM, AUGMENT_STREAM = 1, 2
#: a state whose change spreads less than this over the training clips (in its units) is not divided further: it
#: never changes, and its noise must not be blown up into a target
MIN_STATE_SPREAD = 1e-3
#: the validation pairs are drawn with this stream (fixed for the run)
VAL_STREAM = 3


@dataclass(frozen=True, kw_only=True)
class DVDTrainOptions:
    """The options of ``robolearn train dvd`` (``conf/train_dvd.yaml`` is generated from this class)."""

    data: tuple[Path, ...] = knob(
        (Path("data/videos"),),
        "clip datasets (robolearn collect videos, robolearn data import): each clip is a robot demo or a human one "
        "by its is_robot flag",
        value_type=Path,
        section="Data: clip datasets (robolearn.data.videos), read into memory at the model's frame count and size.",
    )
    human_data: tuple[Path, ...] = knob(
        (),
        "more clip datasets, e.g. imported real videos [data/ssv2]; with robot_only their clips are not read",
        value_type=Path,
    )
    robot_only: bool = knob(
        False, "train on the robot clips alone (the same robot demos as with human_data: the comparison's baseline)"
    )
    out: Path = knob(
        Path("runs/dvd"), "run folder: last.pt, best.pt (by validation pair AUC), tb/ (TensorBoard), summary.json"
    )
    max_clips: int | None = knob(
        None, "use only the first N clips of each dataset (by order); null = all", lo=2, value_type=int
    )
    val_fraction: float = knob(
        0.1,
        "expected share of each dataset's clips held out for validation, split by clip hash",
        lo=0,
        hi=1,
        lo_open=True,
        hi_open=True,
    )
    seed: int = knob(0, "seed of the split, the initialisation, the batches and their augmentation", lo=0)
    train_variants: tuple[str, ...] = knob(
        ("train",),
        "variants whose robot clips are trained on (robot clips rendered in others are for `eval dvd` only; every "
        "human clip is used: rendered ones are in train, imported ones in real)",
    )
    exclude_actors: tuple[str, ...] = knob(
        (), "actors whose clips are never trained on (a held-out actor, measured by `eval dvd`)"
    )
    init_from: Path | None = knob(
        None,
        "start a new run from this DVD checkpoint's weights (same reward.* settings); ignored when out/last.pt exists",
        value_type=Path,
    )

    human_fraction: float = knob(
        0.5,
        "share of each batch's anchors drawn from human clips (the mixing ratio); the rest are robot clips, "
        "over-sampled to that share whatever their count (DVD: ~0.5)",
        lo=0,
        hi=1,
        section="Batches: anchors, each with a positive (same label), a negative (another label) and hard negatives.",
    )
    cross_domain: float = knob(
        1.0,
        "probability that an anchor's positive and negative come from the other domain (robot ↔ human: the pairing "
        "planning uses) when it has clips of the label; below 1, robot anchors are also compared with robot clips, "
        "which their arm's path alone tells apart (0.5: new_arrangement 0.04 and human-only tasks 0.015 lower on the "
        "validation seeds)",
        lo=0,
        hi=1,
    )
    hard_negatives: bool = knob(
        True,
        "per anchor, a failed / partial / pretending clip that attempted its label (by the clip's behaviour: a "
        "pretended opening is labelled 'Pretending to open something'; when there is one) and the anchor played "
        "backwards are negatives (false: other labels only, as DVD)",
    )
    contrastive_weight: float = knob(1.0, "weight of the supervised InfoNCE term (symmetric head only)", lo=0)
    contrast_robot_pairs: bool = knob(
        True,
        "InfoNCE also compares the batch's robot clips with each other (as positives of a shared label, else as "
        "negatives); false: a robot clip is contrasted with human clips only, so the arm's path, which tells the "
        "robot's few tasks apart in its one scene, is never what a comparison rewards (measured: no gain on the "
        "validation seeds, docs/benchmarks.md)",
    )
    pair_weight: float = knob(1.0, "weight of the pair cross-entropy (same / different task)", lo=0)
    progress_loss_weight: float = knob(
        0.5, "weight of the progress head's cross-entropy (needs reward.progress_head)", lo=0
    )
    state_loss_weight: float = knob(
        0.5,
        "weight of the state head's Huber loss on each rendered clip's object-state changes, each divided by its "
        "spread in the training clips (needs reward.state_names; clips that record no states are left out)",
        lo=0,
    )
    augment_shift: int = knob(
        4, "random translation of each clip, the same for all its frames (pixels; 0 = none)", lo=0
    )
    augment_zoom: float = knob(
        0.15,
        "random zoom of each clip about its centre, the same for all its frames: scale drawn in [1 − a, 1 + a] "
        "(0 = none; the edges are repeated when zooming out): cameras nearer or farther than the training ones",
        lo=0,
        hi=0.5,
    )
    augment_rotate: float = knob(
        8.0,
        "random roll of each clip about its centre, the same for all its frames: angle in ±a (degrees; 0 = none)",
        lo=0,
        hi=45,
    )
    augment_color: float = knob(
        0.2,
        "random per-channel gain in [1 − a, 1 + a] and brightness offset in ±a/2 per clip (0 = none)",
        lo=0,
        hi=1,
    )

    steps: int = knob(
        3000,
        "optimizer steps in total (a resumed run continues up to this number)",
        lo=1,
        section="Optimisation: AdamW, linear warm-up, then cosine decay to lr * min_lr_fraction at `steps`.",
    )
    batch_size: int = knob(32, "anchors per step (each brings 3–5 clips)", lo=2)
    lr: float = knob(1e-3, "AdamW peak learning rate", lo=0, lo_open=True)
    weight_decay: float = knob(1e-4, "AdamW decoupled weight decay", lo=0)
    warmup_steps: int = knob(100, "linear learning-rate warm-up (steps)", lo=0)
    min_lr_fraction: float = knob(0.05, "final learning rate as a fraction of lr", lo=0, hi=1)
    grad_clip: float | None = knob(
        1.0, "clip the global gradient norm to this (null = no clipping)", lo=0, lo_open=True, nullable=True
    )

    eval_every: int = knob(
        250,
        "validation (pair ROC-AUC on held-out clips) every this many steps",
        lo=1,
        section="Validation, checkpoints and resources.",
    )
    val_pairs: int = knob(4000, "validation pairs, fixed for the run (half same-task when there are enough)", lo=2)
    checkpoint_every: int = knob(250, "write out/last.pt every this many steps (and at the end)", lo=1)
    torch_threads: int = knob(2, "intra-op threads of the training process (the machine's cores)", lo=1)
    max_minutes: float | None = knob(
        None,
        "stop after this much wall time (minutes), validate and checkpoint; null = no limit",
        lo=0,
        lo_open=True,
        value_type=float,
    )
    progress_bar: bool = knob(True, "show a tqdm progress bar with the loss")

    def __post_init__(self) -> None:
        check_knobs(self, "")
        if not self.data:
            raise ConfigError("data=[] names no clip dataset; give at least one, e.g. data=[data/videos]")
        every = list(self.data) + ([] if self.robot_only else list(self.human_data))
        if len({root_key(p) for p in every}) != len(every):
            raise ConfigError(f"data and human_data list a folder twice: {[str(p) for p in every]}")


@dataclass(frozen=True, kw_only=True)
class DVDTrainSettings(DVDTrainOptions):
    """A validated ``conf/train_dvd.yaml``: its options, the ``reward`` group's ``DVDConfig`` and the resolved config
    (``raw``, recorded in checkpoints)."""

    reward: DVDConfig
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: DictConfig | Mapping[str, Any]) -> DVDTrainSettings:
        """Validate a composed ``train_dvd`` config; every problem is a one-line ``ConfigError``."""
        raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
        if not isinstance(raw, dict):
            raise ConfigError(f"a train dvd config must be a mapping, got {raw!r}")
        data: dict[str, Any] = {str(k): v for k, v in raw.items()}
        reward = model_config(data.pop("reward", None), DVDConfig, "reward", "dvd")
        parsed = parse_options(DVDTrainOptions, data, "train dvd")
        values = {f.name: getattr(parsed, f.name) for f in fields(parsed)}
        values["out"] = check_writable(values["out"], "out", folder=True)
        return cls(**values, reward=reward, raw=data | {"reward": raw.get("reward")})


# ----------------------------------------------------------------------------------------------- data
@dataclass
class Data:
    """The run's clips: the training and validation pools, and what was read."""

    train: Pool
    val: Pool
    identity: dict[str, Any]
    vocabulary: DVDVocabulary


def read_data(s: DVDTrainSettings, load: LoadClips, say: Any) -> Data:
    """Read, split and filter the clips (see the module docstring, step 1)."""
    c = s.reward
    roots = list(s.data) + ([] if s.robot_only else list(s.human_data))
    train_parts: list[tuple[ClipSet, list[int]]] = []
    val_parts: list[tuple[ClipSet, list[int]]] = []
    identity: dict[str, Any] = {}
    for root in roots:
        clips = load(root, c.num_frames, c.image_size)
        if s.max_clips is not None and len(clips.infos) > s.max_clips:
            clips = clips.head(s.max_clips)
        if clips.frames.shape[1:4] != (c.num_frames, c.image_size, c.image_size):
            raise ConfigError(
                f"{root}: clips were read as {clips.frames.shape[1:4]} (frames, height, width), the model takes "
                f"({c.num_frames}, {c.image_size}, {c.image_size}); the reader must resample them"
            )
        identity[root_key(root)] = len(clips.infos)
        train_at, val_at = split_clips(clips, s.val_fraction, s.seed)

        def keep(i: int, clips: ClipSet = clips) -> bool:
            info = clips.infos[i]
            if s.robot_only and not info.is_robot:
                return False
            if info.is_robot and str(info.variant) not in s.train_variants:
                return False  # a held-out variant's robot clips: for the evaluation
            return str(info.actor) not in s.exclude_actors

        train_parts.append((clips, [i for i in train_at if keep(i)]))
        val_parts.append((clips, [i for i in val_at if keep(i)]))
    pool, val = Pool.gather(train_parts), Pool.gather(val_parts)
    positive = pool.positive
    labels = sorted(set(pool.labels[positive].tolist()))
    if len(labels) < 2:
        raise ConfigError(
            f"the training clips demonstrate {len(labels)} label(s) ({labels}); same-task training needs at least 2: "
            "collect clips of more tasks"
        )
    robot_labels = sorted(set(pool.labels[positive & pool.robot].tolist()))
    if not robot_labels:
        raise ConfigError(f"no robot clip in data={[str(p) for p in s.data]} demonstrates a task; collect robot demos")
    vocabulary = DVDVocabulary.from_dict(
        {
            "labels": labels,
            "robot_labels": robot_labels,
            "actors": sorted({str(i.actor) for i in pool.infos if not i.is_robot}),
            "variants": sorted({str(i.variant) for i in pool.infos if i.is_robot}),
        }
    )
    say(
        f"clips: {len(pool)} training ({int(pool.robot.sum())} robot), {len(val)} validation; {len(labels)} labels, "
        f"{len(robot_labels)} with robot clips, {len(vocabulary.human_only_labels)} seen only in human videos"
    )
    return Data(pool, val, identity, vocabulary)


class Batches:
    """Batch ``step`` of the run, a function of (seed, step) only (see the module docstring, step 2).

    A batch is a dict: ``clips`` float (K, F, S, S, 3) in [0, 1], augmented; ``codes`` int64 (2B,) label codes of the
    anchors then the positives; ``hard_owner`` int64 (H,) the anchor of each hard negative (clips 3B … 3B + H − 1);
    ``progress`` float (K,) targets, NaN where none; ``swap`` bool (B,) (concat head: which pairs are fed reversed).
    """

    def __init__(self, pool: Pool, s: DVDTrainSettings):
        self.pool, self.s = pool, s
        pos = pool.positive
        self.label_code = {label: k for k, label in enumerate(sorted(set(pool.labels.tolist())))}
        self.demos = {dom: label_groups(pool, pool.where(pos & (pool.robot == dom))) for dom in (True, False)}
        self.failures = attempt_groups(pool, pool.where(~pos), set(pool.labels[pos].tolist()))
        self.states = state_targets(pool, s.reward.state_names)
        self.anchor_domains = [dom for dom in (True, False) if self.demos[dom]]

    def _pick(self, rng: np.random.Generator, items: np.ndarray) -> int:
        return int(items[rng.integers(len(items))])

    def __call__(self, step: int) -> dict[str, Any]:
        s, pool = self.s, self.pool
        rng = np.random.default_rng([s.seed, BATCH_STREAM, step])
        b = s.batch_size
        anchors, positives, others, hard, owner = [], [], [], [], []
        for _ in range(b):
            if len(self.anchor_domains) == 2:
                dom = not (rng.random() < s.human_fraction)  # False: a human anchor
            else:
                dom = self.anchor_domains[0]
            groups = self.demos[dom]
            label = list(groups)[rng.integers(len(groups))]
            a = self._pick(rng, groups[label])
            other_dom = not dom
            pdom = other_dom if label in self.demos[other_dom] and rng.random() < s.cross_domain else dom
            same = groups[label] if pdom == dom else self.demos[pdom][label]
            candidates = same[same != a]
            positives.append(self._pick(rng, candidates) if len(candidates) else a)
            ndom = pdom if len(self.demos[pdom]) > 1 else dom
            wrong = [k for k in self.demos[ndom] if k != label] or [k for k in groups if k != label]
            others.append(self._pick(rng, self.demos[ndom][wrong[rng.integers(len(wrong))]]))
            anchors.append(a)
            if s.hard_negatives and label in self.failures:
                hard.append(self._pick(rng, self.failures[label]))
                owner.append(len(anchors) - 1)
        idx = np.asarray(anchors + positives + others + hard, dtype=np.int64)
        frames = pool.frames[idx]
        reversed_owner = list(range(b)) if s.hard_negatives else []
        if reversed_owner:
            frames = np.concatenate([frames, pool.frames[np.asarray(anchors)][:, ::-1]])
        progress = np.concatenate([pool.progress[idx], np.full(len(reversed_owner), np.nan, np.float32)])
        # a clip played backwards undoes its change: its target is the negated change of its anchor
        states = np.concatenate(
            [self.states[idx], -self.states[np.asarray(anchors, dtype=np.int64)][: len(reversed_owner)]]
        )
        g = keyed_generator(s.seed, AUGMENT_STREAM, step)
        return {
            "clips": augment(torch.from_numpy(np.ascontiguousarray(frames)), s, g),
            "codes": torch.tensor([self.label_code[str(pool.labels[i])] for i in anchors + positives]),
            "robot": torch.from_numpy(pool.robot[np.asarray(anchors + positives, dtype=np.int64)]),
            "hard_owner": torch.tensor(owner + reversed_owner, dtype=torch.int64),
            "progress": torch.from_numpy(progress),
            "states": torch.from_numpy(states),
            "swap": torch.rand(b, generator=g) < 0.5,
        }


def attempt_groups(pool: Pool, positions: np.ndarray, labels: set[str]) -> dict[str, np.ndarray]:
    """``positions`` (clips that do not demonstrate their label) grouped by the label they attempted: the clip's
    behaviour when that is one of ``labels`` (a pretended opening of the drawer is labelled "Pretending to open
    something" but attempted open_drawer, so it is a hard negative of open_drawer), else its own label."""
    attempted = pool.labels.astype(object)  # a copy whose entries may be longer strings than the labels'
    for i in positions.tolist():
        behaviour = getattr(pool.infos[i], "behaviour", None)
        if behaviour is not None and str(behaviour) in labels:
            attempted[i] = str(behaviour)
    return label_groups(pool, positions, attempted)


def state_targets(pool: Pool, names: tuple[str, ...]) -> np.ndarray:
    """float32 (N, K): each clip's change of each named object state divided by that state's spread (standard
    deviation) over the pool's clips that record it, so metres and radians weigh alike; NaN where unknown."""
    change = pool.state_changes(names)
    if not len(change):
        return change
    known = ~np.isnan(change)
    spread = np.array(
        [float(np.std(change[known[:, j], j])) if known[:, j].sum() > 1 else 1.0 for j in range(len(names))]
    )
    return (change / np.maximum(spread, MIN_STATE_SPREAD)).astype(np.float32)


def state_coverage(states: np.ndarray, names: tuple[str, ...]) -> str:
    """One line saying how many training clips (rows of ``states`` (N, K), NaN where unknown) the state head learns
    from, and which of ``names`` no clip records (imported videos and other scenes record none of the desk's)."""
    known = ~np.isnan(states)
    rows = int(known.all(1).sum())
    line = f"state head: {rows} of {len(states)} training clips record all {len(names)} reward.state_names"
    missing = [n for j, n in enumerate(names) if not known[:, j].any()]
    if missing:
        line += f"; none records {', '.join(missing)}"
    if not rows:
        line += " (the state head stays untrained; score() never uses it: set reward.state_names=[] to drop it)"
    return line


def augment(frames: Tensor, s: DVDTrainOptions, g: torch.Generator) -> Tensor:
    """uint8 clips (K, F, S, S, C) → float in [0, 1], each clip moved by one random similarity transform (the same for
    all its frames: ``augment_shift`` pixels, ``augment_zoom``, ``augment_rotate``; edges repeated) and its colours
    jittered (``augment_color``), drawing from ``g``."""
    x = frames.float().div_(255.0)
    k, f, h, w, ch = x.shape
    if s.augment_shift or s.augment_zoom or s.augment_rotate:
        # Every draw is made whatever the settings, so switching one transform on leaves the others' draws alone.
        dx = torch.randint(-s.augment_shift, s.augment_shift + 1, (k,), generator=g).double()
        dy = torch.randint(-s.augment_shift, s.augment_shift + 1, (k,), generator=g).double()
        zoom = 1.0 + s.augment_zoom * (2.0 * torch.rand(k, generator=g, dtype=torch.float64) - 1.0)
        angle = torch.deg2rad(s.augment_rotate * (2.0 * torch.rand(k, generator=g, dtype=torch.float64) - 1.0))
        # affine_grid maps output to input coordinates in [-1, 1]: a zoom-in by z samples a 1/z-wide window
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack(
            [
                torch.stack([cos, -sin, -2.0 * dx / w], dim=1),
                torch.stack([sin, cos, -2.0 * dy / h], dim=1),
            ],
            dim=1,
        ).float()
        flat = x.permute(0, 1, 4, 2, 3).reshape(k, f * ch, h, w)
        grid = F.affine_grid(theta, [k, f * ch, h, w], align_corners=False)
        flat = F.grid_sample(flat, grid, mode="bilinear", padding_mode="border", align_corners=False)
        x = flat.reshape(k, f, ch, h, w).permute(0, 1, 3, 4, 2)
    if s.augment_color:
        a = s.augment_color
        gain = 1.0 + a * (2.0 * torch.rand(k, 1, 1, 1, ch, generator=g) - 1.0)
        offset = a * (torch.rand(k, 1, 1, 1, 1, generator=g) - 0.5)
        x = (x * gain + offset).clamp_(0.0, 1.0)
    return x.contiguous()


# ----------------------------------------------------------------------------------------------- loss
def supcon_loss(
    model: DVDReward, e: Tensor, codes: Tensor, hard: Tensor, owner: Tensor, apart: Tensor | None = None
) -> Tensor:
    """Supervised InfoNCE over the 2B anchors and positives ``e`` (2B, E) with label ``codes`` (2B,): each row's
    positives are the other rows of its label; its anchor's hard negatives ``hard`` (H, E) (anchor ``owner``) join
    its denominator only (a reversed "opening" looks like a "closing": it is a negative for its own anchor alone).
    ``apart`` bool (2B,): rows never compared with each other (neither positives nor negatives), e.g. robot clips."""
    n = e.shape[0]
    b = n // 2
    logits = model.similarity_matrix(e, e)
    eye = torch.eye(n, dtype=torch.bool)
    unseen = eye if apart is None else eye | (apart[:, None] & apart[None, :])
    logits = logits.masked_fill(unseen, float("-inf"))
    if hard.shape[0]:
        hard_logits = model.similarity_matrix(e, hard)  # (2B, H)
        rows = torch.arange(n) % b
        mine = rows[:, None] == owner[None, :]
        logits = torch.cat([logits, hard_logits.masked_fill(~mine, float("-inf"))], dim=1)
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    pos = (codes[:, None] == codes[None, :]) & ~unseen
    if hard.shape[0]:
        pos = torch.cat([pos, torch.zeros(n, hard.shape[0], dtype=torch.bool)], dim=1)
    per_row = -(log_prob.masked_fill(~pos, 0.0).sum(1) / pos.sum(1).clamp(min=1))
    return per_row[pos.any(1)].mean()


def balanced_bce(logits: Tensor, target: Tensor) -> Tensor:
    """Binary cross-entropy with the positive and the negative pairs weighted alike."""
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    pos = target > 0.5
    parts = [loss[pos].mean()] if pos.any() else []
    parts += [loss[~pos].mean()] if (~pos).any() else []
    return torch.stack(parts).mean()


def step_loss(model: DVDReward, batch: Mapping[str, Any], s: DVDTrainSettings) -> tuple[Tensor, dict[str, float]]:
    """The training loss of one batch (see the module docstring, step 3) and its parts."""
    e = model.embed(batch["clips"])
    b = s.batch_size
    anchor, positive, other, hard = e[:b], e[b : 2 * b], e[2 * b : 3 * b], e[3 * b :]
    owner = batch["hard_owner"]
    first = torch.cat([anchor, anchor, anchor[owner]])
    second = torch.cat([positive, other, hard])
    target = torch.cat([torch.ones(b), torch.zeros(b + hard.shape[0])])
    if model.config.head == "concat":  # DVD swapped the inputs at random while training (never when scoring)
        swap = torch.cat([batch["swap"], batch["swap"], batch["swap"][owner]])[:, None]
        first, second = torch.where(swap, second, first), torch.where(swap, first, second)
    pair = balanced_bce(model.pair_logits(first, second), target)
    loss = s.pair_weight * pair
    scalars = {"pair": pair.item()}
    if model.config.head == "symmetric" and s.contrastive_weight > 0:
        # a batch of robot clips alone (robot_only) keeps its comparisons: nothing else is there to contrast with
        robot = batch["robot"]
        apart = None if s.contrast_robot_pairs or bool(robot.all()) else robot
        con = supcon_loss(model, torch.cat([anchor, positive]), batch["codes"], hard, owner, apart)
        loss = loss + s.contrastive_weight * con
        scalars["infonce"] = con.item()
    known = ~torch.isnan(batch["progress"])
    if model.config.progress_head and s.progress_loss_weight > 0 and known.any():
        prog = F.binary_cross_entropy_with_logits(model.progress_logits(e[known]), batch["progress"][known])
        loss = loss + s.progress_loss_weight * prog
        scalars["progress"] = prog.item()
    states = batch.get("states")
    if model.config.state_names and s.state_loss_weight > 0 and states is not None:
        rows = ~torch.isnan(states).any(1)
        if rows.any():
            st = F.smooth_l1_loss(model.state_changes(e[rows]), states[rows])
            loss = loss + s.state_loss_weight * st
            scalars["state"] = st.item()
    scalars["loss"] = loss.item()
    return loss, scalars


# ----------------------------------------------------------------------------------------------- validation
class Validation:
    """Pair ROC-AUC on fixed held-out pairs: robot candidates against human demos when both exist (the pairing
    planning uses), else every pair of held-out clips that demonstrate their label."""

    def __init__(self, val: Pool, s: DVDTrainSettings):
        self.val = val
        pos = val.positive
        robot, human = val.where(pos & val.robot), val.where(pos & ~val.robot)
        rng = np.random.default_rng([s.seed, VAL_STREAM])
        if len(robot) and len(human):
            self.kind = "robot_human"
            self.pairs = sample_pairs(val, robot, human, rng, s.val_pairs)
        else:
            self.kind = "all"
            self.pairs = sample_pairs(val, val.where(pos), val.where(pos), rng, s.val_pairs)
        both = self.pairs.same.any() and (~self.pairs.same).any()
        self.clips = np.unique(np.concatenate([self.pairs.cand, self.pairs.demo])) if both else np.zeros(0, np.int64)

    def __call__(self, model: DVDReward) -> dict[str, Any]:
        if not len(self.clips):  # too few held-out clips: nothing to measure, best.pt follows the last step
            return {"auc": 0.0, "pairs": 0}
        emb = torch.zeros(len(self.val), model.config.embed_dim)
        emb[self.clips] = embed_pool(model, self.val.frames[self.clips])
        p = pair_probabilities(model, emb, self.pairs.cand, self.pairs.demo)
        m = pair_metrics(p, self.pairs.same, 0.5)
        return {"auc": m["auc"], "accuracy": m["accuracy"], "pairs": m["positives"] + m["negatives"]}


# ----------------------------------------------------------------------------------------------- run
def plain_options(s: DVDTrainOptions) -> dict[str, Any]:
    """The run's options (``DVDTrainOptions`` fields, defaults included) as plain values: checkpoints record them
    (the resume check compares them; ``eval dvd`` reads the split from them)."""
    out: dict[str, Any] = {}
    for f in fields(DVDTrainOptions):
        value = getattr(s, f.name)
        if isinstance(value, tuple):
            value = [str(v) if isinstance(v, Path) else v for v in value]
        out[f.name] = str(value) if isinstance(value, Path) else value
    return out


def _check_resume(state: Mapping[str, Any], model: DVDReward, s: DVDTrainSettings, identity: dict[str, Any]) -> None:
    diffs = [f"reward.{d}" for d in config_differences(model.config, s.reward, ignore=RUNTIME_FIELDS)]
    refuse_resume(s.out / LAST, diffs, split_differences(state, plain_options(s), identity, SPLIT_KEYS))


def run_train_dvd(s: DVDTrainSettings, echo: bool = True, load: LoadClips = load_clip_set) -> dict[str, Any]:
    """Train (or resume) the DVD reward described by ``s``; returns the summary (also ``out/summary.json``).

    Args:
        s: the validated settings.
        echo: print progress.
        load: reads a dataset folder (default: ``robolearn.data.videos``; tests pass in-memory clips).

    Raises:
        ConfigError: too few labels, no robot demos, or ``out/last.pt`` made with other settings.
        robolearn.data.metadata.DatasetError: a folder is not a clip dataset.
        sim.plumbing.files.OutputError: the run folder cannot be written (the checkpoints written so far are kept).
    """
    with output_keys({"out": s.out}, RESUME_NOTE):
        return _run(s, echo, load)


def _run(s: DVDTrainSettings, echo: bool, load: LoadClips) -> dict[str, Any]:
    from tqdm import tqdm  # lazy, as the loop's

    t_setup = time.monotonic()
    torch.set_num_threads(s.torch_threads)

    def say(msg: str) -> None:
        if echo:
            tqdm.write(msg)

    data = read_data(s, load, say)
    s.out.mkdir(parents=True, exist_ok=True)

    def fresh() -> DVDReward:
        model = DVDReward(s.reward, seed=s.seed)
        return model if s.init_from is None else init_weights(model, s.init_from, load_checkpoint, "reward.")

    r = resume_or_build(
        s.out / LAST,
        load_checkpoint,
        lambda state, model: _check_resume(state, model, s, data.identity),
        fresh,
        s.seed,
        "auc",
        True,
        say,
    )
    model = r.model
    model.vocabulary = data.vocabulary
    summary: dict[str, Any] = {"out": str(s.out), "start_step": r.start, "vocabulary": data.vocabulary.to_dict()}
    if r.start >= s.steps:
        say(f"{s.out / LAST} is already at step {r.start} (steps={s.steps}); raise steps= to train longer")
        summary.update(step=r.start, steps=s.steps, best_val_auc=r.best, best_step=r.best_step, stopped="done")
        return summary
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=s.lr, weight_decay=s.weight_decay)
    if r.state.get("optimizer"):
        optimizer.load_state_dict(r.state["optimizer"])
    batches = Batches(data.train, s)
    if s.reward.state_names and s.state_loss_weight > 0:
        say(state_coverage(batches.states, s.reward.state_names))
    validation = Validation(data.val, s)
    say(
        f"DVD reward ({s.reward.head} head) {model.num_parameters()['total']:,} parameters; validation: "
        f"{len(validation.pairs.same)} {validation.kind} pairs; setup {time.monotonic() - t_setup:.1f} s"
    )
    # TrainLoop reads only the loop knobs of LoopSettings (out, steps, lr, warmup_steps, min_lr_fraction, grad_clip,
    # eval_every, checkpoint_every, max_minutes, progress_bar), which DVDTrainOptions declares with the same meaning.
    loop = TrainLoop(
        cast(LoopSettings, s),
        model,
        optimizer,
        r,
        "auc",
        True,
        save_checkpoint,
        echo=echo,
        extra=lambda: {"config": plain_options(s), "raw": dict(s.raw), "dataset": data.identity},
    )

    def describe(v: Mapping[str, Any]) -> str:
        return (
            f"step {loop.step}: val pair AUC {v['auc']:.4f} ({v['pairs']} pairs); best {loop.best:.4f} at "
            f"{loop.best_step}"
        )

    done = loop.run(
        (batches(k) for k in range(r.start, s.steps)),
        lambda batch, step: step_loss(model, batch, s),
        lambda: validation(model),
        describe,
    )
    elapsed = done.pop("elapsed")
    clips_per_step = s.batch_size * (3 + (2 if s.hard_negatives else 0))
    summary.update(
        **{k: v for k, v in done.items() if k != "steps_done"},
        clips_per_second=round(done["steps_done"] * clips_per_step / elapsed, 1) if elapsed > 0 else None,
        train_loss_ema=loop.ema.get("loss"),
        val=loop.last_val,
        best_val_auc=loop.best,
        best_step=loop.best_step,
        parameters=model.num_parameters(),
        checkpoints={"last": str(s.out / LAST), "best": str(s.out / BEST)},
        clips={"train": len(data.train), "val": len(data.val)},
    )
    write_json_atomic(s.out / SUMMARY, summary)
    if echo:
        print(
            f"trained steps {summary['start_step']} → {summary['step']} of {summary['steps']} ({summary['stopped']}), "
            f"{summary['wall_seconds']:.0f} s; best val pair AUC {summary['best_val_auc']:.4f} at step "
            f"{summary['best_step']}; checkpoints {summary['checkpoints']['last']}, {summary['checkpoints']['best']}"
        )
    return summary
