"""The training loop the trainers share (``train_reward``, ``train_dynamics``).

A trainer supplies what is specific to it — how to build or load its model, one step's loss, a
validation, the lines it prints — and ``TrainLoop`` does the rest the same way for every model:

* resume from ``out/last.pt`` (``resume_or_build``): step, best validation value, training time and
  the global RNG state come back; batch ``s`` depends only on (seed, s) (``step_loader`` with a
  ``StepSampler``), so a resumed run draws the batches an uninterrupted one would;
* per step: learning rate (``lr_at``: warm-up + cosine), zero_grad / backward / gradient clipping /
  optimizer step, smoothed scalars on a tqdm bar, TensorBoard ``train/*`` every ``LOG_EVERY`` steps;
* every ``eval_every`` steps (and at the end): validation, TensorBoard ``val/*``, ``out/best.pt``
  when the chosen metric improves; ``out/last.pt`` every ``checkpoint_every`` steps and at the end;
* ``max_minutes``: stop between steps, then validate and checkpoint.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from robolearn.config import ConfigError, one_line
from robolearn.data.loader import WorkerLoader, init_loader_worker
from robolearn.training.datasets import check_frame_shape, dataset_identity, open_split
from robolearn.training.resume import restore_rng
from robolearn.training.reward_data import StepSampler
from robolearn.training.schedule import lr_at
from sim.plumbing.checkpoints import CheckpointError

if TYPE_CHECKING:  # pragma: no cover
    from torch.utils.data import DataLoader, Dataset

    from robolearn.data.reader import DatasetReader
    from robolearn.training.settings import LoopSettings

__all__ = [
    "BEST",
    "LAST",
    "SUMMARY",
    "TB_DIR",
    "ImageModelConfig",
    "Resumed",
    "Run",
    "SaveCheckpoint",
    "TrainLoop",
    "resume_or_build",
    "start_run",
    "step_loader",
]

LAST, BEST, TB_DIR, SUMMARY = "last.pt", "best.pt", "tb", "summary.json"
LOG_EVERY = 10  # TensorBoard train scalars every this many steps (steps)
EMA = 0.98  # smoothing of the scalars shown on the progress bar
SECONDS_PER_MINUTE = 60.0  # max_minutes is in minutes, the clock in seconds

#: the trained model's class (``LorelReward``, ``VideoModel``, ``LanguagePolicyNet``)
M = TypeVar("M", bound=nn.Module)
#: the model a checkpoint writer takes
M_contra = TypeVar("M_contra", bound=nn.Module, contravariant=True)
#: a training batch, as the trainer's ``step_fn`` takes it
B = TypeVar("B")
#: a dataset item
T = TypeVar("T")


class ImageModelConfig(Protocol):
    """What ``start_run`` reads of a model's config: the frame size it takes."""

    @property
    def image_size(self) -> int: ...

    @property
    def channels(self) -> int: ...


class SaveCheckpoint(Protocol[M_contra]):
    """``save(path, model, optimizer, step, extra)``: a trainer's atomic checkpoint writer (``optimizer`` None:
    weights only, as ``best.pt`` is written): each model family's ``save_checkpoint``. What it returns (the
    path written) is not used."""

    def __call__(
        self, path: Path, model: M_contra, optimizer: torch.optim.Optimizer | None, step: int, extra: dict[str, Any], /
    ) -> object: ...


@dataclass
class Resumed(Generic[M]):
    """Where a run starts: a fresh model at step 0, or ``out/last.pt``'s model, step and bookkeeping."""

    model: M
    state: dict[str, Any]  # the checkpoint info (load_checkpoint's), {} for a fresh run
    start: int
    best: float
    best_step: int
    trained_s: float


def resume_or_build(
    last_path: Path,
    load: Callable[[Path], tuple[M, dict[str, Any]]],
    check: Callable[[dict[str, Any], M], None],
    build: Callable[[], M],
    seed: int,
    best_key: str,
    higher_is_better: bool,
    say: Callable[[str], None],
) -> Resumed[M]:
    """Load ``last_path`` (after ``check(state, model)`` accepts it) or ``build()`` a fresh model.

    ``best_key`` names the best validation value in the checkpoint's ``extra``. A fresh run seeds the
    global torch RNG with ``seed`` first (dropout and the like draw from it; its state is checkpointed).
    """
    worst = -math.inf if higher_is_better else math.inf
    if last_path.exists():
        try:
            model, state = load(last_path)
        except CheckpointError as e:  # a run folder holds it: say how to go on from there
            raise ConfigError(
                f"cannot resume from {last_path}: {one_line(str(e))}; or delete it to start the run over, or "
                "use a new out= folder"
            ) from None
        check(state, model)
        extra = state.get("extra") or {}
        restore_rng(extra)
        say(f"resuming {last_path} at step {int(state['step'])}")
        return Resumed(
            model,
            state,
            int(state["step"]),
            float(extra.get(f"best_val_{best_key}", worst)),
            int(extra.get("best_step", -1)),
            float(extra.get("train_seconds", 0.0)),
        )
    torch.manual_seed(seed)
    return Resumed(build(), {}, 0, worst, -1, 0.0)


@dataclass
class Run(Generic[M]):
    """A run's data split and starting point (``start_run``).

    ``optimizer`` is None when ``out/last.pt`` is already at ``steps``: ``summary`` then says so and
    there is nothing to train.
    """

    reader: DatasetReader
    episodes: list[int]
    train_eps: list[int]
    val_eps: list[int]
    identity: dict[str, Any]
    resumed: Resumed[M]
    optimizer: torch.optim.Optimizer | None
    summary: dict[str, Any]
    say: Callable[[str], None]

    @property
    def model(self) -> M:
        return self.resumed.model


def start_run(
    s: LoopSettings,
    model_config: ImageModelConfig,
    fix_key: str,
    load: Callable[[Path], tuple[M, dict[str, Any]]],
    check: Callable[[dict[str, Any], M, dict[str, Any]], None],
    build: Callable[[], M],
    best_key: str,
    higher_is_better: bool,
    echo: bool,
) -> Run[M]:
    """Everything before the first step: threads, the split (``open_split``), the frame-size check, the
    dataset identity, ``resume_or_build`` and the AdamW optimizer (its state restored on resume).

    Args:
        s: trainer settings (data, out, max_episodes, val_fraction, seed, steps, lr, weight_decay, torch_threads).
        model_config: the model's config (``image_size``, ``channels``); ``fix_key`` is its image-size key.
        load, build: read a checkpoint (model, info) / build a fresh model.
        check: ``check(state, model, identity)`` refuses a checkpoint made with other settings.
        best_key, higher_is_better: the validation metric of ``best.pt``.
    """
    torch.set_num_threads(s.torch_threads)
    reader, episodes, train_eps, val_eps = open_split(s.data, s.max_episodes, s.val_fraction, s.seed)
    check_frame_shape(reader, episodes[0], model_config.image_size, model_config.channels, s.data, fix_key)
    identity = dataset_identity(reader)
    s.out.mkdir(parents=True, exist_ok=True)

    def say(msg: str) -> None:
        if echo:
            tqdm.write(msg)

    r = resume_or_build(
        s.out / LAST,
        load,
        lambda state, model: check(state, model, identity),
        build,
        s.seed,
        best_key,
        higher_is_better,
        say,
    )
    summary: dict[str, Any] = {"out": str(s.out), "start_step": r.start}
    optimizer = None
    if r.start >= s.steps:
        say(f"{s.out / LAST} is already at step {r.start} (steps={s.steps}); raise steps= to train longer")
        summary.update(
            {
                "step": r.start,
                "steps": s.steps,
                f"best_val_{best_key}": r.best,
                "best_step": r.best_step,
                "stopped": "done",
            }
        )
    else:
        r.model.train()
        optimizer = torch.optim.AdamW(
            [p for p in r.model.parameters() if p.requires_grad], lr=s.lr, weight_decay=s.weight_decay
        )
        if r.state.get("optimizer"):
            optimizer.load_state_dict(r.state["optimizer"])
    return Run(reader, episodes, train_eps, val_eps, identity, r, optimizer, summary, say)


def step_loader(dataset: Dataset[T], s: LoopSettings, start: int) -> DataLoader[T]:
    """A DataLoader whose batch ``k`` (k = start, ..., s.steps − 1) depends only on (s.seed, k)."""

    g = torch.Generator()
    g.manual_seed(s.seed)
    return WorkerLoader(
        dataset,
        batch_size=s.batch_size,
        sampler=StepSampler(s.seed, s.batch_size, start, s.steps),
        num_workers=s.num_workers,
        worker_init_fn=init_loader_worker,
        generator=g,
        persistent_workers=False,
        prefetch_factor=4 if s.num_workers else None,
    )


class TrainLoop(Generic[M]):
    """Optimizer steps ``start`` → ``s.steps`` with validation, best/last checkpoints and logs.

    Args:
        s: the trainer's settings (``out``, ``steps``, ``lr``, ``warmup_steps``, ``min_lr_fraction``,
            ``grad_clip``, ``eval_every``, ``checkpoint_every``, ``max_minutes``, ``progress_bar``).
        model, optimizer: what is trained.
        resumed: ``resume_or_build``'s result.
        best_key: the validation metric that selects ``best.pt`` (a key of ``validate()``'s dict).
        higher_is_better: direction of ``best_key``.
        save: ``save(path, model, optimizer, step, extra)`` writes a checkpoint atomically.
        extra: the trainer's own checkpoint ``extra`` entries (the loop adds the shared ones).
        echo: print progress.
    """

    def __init__(
        self,
        s: LoopSettings,
        model: M,
        optimizer: torch.optim.Optimizer,
        resumed: Resumed[M],
        best_key: str,
        higher_is_better: bool,
        save: SaveCheckpoint[M],
        extra: Callable[[], dict[str, Any]],
        echo: bool = True,
    ):
        self.s, self.model, self.optimizer = s, model, optimizer
        self.best_key, self.higher = best_key, higher_is_better
        self.best, self.best_step, self.trained_s = resumed.best, resumed.best_step, resumed.trained_s
        self.start = self.step = resumed.start
        self._save, self._extra, self.echo = save, extra, echo
        self.last_val: dict[str, Any] | None = None
        self.ema: dict[str, float] = {}
        self.tb = SummaryWriter(str(s.out / TB_DIR), purge_step=self.start if self.start else None)
        self.t0 = time.monotonic()

    def say(self, msg: str) -> None:
        if self.echo:
            tqdm.write(msg)

    def extra(self) -> dict[str, Any]:
        """The checkpoint ``extra``: the trainer's entries plus the best value, the step of it, the last
        validation, the training time and the global RNG state."""
        return {
            **self._extra(),
            f"best_val_{self.best_key}": self.best,
            "best_step": self.best_step,
            "val": self.last_val,
            "train_seconds": self.trained_s + time.monotonic() - self.t0,
            "torch_rng_state": torch.get_rng_state(),
        }

    def _validate(self, validate: Callable[[], dict[str, Any]], describe: Callable[[dict[str, Any]], str]) -> None:
        self.last_val = metrics = validate()
        for name, value in metrics.items():
            if isinstance(value, Mapping):
                for sub, v in value.items():
                    self.tb.add_scalar(f"val_{name}/{sub}", v, self.step)
            elif isinstance(value, (int, float)) and not math.isnan(value):
                self.tb.add_scalar(f"val/{name}", value, self.step)
        value = metrics[self.best_key]
        if value > self.best if self.higher else value < self.best:
            self.best, self.best_step = value, self.step
            # best.pt is the model to use or ship, never resumed from (last.pt is): no optimizer state, a third
            # of the size under Adam
            self._save(self.s.out / BEST, self.model, None, self.step, self.extra())
        self.say(describe(metrics))

    def run(
        self,
        loader: Iterable[B],
        step_fn: Callable[[B, int], tuple[Tensor, dict[str, float]]],
        validate: Callable[[], dict[str, Any]],
        describe: Callable[[dict[str, Any]], str],
    ) -> dict[str, Any]:
        """Train over ``loader``'s batches.

        Args:
            step_fn: ``(batch, step) → (loss, scalars)``: the loss to minimise and floats to log
                (TensorBoard ``train/<name>``, smoothed on the progress bar).
            validate: ``() → metrics`` (eval mode is the trainer's business); nested dicts are logged as
                ``val_<name>/<key>``.
            describe: the line printed after a validation.

        Returns:
            The shared part of the run summary: step, steps, stopped, wall/train seconds, steps done.
        """
        s, model, optimizer = self.s, self.model, self.optimizer
        stopped = "done"
        limit_s = s.max_minutes * SECONDS_PER_MINUTE if s.max_minutes is not None else math.inf
        self.t0 = time.monotonic()
        params = [p for group in optimizer.param_groups for p in group["params"]]
        bar = tqdm(
            total=s.steps,
            initial=self.start,
            disable=not (s.progress_bar and self.echo),
            desc="train",
            unit="step",
            dynamic_ncols=True,
        )
        try:
            for batch in loader:
                if time.monotonic() - self.t0 > limit_s:
                    stopped = f"max_minutes={s.max_minutes:g}"
                    break
                lr = lr_at(self.step, s)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                loss, scalars = step_fn(batch, self.step)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if s.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(params, s.grad_clip)
                optimizer.step()
                self.step += 1
                for name, value in scalars.items():
                    old = self.ema.get(name)
                    self.ema[name] = value if old is None else EMA * old + (1 - EMA) * value
                if self.step % LOG_EVERY == 0:
                    for name, value in scalars.items():
                        self.tb.add_scalar(f"train/{name}", value, self.step)
                    self.tb.add_scalar("train/lr", lr, self.step)
                bar.update(1)
                bar.set_postfix({k: f"{v:.4g}" for k, v in self.ema.items()}, refresh=False)
                if self.step % s.eval_every == 0 or self.step == s.steps:
                    self._validate(validate, describe)
                if self.step % s.checkpoint_every == 0:
                    self._save(s.out / LAST, model, optimizer, self.step, self.extra())
        finally:
            bar.close()
        if self.last_val is None or (self.step % s.eval_every and self.step != s.steps):
            self._validate(validate, describe)  # the last step was not validated (time limit)
        self._save(s.out / LAST, model, optimizer, self.step, self.extra())
        self.tb.flush()
        self.tb.close()
        elapsed = time.monotonic() - self.t0
        return {
            "step": self.step,
            "steps": s.steps,
            "stopped": stopped,
            "wall_seconds": round(elapsed, 1),
            "train_seconds": round(self.trained_s + elapsed, 1),
            "steps_done": self.step - self.start,
            "elapsed": elapsed,
        }
