"""``robolearn/Desk-v1``: the LOReL desk as a Gymnasium environment.

Example:
    >>> import gymnasium as gym, sim  # importing sim registers the environments
    >>> env = gym.make("robolearn/Desk-v1", task="open_drawer", obs_keys=("rgb", "depth"))
    >>> obs, info = env.reset(seed=0)
    >>> obs["rgb"].shape, obs["depth"].dtype
    ((64, 64, 3), dtype('float32'))
    >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    >>> sorted(k for k in info if k.startswith("success"))
    ['success', 'success_any']

Versions (datasets record theirs as ``env_id`` in ``meta.json``; a collection resumes only into a dataset
of the same version):

* v1: the faucet lever is a 12 × 2 × 4 cm paddle (was an 8 cm bar, 1.6 cm thick) and the faucet stands
  2 cm further back (``layout.faucet_center`` x 0.76 → 0.78). A turn by the π/10 success threshold
  now changes 7–19 pixels of the default 64 × 64 view instead of 0–5, so a pixel reward can see it.
* v0: the first version (issues 2–5).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import pybullet as p
from gymnasium import spaces

from sim.backdrop import StaticBackdrop
from sim.config import DeskEnvConfig
from sim.observations import PROPRIO_DIM, Camera
from sim.plumbing.checks import check_action, check_env_modes
from sim.plumbing.settings import from_mapping, revalidate
from sim.randomization import SceneParams, SceneStyler, sample_scene_params
from sim.robots.panda import FINGER_TRAVEL, PANDA_JOINT_LIMITS
from sim.scenes.desk import DeskScene, ObjectStates
from sim.state import SimState
from sim.tasks.base import Expert, Task
from sim.tasks.desk import get_task
from sim.variants import VARIANTS

REWARD_TYPES = ("sparse", "dense")
# Physical bounds of the proprioceptive vector (see ``proprio_bounds``).
ROOM_LOW, ROOM_HIGH = (-3.0, -3.0, 0.0), (3.0, 3.0, 3.0)  # m: the tool centre point never leaves the room
MAX_TCP_SPEED = 20.0  # m/s: far above anything the arm's joint speed limits allow
JOINT_LIMIT_SLACK = 0.1  # rad: PyBullet joint limits are soft and can be exceeded briefly
# m: the finger joints' limits are soft too. Pressed by a contact (the desk, an object) while the arm's motors push,
# a finger is driven past its closed or its open limit, and the opening (the two joints' sum, as simulated) reads
# outside [0, 2 × FINGER_TRAVEL]: from -3.0 to 10.9 cm in 18,000 random steps that press the hand down (one finger
# 3.2 cm past a limit). The observation reports the simulated state, which the shipped models were trained on; the
# declared range is the one it takes: each finger within one travel beyond either limit.
FINGER_OPENING_LOW = -2 * FINGER_TRAVEL
FINGER_OPENING_HIGH = 4 * FINGER_TRAVEL


def proprio_bounds() -> tuple[np.ndarray, np.ndarray]:
    """(low, high) float32 (14,): tcp xyz, tcp velocity, finger opening, the 7 arm joint angles."""
    joints_lo = [lo - JOINT_LIMIT_SLACK for lo, _ in PANDA_JOINT_LIMITS]
    joints_hi = [hi + JOINT_LIMIT_SLACK for _, hi in PANDA_JOINT_LIMITS]
    low = np.array([*ROOM_LOW, *[-MAX_TCP_SPEED] * 3, FINGER_OPENING_LOW, *joints_lo], np.float32)
    high = np.array([*ROOM_HIGH, *[MAX_TCP_SPEED] * 3, FINGER_OPENING_HIGH, *joints_hi], np.float32)
    assert low.shape == (PROPRIO_DIM,)
    return low, high


@dataclass
class EnvState:
    """Everything ``set_state`` needs to continue an episode exactly where it was."""

    sim: SimState
    elapsed_steps: int
    initial_objects: ObjectStates  # at reset: the reference for success
    success_any: bool
    scene_params: SceneParams  # the episode's randomization draw


class DeskEnv(gym.Env[dict[str, np.ndarray], np.ndarray]):
    """A Panda at a desk with a drawer, a cabinet, a faucet, a button and two mugs.

    Action: float32 (4,) in [-1, 1]: tool-centre-point displacement (Δx, Δy, Δz) as a fraction of
    ``arm.max_step`` metres (5 cm per axis per step), reached through inverse kinematics and
    clamped to the workspace, and the gripper command (-1 open, +1 closed).

    Observation: a Dict with the requested ``obs_keys``:
        rgb: uint8 (H, W, 3); depth: float32 (H, W) metres; segmentation: int32 (H, W) instance ids
        (names in ``instance_names``, classes in ``instance_classes``); proprio: float32 (14,) tool
        centre point xyz (m), its velocity (m/s), finger opening (m) and the 7 joint angles (rad).
        With several cameras, extra cameras' images are under ``<key>_<camera name>``.

    Reward: ``sparse`` (1.0 while the task is achieved) or ``dense`` (the task's oracle shaping).
    Episodes never terminate early unless ``terminate_on_success``; they are truncated after
    ``max_episode_steps``. ``info`` holds ``success`` (achieved now; at the last step this is the
    final-state criterion), ``success_any`` (achieved at any step so far, LOReL's criterion),
    ``progress`` (signed change toward the goal, m or rad) and ``task``.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 12}

    def __init__(
        self,
        task: str | None = None,
        obs_keys: tuple[str, ...] | list[str] | None = None,
        width: int | None = None,
        height: int | None = None,
        variant: str | None = None,
        reward_type: str = "sparse",
        terminate_on_success: bool = False,
        render_mode: str | None = None,
        config: DeskEnvConfig | Mapping[str, Any] | None = None,
        static_backdrop: bool = True,
        **overrides: Any,
    ):
        if isinstance(config, DeskEnvConfig):
            cfg = copy.deepcopy(config)
            revalidate(cfg)  # a config changed after it was built is checked as a new one
        else:
            merged = dict(config or {})
            # the keywords given override the mapping's values; those left out keep them (or DeskEnvConfig's defaults)
            given = dict(task=task, obs_keys=obs_keys, width=width, height=height, variant=variant)
            merged.update({k: v for k, v in given.items() if v is not None})
            merged.update(overrides)
            cfg = from_mapping(DeskEnvConfig, merged)
        check_env_modes(reward_type, REWARD_TYPES, render_mode, self.metadata["render_modes"])
        self.cfg = cfg
        self.task: Task = get_task(cfg.task)
        self.reward_type = reward_type
        self.terminate_on_success = terminate_on_success
        self.render_mode = render_mode
        self.variant = VARIANTS[cfg.variant]

        self.client = p.connect(p.DIRECT)
        self.scene: DeskScene  # set by _build_world, now and at every rebuild
        self._build_world()
        self.cameras = [Camera(c, cfg.width, cfg.height) for c in cfg.cameras]
        # the desk, floor, wall and pedestal drawn once per episode and camera pose (bit-identical frames, about
        # half the render time); False draws every body every frame (the reference the tests compare with)
        self.static_backdrop = bool(static_backdrop)
        self._backdrops: list[StaticBackdrop] = []
        self.scene_params = SceneParams()
        self.instance_names = list(self.scene.instance_names)
        self.instance_classes = list(self.scene.instance_classes)

        self.action_space = spaces.Box(-1.0, 1.0, (4,), np.float32)
        # gymnasium types spaces.Dict as Space[dict[str, Space]], but its samples are dicts of the
        # subspaces' samples (here arrays), which is what Env[dict[str, np.ndarray], ...] declares.
        self.observation_space = spaces.Dict(self._obs_spaces())  # type: ignore[assignment]
        self._elapsed = 0
        self._init_objects: ObjectStates | None = None
        self._success_any = False
        self._want_seg = "segmentation" in cfg.obs_keys

    # ----------------------------------------------------------------- spaces
    def _obs_spaces(self) -> dict[str, spaces.Space]:
        H, W = self.cfg.height, self.cfg.width
        out: dict[str, spaces.Space] = {}
        for i, cam in enumerate(self.cameras):
            suffix = "" if i == 0 else f"_{cam.cfg.name}"
            if "rgb" in self.cfg.obs_keys:
                out["rgb" + suffix] = spaces.Box(0, 255, (H, W, 3), np.uint8)
            if "depth" in self.cfg.obs_keys:
                out["depth" + suffix] = spaces.Box(0.0, np.float32(cam.cfg.far), (H, W), np.float32)
            if "segmentation" in self.cfg.obs_keys:
                out["segmentation" + suffix] = spaces.Box(0, len(self.scene.instance_names) - 1, (H, W), np.int32)
        if "proprio" in self.cfg.obs_keys:
            out["proprio"] = spaces.Box(*proprio_bounds(), dtype=np.float32)
        return out

    def _build_world(self) -> None:
        """(Re)build every body in a fresh PyBullet world (8 ms).

        A fresh world has no cached contacts, so what happens next depends on the state set, never on
        the history of this process: the same seed gives the same episode in any env instance.
        """
        if getattr(self, "scene", None) is not None:
            p.resetSimulation(physicsClientId=self.client)
        self.scene = DeskScene(self.client, self.cfg, mirror=self.variant.mirror_furniture)
        self.styler = SceneStyler(self.scene, self.client)
        self._stepped = False

    def _apply_scene_params(self, sp: SceneParams) -> None:
        """Style the freshly built world (colours, light, camera poses); every reset and set_state ends here."""
        self.scene_params = sp
        self.styler.apply(sp)
        for cam in self.cameras:
            cam.set_pose(
                np.asarray(cam.cfg.eye) + sp.camera_eye_offset,
                np.asarray(cam.cfg.target) + sp.camera_target_offset,
                cam.cfg.fov + sp.camera_fov_offset,
            )
        if self.static_backdrop:  # new bodies and colours: new backdrops
            static, parked = self.scene.static_bodies, self.scene.parked_bodies
            moving = [b for b in self.scene.bodies if b not in static and b not in parked]
            self._backdrops = [StaticBackdrop(cam, self.client, static, moving, parked) for cam in self.cameras]

    def _frame(self, i: int, want_seg: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Camera ``i``'s frame (``Camera.render``'s arrays), over its static backdrop when there is one."""
        if self._backdrops:
            return self._backdrops[i].render(self.scene_params.light, want_seg)
        return self.cameras[i].render(self.client, self.scene_params.light, want_seg)

    # ------------------------------------------------------------ gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Start an episode: new scene style (if randomized) and a draw from the task's initial states.

        ``options`` may hold ``task`` (switch to another task of this env, e.g. for data collection)
        and ``state`` (an ``EnvState`` to start from instead of sampling).
        """
        super().reset(seed=seed)
        if options and "task" in options:
            self.task = get_task(options["task"])
            self.cfg.task = self.task.name
        if options and "state" in options:
            self.set_state(options["state"])
        else:
            if self._stepped:
                self._build_world()
            self._apply_scene_params(
                sample_scene_params(self.cfg.randomization, self.variant, self.np_random, list(self.scene.movable))
            )
            self.task.sample_initial_state(self.scene, self.np_random)
            # Let objects settle onto the desk so that step 0 starts at rest.
            self.scene.step_physics(self.cfg.physics.substeps)
            self._stepped = True  # settling leaves contact caches too: the next reset must rebuild
            self._elapsed = 0
            self._init_objects = self.scene.object_states()
            self._success_any = False
        return self._observation(), self._info(self.scene.object_states())

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        if self._init_objects is None:
            raise RuntimeError("call reset() before step()")
        a = check_action(action, self.action_space.shape, "(dx, dy, dz, gripper)")
        self.scene.arm.set_action(np.clip(a, -1.0, 1.0))
        self.scene.step_physics(self.cfg.physics.substeps)
        self._stepped = True
        self._elapsed += 1
        now = self.scene.object_states()
        info = self._info(now)
        self._success_any = self._success_any or info["success"]
        info["success_any"] = self._success_any
        if self.reward_type == "dense":
            reward = self.task.dense_reward(self.scene, now, self._init_objects, self.cfg.thresholds)
        else:
            reward = float(info["success"])
        terminated = bool(self.terminate_on_success and info["success"])
        truncated = self._elapsed >= self.cfg.max_episode_steps
        return self._observation(), float(reward), terminated, truncated, info

    def render(self) -> np.ndarray | None:
        """The first camera's RGB frame at the configured resolution (``render_mode="rgb_array"``)."""
        if self.render_mode != "rgb_array":
            return None
        return self._frame(0, False)[0]

    def close(self) -> None:
        if getattr(self, "client", None) is not None and p.isConnected(self.client):
            p.disconnect(self.client)
        self.client = None

    # ---------------------------------------------------------------- state
    def get_state(self) -> EnvState:
        """Everything needed to continue this episode exactly (plain arrays; see ``set_state``)."""
        if self._init_objects is None:
            raise RuntimeError("call reset() before get_state()")
        return EnvState(
            self.scene.get_state(),
            self._elapsed,
            copy.deepcopy(self._init_objects),
            self._success_any,
            copy.deepcopy(self.scene_params),
        )

    def set_state(self, state: EnvState) -> None:
        """Restore a state from ``get_state`` of an env with the same configuration (~8 ms).

        The world is rebuilt fresh and the arrays are set, so the same actions from the same state
        give bit-identical observations, in this env or any other instance or process. (PyBullet's
        own ``saveState`` is faster but not exact: Bullet keeps solver caches outside it. A rollout
        that simply continues from where ``get_state`` was called keeps its contact caches and
        agrees with a restored one to contact-level noise, not bit for bit.)
        """
        if not isinstance(state, EnvState):
            raise TypeError(f"set_state expects an EnvState from get_state(), got {type(state).__name__}")
        self._build_world()
        self._apply_scene_params(copy.deepcopy(state.scene_params))
        self.scene.set_state(state.sim)
        self._elapsed = state.elapsed_steps
        self._init_objects = copy.deepcopy(state.initial_objects)
        self._success_any = state.success_any

    # -------------------------------------------------------------- helpers
    @property
    def object_states(self) -> ObjectStates:
        return self.scene.object_states()

    @property
    def initial_object_states(self) -> ObjectStates | None:
        return self._init_objects

    # --------------------------- the arm's frame (the desk's is the world), for exploration that reaches
    def tcp_position(self) -> np.ndarray:
        """The tool centre point (3,) in the frame the actions move it in (here the world, m)."""
        return self.scene.arm.tcp_pose()[0]

    @property
    def arm_max_step(self) -> float:
        """m the tool centre point moves per unit action per step."""
        return self.cfg.arm.max_step

    def reach_targets(self, tasks: Sequence[str]) -> list[str]:
        """What ``reach_point`` can reach for: the objects of ``tasks`` (named by task)."""
        return list(tasks)

    def reach_point(self, task: str) -> np.ndarray:
        """Where ``task``'s object is handled (3,), in the frame of ``tcp_position`` (m)."""
        return get_task(task).interaction_point(self.scene)

    def make_expert(self) -> Expert:
        """A fresh scripted expert of this episode's task (``expert_action`` runs it)."""
        return self.task.make_expert()

    def expert_action(self, expert: Expert) -> np.ndarray:
        """The action of a task expert (``make_expert()``) in the current state, float32 (4,)."""
        assert self._init_objects is not None, "call reset() before expert_action()"
        return expert.act(self.scene, self._init_objects).astype(np.float32)

    def _info(self, now: ObjectStates) -> dict[str, Any]:
        init = self._init_objects if self._init_objects is not None else now
        progress = self.task.progress(now, init)
        return {
            "success": bool(progress >= self.task.threshold(self.cfg.thresholds)),
            "success_any": self._success_any,
            "progress": float(progress),
            "task": self.task.name,
        }

    def _observation(self) -> dict[str, np.ndarray]:
        obs: dict[str, np.ndarray] = {}
        keys = self.cfg.obs_keys
        want_image = any(k in keys for k in ("rgb", "depth", "segmentation"))
        if want_image:
            for i, cam in enumerate(self.cameras):
                suffix = "" if i == 0 else f"_{cam.cfg.name}"
                rgb, depth, seg = self._frame(i, self._want_seg)
                if "rgb" in keys:
                    obs["rgb" + suffix] = rgb
                if "depth" in keys:
                    obs["depth" + suffix] = depth
                if seg is not None:
                    obs["segmentation" + suffix] = self.scene.segmentation(seg)
        if "proprio" in keys:
            tcp, vel = self.scene.arm.tcp_pose()
            obs["proprio"] = np.concatenate(
                [tcp, vel, [self.scene.arm.finger_opening()], self.scene.arm.joint_positions()]
            ).astype(np.float32)
        return obs

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        try:
            self.close()
        except Exception:
            pass
