"""``robolearn train``: train a LOReL reward on an offline dataset, resumably.

What one run does (``TrainOptions`` declares every option, with its default, doc and range; ``conf/train.yaml``
is generated from it):

1. split the dataset's episodes into train / validation by episode hash (``split_episodes``);
2. draw training items from structured labels (``reward_data.RewardPairDataset``): balanced task
   labels, positives at any frame where the change holds, LOReL's negatives plus harder ones.
   With ``predicted_frames.video_checkpoint``, a share of the items' ``s_t`` are replaced by that video
   model's prediction of the same frame (``predicted_frames``): the reward learns the frames a planner
   will show it, and validation also reports the AUC on predicted frames. ``init_from`` starts from
   another run's weights (fine-tuning); ``extra_data`` mixes other datasets (e.g. the planner's own
   recorded episodes) into every batch with probability ``extra_fraction`` per item
   (``robolearn.training.mixing``), validates on their held-out episodes too, and picks ``best.pt`` by
   the AUC mixed as the batches are;
3. augment each pair identically for both frames (random shift, brightness/contrast), then minimise
   binary cross-entropy on the model's logits with AdamW (linear warm-up, cosine decay);
4. every ``eval_every`` steps, score a fixed set of validation items: ROC-AUC, accuracy, per-kind
   accuracy; TensorBoard scalars go to ``out/tb``;
5. write ``out/last.pt`` every ``checkpoint_every`` steps and at the end, and ``out/best.pt`` whenever
   the validation AUC improves. Checkpoints are written to a temporary file and renamed (atomic), and
   record the full config, the step, the optimizer and the RNG state.

Rerunning the same command resumes from ``out/last.pt``: batch ``s`` depends only on (seed, s)
(``StepSampler``, keyed augmentation), so a resumed run draws the batches an uninterrupted one would.
A run whose model settings or data split differ from the checkpoint's is refused (``ConfigError``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from rich.console import Console
from torch import Tensor

from rewards.lorel import LorelConfig, LorelReward, load_checkpoint, save_checkpoint
from rewards.metrics import roc_auc
from rewards.nets import evaluating
from robolearn.config import ConfigError, one_line
from robolearn.data.loader import SampleKey
from robolearn.data.metadata import DatasetError
from robolearn.training.datasets import needs_proprio
from robolearn.training.loop import LAST, SUMMARY, TrainLoop, start_run, step_loader
from robolearn.training.mixing import MixedItems, extra_report, mix_differences, mix_validation, open_extra
from robolearn.training.predicted_frames import PredictedFrameSettings, predict_targets, prediction_mask
from robolearn.training.randomness import keyed_generator
from robolearn.training.resume import init_weights, refuse_resume, split_differences
from robolearn.training.reward_data import NegativeWeights, RewardPairDataset
from robolearn.training.schedule import lr_at
from robolearn.training.settings import RESUME_NOTE, LoopSettings, model_config, trainer_settings
from sim.plumbing.checks import config_differences
from sim.plumbing.files import output_keys, write_json_atomic
from sim.plumbing.settings import FIGURES, check_knobs, knob

if TYPE_CHECKING:  # pragma: no cover
    from planners.video.model import VideoModel
    from rewards.lorel import LorelConfig, LorelReward
    from robolearn.training.reward_data import RewardPairDataset

__all__ = [
    "AugmentSettings",
    "PairOptions",
    "TrainOptions",
    "TrainSettings",
    "augment_pair",
    "lr_at",
    "reward_config",
    "run_train",
    "validate",
]

# Model fields that change neither the weights nor training (how many frames score() batches).
RUNTIME_MODEL_FIELDS = ("score_chunk",)
VAL_EPOCH = 2**31 - 1  # SampleKey epoch of the fixed validation items (training steps never reach it)
AUG_STREAM = 0xA06  # rng stream id of augmentation: generator seed from (seed, AUG_STREAM, step)
PIXEL_MAX = 255.0  # uint8 full range
VAL_BATCH = 512  # validation pairs per forward pass (bounds memory)


# ------------------------------------------------------------------------------------------ settings
@dataclass(frozen=True)
class AugmentSettings:
    """Photometric and geometric augmentation applied identically to both frames of a pair (``augment`` of
    ``conf/train.yaml``): a shift, an additive offset of ± brightness × 255 and a scale about the pair's mean
    of 1 ± contrast, each drawn per pair."""

    shift: int = knob(4, "random translation of ± this many pixels (replicate padding); 0 = off", lo=0)
    brightness: float = knob(
        0.1, "additive brightness jitter, ± this fraction of the full range", lo=0, hi=1, hi_open=True
    )
    contrast: float = knob(
        0.1, "multiplicative contrast jitter around the image mean, 1 ± this", lo=0, hi=1, hi_open=True
    )

    def __post_init__(self) -> None:
        check_knobs(self, "augment")


@dataclass(frozen=True, kw_only=True)
class TrainOptions(LoopSettings):
    """The options of ``robolearn train`` (``conf/train.yaml`` is generated from this class): the trainers'
    shared ones (``LoopSettings``) with this trainer's defaults, and how reward items are drawn."""

    KNOB_DOCS: ClassVar[Mapping[str, str]] = {
        "out": "run folder: last.pt, best.pt (by validation AUC), tb/ (TensorBoard), summary.json",
        "seed": "seed of the split, the model initialisation, the sampled items and the augmentation",
        "init_from": "start a new run from this reward checkpoint's weights (fine-tuning; same reward.* settings); "
        "ignored when out/last.pt exists",
        "extra_data": "dataset folders, e.g. [runs/planned]; with predicted_frames the reward learns the predictions "
        "of plans that really failed, labelled by what happened; [] = the main data only",
        "extra_fraction": "probability that an item comes from the extra data (ignored without extra_data); "
        "best.pt is chosen by the AUC mixed in this proportion, as batches are",
        "steps": f"optimizer steps in total (a resumed run continues up to this number; time: {FIGURES})",
        "lr": f"AdamW peak learning rate (why this value: {FIGURES})",
        "eval_every": "validation (AUC, accuracy on held-out episodes) every this many steps",
        "progress_bar": "show a tqdm progress bar with loss and accuracy",
    }

    out: Path = Path("runs/lorel")
    steps: int = 12000
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    eval_every: int = 1000
    checkpoint_every: int = 1000
    num_workers: int = 2
    val_items: int = knob(
        2048, "validation items, fixed: drawn once from the held-out episodes like training items", lo=2
    )
    positive_fraction: float = knob(
        0.5,
        "probability that an item is a positive",
        lo=0,
        hi=1,
        lo_open=True,
        hi_open=True,
        section="How items are drawn (robolearn/training/reward_data.py): instructions are structured task labels "
        "described in training phrasings; negatives never contain the instructed change.",
    )
    typo_rate: float = knob(
        0.03, "probability of a typo per word of an instruction, as in crowd-sourced text", lo=0, hi=1
    )
    instruction_pool: int = knob(
        1000,
        "descriptions in each task label's pool (count)",
        lo=0,
        section="Each task label's instructions come from a fixed pool of this many training-phrasing "
        "descriptions, embedded once up front: a fresh sentence per item would cost a transformer pass each (more "
        "than the image CNN; docs/benchmarks.md). 0 = a fresh description per item. Validation always uses fresh "
        "ones.",
    )
    negatives: NegativeWeights = knob(
        NegativeWeights(),
        "Relative weights of the negative kinds (normalised; a kind without candidates for an instruction falls "
        "back to other_episode).",
    )
    augment: AugmentSettings = knob(
        AugmentSettings(),
        "Image augmentation, the same for s0 and s_t of a pair (a camera shake or a lighting change affects both).",
    )
    predicted_frames: PredictedFrameSettings = knob(
        PredictedFrameSettings(),
        "Planner-realistic frames: replace s_t of a share of the items by a video model's prediction of it, made "
        "as a planner makes it (from real frames up to max_horizon steps earlier, through the episode's own "
        "actions); the label stays the real frame's. Without this a reward trained on real frames scores blurry "
        "predictions it has never seen, and the planner exploits that (robolearn/training/predicted_frames.py).",
    )


@dataclass(frozen=True, kw_only=True)
class TrainSettings(TrainOptions):
    """A validated ``conf/train.yaml``: its options (``TrainOptions``, whose knobs document every field), the
    ``reward`` group's model config and the resolved config (``raw``, recorded in checkpoints)."""

    reward: LorelConfig
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: DictConfig | Mapping[str, Any]) -> TrainSettings:
        """Validate a composed ``train`` config; every problem is a one-line ``ConfigError``."""
        return trainer_settings(cls, TrainOptions, cfg, "train", "reward", reward_config)


def reward_config(node: DictConfig | Mapping[str, Any] | None) -> LorelConfig:
    """The reward group's node → a validated ``LorelConfig`` (via its Hydra ``_target_`` when present).

    Raises:
        ConfigError: a missing group, an unknown field or an invalid value (the model's message).
    """
    return model_config(node, LorelConfig, "reward", "lorel")


# -------------------------------------------------------------------------------------- augmentation
def step_generator(seed: int, step: int) -> torch.Generator:
    """The torch generator of training step ``step``'s augmentation (keyed: resume-safe)."""
    return keyed_generator(seed, AUG_STREAM, step)


def augment_pair(s0: Tensor, st: Tensor, aug: AugmentSettings, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Randomly shift and photometrically jitter a batch of pairs, the same way for both frames of a pair.

    The same transform for s0 and s_t keeps the *difference* between the frames, which is what the
    reward must read, while the model learns to ignore camera shake and lighting.

    Args:
        s0, st: uint8 (B, C, H, W).
        aug: the augmentation settings.
        generator: source of randomness (``step_generator``).

    Returns:
        (s0, st): uint8 (B, C, H, W).
    """
    if aug.shift == 0 and aug.brightness == 0 and aug.contrast == 0:
        return s0, st
    b, c, h, w = s0.shape
    x = torch.cat([s0, st], dim=1).float()  # (B, 2C, H, W): one transform per pair
    if aug.shift:
        pad = aug.shift
        padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
        dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
        dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
        rows = (dy[:, None] + torch.arange(h))[:, None, :, None]  # (B, 1, H, 1)
        cols = (dx[:, None] + torch.arange(w))[:, None, None, :]  # (B, 1, 1, W)
        x = padded[torch.arange(b)[:, None, None, None], torch.arange(2 * c)[None, :, None, None], rows, cols]
    if aug.brightness or aug.contrast:
        contrast = 1.0 + (2 * torch.rand(b, 1, 1, 1, generator=generator) - 1) * aug.contrast
        offset = (2 * torch.rand(b, 1, 1, 1, generator=generator) - 1) * aug.brightness * PIXEL_MAX
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * contrast + mean + offset
    x = x.round_().clamp_(0, PIXEL_MAX).to(torch.uint8)
    return x[:, :c].contiguous(), x[:, c:].contiguous()


# ---------------------------------------------------------------------------------------- validation
@dataclass
class ValSet:
    """Fixed validation items, materialised once: s0, st uint8 (N, C, H, W), instructions, targets (N,), kinds."""

    s0: Tensor
    st: Tensor
    instructions: list[str]
    targets: Tensor
    kinds: list[str]
    #: uint8 (N, C, H, W): st replaced by the video model's prediction where one exists (None: no model)
    st_predicted: Tensor | None = None

    @classmethod
    def draw(cls, ds: RewardPairDataset, n: int, seed: int, video_model: VideoModel | None = None) -> ValSet:
        items = [ds[SampleKey(seed, VAL_EPOCH, j)] for j in range(n)]
        st = torch.stack([it["st"] for it in items])
        st_predicted = None
        if video_model is not None:
            steps = torch.tensor([it["pred_steps"] for it in items])
            sel = steps > 0
            st_predicted = st.clone()
        if video_model is not None and bool(sel.any()):
            context = torch.stack([it["context"] for it in items])[sel]
            actions = torch.stack([it["actions"] for it in items])[sel]
            proprio = torch.stack([it["proprio"] for it in items])[sel] if "proprio" in items[0] else None
            assert st_predicted is not None, "st_predicted is a copy of st when there is a video model"
            st_predicted[sel] = torch.cat(
                [
                    predict_targets(
                        video_model,
                        context[i : i + VAL_BATCH],
                        actions[i : i + VAL_BATCH],
                        steps[sel][i : i + VAL_BATCH],
                        None if proprio is None else proprio[i : i + VAL_BATCH],
                    )
                    for i in range(0, int(sel.sum()), VAL_BATCH)
                ]
            )
        return cls(
            s0=torch.stack([it["s0"] for it in items]),
            st=st,
            instructions=[it["instruction"] for it in items],
            targets=torch.tensor([it["target"] for it in items], dtype=torch.float32),
            kinds=[it["kind"] for it in items],
            st_predicted=st_predicted,
        )


def _val_logits(model: LorelReward, val: ValSet, st: Tensor) -> Tensor:
    logits = []
    with evaluating(model), torch.no_grad():
        for i in range(0, len(val.instructions), VAL_BATCH):
            j = i + VAL_BATCH
            logits.append(model(val.s0[i:j], st[i:j], model.encode_text(val.instructions[i:j])))
    return torch.cat(logits).float().cpu()


def validate(model: LorelReward, val: ValSet) -> dict[str, Any]:
    """ROC-AUC, accuracy at p = 0.5, BCE loss and accuracy per item kind on ``val`` (eval mode, no grad);
    with predicted frames also ``auc_predicted`` / ``acc_predicted``: the same items scored on the video
    model's predictions of s_t, i.e. what a planner shows the reward."""
    z = _val_logits(model, val, val.st)
    correct = ((z > 0).float() == val.targets).numpy()
    per_kind: dict[str, float] = {}
    for kind in sorted(set(val.kinds)):
        mask = np.array([k == kind for k in val.kinds])
        per_kind[kind] = float(correct[mask].mean())
    out = {
        "auc": float(roc_auc(torch.sigmoid(z).numpy(), val.targets.numpy())),
        "acc": float(correct.mean()),
        "loss": float(F.binary_cross_entropy_with_logits(z, val.targets)),
        "acc_by_kind": per_kind,
    }
    if val.st_predicted is not None:
        zp = _val_logits(model, val, val.st_predicted)
        out["auc_predicted"] = float(roc_auc(torch.sigmoid(zp).numpy(), val.targets.numpy()))
        out["acc_predicted"] = float(((zp > 0).float() == val.targets).float().mean())
    return out


# ---------------------------------------------------------------------------------------- checkpoints
def _check_resume(
    state: Mapping[str, Any], model: LorelReward, s: TrainSettings, identity: dict[str, Any], path: Path
) -> None:
    """Refuse to resume a checkpoint trained with other model settings, data mix or data split."""
    diffs = [f"reward.{d}" for d in config_differences(model.config, s.reward, ignore=RUNTIME_MODEL_FIELDS)]
    diffs += mix_differences(dict((state.get("extra") or {}).get("config") or {}), s.raw)
    refuse_resume(path, diffs, split_differences(state, s.raw, identity))


# ------------------------------------------------------------------------------------------ training
class PairOptions(TypedDict):
    """The ``RewardPairDataset`` arguments that the main data and every ``extra_data`` folder share."""

    negatives: NegativeWeights
    positive_fraction: float
    typo_rate: float
    seed: int
    progress: bool
    predict_horizon: int
    context_frames: int
    context_proprio: bool


def extra_pairs(
    path: Path, s: TrainSettings, config: LorelConfig, action_dim: int, common: PairOptions, video: VideoModel | None
) -> tuple[RewardPairDataset, ValSet | None, int]:
    """(training items, validation items or None, validated episodes) of an ``extra_data`` folder, split by
    episode hash as the main data is and drawn the same way (``common``: the ``RewardPairDataset``
    arguments); refused in one line when its frames, actions or proprioception do not fit, or no task
    happens in it."""
    x = open_extra(
        path, s.val_fraction, s.seed, config.image_size, config.channels, "reward.image_size", s.data, action_dim
    )
    if common["context_proprio"]:
        assert video is not None, "items carry proprioception only for a video model that reads it"
        needs_proprio(video.config, x.reader, path)  # refuses data without (or with other) proprioception
    try:
        train = RewardPairDataset(x.reader, x.train, instruction_pool=s.instruction_pool, **common)
    except (ConfigError, DatasetError):  # a damaged dataset says so in its own words
        raise
    except ValueError as e:
        raise ConfigError(f"extra_data {path}: {one_line(str(e))}") from None
    try:
        val_ds = RewardPairDataset(x.reader, x.val, **common) if x.val else None
        # Without positives (a planner's failed attempts only) there is no AUC to validate: trained on only.
        val = (
            ValSet.draw(val_ds, s.val_items, s.seed, video) if val_ds is not None and not val_ds.attempts_only else None
        )
    except (ConfigError, DatasetError):  # a damaged dataset is an error, not "nothing to validate"
        raise
    except ValueError:  # no task happens in its few held-out episodes: trained on, not validated
        val = None
    return train, val, len(x.val) if val is not None else 0


def _fresh_model(s: TrainSettings) -> LorelReward:
    """A new model, or with ``init_from`` one starting from that checkpoint's weights (fine-tuning)."""
    model = LorelReward(s.reward, seed=s.seed)
    return model if s.init_from is None else init_weights(model, s.init_from, load_checkpoint, "reward.")


def run_train(s: TrainSettings, echo: bool = True) -> dict[str, Any]:
    """Train (or resume) the reward described by ``s``; returns the summary (also ``out/summary.json``).

    Raises:
        ConfigError: the data does not fit the model, or ``out/last.pt`` was made with other settings.
        robolearn.data.metadata.DatasetError: the data folder is not a dataset.
        sim.plumbing.files.OutputError: the run folder cannot be written (a full disk...): one line naming the
            file and ``out=``; the checkpoints written so far are kept.
    """
    with output_keys({"out": s.out}, RESUME_NOTE):
        return _run_train(s, echo)


def _run_train(s: TrainSettings, echo: bool) -> dict[str, Any]:
    t_setup = time.monotonic()
    run = start_run(
        s,
        s.reward,
        "reward.image_size",
        load_checkpoint,
        lambda state, model, identity: _check_resume(state, model, s, identity, s.out / LAST),
        lambda: _fresh_model(s),
        "auc",
        True,
        echo,
    )
    if run.optimizer is None:
        return run.summary
    model, optimizer, r, say, summary = run.model, run.optimizer, run.resumed, run.say, run.summary
    reader, train_eps, val_eps, identity = run.reader, run.train_eps, run.val_eps, run.identity

    pf = s.predicted_frames
    video = pf.load_model() if pf.enabled else None
    common = PairOptions(
        negatives=s.negatives,
        positive_fraction=s.positive_fraction,
        typo_rate=s.typo_rate,
        seed=s.seed,
        progress=s.progress_bar and echo,
        predict_horizon=pf.max_horizon if video else 0,
        context_frames=video.config.context_frames if video else 2,
        context_proprio=bool(video is not None and needs_proprio(video.config, reader, s.data)),
    )
    train_ds = RewardPairDataset(reader, train_eps, instruction_pool=s.instruction_pool, **common)
    # Validation instructions are fresh descriptions (no pool): seen vocabulary, unseen sentences.
    val_ds = RewardPairDataset(reader, val_eps, **common)
    val = ValSet.draw(val_ds, s.val_items, s.seed, video)
    action_dim = int(reader.read(train_eps[0], "actions").shape[-1])
    extra = [extra_pairs(path, s, model.config, action_dim, common, video) for path in s.extra_data]
    extra_val = [v for _, v, _ in extra if v is not None]
    if not model.config.finetune_text:  # fill the frozen encoder's cache once, up front (setup, not training time)
        model.encode_text(
            list(
                dict.fromkeys(
                    train_ds.instructions()
                    + val.instructions
                    + [i for t, v, _ in extra for i in t.instructions() + (v.instructions if v is not None else [])]
                )
            )
        )
    if extra:
        summary["extra_data"], message = extra_report(
            s.extra_data, [(len(t.index), n) for t, _, n in extra], s.extra_fraction
        )
        say(message)
    say(
        f"data {s.data}: {len(train_eps)} training / {len(val_eps)} validation episodes, "
        f"{len(train_ds.tasks)} task labels; model {model.num_parameters()['trainable']:,} trainable parameters "
        f"({model.config.fusion} fusion); setup {time.monotonic() - t_setup:.1f} s"
    )

    kinds_seen: Counter[str] = Counter()
    sources_seen: Counter[int] = Counter()
    loop = TrainLoop(
        s,
        model,
        optimizer,
        r,
        "auc",
        True,
        save_checkpoint,
        echo=echo,
        extra=lambda: {"config": dict(s.raw), "reward": model.config.to_dict(), "dataset": identity},
    )

    def train_step(batch: Mapping[str, Any], step: int) -> tuple[Tensor, dict[str, float]]:
        gen = step_generator(s.seed, step)
        st = batch["st"]
        if video is not None:  # the frames a planner will show the reward: predictions of this very s_t
            sel = prediction_mask(batch["pred_steps"], pf.fraction, s.seed, step)
            if bool(sel.any()):
                st = st.clone()
                st[sel] = predict_targets(
                    video,
                    batch["context"][sel],
                    batch["actions"][sel],
                    batch["pred_steps"][sel],
                    batch["proprio"][sel] if "proprio" in batch else None,
                )
        s0, st = augment_pair(batch["s0"], st, s.augment, gen)
        target = batch["target"].float()
        emb = model.encode_text(batch["instruction"])
        # Isotropic noise of norm ≈ reward.text_noise around the (unit-norm) sentence embedding: the head
        # must accept a neighbourhood of each training sentence, i.e. unseen synonyms (LOReL: U(±0.1)).
        emb = model.noisy_text(emb, gen)
        logits = model(s0, st, emb)
        kinds_seen.update(batch["kind"])
        sources_seen.update(batch["source"].tolist())
        acc = float(((logits.detach() > 0).float() == target).float().mean())
        loss = F.binary_cross_entropy_with_logits(logits, target)
        return loss, {"loss": loss.item(), "acc": acc}

    def validation() -> dict[str, Any]:
        # the AUC the best checkpoint is chosen by mixes the sources as the batches do
        return mix_validation(validate(model, val), [validate(model, v) for v in extra_val], "auc", s.extra_fraction)

    def describe(v: Mapping[str, Any]) -> str:
        predicted = f", on predicted frames {v['auc_predicted']:.4f}" if "auc_predicted" in v else ""
        x = v.get("extra") or {}
        extra_part = (
            (
                f"; extra data: AUC {x['auc']:.4f}"
                + (f", on predicted frames {x['auc_predicted']:.4f}" if "auc_predicted" in x else "")
                + f", acc {x['acc']:.3f}; mixed AUC {v['auc']:.4f}"
            )
            if x
            else ""
        )
        return (
            f"step {loop.step}: val AUC {v.get('main_auc', v['auc']):.4f}{predicted}, acc {v['acc']:.3f}, "
            f"loss {v['loss']:.4f}{extra_part} (best {loop.best:.4f} at {loop.best_step})"
        )

    sizes = [len(train_ds.index), *(len(t.index) for t, _, _ in extra)]
    items = MixedItems(train_ds, [t for t, _, _ in extra], sizes, s.extra_fraction)
    done = loop.run(step_loader(items, s, r.start), train_step, validation, describe)
    elapsed = done.pop("elapsed")
    summary.update(
        **{k: v for k, v in done.items() if k != "steps_done"},
        items_per_second=round(done["steps_done"] * s.batch_size / elapsed, 1) if elapsed > 0 else None,
        train_loss_ema=loop.ema.get("loss"),
        train_acc_ema=loop.ema.get("acc"),
        val=loop.last_val,
        best_val_auc=loop.best,
        best_step=loop.best_step,
        items_by_kind=dict(sorted(kinds_seen.items())),
        items_by_source={("main" if k == 0 else str(s.extra_data[k - 1])): n for k, n in sorted(sources_seen.items())},
        checkpoints={"last": str(s.out / LAST), "best": str(s.out / "best.pt")},
        episodes={"train": len(train_eps), "val": len(val_eps)},
    )
    write_json_atomic(s.out / SUMMARY, summary)
    if echo:
        print_summary(summary)
    return summary


def print_summary(summary: Mapping[str, Any]) -> None:
    """A short rich report of a finished (or stopped) run."""
    c = Console(highlight=False, soft_wrap=True)
    val = summary.get("val") or {}
    c.print(
        f"[bold]trained[/bold] steps {summary['start_step']} → {summary['step']} of {summary['steps']} "
        f"({summary['stopped']}), {summary['wall_seconds']:.0f} s, {summary['items_per_second']:.0f} items/s"
    )
    if summary.get("train_loss_ema") is not None:
        c.print(f"train loss {summary['train_loss_ema']:.4f}, acc {summary['train_acc_ema']:.3f} (smoothed)")
    if val:
        kinds = ", ".join(f"{k} {v:.3f}" for k, v in val["acc_by_kind"].items())
        c.print(
            f"validation: AUC [bold]{val.get('main_auc', val['auc']):.4f}[/bold], acc {val['acc']:.3f}; "
            f"acc by kind: {kinds}"
        )
        if val.get("extra"):
            x = val["extra"]
            c.print(f"extra data (held out): AUC {x['auc']:.4f}, acc {x['acc']:.3f}; mixed AUC {val['auc']:.4f}")
    c.print(
        f"best val AUC {summary['best_val_auc']:.4f} at step {summary['best_step']}; "
        f"checkpoints {summary['checkpoints']['last']}, {summary['checkpoints']['best']}"
    )
