"""Gymnasium registration of robolearn's environments."""

from __future__ import annotations

import gymnasium as gym

#: every environment id robolearn registers, with its entry point
ENV_IDS: dict[str, str] = {
    "robolearn/Desk-v0": "sim.envs.desk:DeskEnv",
}


def register_envs() -> None:
    """Register every id in ``ENV_IDS`` (idempotent)."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            # No TimeLimit wrapper: the env truncates itself, so its step counter is part of get_state().
            gym.register(id=env_id, entry_point=entry_point)
