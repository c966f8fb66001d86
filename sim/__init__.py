"""robolearn's simulator: low-poly PyBullet scenes, robots, sensors, tasks and Gymnasium envs.

Importing ``sim`` registers the environments under the ``robolearn/`` namespace. ``sim``
depends on no other robolearn package; it is the root of the chain sim → rewards → planners →
robolearn, so ``sim.plumbing`` holds the infrastructure all four share (config checks and declared
config fields, atomic files, the checkpoint protocol). Config modules (``sim.config``,
``sim.home_config``, ``sim.counter_config``, ``sim.tasks.catalogue``, ``sim.observation_keys``) import no
pybullet, so a config is built and validated without loading the simulator. Importing ``sim`` also keeps
pybullet's build-time banner off stderr (``sim.plumbing.quiet``), so a command's stderr holds only its messages.
"""

from sim.plumbing import quiet
from sim.registration import DESK_ENV_ID, ENV_IDS, HOME_ENV_ID, register_envs

quiet.install()  # pybullet, imported by sim's modules, then prints no build-time banner on stderr
register_envs()

__all__ = ["DESK_ENV_ID", "ENV_IDS", "HOME_ENV_ID", "register_envs"]
