"""The observation keys each environment can return (``obs_keys=``), apart from the rendering code.

Plain tuples, so that the configs validate ``obs_keys`` without loading PyBullet (``sim.observations``
renders them).
"""

from __future__ import annotations

#: the desk (``robolearn/Desk-v1``)
OBS_KEYS: tuple[str, ...] = ("rgb", "depth", "segmentation", "proprio")
#: the homes (``robolearn/Home-v0`` and its task ids)
HOME_OBS_KEYS: tuple[str, ...] = ("rgb", "depth", "segmentation", "scan", "local_map", "proprio", "goal")
#: the counter (``robolearn/Counter-v1``): the head camera and the arm's proprioception
COUNTER_OBS_KEYS: tuple[str, ...] = ("rgb", "depth", "segmentation", "proprio")
