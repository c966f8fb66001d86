"""``robolearn/Home-v0`` and its task ids: a mobile robot in a multi-room home.

Example:
    >>> import gymnasium as gym, sim
    >>> env = gym.make("robolearn/InteractiveNav-v0")
    >>> obs, info = env.reset(seed=0)
    >>> obs["rgb"].shape, obs["scan"].shape, info["instruction"]
    ((128, 128, 3), (228,), 'go to the goal point')
    >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    >>> sorted(k for k in ("success", "spl", "ins", "effort_efficiency") if k in info)
    ['effort_efficiency', 'ins', 'spl', 'success']

The home is drawn per episode from a pool of generated homes (``split=train`` uses home seeds
[0, num_homes), ``split=test`` a disjoint range never used for training), or fixed with ``home=``
(a named home, a floor-plan file or ``generated:<seed>``). ``reset(options={"home": ...})`` picks the
home of one episode; ``options={"room_type": "kitchen"}`` fixes the room of ``room_nav``.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import pybullet as p
from gymnasium import spaces

from sim.config import CameraConfig
from sim.home_config import HomeEnvConfig
from sim.homes.catalogue import resolve_floorplan
from sim.homes.floorplan import FloorPlan
from sim.homes.generator import GeneratorConfig
from sim.homes.geodesic import grid_graph
from sim.homes.maps import GridMap, free_components, traversability_map
from sim.lidar import Lidar, LocalMap
from sim.observations import Camera, Lighting
from sim.plumbing.checks import check_action, check_env_modes
from sim.plumbing.settings import from_mapping, revalidate
from sim.robots.mobile import BASE_PROPRIO_DIM, MANIPULATOR_PROPRIO_DIM
from sim.scenes.home import HomeScene
from sim.tasks.catalogue import check_home_hosts
from sim.tasks.nav_metrics import EffortTracker, episode_metrics
from sim.tasks.navigation import HomeEpisode, OpenDoor, RoomNav, TaskMaps, get_home_task

TEST_HOME_SEED_OFFSET = 1_000_000  # test-split generated homes use seeds from here on: never trained on
MAX_INSTANCES = 4096  # bound of the segmentation observation space
PLAN_CACHE_SIZE = 32  # floor plans and their maps kept per process (a generated home takes ~10-100 ms)
REWARD_TYPES = ("dense", "sparse")


@dataclass
class HomeEnvState:
    """What ``set_state`` needs to continue an episode exactly."""

    home: str
    episode: HomeEpisode
    sim: np.ndarray
    elapsed: int
    tracker: EffortTracker
    success_any: bool
    last_distance: float


class HomeEnv(gym.Env[dict[str, np.ndarray], np.ndarray]):
    """A differential-drive base (or a mobile manipulator) in a procedurally generated home.

    Action: float32 in [-1, 1]: (v, ω) for the base (linear and angular speed as fractions of
    ``base.max_linear_speed`` m/s and ``base.max_angular_speed`` rad/s); the manipulator adds
    (Δforward, Δleft, Δup, gripper) for its arm's tool centre point (fractions of ``arm.max_step`` m).
    One step is 0.1 s.

    Observation (Dict of the requested ``obs_keys``):
        rgb uint8 (H, W, 3), depth float32 (H, W) m, segmentation int32 (H, W) instance ids from the
        head camera; scan float32 (num_rays,) LiDAR ranges (m, right to left); local_map uint8
        (size, size) robot-centric occupancy (0 free, 128 unknown, 255 occupied; heading up);
        proprio float32 (5,) base [cos θ, sin θ, forward speed m/s, turn rate rad/s, commanded
        speed] or (16,) with the arm; goal float32 (3,) [distance m, cos, sin of the bearing] to the
        task's goal point in the robot frame.

    Reward: ``dense`` (decrease of the geodesic distance to success in m, plus ``success_reward``
    on success) or ``sparse`` (1 on success). Episodes terminate on success and are truncated after
    ``max_episode_steps``. ``info`` holds success, spl, effort_efficiency, ins (all gated by success),
    path_length, shortest_path, geodesic_distance (remaining, m), instruction, task and home.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    action_space: spaces.Box

    def __init__(
        self,
        task: str = "pointnav",
        robot: str | None = None,
        reward_type: str = "dense",
        render_mode: str | None = None,
        config: HomeEnvConfig | Mapping[str, Any] | None = None,
        **overrides: Any,
    ):
        if isinstance(config, HomeEnvConfig):
            cfg = copy.deepcopy(config)
            revalidate(cfg)  # a config changed after it was built is checked as a new one
        else:
            merged = dict(config or {})
            merged.setdefault("task", task)
            if robot is not None:
                merged["robot"] = robot
            elif "robot" not in merged and get_home_task(merged["task"]).needs_arm:
                merged["robot"] = "manipulator"  # tasks that need the arm default to the robot that has one
            merged.update(overrides)
            cfg = from_mapping(HomeEnvConfig, merged)
        check_env_modes(reward_type, REWARD_TYPES, render_mode, self.metadata["render_modes"])
        self.cfg, self.reward_type, self.render_mode = cfg, reward_type, render_mode
        self.task = get_home_task(cfg.task)
        # GeneratorConfig takes any [low, high] sequence and keeps it as a tuple of ints.
        self.generator_cfg = GeneratorConfig(num_rooms=cfg.num_rooms)
        self._plans: OrderedDict[str, tuple[FloorPlan, TaskMaps]] = OrderedDict()
        if cfg.home != "generated":  # fail now, with the floor-plan error or what the task needs, not at a reset
            check_home_hosts(cfg.task, self.plan_and_maps(cfg.home)[0], cfg.home)
        self.client = p.connect(p.DIRECT)
        self._scene: HomeScene | None = None  # built by every reset (``scene``)
        b = cfg.base
        self.camera = Camera(
            CameraConfig("head", fov=b.camera_fov, near=b.camera_near, far=b.camera_far), cfg.width, cfg.height
        )
        self.light = Lighting(direction=(0.3, 0.2, 1.0))
        # Horizontal half field of view (rad): PyBullet's fov is vertical, widened by the aspect ratio.
        self._half_hfov = float(np.arctan(np.tan(np.radians(b.camera_fov) / 2) * cfg.width / cfg.height))
        self.lidar = Lidar(cfg.lidar)
        self.local_map = LocalMap(self.lidar.angles, cfg.lidar.range, cfg.local_map)
        arm = cfg.robot == "manipulator"
        self.action_space = spaces.Box(-1.0, 1.0, (6 if arm else 2,), np.float32)
        # gymnasium types spaces.Dict as Space[dict[str, Space]], but its samples are dicts of the
        # subspaces' samples (here arrays), which is what Env[dict[str, np.ndarray], ...] declares.
        self.observation_space = spaces.Dict(self._obs_spaces(arm))  # type: ignore[assignment]
        self._episode: HomeEpisode | None = None  # drawn by every reset (``episode``)
        self.home = ""
        self._elapsed = 0

    def _obs_spaces(self, arm: bool) -> dict[str, spaces.Space]:
        c, H, W = self.cfg, self.cfg.height, self.cfg.width
        out: dict[str, spaces.Space] = {}
        if "rgb" in c.obs_keys:
            out["rgb"] = spaces.Box(0, 255, (H, W, 3), np.uint8)
        if "depth" in c.obs_keys:
            out["depth"] = spaces.Box(0.0, np.float32(c.base.camera_far), (H, W), np.float32)
        if "segmentation" in c.obs_keys:
            out["segmentation"] = spaces.Box(0, MAX_INSTANCES - 1, (H, W), np.int32)
        if "scan" in c.obs_keys:
            out["scan"] = spaces.Box(
                np.float32(c.lidar.min_range), np.float32(c.lidar.range), (c.lidar.num_rays,), np.float32
            )
        if "local_map" in c.obs_keys:
            out["local_map"] = spaces.Box(0, 255, (c.local_map.size, c.local_map.size), np.uint8)
        if "proprio" in c.obs_keys:
            n = MANIPULATOR_PROPRIO_DIM if arm else BASE_PROPRIO_DIM
            out["proprio"] = spaces.Box(-np.inf, np.inf, (n,), np.float32)
        if "goal" in c.obs_keys:
            out["goal"] = spaces.Box(
                np.array([0, -1, -1], np.float32), np.array([np.inf, 1, 1], np.float32), dtype=np.float32
            )
        return out

    # ------------------------------------------------------------------ homes
    def _pick_home(self, options: Mapping[str, Any] | None) -> str:
        if options and "home" in options:
            return str(options["home"])
        if self.cfg.home != "generated":
            return self.cfg.home
        offset = 0 if self.cfg.split == "train" else TEST_HOME_SEED_OFFSET
        return f"generated:{offset + int(self.np_random.integers(self.cfg.num_homes))}"

    def plan_and_maps(self, home: str) -> tuple[FloorPlan, TaskMaps]:
        """The floor plan of ``home`` and its task maps (cached per process)."""
        if home in self._plans:
            self._plans.move_to_end(home)
            return self._plans[home]
        # generated:<seed> is this env's generator config whichever way it was named (cfg.home or reset options)
        plan = resolve_floorplan(home, self.generator_cfg)
        grid = traversability_map(plan, self.cfg.nav.map_resolution)
        free = ~grid.inflated(self.cfg.base.radius + grid.resolution).occupied
        # Keep the largest free region (4-connected: paths never cut corners), so starts reach goals.
        lab, n = free_components(GridMap(~free, grid.origin, grid.resolution))
        if n > 1:
            sizes = np.bincount(lab.ravel())
            sizes[0] = 0
            free = lab == int(np.argmax(sizes))
        maps = TaskMaps(grid, free, grid_graph(free))
        self._plans[home] = (plan, maps)
        if len(self._plans) > PLAN_CACHE_SIZE:
            self._plans.popitem(last=False)
        return plan, maps

    @property
    def scene(self) -> HomeScene:
        """This episode's scene (its bodies); there is none before the first ``reset`` or after ``close``."""
        if self._scene is None:
            raise RuntimeError("the home env has no scene: call reset() first (and not after close())")
        return self._scene

    @property
    def has_scene(self) -> bool:
        """Whether ``scene`` is built (from the first ``reset`` until ``close``)."""
        return self._scene is not None

    @property
    def episode(self) -> HomeEpisode:
        """This episode's task draw (start, goal, layout, instruction); set by ``reset`` and ``set_state``."""
        if self._episode is None:
            raise RuntimeError("the home env has no episode: call reset() first")
        return self._episode

    @property
    def plan(self) -> FloorPlan:
        return self.plan_and_maps(self.home)[0]

    @property
    def maps(self) -> TaskMaps:
        return self.plan_and_maps(self.home)[1]

    # ------------------------------------------------------------------ gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        self.home = self._pick_home(options)
        plan, maps = self.plan_and_maps(self.home)
        task = self.task
        if options and "room_type" in options:  # "go to the kitchen" / "open the bathroom door"
            task = type(self.task)(str(options["room_type"])) if isinstance(self.task, (RoomNav, OpenDoor)) else task
        self._episode = (
            copy.deepcopy(options["episode"])
            if options and "episode" in options
            else task.sample(plan, maps, self.cfg, self.np_random)
        )
        self._build(plan)
        x, y, yaw = self.episode.start
        self.scene.robot.reset_pose(float(x), float(y), float(yaw))
        self.scene.step_physics(2)  # clutter settles onto the floor before step 0
        self._elapsed = 0
        self._success_any = False
        self.tracker = EffortTracker(self.scene.robot.mass, self._object_masses())
        self.tracker.reset(self.scene.robot.pose()[:2], self._object_positions())
        self._last_distance = self.task.progress_distance(self.scene, self.episode, maps)
        return self.observation(), self._info(False)

    def _build(self, plan: FloorPlan) -> None:
        """A fresh world per episode: the same seed then gives the same episode in any process."""
        if self._scene is not None:
            self._scene.close()
            p.resetSimulation(physicsClientId=self.client)
        self._scene = HomeScene(self.client, self.cfg, plan, self.episode.layout)

    def _object_masses(self) -> np.ndarray:
        door_mass = [p.getDynamicsInfo(d.uid, d.joint, physicsClientId=self.client)[0] for d in self.scene.doors]
        return np.array(self.scene.clutter_mass + door_mass, float)

    def _object_positions(self) -> np.ndarray:
        """(N, 3) free objects' positions, then each door panel's centre (m)."""
        doors = [d.link_world_position("door", (0.0, -d.geom.width / 2, 0.0)) for d in self.scene.doors]
        parts = [self.scene.clutter_positions()] + ([np.array(doors)] if doors else [])
        return np.concatenate(parts, axis=0) if parts else np.zeros((0, 3))

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        if self._episode is None:
            raise RuntimeError("call reset() before step()")
        n = self.action_space.shape[0]
        a = check_action(
            action, self.action_space.shape, "(v, w)" if n == 2 else "(v, w, dforward, dleft, dup, gripper)"
        )
        self.scene.robot.set_action(np.clip(a, -1.0, 1.0))
        self.scene.step_physics(self.cfg.physics.substeps)
        self._elapsed += 1
        self.tracker.update(self.scene.robot.pose()[:2], self._object_positions())
        success = self.task.succeeded(self.scene, self.episode, self.cfg)
        self._success_any = self._success_any or success
        dist = self.task.progress_distance(self.scene, self.episode, self.maps)
        if self.reward_type == "dense":
            reward = (self._last_distance - dist) + (self.cfg.nav.success_reward if success else 0.0)
        else:
            reward = float(success)
        self._last_distance = dist
        terminated = bool(success and self.task.terminate_on_success)
        truncated = self._elapsed >= self.cfg.max_episode_steps
        return self.observation(), float(reward), terminated, truncated, self._info(success)

    def _info(self, success: bool) -> dict[str, Any]:
        info: dict[str, Any] = {
            "success": bool(success),
            "success_any": self._success_any,
            "geodesic_distance": float(self._last_distance),
            "instruction": self.episode.instruction,
            "task": self.task.name,
            "home": self.home,
        }
        info.update(episode_metrics(success, self.episode.shortest_path, self.tracker))
        return info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        self.aim_camera()
        return self.camera.render(self.client, self.light, False)[0]

    def aim_camera(self) -> tuple[np.ndarray, np.ndarray]:
        """Point the head camera from the robot's current pose and draw only the rooms it can see (with
        ``room_culling``); returns the eye and look-at target (m) for cameras of other sizes."""
        eye, target = self.scene.robot.camera_pose()
        if self.cfg.room_culling:
            heading = float(np.arctan2(target[1] - eye[1], target[0] - eye[0]))
            self.scene.update_visibility(eye[:2], heading, self._half_hfov)
        else:
            self.scene.update_visibility(None)
        self.camera.set_pose(eye, target, self.cfg.base.camera_fov)
        return eye, target

    def observation(self) -> dict[str, np.ndarray]:
        """The observation of the current state (the requested ``obs_keys``; renders the head camera)."""
        keys, obs = self.cfg.obs_keys, {}
        robot = self.scene.robot
        if any(k in keys for k in ("rgb", "depth", "segmentation")):
            self.aim_camera()
            rgb, depth, seg = self.camera.render(self.client, self.light, "segmentation" in keys)
            if "rgb" in keys:
                obs["rgb"] = rgb
            if "depth" in keys:
                obs["depth"] = depth
            if seg is not None:
                obs["segmentation"] = self.scene.segmentation(seg)
        if "scan" in keys or "local_map" in keys:
            origin, heading = robot.lidar_origin()
            scan = self.lidar.scan(
                self.client,
                origin,
                heading,
                self.np_random,
                ignore_body=robot.uid,
                start_offset=self.cfg.base.radius + 0.01,
            )
            if "scan" in keys:
                obs["scan"] = scan
            if "local_map" in keys:
                obs["local_map"] = self.local_map(scan)
        if "proprio" in keys:
            obs["proprio"] = robot.proprio().astype(np.float32)
        if "goal" in keys:
            x, y, th = robot.pose()
            d = self.episode.goal - np.array([x, y])
            bearing = np.arctan2(d[1], d[0]) - th
            obs["goal"] = np.array([np.hypot(*d), np.cos(bearing), np.sin(bearing)], np.float32)
        return obs

    # ----------------------------------------------------- privileged queries
    def robot_pose(self) -> np.ndarray:
        """(3,) the robot's x, y (m) and heading (rad): ground-truth localisation."""
        return self.scene.robot.pose()

    def goal_position(self) -> np.ndarray:
        """(2,) the task's goal point (m): point goal, room centre, door or counter."""
        return np.asarray(self.episode.goal, float).copy()

    def traversability_map(self) -> GridMap:
        """The home's traversability ``GridMap`` (walls and furniture occupied; doors and clutter free)."""
        return self.maps.grid

    # ------------------------------------------------------------------ state
    def get_state(self) -> HomeEnvState:
        if self._episode is None:
            raise RuntimeError("call reset() before get_state()")
        return HomeEnvState(
            self.home,
            copy.deepcopy(self.episode),
            self.scene.get_state(),
            self._elapsed,
            copy.deepcopy(self.tracker),
            self._success_any,
            self._last_distance,
        )

    def set_state(self, state: HomeEnvState) -> None:
        """Restore ``get_state`` of an env with the same configuration.

        The world is rebuilt fresh and the arrays are set, so the same actions from the same state give
        bit-identical observations in this env or any other instance or process. The run that called
        ``get_state`` and simply went on keeps Bullet's contact caches, which no state holds: it agrees
        with a restored one to contact-level noise, not bit for bit (as in the desk env).
        """
        if not isinstance(state, HomeEnvState):
            raise TypeError(f"set_state expects a HomeEnvState from get_state(), got {type(state).__name__}")
        self.home = state.home
        plan, _ = self.plan_and_maps(self.home)
        self._episode = copy.deepcopy(state.episode)
        self._build(plan)
        self.scene.set_state(state.sim)
        self._elapsed, self._success_any = state.elapsed, state.success_any
        self.tracker, self._last_distance = copy.deepcopy(state.tracker), state.last_distance

    def close(self) -> None:
        if self._scene is not None:
            self._scene.close()
            self._scene = None
        if getattr(self, "client", None) is not None and p.isConnected(self.client):
            p.disconnect(self.client)
        self.client = None

    def __del__(self) -> None:  # pragma: no cover
        try:
            self.close()
        except Exception:
            pass
