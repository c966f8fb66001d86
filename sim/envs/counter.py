"""``robolearn/Counter-v1``: the mobile manipulator docked at a home's kitchen counter, moving only its arm.

Example:
    >>> import gymnasium as gym, sim
    >>> env = gym.make("robolearn/Counter-v1")
    >>> obs, info = env.reset(seed=0)
    >>> obs["rgb"].shape, info["instruction"]
    ((64, 64, 3), 'open the drawer')
    >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

Why it exists: visual MPC needs a video model and a reward trained on the frames the robot will see. In a home
the counter stands against a wall, so the desk env's camera (which looks back at the arm from beyond the desk)
would be inside the wall; the robot's own head camera is the view that exists, panned from the chassis's
front-left edge onto the drawer so that the drawer slides across the view past the arm
(``sim.counter_config.manipulation_camera``; v0's camera behind the arm hardly saw the drawer open).
``reset(options={"task": "close_drawer"})`` sets an episode's task, ``{"home": ...}`` its home. Each episode
draws a home from the generated pool (``split``, ``num_homes``, as in ``robolearn/Home-v0``), places the robot
where the drawer baseline docks (with ``dock_jitter``, so models tolerate its docking error), puts the gripper
near ``start_tcp`` and the counter's objects in a random state, and then gives the arm ``max_episode_steps``
actions. Episodes have the desk env's shape (fixed length, success judged as a change since reset), so
``robolearn collect``, ``robolearn train`` and ``robolearn train dynamics`` work on it unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sim.counter_config import CounterEnvConfig
from sim.envs.home import HomeEnv
from sim.home_config import HomeEnvConfig, NavTaskConfig
from sim.plumbing.checks import check_action, check_env_modes
from sim.plumbing.settings import from_mapping, revalidate
from sim.robots.mobile import BASE_PROPRIO_DIM, MANIPULATOR_PROPRIO_DIM
from sim.scenes.home import HomeScene
from sim.tasks.counter import ArmFrameView, CounterStates, DrawerMotion, get_counter_task

if TYPE_CHECKING:  # pragma: no cover - sim.envs.home is imported where the env is built
    from sim.envs.home import HomeEnvState

__all__ = [
    "ACTION_MEANING",
    "ARM_PROPRIO_DIM",
    "CounterEnv",
    "CounterEnvState",
    "CounterStates",
    "arm_observation",
    "drawer_visibility",
    "home_config_for",
]

ARM_PROPRIO_DIM = MANIPULATOR_PROPRIO_DIM - BASE_PROPRIO_DIM  # tcp (3), finger opening (1), joints (7)
ACTION_MEANING = "arm tool-centre-point (dforward, dleft, dup) as a fraction of arm.max_step, gripper"
CHANGED_PIXEL = 30  # summed |ΔRGB| (0-765) above which drawer_visibility counts a pixel as changed


def arm_observation(obs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A mobile manipulator's observation → the counter env's: the same images, proprio without the base part.

    ``proprio`` (16,) [base (5,), tcp in the arm-base frame (3, m), finger opening (1, m), joints (7, rad)]
    becomes (11,): what a docked arm's models condition on. Used wherever a model trained in the counter
    env acts in a home (``planners.mobile_manipulation``).
    """
    out = {k: v for k, v in obs.items() if k in ("rgb", "depth", "segmentation")}
    if "proprio" in obs:
        out["proprio"] = np.asarray(obs["proprio"], np.float32)[BASE_PROPRIO_DIM:]
    return out


def drawer_visibility(env: CounterEnv) -> tuple[int, float]:
    """What the head camera shows of the drawer's change since reset, with the arm where it is now.

    Renders the current frame, then again with the drawer put back to its opening at reset (and restored),
    and returns (pixels whose summed |ΔRGB| exceeds ``CHANGED_PIXEL``, the robot's share of the view in
    [0, 1]). A learned reward can only tell an opened drawer from what these pixels show. Needs ``rgb`` and
    ``segmentation`` in the env's ``obs_keys``.
    """
    if not {"rgb", "segmentation"} <= set(env.cfg.obs_keys):
        raise ValueError(f"drawer_visibility needs obs_keys with rgb and segmentation, got {list(env.cfg.obs_keys)}")
    drawer = env.scene.counters[0].drawer
    now = env.home_env.observation()
    opened = drawer.state()
    drawer.set_state(env.initial_object_states.drawer)
    before = env.home_env.observation()["rgb"]
    drawer.set_state(opened)
    changed = int((np.abs(now["rgb"].astype(int) - before.astype(int)).sum(-1) > CHANGED_PIXEL).sum())
    return changed, float((now["segmentation"] == env.instance_names.index("robot")).mean())


def home_config_for(cfg: CounterEnvConfig, obs_keys: tuple[str, ...] | None = None, **fields: Any) -> HomeEnvConfig:
    """The home env config whose robot, camera and homes are the counter env's (``fields`` override the rest).

    The counter env runs inside a home env built from this; home planning builds its env from it too, so
    the models see the same camera in both.
    """
    base: dict[str, Any] = dict(
        task="open_drawer",
        robot="manipulator",
        home=cfg.home,
        split=cfg.split,
        num_homes=cfg.num_homes,
        num_rooms=cfg.num_rooms,
        obs_keys=obs_keys or cfg.obs_keys,
        width=cfg.width,
        height=cfg.height,
        physics=copy.deepcopy(cfg.physics),
        base=copy.deepcopy(cfg.base),
        manipulator=copy.deepcopy(cfg.manipulator),
    )
    base.update(fields)
    return HomeEnvConfig(**base)


@dataclass
class CounterEnvState:
    """What ``set_state`` needs to continue an episode exactly."""

    home: HomeEnvState  # the inner home env's state
    initial: CounterStates
    elapsed: int
    success_any: bool
    dock_offset: tuple[float, float, float]


class CounterEnv(gym.Env[dict[str, np.ndarray], np.ndarray]):
    """The docked mobile manipulator's arm at a home's kitchen counter (module docstring).

    Action: float32 (4,) in [-1, 1]: (Δforward, Δleft, Δup) of the tool centre point in the arm-base frame
    as fractions of ``manipulator.arm.max_step`` m, and the gripper (−1 open, +1 closed); the base holds still.
    One step is 0.1 s.

    Observation (Dict of the requested ``obs_keys``): rgb uint8 (H, W, 3), depth float32 (H, W) m,
    segmentation int32 (H, W) from the head camera; proprio float32 (11,) tcp in the arm-base frame (m),
    finger opening (m), 7 arm joints (rad).

    Reward: ``sparse`` (1 while the task is achieved) or ``dense`` (progress / threshold, clipped to
    [−1, 1.5]). Episodes never terminate early; they truncate after ``max_episode_steps``. ``info``:
    success (the change since reset reaches ``thresholds``), success_any, progress (m), task, instruction, home.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        task: str = "open_drawer",
        reward_type: str = "sparse",
        render_mode: str | None = None,
        config: CounterEnvConfig | Mapping[str, Any] | None = None,
        **overrides: Any,
    ):
        if isinstance(config, CounterEnvConfig):
            cfg = copy.deepcopy(config)
            revalidate(cfg)  # a config changed after it was built is checked as a new one
        else:
            merged = dict(config or {})
            merged.setdefault("task", task)
            merged.update(overrides)
            cfg = from_mapping(CounterEnvConfig, merged)
        check_env_modes(reward_type, ("sparse", "dense"), render_mode, self.metadata["render_modes"])
        self.cfg, self.reward_type, self.render_mode = cfg, reward_type, render_mode
        self.task = get_counter_task(cfg.task)
        # No clutter: the robot is placed at the counter, where a room's scattered objects could stand.
        # The counter env steps the inner home's physics itself: its navigation metrics would go unread.
        self.home_env = HomeEnv(config=home_config_for(cfg, nav=NavTaskConfig(room_clutter=0)))
        self.action_space = spaces.Box(-1.0, 1.0, (4,), np.float32)
        # The images are the inner home env's (same camera, same spaces); proprio drops the base's part.
        # (HomeEnv's observation_space is a spaces.Dict; its declared type is Env's Space[dict[str, ndarray]].)
        inner = cast(spaces.Dict, self.home_env.observation_space).spaces
        obs: dict[str, spaces.Space] = {k: inner[k] for k in ("rgb", "depth", "segmentation") if k in inner}
        if "proprio" in cfg.obs_keys:
            obs["proprio"] = spaces.Box(-np.inf, np.inf, (ARM_PROPRIO_DIM,), np.float32)
        # gymnasium types spaces.Dict as Space[dict[str, Space]], but its samples are dicts of the
        # subspaces' samples (here arrays), which is what Env[dict[str, np.ndarray], ...] declares.
        self.observation_space = spaces.Dict(obs)  # type: ignore[assignment]
        self._view: ArmFrameView | None = None  # set by every reset (``view``)
        self._elapsed = 0

    # ------------------------------------------------------------------ gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        c, rng = self.cfg, self.np_random
        if options and "task" in options:  # this episode's task (as the desk env's reset option)
            self.task = get_counter_task(str(options["task"]))
        inner = {"home": options["home"]} if options and "home" in options else None
        self.home_env.reset(seed=int(rng.integers(2**31)), options=inner)
        scene = self.home_env.scene
        self._view = ArmFrameView(scene.manipulator, scene.counters[0])
        spec = next(f for f in self.home_env.plan.furniture if f.kind == "counter")
        dock = rng.uniform(-1.0, 1.0, 3) * np.asarray(c.dock_jitter)
        self._dock_offset = (float(dock[0]), float(dock[1]), float(dock[2]))
        along, across, turn = self._dock_offset
        front = np.array([np.cos(spec.yaw), np.sin(spec.yaw)])
        left = np.array([-front[1], front[0]])
        # The arm base stands dock_distance in front of the counter's centre; the base centre is mount_forward behind it.
        mount = np.asarray(spec.pos, float) - (c.dock_distance - along) * front + across * left
        xy = mount - c.manipulator.mount_forward * front
        scene.robot.reset_pose(float(xy[0]), float(xy[1]), float(spec.yaw + turn))
        tcp = np.asarray(c.start_tcp) + rng.uniform(-1.0, 1.0, 3) * np.asarray(c.start_tcp_jitter)
        scene.manipulator.reset_tcp(tcp)
        counter = scene.counters[0]
        counter.drawer.set_state(self.task.initial_drawer(rng, c.drawer_closed, c.drawer_open))
        counter.cabinet.set_state(float(rng.uniform(*c.cabinet_start)))
        counter.faucet.set_state(float(rng.uniform(*c.faucet_start)))
        counter.button.set_state(0.0)
        scene.robot.set_action(np.zeros(6))
        scene.step_physics(c.settle_steps)
        self._init = self.view.states()
        self._elapsed, self._success_any = 0, False
        return self._observation(), self._info(False, self._init)

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        if self._view is None:
            raise RuntimeError("call reset() before step()")
        a = check_action(action, self.action_space.shape, "(dforward, dleft, dup, gripper)")
        scene = self.home_env.scene
        scene.robot.set_action(np.r_[0.0, 0.0, np.clip(a, -1.0, 1.0)])  # the base holds still
        scene.step_physics(self.cfg.physics.substeps)
        self._elapsed += 1
        now = self.view.states()
        success = self.task.succeeded(now, self._init, self.cfg.thresholds)
        self._success_any = self._success_any or success
        if self.reward_type == "dense":
            reward = float(
                np.clip(self.task.progress(now, self._init) / self.task.threshold(self.cfg.thresholds), -1.0, 1.5)
            )
        else:
            reward = float(success)
        truncated = self._elapsed >= self.cfg.max_episode_steps
        return self._observation(), reward, False, truncated, self._info(success, now)

    def _observation(self) -> dict[str, np.ndarray]:
        return arm_observation(self.home_env.observation())

    def _info(self, success: bool, now: CounterStates) -> dict[str, Any]:
        return {
            "success": bool(success),
            "success_any": self._success_any,
            "progress": float(self.task.progress(now, self._init)),
            "task": self.task.name,
            "instruction": self.task.description.instruction(),
            "home": self.home_env.home,
        }

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        self.home_env.aim_camera()
        return self.home_env.camera.render(self.home_env.client, self.home_env.light, False)[0]

    # ----------------------------------------------- what collect and planners read
    @property
    def scene(self) -> HomeScene:
        """The inner home scene (bodies, ``get_state``)."""
        return self.home_env.scene

    @property
    def view(self) -> ArmFrameView:
        """The counter in the docked arm's frame (set by ``reset`` and ``set_state``)."""
        if self._view is None:
            raise RuntimeError("the counter env has no arm view: call reset() first")
        return self._view

    @property
    def object_states(self) -> CounterStates:
        """The counter's articulated objects now."""
        return self.view.states()

    @property
    def initial_object_states(self) -> CounterStates:
        """The counter's articulated objects at reset."""
        return self._init

    @property
    def scene_params(self) -> dict[str, Any]:
        """How this episode's scene was drawn: the home and the docking error (along m, across m, heading rad)."""
        return {"home": self.home_env.home, "dock_offset": list(self._dock_offset)}

    @property
    def instance_names(self) -> list[str]:
        """Segmentation names of this episode's home ([] before the first reset): every home has its own."""
        return list(self.home_env.scene.instance_names) if self.home_env.has_scene else []

    # ------------------------------------- the arm's frame, for exploration that reaches (as the desk env's)
    def tcp_position(self) -> np.ndarray:
        """The tool centre point (3,) in the arm-base frame, which the actions move it in (m)."""
        return self.view.tcp()

    @property
    def arm_max_step(self) -> float:
        """m the tool centre point moves per unit action per step."""
        return self.cfg.manipulator.arm.max_step

    def reach_targets(self, tasks: Sequence[str]) -> list[str]:
        """What ``reach_point`` can reach for: every object of the counter, whatever the tasks."""
        return CounterStates.names()

    def reach_point(self, name: str) -> np.ndarray:
        """Where the counter's object ``name`` is handled (3,), in the arm-base frame (m)."""
        return self.view.interaction_points()[name]

    def make_expert(self) -> DrawerMotion:
        """A scripted expert for this episode (``expert_action`` runs it)."""
        return self.task.make_expert(self._init, self.cfg.thresholds)

    def expert_action(self, expert: DrawerMotion) -> np.ndarray:
        """The expert's next action (4,) in [-1, 1]."""
        return np.asarray(expert.act(self.view), np.float32)

    # ------------------------------------------------------------------ state
    def get_state(self) -> CounterEnvState:
        if self._view is None:
            raise RuntimeError("call reset() before get_state()")
        return CounterEnvState(
            self.home_env.get_state(), copy.deepcopy(self._init), self._elapsed, self._success_any, self._dock_offset
        )

    def set_state(self, state: CounterEnvState) -> None:
        """Restore ``get_state`` of an env with the same configuration (the world is rebuilt, as in the home env)."""
        if not isinstance(state, CounterEnvState):
            raise TypeError(f"set_state expects a CounterEnvState from get_state(), got {type(state).__name__}")
        self.home_env.set_state(state.home)
        scene = self.home_env.scene
        self._view = ArmFrameView(scene.manipulator, scene.counters[0])
        self._init, self._elapsed = copy.deepcopy(state.initial), state.elapsed
        self._success_any, self._dock_offset = state.success_any, state.dock_offset

    def close(self) -> None:
        self.home_env.close()
