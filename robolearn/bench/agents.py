"""The agents ``robolearn bench`` compares, each built from a ``conf/bench.yaml`` spec with ``_target_``.

An agent runs one seeded episode in a given env and returns its summary (``success``, ``success_any``,
``progress``, ``steps``, ``seconds`` and agent-specific figures). Agents:

* ``RandomAgent``: uniform random actions, the floor every other agent must clear;
* ``PolicyAgent``: a language-conditioned policy (LCBC, ``robolearn train policy``) acting on each frame;
* ``VMPCBenchAgent``: visual MPC as ``robolearn plan`` builds it, from plan overrides: the LOReL reward on
  the learned video model or on oracle dynamics, the goal-image cost, or the oracle reward;
* ``VideoDemoBenchAgent``: visual MPC maximising a DVD video reward against demo videos of the episode's task by
  non-robot actors, rendered per episode (DVD's protocol: the robot is shown a video, not told an instruction);
* ``NavBenchAgent``: the homes' baseline agents (navigation, and the drawer / door baselines), for
  ``robolearn bench env=home`` (``RandomAgent`` runs there too).

Your own agent is any class with ``check()`` and ``run(env, instruction, seed)`` (and, optionally,
``check_env(env)``: the bench's env options, checked once before any episode); name it in
``agent_specs`` with ``_target_: your.module.YourAgent``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

import numpy as np

from planners.mobile_manipulation import make_home_agent
from planners.navigation_config import check_doorways
from planners.policy import load_checkpoint, load_policy
from planners.vmpc import run_episode
from robolearn.config import (
    ConfigError,
    compose_config,
    env_config,
    manipulation_agent_config,
    nav_agent_config,
    one_line,
    quote_override,
)
from robolearn.demo_videos import render_demo_videos
from robolearn.plan import PlanSettings, build_agent, check_model, check_models, load_models
from sim.actors.catalogue import NON_ROBOT_ACTORS
from sim.plumbing.checkpoints import CheckpointError
from sim.plumbing.checks import shown

if TYPE_CHECKING:  # pragma: no cover
    from gymnasium import spaces

    from robolearn.plan import PlanSettings
    from sim.config import DeskEnvConfig
    from sim.counter_config import CounterEnvConfig
    from sim.envs.desk import DeskEnv
    from sim.envs.home import HomeEnv
    from sim.home_config import HomeEnvConfig

__all__ = [
    "BenchAgent",
    "NavBenchAgent",
    "PolicyAgent",
    "RandomAgent",
    "VMPCBenchAgent",
    "VideoDemoBenchAgent",
    "act_until_done",
    "episode_demos",
    "episode_summary",
]

#: plan keys the bench sets per episode (an agent spec may not)
RESERVED_PLAN_KEYS = ("instruction", "task", "video.path", "episodes", "seed", "record", "results")
# Models loaded once per process, keyed by their checkpoint paths: a worker runs many episodes.
_MODEL_CACHE: dict[Any, Any] = {}


@runtime_checkable
class BenchAgent(Protocol):
    """What the bench runs: validated once up front, then one seeded episode at a time. Agents that do not
    read the instruction (random, goal image, oracle reward) ignore it."""

    def check(self) -> None:
        """Raise ``ConfigError`` (one line, with the fix) if the agent cannot run, before any episode."""

    def run(self, env: DeskEnv, instruction: str, seed: int) -> dict[str, Any]:
        """Reset ``env`` with ``seed``, act until the episode ends, return its summary."""


#: what the home environments' ``info`` adds to an episode's summary (iGibson's navigation metrics)
HOME_FIELDS = ("spl", "effort_efficiency", "ins", "path_length", "shortest_path")


def episode_summary(info: dict[str, Any], steps: int, seconds: float, **extra: Any) -> dict[str, Any]:
    """The fields every agent reports, from the env's last ``info`` (plus SPL, effort and INS in homes,
    where progress is the negated remaining geodesic distance, m)."""
    out = {
        "success": bool(info["success"]),
        "success_any": bool(info["success_any"]),
        "progress": float(info["progress"]) if "progress" in info else -float(info["geodesic_distance"]),
        "steps": steps,
        "seconds": seconds,
    }
    if "spl" in info:
        out.update({k: float(info[k]) for k in HOME_FIELDS}, home=info["home"], goal=info["instruction"])
    return {**out, **extra}


def act_until_done(
    env: DeskEnv | HomeEnv,
    seed: int,
    act: Callable[[dict[str, np.ndarray]], np.ndarray],
    on_reset: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Reset ``env`` with ``seed`` (then call ``on_reset``) and step it with ``act(obs)`` until the episode
    ends; its summary."""
    start = time.perf_counter()
    obs, _ = env.reset(seed=seed)
    if on_reset is not None:
        on_reset()
    info: dict[str, Any] = {}
    steps = 0
    for steps in range(1, env.cfg.max_episode_steps + 1):  # noqa: B007 - steps is read after the loop
        obs, _, terminated, truncated, info = env.step(act(obs))
        if terminated or truncated:
            break
    return episode_summary(info, steps, time.perf_counter() - start)


class RandomAgent:
    """Actions drawn uniformly from the action box, from a generator seeded with the episode's seed."""

    def check(self) -> None:
        return None

    def run(self, env: DeskEnv | HomeEnv, instruction: str, seed: int) -> dict[str, Any]:
        rng = np.random.default_rng(seed)
        # cast: every env's action space is a Box (DeskEnv does not declare it; gymnasium's Env says Space)
        space = cast("spaces.Box", env.action_space)
        return act_until_done(env, seed, lambda obs: rng.uniform(space.low, space.high).astype(np.float32))


class PolicyAgent:
    """A language-conditioned policy checkpoint (``robolearn train policy``, e.g. LCBC) acting on each frame.

    Args:
        checkpoint: the policy's ``.pt``.
    """

    def __init__(self, checkpoint: str):
        self.checkpoint = str(checkpoint)
        self._config: Any = None  # the policy's config, read by check()

    def check(self) -> None:
        if not Path(self.checkpoint).exists():
            raise ConfigError(
                f"policy checkpoint {shown(self.checkpoint)}: no such file (train one with "
                "`robolearn train policy data=DATA out=runs/lcbc`)"
            )
        try:  # a file of another kind fails here in one line, not in every worker
            self._config = load_checkpoint(self.checkpoint)[0].config
        except CheckpointError as e:
            raise ConfigError(one_line(str(e))) from None

    def check_env(self, env: Mapping[str, Any]) -> None:
        """Raise ``ConfigError`` (one line, both values and the fix) when the policy does not fit the bench's env
        (image size, action and proprioception sizes); called once, after ``check``, before any episode."""
        if self._config is not None:
            check_model("checkpoint", self.checkpoint, self._config, cast("DeskEnvConfig", env_config(env, "desk")))

    def run(self, env: DeskEnv, instruction: str, seed: int) -> dict[str, Any]:
        key = ("policy", self.checkpoint)
        if key not in _MODEL_CACHE:
            _MODEL_CACHE[key] = load_policy(self.checkpoint)
        policy = _MODEL_CACHE[key]
        policy.reset(instruction)
        return act_until_done(env, seed, policy.act)  # act() runs the net in inference mode


class VMPCBenchAgent:
    """Visual MPC built exactly as ``robolearn plan`` builds it, from ``conf/plan.yaml`` values.

    Args:
        plan: ``conf/plan.yaml`` keys and values, nested as there, e.g. ``{objective: lorel, reward_checkpoint:
            runs/lorel/best.pt, dynamics_model: runs/video/best.pt, agent: {horizon: 10}, optimizer: cem}``.
            Nested mappings set keys inside a node (``optimizer: {population: 100}`` tunes the default iCEM).
            The instruction, the task, the seed and the video are set by the bench.
    """

    def __init__(self, plan: Mapping[str, Any] | None = None):
        self.plan = plan_overrides(plan or {})
        reserved = [o for o in self.plan if o.split("=", 1)[0] in RESERVED_PLAN_KEYS]
        if reserved:
            raise ConfigError(f"VMPC agent plan values {reserved} set what the bench decides per episode; remove them")
        self._settings: dict[tuple[str, str], PlanSettings] = {}

    #: the agent passes demo clips to ``build_agent`` itself (``VideoDemoBenchAgent``), so ``demo=`` is not needed
    demos_given = False

    def settings(self, instruction: str, task: str) -> PlanSettings:
        """The validated ``PlanSettings`` for one (instruction, task) pair (cached)."""
        key = (instruction, task)
        if key not in self._settings:
            self._settings[key] = PlanSettings.from_config(
                compose_config(
                    "plan",
                    [f"instruction={quote_override(instruction)}", f"task={task}", "video.path=null", *self.plan],
                ),
                demos_given=self.demos_given,
            )
        return self._settings[key]

    def check(self) -> None:
        s = self.settings("open the drawer", "open_drawer")
        try:  # checkpoints of the wrong kind fail here in one line, not in every worker
            _MODEL_CACHE[("vmpc", str(s.reward_checkpoint), s.dynamics)] = load_models(s)
        except CheckpointError as e:
            raise ConfigError(one_line(str(e))) from None

    def check_env(self, env: Mapping[str, Any]) -> None:
        """Raise ``ConfigError`` (one line, both sizes and the fix) when the bench's env renders another image size
        than the agent's checkpoints take; called once, after ``check``, before any episode."""
        s = self.settings("open the drawer", "open_drawer")
        models = _MODEL_CACHE[("vmpc", str(s.reward_checkpoint), s.dynamics)]  # loaded by check()
        # cast: env_config builds the config class of the kind it is given, here s.env's (desk or counter)
        env_cfg = cast("DeskEnvConfig | CounterEnvConfig", env_config(env, kind=type(s.env).KIND))
        check_models(s, env_cfg, models)

    def models(self, s: PlanSettings) -> tuple[Any, Any]:
        """(reward model, video model or None) of the settings, loaded once per process."""
        key = ("vmpc", str(s.reward_checkpoint), s.dynamics)
        if key not in _MODEL_CACHE:
            _MODEL_CACHE[key] = load_models(s)
        return _MODEL_CACHE[key]

    def run(self, env: DeskEnv, instruction: str, seed: int) -> dict[str, Any]:
        s = self.settings(instruction, env.cfg.task)
        reward_model, video_model = self.models(s)
        agent = build_agent(s, env.cfg, seed, reward_model, video_model, action_space=env.action_space)
        return run_episode(env, agent, seed=seed).summary()


#: the actor draw's generator is seeded with (episode seed, this): apart from every other use of the episode seed
DEMO_RNG_STREAM = 25
#: render seeds reserved per episode for its demo videos (re-shot takes included)
DEMO_SEEDS_PER_EPISODE = 1000


def episode_demos(
    task: str, seed: int, count: int, actors: Sequence[str], first_seed: int, image_size: int
) -> tuple[np.ndarray, list[str]]:
    """The demo videos of one benchmark episode: ``count`` videos of ``task`` by actors drawn from ``actors`` with a
    generator seeded by the episode's ``seed``, in randomized scenes, rendered at seeds from ``first_seed`` + 1000 ·
    ``seed`` on (``robolearn.demo_videos.render_demo_videos``; a failed take is re-shot at the next seed, and 1000
    seeds per episode leave room for that). They depend only on (task, seed, count, actors, first_seed).

    Returns:
        (uint8 (count, 20, S, S, 3) clips, the actor of each).
    """
    rng = np.random.default_rng([seed, DEMO_RNG_STREAM])
    return render_demo_videos(task, count, actors, rng, first_seed + DEMO_SEEDS_PER_EPISODE * seed, image_size)


class VideoDemoBenchAgent(VMPCBenchAgent):
    """Visual MPC maximising a video reward (``objective: dvd``) against demo videos of the episode's task: DVD's
    protocol, where the robot is shown videos of someone else doing the task and the instruction is not used.

    Each episode's demos are rendered for it (``episode_demos``): ``demos`` videos by non-robot actors drawn from
    ``demo_actors`` (the held-out actor among them by default), in randomized scenes (which never use the held-out
    variants' palette, camera or arrangement), at render seeds from ``demo_seed`` on, far from every training and
    evaluation seed of the DVD datasets: videos the reward never saw.

    Args:
        plan: ``conf/plan.yaml`` values as for ``VMPCBenchAgent``; ``objective`` must be ``dvd``.
        demos: demo videos per episode (≥ 1).
        demo_actors: the actors the demos are drawn from (``sim.actors.catalogue.NON_ROBOT_ACTORS``).
        demo_seed: render seed of the first episode's first demo (≥ 0).
    """

    demos_given = True

    def __init__(
        self,
        plan: Mapping[str, Any] | None,
        demos: int,
        demo_actors: Sequence[str],
        demo_seed: int,
    ):
        super().__init__(plan)
        if "demo" in [o.split("=", 1)[0] for o in self.plan]:
            raise ConfigError("a video-demo agent renders its demo videos per episode: remove plan.demo")
        if isinstance(demos, bool) or not isinstance(demos, int) or demos < 1:
            raise ConfigError(f"demos={demos!r} must be the number of demo videos per episode (≥ 1), e.g. demos=3")
        actors = [demo_actors] if isinstance(demo_actors, str) else list(demo_actors)
        unknown = [a for a in actors if a not in NON_ROBOT_ACTORS]
        if not actors or unknown:
            raise ConfigError(
                f"demo_actors={list(actors)!r} must name non-robot actors; choose from {', '.join(NON_ROBOT_ACTORS)}"
            )
        if isinstance(demo_seed, bool) or not isinstance(demo_seed, int) or demo_seed < 0:
            raise ConfigError(f"demo_seed={demo_seed!r} must be a render seed (an integer ≥ 0)")
        self.demos, self.demo_actors, self.demo_seed = demos, tuple(actors), demo_seed

    def check(self) -> None:
        s = self.settings("open the drawer", "open_drawer")
        if s.objective != "dvd":
            raise ConfigError(
                f"a video-demo agent plans with a video reward: set plan.objective=dvd (not {s.objective})"
            )
        super().check()

    def run(self, env: DeskEnv, instruction: str, seed: int) -> dict[str, Any]:
        s = self.settings(instruction, env.cfg.task)
        reward_model, video_model = self.models(s)
        clips, actors = episode_demos(
            env.cfg.task, seed, self.demos, self.demo_actors, self.demo_seed, reward_model.config.image_size
        )
        agent = build_agent(s, env.cfg, seed, reward_model, video_model, action_space=env.action_space, demos=clips)
        return {**run_episode(env, agent, seed=seed).summary(), "demo_actors": actors}


def plan_overrides(plan: Mapping[str, Any], prefix: str = "") -> list[str]:
    """A nested mapping of ``conf/plan.yaml`` values → Hydra overrides (``agent.horizon=10``, strings quoted)."""
    out: list[str] = []
    for key, value in plan.items():
        if isinstance(value, Mapping):
            out += plan_overrides(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}={_value(value)}")
    return out


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_value(v) for v in value) + "]"
    if isinstance(value, str):
        return quote_override(value)
    return str(value)


class NavBenchAgent:
    """The homes' baseline agents: ``planners.navigation.InteractiveNavAgent`` on the navigation tasks, and on
    open_drawer / open_door the mobile-manipulation baselines of ``planners.mobile_manipulation`` (which
    navigate with it).

    ``config`` holds ``NavAgentConfig`` values (``conf/nav_agent/default.yaml``), ``manipulation``
    ``ManipulationAgentConfig`` values (``conf/manipulation_agent/default.yaml``).
    """

    def __init__(self, config: Mapping[str, Any] | None = None, manipulation: Mapping[str, Any] | None = None):
        # Validated once here (a bad value fails the bench before any episode, in one line).
        self.nav = nav_agent_config(dict(config or {}))
        self.manipulation = manipulation_agent_config(dict(manipulation or {}))

    def check(self) -> None:
        return None  # the configs were checked when the agent was built

    def check_env(self, env: Mapping[str, Any]) -> None:
        """Raise ``ConfigError`` when the agent's planning map, inflated by the bench env's base radius and the
        clearances, closes the homes' doorways (every episode through a door would fail in silence)."""
        home = cast("HomeEnvConfig", env_config({**env, "task": "pointnav", "robot": "base"}, kind="home"))
        radius = home.base.radius
        try:
            check_doorways(self.nav, radius, self.manipulation.arm_clearance)
        except ValueError as e:
            raise ConfigError(str(e)) from None

    def run(self, env: HomeEnv, instruction: str, seed: int) -> dict[str, Any]:
        agent = make_home_agent(env.cfg.task, self.nav, self.manipulation)
        return act_until_done(env, seed, agent.act, on_reset=lambda: agent.reset(env))
