"""robolearn's simulator: low-poly PyBullet scenes, robots, sensors, tasks and Gymnasium envs.

Importing ``sim`` registers the environments under the ``robolearn/`` namespace. ``sim``
depends on no other robolearn package.
"""

from sim.registration import DESK_ENV_ID, ENV_IDS, HOME_ENV_ID, register_envs

register_envs()

__all__ = ["DESK_ENV_ID", "ENV_IDS", "HOME_ENV_ID", "register_envs"]
