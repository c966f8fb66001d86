"""robolearn's simulator: low-poly PyBullet scenes, robots, sensors, tasks and Gymnasium envs.

Importing ``sim`` registers the environments under the ``robolearn/`` namespace. ``sim``
depends on no other robolearn package; it is the root of the chain sim → rewards → planners →
robolearn, so ``sim.plumbing`` holds the infrastructure all four share (config checks and declared
config fields, atomic files, the checkpoint protocol). Config modules (``sim.config``,
``sim.home_config``, ``sim.counter_config``, ``sim.tasks.catalogue``, ``sim.observation_keys``) import no
pybullet, so a config is built and validated without loading the simulator.
"""

from sim.registration import DESK_ENV_ID, ENV_IDS, HOME_ENV_ID, register_envs

register_envs()

__all__ = ["DESK_ENV_ID", "ENV_IDS", "HOME_ENV_ID", "register_envs"]
