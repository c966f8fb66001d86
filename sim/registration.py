"""Gymnasium registration of robolearn's environments."""

from __future__ import annotations

import gymnasium as gym

#: the desk environment's id. The version changes whenever observations or dynamics change, so that
#: datasets and checkpoints made with one version are never silently mixed with another (history in
#: sim/envs/desk.py).
DESK_ENV_ID = "robolearn/Desk-v1"

#: every environment id robolearn registers, with its entry point
ENV_IDS: dict[str, str] = {
    DESK_ENV_ID: "sim.envs.desk:DeskEnv",
}


def register_envs() -> None:
    """Register every id in ``ENV_IDS`` (idempotent)."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            # No TimeLimit wrapper: the env truncates itself, so its step counter is part of get_state().
            gym.register(id=env_id, entry_point=entry_point)
