"""Policy checkpoints: the checkpoint protocol of ``sim.plumbing.checkpoints`` with their own format.

Layout as the reward's and the video model's (format "robolearn.policy", version, model, config,
state_dict, optimizer, step, extra, torch_version); writes are atomic; a checkpoint that does not fit
the model is a ``CheckpointError`` naming the differences.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from planners.policy.config import PolicyConfig
from planners.policy.model import LanguagePolicy, LanguagePolicyNet
from sim.plumbing.checkpoints import CheckpointError, CheckpointKind, load_kind, save_kind
from sim.plumbing.checks import state_dict_problems

__all__ = ["CHECKPOINT_FORMAT", "POLICY", "CheckpointError", "load_checkpoint", "load_policy", "save_checkpoint"]

CHECKPOINT_FORMAT = "robolearn.policy"
CHECKPOINT_VERSION = 1
#: the kind of file this module reads and writes
POLICY = CheckpointKind(
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    {"LanguagePolicyNet": (LanguagePolicyNet, PolicyConfig)},
    (),
    "policy",
    "planners.policy.load_policy(path)",
    lambda model, state: state_dict_problems(model.state_dict(), state),
    "robolearn train policy",
)


def save_checkpoint(
    path: str | os.PathLike[str],
    model: LanguagePolicyNet,
    optimizer: torch.optim.Optimizer | None = None,
    step: int = 0,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` (+ optimizer state, step, plain ``extra``) to ``path`` atomically; returns the path."""
    return save_kind(POLICY, path, model, optimizer, step, extra)


def load_checkpoint(
    path: str | os.PathLike[str], map_location: Any = "cpu", model: LanguagePolicyNet | None = None
) -> tuple[LanguagePolicyNet, dict[str, Any]]:
    """(net in eval mode, info: step, optimizer, extra, config, version).

    Raises:
        FileNotFoundError: no file. CheckpointError: not a policy checkpoint, newer, or not for ``model``.
    """
    net, info = load_kind(POLICY, path, map_location, model)
    return net, info  # type: ignore[return-value]


def load_policy(path: str | os.PathLike[str]) -> LanguagePolicy:
    """A policy ready to act: the net of the checkpoint at ``path`` with its sentence encoder."""
    return LanguagePolicy(load_checkpoint(path)[0])
