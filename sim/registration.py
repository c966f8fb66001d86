"""Gymnasium registration of robolearn's environments.

The simulator's own table of gym ids: each scene registers its env class here (``sim`` imports nothing of
the other packages). ``robolearn.kinds`` maps the env kinds of ``conf/env/*.yaml`` onto these ids.
"""

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
#: the home task ids: each fixes the home environment's task
HOME_TASK_IDS: dict[str, str] = {
    "robolearn/PointNav-v0": "pointnav",
    "robolearn/InteractiveNav-v0": "interactive_nav",
    "robolearn/RoomNav-v0": "room_nav",
    "robolearn/OpenDoor-v0": "open_door",
    "robolearn/OpenDrawer-v0": "open_drawer",
}

#: every environment id robolearn registers, with its entry point
ENV_IDS: dict[str, str] = {
    DESK_ENV_ID: "sim.envs.desk:DeskEnv",
    HOME_ENV_ID: "sim.envs.home:HomeEnv",
    **dict.fromkeys(HOME_TASK_IDS, "sim.envs.home:HomeEnv"),
    COUNTER_ENV_ID: "sim.envs.counter:CounterEnv",
}
#: keyword arguments an id fixes (the task of the home task ids)
ENV_KWARGS: dict[str, dict[str, Any]] = {env_id: {"task": task} for env_id, task in HOME_TASK_IDS.items()}


def register_envs() -> None:
    """Register every id in ``ENV_IDS`` (idempotent)."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            # No TimeLimit wrapper: the envs truncate themselves, so the step counter is part of their state.
            gym.register(id=env_id, entry_point=entry_point, kwargs=ENV_KWARGS.get(env_id, {}))
