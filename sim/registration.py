"""Gymnasium registration of robolearn's environments."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

#: the desk environment's id. The version changes whenever observations or dynamics change, so that
#: datasets and checkpoints made with one version are never silently mixed with another (history in
#: sim/envs/desk.py).
DESK_ENV_ID = "robolearn/Desk-v1"
#: the home environment with its task chosen by ``task=``; the task ids below fix it
HOME_ENV_ID = "robolearn/Home-v0"
#: the mobile manipulator docked at a home's kitchen counter, moving its arm (where the homes' VMPC models learn)
COUNTER_ENV_ID = "robolearn/Counter-v1"

#: every environment id robolearn registers, with its entry point
ENV_IDS: dict[str, str] = {
    DESK_ENV_ID: "sim.envs.desk:DeskEnv",
    HOME_ENV_ID: "sim.envs.home:HomeEnv",
    "robolearn/PointNav-v0": "sim.envs.home:HomeEnv",
    "robolearn/InteractiveNav-v0": "sim.envs.home:HomeEnv",
    "robolearn/RoomNav-v0": "sim.envs.home:HomeEnv",
    "robolearn/OpenDoor-v0": "sim.envs.home:HomeEnv",
    "robolearn/OpenDrawer-v0": "sim.envs.home:HomeEnv",
    COUNTER_ENV_ID: "sim.envs.counter:CounterEnv",
}
#: keyword arguments an id fixes (the task of the home task ids)
ENV_KWARGS: dict[str, dict[str, Any]] = {
    "robolearn/PointNav-v0": {"task": "pointnav"},
    "robolearn/InteractiveNav-v0": {"task": "interactive_nav"},
    "robolearn/RoomNav-v0": {"task": "room_nav"},
    "robolearn/OpenDoor-v0": {"task": "open_door"},
    "robolearn/OpenDrawer-v0": {"task": "open_drawer"},
}


def register_envs() -> None:
    """Register every id in ``ENV_IDS`` (idempotent)."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            # No TimeLimit wrapper: the envs truncate themselves, so the step counter is part of their state.
            gym.register(id=env_id, entry_point=entry_point, kwargs=ENV_KWARGS.get(env_id, {}))
