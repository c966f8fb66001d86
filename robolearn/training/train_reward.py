"""``robolearn train``: train a LOReL reward on an offline dataset, resumably.

What one run does (``conf/train.yaml`` documents every knob):

1. split the dataset's episodes into train / validation by episode hash (``split_episodes``);
2. draw training items from structured labels (``reward_data.RewardPairDataset``): balanced task
   labels, positives at any frame where the change holds, LOReL's negatives plus harder ones;
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

import json
import math
import os
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf
from torch import Tensor

from robolearn.config import ConfigError, one_line
from robolearn.training.reward_data import NegativeWeights

if TYPE_CHECKING:  # pragma: no cover
    from rewards.lorel import LorelConfig, LorelReward
    from robolearn.data.storage import DatasetReader
    from robolearn.training.reward_data import RewardPairDataset

__all__ = ["AugmentSettings", "TrainSettings", "augment_pair", "lr_at", "reward_config", "run_train", "validate"]

LAST, BEST, TB_DIR, SUMMARY = "last.pt", "best.pt", "tb", "summary.json"
# Keys of the train config that define which episodes are held out: changing them on resume would put
# validation episodes into training (and make "val AUC" meaningless), so a resume refuses.
SPLIT_KEYS = ("max_episodes", "val_fraction", "seed")
# Model fields that change neither the weights nor training (how many frames score() batches).
RUNTIME_MODEL_FIELDS = ("score_chunk",)
VAL_EPOCH = 2**31 - 1  # SampleKey epoch of the fixed validation items (training steps never reach it)
AUG_STREAM = 0xA06  # rng stream id of augmentation: generator seed from (seed, AUG_STREAM, step)
LOG_EVERY = 10  # TensorBoard train scalars every this many steps (steps)
EMA = 0.98  # smoothing of the loss/accuracy shown on the progress bar
PIXEL_MAX = 255.0  # uint8 full range
VAL_BATCH = 512  # validation pairs per forward pass (bounds memory)
SECONDS_PER_MINUTE = 60.0


# ------------------------------------------------------------------------------------------ settings
def _num(name: str, value: Any, lo: float | None = None, hi: float | None = None, integer: bool = False,
         lo_open: bool = False, hi_open: bool = False) -> Any:
    """``value`` checked as a number in a range, else a one-line ``ConfigError``."""
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or (not integer and not math.isfinite(value)):
        raise ConfigError(f"{name}={value!r} must be {'an integer' if integer else 'a number'}")
    if lo is not None and (value <= lo if lo_open else value < lo):
        raise ConfigError(f"{name}={value!r} must be {'>' if lo_open else '>='} {lo}")
    if hi is not None and (value >= hi if hi_open else value > hi):
        raise ConfigError(f"{name}={value!r} must be {'<' if hi_open else '<='} {hi}")
    return value


@dataclass(frozen=True)
class AugmentSettings:
    """Photometric and geometric augmentation applied identically to both frames of a pair.

    Attributes:
        shift: random translation of ± this many pixels (replicate padding), per pair.
        brightness: additive offset uniform in ± brightness × 255, per pair.
        contrast: scale about the pair's mean uniform in 1 ± contrast, per pair.
    """

    shift: int = 4
    brightness: float = 0.1
    contrast: float = 0.1

    def __post_init__(self) -> None:
        _num("augment.shift", self.shift, 0, integer=True)
        _num("augment.brightness", self.brightness, 0, 1, hi_open=True)
        _num("augment.contrast", self.contrast, 0, 1, hi_open=True)


@dataclass(frozen=True)
class TrainSettings:
    """A validated ``conf/train.yaml`` (see it for the meaning and units of every field)."""

    reward: "LorelConfig"
    data: Path
    out: Path
    max_episodes: int | None = None
    val_fraction: float = 0.1
    seed: int = 0
    steps: int = 20000
    batch_size: int = 128
    lr: float = 3e-4
    weight_decay: float = 1e-4
    warmup_steps: int = 200
    min_lr_fraction: float = 0.05
    grad_clip: float | None = 1.0
    positive_fraction: float = 0.5
    typo_rate: float = 0.03
    instruction_pool: int = 0
    text_noise: float = 0.0
    negatives: NegativeWeights = field(default_factory=NegativeWeights)
    augment: AugmentSettings = field(default_factory=AugmentSettings)
    eval_every: int = 500
    val_items: int = 2048
    checkpoint_every: int = 1000
    num_workers: int = 2
    torch_threads: int = 2
    max_minutes: float | None = None
    progress_bar: bool = True
    raw: Mapping[str, Any] = field(default_factory=dict)  # the resolved config, recorded in checkpoints

    def __post_init__(self) -> None:
        if self.max_episodes is not None:
            _num("max_episodes", self.max_episodes, 2, integer=True)
        _num("val_fraction", self.val_fraction, 0, 1, lo_open=True, hi_open=True)
        _num("seed", self.seed, 0, integer=True)
        _num("steps", self.steps, 1, integer=True)
        _num("batch_size", self.batch_size, 2, integer=True)
        _num("lr", self.lr, 0, lo_open=True)
        _num("weight_decay", self.weight_decay, 0)
        _num("warmup_steps", self.warmup_steps, 0, integer=True)
        _num("min_lr_fraction", self.min_lr_fraction, 0, 1)
        if self.grad_clip is not None:
            _num("grad_clip", self.grad_clip, 0, lo_open=True)
        _num("positive_fraction", self.positive_fraction, 0, 1, lo_open=True, hi_open=True)
        _num("typo_rate", self.typo_rate, 0, 1)
        _num("instruction_pool", self.instruction_pool, 0, integer=True)
        _num("text_noise", self.text_noise, 0)
        _num("eval_every", self.eval_every, 1, integer=True)
        _num("val_items", self.val_items, 2, integer=True)
        _num("checkpoint_every", self.checkpoint_every, 1, integer=True)
        _num("num_workers", self.num_workers, 0, integer=True)
        _num("torch_threads", self.torch_threads, 1, integer=True)
        if self.max_minutes is not None:
            _num("max_minutes", self.max_minutes, 0, lo_open=True)

    @classmethod
    def from_config(cls, cfg: DictConfig | Mapping[str, Any]) -> "TrainSettings":
        """Validate a composed ``train`` config; every problem is a one-line ``ConfigError``."""
        raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
        data: dict[str, Any] = {str(k): v for k, v in raw.items()}  # type: ignore[union-attr]
        known = {f for f in cls.__dataclass_fields__ if f != "raw"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown train setting(s) {unknown}")
        try:
            negatives = NegativeWeights.from_mapping(data.pop("negatives", None))
        except (TypeError, ValueError) as e:
            raise ConfigError(one_line(str(e))) from None
        aug = dict(data.pop("augment", None) or {})
        bad = sorted(set(aug) - set(AugmentSettings.__dataclass_fields__))
        if bad:
            raise ConfigError(f"augment: unknown key(s) {bad}; valid: shift, brightness, contrast")
        for key in ("data", "out"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise ConfigError(f"{key}={data.get(key)!r} must be a folder path")
        return cls(reward=reward_config(data.pop("reward", None)), data=Path(data.pop("data")),
                   out=Path(data.pop("out")), negatives=negatives, augment=AugmentSettings(**aug),
                   raw=raw, **data)


def reward_config(node: Any) -> "LorelConfig":
    """The reward group's node → a validated ``LorelConfig`` (via its Hydra ``_target_`` when present).

    Raises:
        ConfigError: a missing group, an unknown field or an invalid value (the model's message).
    """
    from rewards.lorel import LorelConfig

    if node is None:
        raise ConfigError("reward: missing config group; add `- reward: lorel` to the defaults list")
    container = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    try:
        if "_target_" in container:
            from hydra.utils import instantiate

            cfg = instantiate(container, _convert_="all")
        else:
            cfg = LorelConfig.from_dict(container)
    except Exception as e:  # noqa: BLE001 - Hydra wraps the dataclass' ValueError in its own exception
        cause = e.__cause__ or e
        raise ConfigError(f"reward: {one_line(str(cause))}") from None
    if not isinstance(cfg, LorelConfig):
        raise ConfigError(f"reward: _target_ must build a rewards.lorel.LorelConfig, got {type(cfg).__name__}")
    return cfg


# -------------------------------------------------------------------------------------- augmentation
def step_generator(seed: int, step: int) -> torch.Generator:
    """The torch generator of training step ``step``'s augmentation (keyed: resume-safe)."""
    g = torch.Generator()
    g.manual_seed(int(np.random.SeedSequence([seed, AUG_STREAM, step]).generate_state(1, np.uint64)[0] >> 1))
    return g


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


def lr_at(step: int, s: TrainSettings) -> float:
    """Learning rate of optimizer step ``step`` (0-based): linear warm-up, then cosine decay to lr·min_lr_fraction."""
    if step < s.warmup_steps:
        return s.lr * (step + 1) / s.warmup_steps
    progress = min(1.0, (step - s.warmup_steps) / max(1, s.steps - s.warmup_steps))
    floor = s.lr * s.min_lr_fraction
    return floor + (s.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


# ---------------------------------------------------------------------------------------- validation
@dataclass
class ValSet:
    """Fixed validation items, materialised once: s0, st uint8 (N, C, H, W), instructions, targets (N,), kinds."""

    s0: Tensor
    st: Tensor
    instructions: list[str]
    targets: Tensor
    kinds: list[str]

    @classmethod
    def draw(cls, ds: "RewardPairDataset", n: int, seed: int) -> "ValSet":
        from robolearn.data.loader import SampleKey

        items = [ds[SampleKey(seed, VAL_EPOCH, j)] for j in range(n)]
        return cls(s0=torch.stack([it["s0"] for it in items]), st=torch.stack([it["st"] for it in items]),
                   instructions=[it["instruction"] for it in items],
                   targets=torch.tensor([it["target"] for it in items], dtype=torch.float32),
                   kinds=[it["kind"] for it in items])


def validate(model: "LorelReward", val: ValSet) -> dict[str, Any]:
    """ROC-AUC, accuracy at p = 0.5, BCE loss and accuracy per item kind on ``val`` (eval mode, no grad)."""
    from rewards.metrics import roc_auc

    was_training = model.training
    model.eval()
    logits = []
    with torch.no_grad():
        for i in range(0, len(val.instructions), VAL_BATCH):
            j = i + VAL_BATCH
            logits.append(model(val.s0[i:j], val.st[i:j], model.encode_text(val.instructions[i:j])))
    model.train(was_training)
    z = torch.cat(logits).float().cpu()
    correct = ((z > 0).float() == val.targets).numpy()
    per_kind: dict[str, float] = {}
    for kind in sorted(set(val.kinds)):
        mask = np.array([k == kind for k in val.kinds])
        per_kind[kind] = float(correct[mask].mean())
    return {"auc": float(roc_auc(torch.sigmoid(z).numpy(), val.targets.numpy())),
            "acc": float(correct.mean()),
            "loss": float(F.binary_cross_entropy_with_logits(z, val.targets)),
            "acc_by_kind": per_kind}


# ---------------------------------------------------------------------------------------- checkpoints
def _dataset_identity(reader: "DatasetReader") -> dict[str, Any]:
    """What identifies a dataset across moves/renames of its folder: its creation time and seed."""
    return {"created": reader.meta.get("created"), "seed": reader.meta.get("seed")}


def _save(path: Path, model: "LorelReward", optimizer: torch.optim.Optimizer, step: int,
          extra: dict[str, Any]) -> None:
    """Write a checkpoint; ``save_checkpoint`` writes a temporary file and renames it (atomic)."""
    from rewards.checkpoint import save_checkpoint

    save_checkpoint(path, model, optimizer=optimizer, step=step, extra=extra)


def _check_resume(state: Mapping[str, Any], model: "LorelReward", s: TrainSettings, identity: dict[str, Any],
                  path: Path) -> None:
    """Refuse to resume a checkpoint trained with other model settings or another data split."""
    from rewards.lorel import config_differences

    fix = f"use a new out= folder, or rerun with the settings stored in {path}"
    diffs = [f"reward.{d}" for d in config_differences(model.config, s.reward, ignore=RUNTIME_MODEL_FIELDS)]
    if diffs:
        raise ConfigError(f"{path} was trained with other model settings ({'; '.join(diffs)}) " +
                          f"(checkpoint != this run); {fix}")
    saved = dict((state.get("extra") or {}).get("config") or {})
    split = [f"{k}: {saved.get(k)!r} != {s.raw.get(k)!r}" for k in SPLIT_KEYS if saved.get(k) != s.raw.get(k)]
    old_identity = (state.get("extra") or {}).get("dataset")
    if old_identity is not None and old_identity != identity:
        split.append(f"dataset: {old_identity} != {identity}")
    if split:
        raise ConfigError(f"{path} was trained on another data split ({'; '.join(split)}) "
                          f"(checkpoint != this run); resuming would train on its validation episodes; {fix}")


# ------------------------------------------------------------------------------------------ training
def run_train(s: TrainSettings, echo: bool = True) -> dict[str, Any]:
    """Train (or resume) the reward described by ``s``; returns the summary (also ``out/summary.json``).

    Raises:
        ConfigError: the data does not fit the model, or ``out/last.pt`` was made with other settings.
        robolearn.data.storage.DatasetError: the data folder is not a dataset.
    """
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    from rewards.checkpoint import load_checkpoint
    from rewards.lorel import LorelReward
    from robolearn.data.loader import seed_worker, split_episodes
    from robolearn.data.storage import DatasetReader
    from robolearn.training.reward_data import RewardPairDataset, StepSampler

    t_setup = time.monotonic()
    torch.set_num_threads(s.torch_threads)
    reader = DatasetReader(s.data)
    episodes = reader.indices()[: s.max_episodes]
    train_eps, val_eps = split_episodes(episodes, s.val_fraction, s.seed)
    if not train_eps or not val_eps:
        raise ConfigError(f"{s.data}: {len(episodes)} episodes give {len(train_eps)} training and {len(val_eps)} "
                          f"validation episodes at val_fraction={s.val_fraction}; both must be non-empty")
    frame = reader.frames(episodes[0], "rgb", 0)  # (H, W, C)
    want = (s.reward.image_size, s.reward.image_size, s.reward.channels)
    if tuple(frame.shape) != want:
        raise ConfigError(f"{s.data} has {frame.shape[1]}×{frame.shape[0]}×{frame.shape[2]} frames but the model "
                          f"expects {want[1]}×{want[0]}×{want[2]}; set reward.image_size={frame.shape[0]}")
    identity = _dataset_identity(reader)
    s.out.mkdir(parents=True, exist_ok=True)
    last_path, best_path = s.out / LAST, s.out / BEST

    def say(msg: str) -> None:
        if echo:
            tqdm.write(msg)

    start, best_auc, best_step, trained_s = 0, -math.inf, -1, 0.0
    if last_path.exists():
        model, state = load_checkpoint(last_path)
        _check_resume(state, model, s, identity, last_path)
        extra = state.get("extra") or {}
        start = int(state["step"])
        best_auc = float(extra.get("best_val_auc", -math.inf))
        best_step = int(extra.get("best_step", -1))
        trained_s = float(extra.get("train_seconds", 0.0))
        if extra.get("torch_rng_state") is not None:
            torch.set_rng_state(torch.as_tensor(extra["torch_rng_state"], dtype=torch.uint8))
        say(f"resuming {last_path} at step {start}")
    else:
        torch.manual_seed(s.seed)  # dropout draws from the global RNG (its state is checkpointed)
        model = LorelReward(s.reward, seed=s.seed)
        state = {}
    summary: dict[str, Any] = {"out": str(s.out), "start_step": start}
    if start >= s.steps:
        say(f"{last_path} is already at step {start} (steps={s.steps}); raise steps= to train longer")
        summary.update(step=start, steps=s.steps, best_val_auc=best_auc, best_step=best_step, stopped="done")
        return summary
    model.train()
    optimizer = torch.optim.AdamW(model.trainable_parameters(), lr=s.lr, weight_decay=s.weight_decay)
    if state.get("optimizer"):
        optimizer.load_state_dict(state["optimizer"])

    common = dict(negatives=s.negatives, positive_fraction=s.positive_fraction, typo_rate=s.typo_rate,
                  seed=s.seed, progress=s.progress_bar and echo)
    train_ds = RewardPairDataset(reader, train_eps, instruction_pool=s.instruction_pool, **common)
    # Validation instructions are fresh descriptions (no pool): seen vocabulary, unseen sentences.
    val_ds = RewardPairDataset(reader, val_eps, **common)
    val = ValSet.draw(val_ds, s.val_items, s.seed)
    if not model.config.finetune_text:  # fill the frozen encoder's cache once, up front (setup, not training time)
        model.encode_text(train_ds.instructions() + val.instructions)
    say(f"data {s.data}: {len(train_eps)} training / {len(val_eps)} validation episodes, "
        f"{len(train_ds.tasks)} task labels; model {model.num_parameters()['trainable']:,} trainable parameters "
        f"({model.config.fusion} fusion); setup {time.monotonic() - t_setup:.1f} s")

    from torch.utils.tensorboard import SummaryWriter

    tb = SummaryWriter(str(s.out / TB_DIR), purge_step=start if start else None)
    g = torch.Generator()
    g.manual_seed(s.seed)
    loader = DataLoader(train_ds, batch_size=s.batch_size, sampler=StepSampler(s.seed, s.batch_size, start, s.steps),
                        num_workers=s.num_workers, worker_init_fn=seed_worker, generator=g,
                        persistent_workers=False, prefetch_factor=4 if s.num_workers else None)
    step, last_val, stopped = start, None, "done"
    ema_loss = ema_acc = None
    kinds_seen: Counter[str] = Counter()
    limit_s = s.max_minutes * SECONDS_PER_MINUTE if s.max_minutes is not None else math.inf
    t0 = time.monotonic()

    def extra() -> dict[str, Any]:
        return {"config": dict(s.raw), "reward": model.config.to_dict(), "dataset": identity,
                "best_val_auc": best_auc, "best_step": best_step, "val": last_val,
                "train_seconds": trained_s + time.monotonic() - t0, "torch_rng_state": torch.get_rng_state()}

    def run_validation() -> None:
        nonlocal last_val, best_auc, best_step
        last_val = validate(model, val)
        tb.add_scalar("val/auc", last_val["auc"], step)
        tb.add_scalar("val/acc", last_val["acc"], step)
        tb.add_scalar("val/loss", last_val["loss"], step)
        for kind, acc in last_val["acc_by_kind"].items():
            tb.add_scalar(f"val_acc_by_kind/{kind}", acc, step)
        if last_val["auc"] > best_auc:
            best_auc, best_step = last_val["auc"], step
            _save(best_path, model, optimizer, step, extra())
        say(f"step {step}: val AUC {last_val['auc']:.4f}, acc {last_val['acc']:.3f}, loss {last_val['loss']:.4f} "
            f"(best {best_auc:.4f} at {best_step})")

    bar = tqdm(total=s.steps, initial=start, disable=not (s.progress_bar and echo), desc="train", unit="step",
               dynamic_ncols=True)
    try:
        for batch in loader:
            if time.monotonic() - t0 > limit_s:
                stopped = f"max_minutes={s.max_minutes:g}"
                break
            lr = lr_at(step, s)
            for group in optimizer.param_groups:
                group["lr"] = lr
            gen = step_generator(s.seed, step)
            s0, st = augment_pair(batch["s0"], batch["st"], s.augment, gen)
            target = batch["target"].float()
            emb = model.encode_text(batch["instruction"])
            if s.text_noise:
                # Isotropic noise of norm ≈ text_noise around the (unit-norm) sentence embedding: the head
                # must accept a neighbourhood of each training sentence, i.e. unseen synonyms (LOReL: U(±0.1)).
                emb = emb + torch.randn(emb.shape, generator=gen) * (s.text_noise / math.sqrt(emb.shape[-1]))
            logits = model(s0, st, emb)
            loss = F.binary_cross_entropy_with_logits(logits, target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if s.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.trainable_parameters(), s.grad_clip)
            optimizer.step()
            step += 1
            kinds_seen.update(batch["kind"])
            acc = float(((logits.detach() > 0).float() == target).float().mean())
            loss_value = loss.item()
            ema_loss = loss_value if ema_loss is None else EMA * ema_loss + (1 - EMA) * loss_value
            ema_acc = acc if ema_acc is None else EMA * ema_acc + (1 - EMA) * acc
            if step % LOG_EVERY == 0:
                tb.add_scalar("train/loss", loss_value, step)
                tb.add_scalar("train/acc", acc, step)
                tb.add_scalar("train/lr", lr, step)
            bar.update(1)
            bar.set_postfix(loss=f"{ema_loss:.3f}", acc=f"{ema_acc:.3f}", refresh=False)
            if step % s.eval_every == 0 or step == s.steps:
                run_validation()
            if step % s.checkpoint_every == 0:
                _save(last_path, model, optimizer, step, extra())
    finally:
        bar.close()
        del loader  # stop the workers now, not at garbage collection
    if last_val is None or (step % s.eval_every and step != s.steps):
        run_validation()  # the last step was not validated (time limit)
    _save(last_path, model, optimizer, step, extra())
    tb.flush()
    tb.close()
    elapsed = time.monotonic() - t0
    done = step - start
    summary.update(step=step, steps=s.steps, stopped=stopped, wall_seconds=round(elapsed, 1),
                   train_seconds=round(trained_s + elapsed, 1),
                   items_per_second=round(done * s.batch_size / elapsed, 1) if elapsed > 0 else None,
                   train_loss_ema=ema_loss, train_acc_ema=ema_acc, val=last_val, best_val_auc=best_auc,
                   best_step=best_step, items_by_kind=dict(sorted(kinds_seen.items())),
                   checkpoints={"last": str(last_path), "best": str(best_path)},
                   episodes={"train": len(train_eps), "val": len(val_eps)})
    (s.out / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
    if echo:
        print_summary(summary)
    return summary


def print_summary(summary: Mapping[str, Any]) -> None:
    """A short rich report of a finished (or stopped) run."""
    from rich.console import Console

    c = Console(highlight=False, soft_wrap=True)
    val = summary.get("val") or {}
    c.print(f"[bold]trained[/bold] steps {summary['start_step']} → {summary['step']} of {summary['steps']} "
            f"({summary['stopped']}), {summary['wall_seconds']:.0f} s, {summary['items_per_second']:.0f} items/s")
    if summary.get("train_loss_ema") is not None:
        c.print(f"train loss {summary['train_loss_ema']:.4f}, acc {summary['train_acc_ema']:.3f} (smoothed)")
    if val:
        kinds = ", ".join(f"{k} {v:.3f}" for k, v in val["acc_by_kind"].items())
        c.print(f"validation: AUC [bold]{val['auc']:.4f}[/bold], acc {val['acc']:.3f}; acc by kind: {kinds}")
    c.print(f"best val AUC {summary['best_val_auc']:.4f} at step {summary['best_step']}; "
            f"checkpoints {summary['checkpoints']['last']}, {summary['checkpoints']['best']}")
