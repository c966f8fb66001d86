"""Gymnasium registration of robolearn's environments."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from sim.kinds import KINDS

#: the desk environment's id. The version changes whenever observations or dynamics change, so that
#: datasets and checkpoints made with one version are never silently mixed with another (history in
#: sim/envs/desk.py).
DESK_ENV_ID = KINDS["desk"].env_id
#: the home environment with its task chosen by ``task=``; the task ids below fix it
HOME_ENV_ID = KINDS["home"].env_id
#: the mobile manipulator docked at a home's kitchen counter, moving its arm (where the homes' VMPC models learn)
COUNTER_ENV_ID = KINDS["counter"].env_id

#: every environment id robolearn registers, with its entry point: each kind's id and its task ids (sim.kinds)
ENV_IDS: dict[str, str] = {i: k.env for k in KINDS.values() for i in (k.env_id, *k.task_ids)}
#: keyword arguments an id fixes (the task of the home task ids)
ENV_KWARGS: dict[str, dict[str, Any]] = {i: {"task": t} for k in KINDS.values() for i, t in k.task_ids.items()}


def register_envs() -> None:
    """Register every id in ``ENV_IDS`` (idempotent)."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            # No TimeLimit wrapper: the envs truncate themselves, so the step counter is part of their state.
            gym.register(id=env_id, entry_point=entry_point, kwargs=ENV_KWARGS.get(env_id, {}))
