"""``robolearn train policy``: language-conditioned behaviour cloning (LCBC) on an offline dataset, resumably.

What one run does (``PolicyTrainOptions`` declares every option, with its default, doc and range;
``conf/train_policy.yaml`` is generated from it):

1. split the dataset's episodes into train / validation by episode hash, as the other trainers do;
2. draw single steps of labelled episodes (``StepDataset``): the frame, the action taken and one of the
   episode's hindsight instructions; batch ``s`` keyed by (seed, s), so a resumed run sees the same batches;
3. embed the instructions with the frozen sentence encoder (cached) and minimise the mean squared error
   between the policy's action and the data's; AdamW, linear warm-up, cosine decay;
4. every ``eval_every`` steps, the same error on fixed held-out steps; ``out/best.pt`` keeps the best,
   ``out/last.pt`` the latest (atomic writes, with the config, the dataset identity and the RNG state).

This is the baseline LOReL compared against: it learns from the same data and labels as the reward, but
must act directly instead of planning.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from omegaconf import DictConfig
from torch import Tensor
from torch.utils.data import Dataset, default_collate

from planners.policy.checkpoint import load_checkpoint, save_checkpoint
from planners.policy.config import PolicyConfig
from planners.policy.model import LanguagePolicyNet
from rewards.text import TextEncoder
from robolearn.config import ConfigError
from robolearn.data.loader import LABEL_SOURCES, SampleKey, StepDataset, label_fn_for
from robolearn.data.metadata import DatasetError
from robolearn.training.datasets import needs_proprio
from robolearn.training.loop import BEST, LAST, SUMMARY, TrainLoop, start_run, step_loader
from robolearn.training.mixing import mix_differences
from robolearn.training.resume import init_weights, refuse_resume, split_differences
from robolearn.training.settings import RESUME_NOTE, LoopSettings, model_config, trainer_settings
from robolearn.training.train_dynamics import proprio_stats
from sim.plumbing.checks import config_differences
from sim.plumbing.files import output_keys, write_json_atomic
from sim.plumbing.settings import knob

if TYPE_CHECKING:  # pragma: no cover
    from planners.policy.config import PolicyConfig
    from planners.policy.model import LanguagePolicyNet
    from robolearn.data.loader import SampleKey, StepDataset

__all__ = ["PolicyTrainOptions", "PolicyTrainSettings", "run_train_policy"]

# Training keys besides the split that a resumed run must share: they decide which steps are cloned.
RESUME_KEYS = ("expert_only", "label_source")
VAL_EPOCH = 2**31 - 1  # SampleKey epoch of the fixed validation steps (training steps never reach it)
VAL_BATCH = 256  # validation steps per forward pass


@dataclass(frozen=True, kw_only=True)
class PolicyTrainOptions(LoopSettings):
    """The options of ``robolearn train policy`` (``conf/train_policy.yaml`` is generated from this class): the
    trainers' shared ones (``LoopSettings``) with this trainer's defaults, and which steps are cloned."""

    KNOB_DOCS: ClassVar[Mapping[str, str]] = {
        "out": "run folder: last.pt, best.pt (by validation loss), tb/ (TensorBoard), summary.json",
        "seed": "seed of the split, the initialisation and the steps drawn",
        "init_from": "start a new run from this policy checkpoint's weights (fine-tuning; same policy.* settings); "
        "ignored when out/last.pt exists",
        "extra_data": "more dataset folders to mix into every batch: not supported by `train policy` yet (an error "
        "says so); keep []",
        "extra_fraction": "with extra_data (not supported here yet): share of each batch drawn from it",
        "batch_size": "steps per batch (count)",
        "eval_every": "validation (mean squared action error on fixed held-out steps) every this many steps",
    }

    out: Path = Path("runs/lcbc")
    steps: int = 4000
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    eval_every: int = 500
    checkpoint_every: int = 500
    num_workers: int = 1
    val_items: int = knob(2048, "validation steps, fixed: drawn once from the held-out episodes", lo=1)
    expert_only: bool = knob(
        False,
        "clone only the steps the scripted expert took (false: every step of every labelled episode, as LOReL's "
        "baseline)",
        section="What is cloned: single steps of labelled episodes (an episode that changed nothing is skipped), "
        "each with one of its episode's instructions.",
    )
    label_source: str = knob(
        "hindsight",
        "instructions of an episode: hindsight (generated from its labels) | human (imported annotations, else "
        "hindsight) | both",
        choices=LABEL_SOURCES,
    )


@dataclass(frozen=True, kw_only=True)
class PolicyTrainSettings(PolicyTrainOptions):
    """A validated ``conf/train_policy.yaml``: its options (``PolicyTrainOptions``, whose knobs document every
    field), the ``policy`` group's model config and the resolved config (``raw``, recorded in checkpoints)."""

    policy: PolicyConfig
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: DictConfig | Mapping[str, Any]) -> PolicyTrainSettings:
        """Validate a composed ``train_policy`` config; every problem is a one-line ``ConfigError``."""
        return trainer_settings(
            cls,
            PolicyTrainOptions,
            cfg,
            "train policy",
            "policy",
            lambda node: model_config(node, PolicyConfig, "policy", "lcbc"),
        )


class RandomSteps(Dataset[dict[str, Any]]):
    """Training items for ``StepSampler`` keys (seed, step, j): a random labelled episode of the split per key."""

    def __init__(self, steps: StepDataset):
        self.steps = steps

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, key: SampleKey) -> dict[str, Any]:

        i = int(np.random.default_rng([key.seed, key.epoch, key.i, 0x57E9]).integers(len(self.steps)))
        return self.steps[SampleKey(key.seed, key.epoch, i)]


def _check_resume(
    state: Mapping[str, Any], model: LanguagePolicyNet, s: PolicyTrainSettings, identity: dict[str, Any], path: Path
) -> None:
    diffs = [f"policy.{d}" for d in config_differences(model.config, s.policy)]
    diffs += mix_differences(dict((state.get("extra") or {}).get("config") or {}), s.raw, RESUME_KEYS)
    refuse_resume(path, diffs, split_differences(state, s.raw, identity))


def run_train_policy(s: PolicyTrainSettings, echo: bool = True) -> dict[str, Any]:
    """Train (or resume) the policy described by ``s``; returns the summary (also ``out/summary.json``).

    Raises:
        ConfigError: the data does not fit the policy, or ``out/last.pt`` was made with other settings.
        robolearn.data.metadata.DatasetError: the data folder is not a dataset.
        sim.plumbing.files.OutputError: the run folder cannot be written (a full disk...): one line naming the
            file and ``out=``; the checkpoints written so far are kept.
    """
    with output_keys({"out": s.out}, RESUME_NOTE):
        return _run_train_policy(s, echo)


def _run_train_policy(s: PolicyTrainSettings, echo: bool) -> dict[str, Any]:
    if s.extra_data:
        raise ConfigError("extra_data is not supported by `robolearn train policy` yet; train on one dataset")
    t_setup = time.monotonic()
    c = s.policy

    def fresh() -> LanguagePolicyNet:
        model = LanguagePolicyNet(c, seed=s.seed)
        return model if s.init_from is None else init_weights(model, s.init_from, load_checkpoint, "policy.")

    run = start_run(
        s,
        c,
        "policy.image_size",
        load_checkpoint,
        lambda state, model, identity: _check_resume(state, model, s, identity, s.out / LAST),
        fresh,
        "loss",
        False,
        echo,
    )
    reader = run.reader
    action_dim = reader.read(run.episodes[0], "actions").shape[-1]
    if action_dim != c.action_dim:
        raise ConfigError(
            f"{s.data} has {action_dim}-D actions but the policy outputs {c.action_dim}; "
            f"set policy.action_dim={action_dim}"
        )
    use_proprio = needs_proprio(c, reader, s.data, "policy.proprio_dim")
    label_fn, label_keys = label_fn_for(s.label_source)
    try:
        train_ds = StepDataset(
            reader,
            run.train_eps,
            label_fn=label_fn,
            label_keys=label_keys,
            seed=s.seed,
            proprio=use_proprio,
            expert_only=s.expert_only,
        )
        val_ds = StepDataset(
            reader,
            run.val_eps,
            label_fn=label_fn,
            label_keys=label_keys,
            seed=s.seed,
            proprio=use_proprio,
            expert_only=s.expert_only,
        )
    except (ConfigError, DatasetError):  # a damaged dataset says so in its own words
        raise
    except ValueError as e:
        raise ConfigError(f"{s.data}: {e}; collect more episodes (or set expert_only=false)") from None
    if run.optimizer is None:
        return run.summary
    model, optimizer, r, say, summary, identity = (
        run.model,
        run.optimizer,
        run.resumed,
        run.say,
        run.summary,
        run.identity,
    )
    if use_proprio and r.start == 0 and s.init_from is None:
        model.set_proprio_stats(*proprio_stats(reader, train_ds.episodes))
    text = TextEncoder(c.text_model)
    m = len(val_ds)
    val_items = [val_ds[SampleKey(s.seed, VAL_EPOCH - j // m, j % m)] for j in range(s.val_items)]
    say(
        f"data {s.data}: {len(train_ds)} training / {len(val_ds)} validation labelled episodes"
        f"{' (expert steps only)' if s.expert_only else ''}; policy {model.num_parameters():,} parameters; "
        f"setup {time.monotonic() - t_setup:.1f} s"
    )

    def forward(batch: Mapping[str, Any]) -> Tensor:
        with torch.no_grad():
            emb = text.encode(list(batch["label"])).float()
        return model(batch["frame"], emb, batch["proprio"] if use_proprio else None)

    def train_step(batch: Mapping[str, Any], step: int) -> tuple[Tensor, dict[str, float]]:
        loss = (forward(batch) - batch["action"]).pow(2).mean()
        return loss, {"loss": loss.item()}

    def validation() -> dict[str, Any]:
        model.eval()
        try:
            errs = []
            with torch.no_grad():
                for i in range(0, len(val_items), VAL_BATCH):
                    batch = default_collate(val_items[i : i + VAL_BATCH])
                    errs.append((forward(batch) - batch["action"]).pow(2).mean(0))
            per_dim = torch.stack(errs).mean(0)
            return {"loss": float(per_dim.mean()), "mse_per_dim": [round(float(v), 5) for v in per_dim]}
        finally:
            model.train()

    loop = TrainLoop(
        s,
        model,
        optimizer,
        r,
        "loss",
        False,
        save_checkpoint,
        echo=echo,
        extra=lambda: {"config": dict(s.raw), "policy": model.config.to_dict(), "dataset": identity},
    )

    def describe(v: Mapping[str, Any]) -> str:
        return (
            f"step {loop.step}: val action MSE {v['loss']:.5f} (per dimension {v['mse_per_dim']}); "
            f"best {loop.best:.5f} at {loop.best_step}"
        )

    done = loop.run(step_loader(RandomSteps(train_ds), s, r.start), train_step, validation, describe)
    elapsed = done.pop("elapsed")
    summary.update(
        **{k: v for k, v in done.items() if k != "steps_done"},
        items_per_second=round(done["steps_done"] * s.batch_size / elapsed, 1) if elapsed > 0 else None,
        train_loss_ema=loop.ema.get("loss"),
        val=loop.last_val,
        best_val_loss=loop.best,
        best_step=loop.best_step,
        parameters=model.num_parameters(),
        checkpoints={"last": str(s.out / LAST), "best": str(s.out / BEST)},
        episodes={"train": len(train_ds), "val": len(val_ds)},
    )
    write_json_atomic(s.out / SUMMARY, summary)
    if echo:
        print(
            f"trained steps {summary['start_step']} → {summary['step']} of {summary['steps']} ({summary['stopped']}), "
            f"{summary['wall_seconds']:.0f} s; best val action MSE {summary['best_val_loss']:.5f} at step "
            f"{summary['best_step']}; checkpoints {summary['checkpoints']['last']}, {summary['checkpoints']['best']}"
        )
    return summary
