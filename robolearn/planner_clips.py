"""``robolearn collect planner-clips``: clips of what a planner does with a video reward, labelled by what happened.

A learned video reward is exploited by the planner that maximises it: with the simulator as dynamics, visual MPC
finds arm motions the DVD reward scores above the scripted expert's without moving anything (measured:
docs/benchmarks.md, "Planning from a demo video"). These are the negatives the reward never saw. Clip ``i`` plans
task ``tasks[i % len(tasks)]`` from the desk's reset with seed ``seed + i``: one optimisation of a whole-episode plan
(``horizon`` steps, the plan's optimizer) against demo videos of the task by non-robot actors, then the Panda
executes the plan in a fresh env and the clip is labelled by what it MEASURABLY did (``sim.actors.clips.
robot_clip_from_actions``), exactly as collected robot clips are. Most plans do not do the task: they are failed or
pretending attempts of it, i.e. hard negatives for its label (``robolearn train dvd``'s ``hard_negatives``); a
plan that does it is another robot demo. Adding the folder to ``robolearn train dvd data=[...]`` (fine-tuning with
``init_from=``) is one round of reward aggregation; rounds repeat with the fine-tuned reward.

Only tasks with robot demos should be mined (the default): a task's planner clips are robot data of that task, and the
generalisation protocol keeps some tasks free of robot data.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from planners.dynamics import SimulatorDynamics
from planners.objectives import DVDObjective
from planners.optimizers import make_optimizer, optimizer_config
from planners.simulator_rollouts import resolve_workers
from planners.vmpc import VMPCAgent, VMPCConfig
from rewards.dvd import DVDReward
from rewards.dvd import load_model as load_dvd_model
from robolearn.conf_files import parse_options
from robolearn.config import ConfigError, one_line
from robolearn.data.episode import Episode
from robolearn.data.videos.clip import clip_attr, clip_episode
from robolearn.data.videos.collect_config import DEFAULT_ROBOT_TASKS
from robolearn.data.videos.importers import clips_meta
from robolearn.data.videos.writing import WriteOptions, write_clips
from robolearn.demo_videos import render_demo_videos
from robolearn.paths import SHIPPED_DVD
from sim.actors.catalogue import HELDOUT_ACTOR, NON_ROBOT_ACTORS
from sim.plumbing.files import output_keys
from sim.plumbing.settings import check_knobs, knob
from sim.tasks.catalogue import DESK_TASK_DESCRIPTIONS

__all__ = ["PlannerClipsOptions", "PlannerClipsSettings", "run_planner_clips"]

#: the meta keys that change what clip i is (a resumed run must agree on them)
RESUME_KEYS = ("content", "clips", "observations")
#: random streams of one clip's demo videos (seeded as (seed, stream)): which actors show the task
_DEMO_STREAM = 11
#: seeds of the demo videos: far from the clip seeds and from every seed collect videos uses by default; clip i's
#: demos are rendered from DEMO_SEED_OFFSET + (seed + i) · DEMO_SEEDS_PER_CLIP on (a failed take is re-shot)
DEMO_SEED_OFFSET = 50_000_000
DEMO_SEEDS_PER_CLIP = 8


@dataclass
class PlannerClipsOptions:
    """The options of ``robolearn collect planner-clips`` (``conf/collect_planner_clips.yaml`` is generated)."""

    out: str = knob("data/planner_clips", "clip dataset folder (created; an existing one is resumed if settings match)")
    checkpoint: str | None = knob(
        None,
        "the DVD reward the planner maximises (.pt from `robolearn train dvd`); null = the shipped one",
        any_type=True,  # a path or null, checked below
    )
    clips: int = knob(200, "clips to make: clip i plans task tasks[i mod len(tasks)] from seed + i (count)", lo=1)
    seed: int = knob(5_000_000, "seed of clip 0's episode; clip i resets the desk with seed + i", lo=0)
    tasks: list[str] = knob(
        list(DEFAULT_ROBOT_TASKS),
        "desk tasks the planner attempts, in turn: those with robot demos (collect videos' default robot_tasks), so "
        "the tasks kept free of robot data stay so",
    )
    demos_per_plan: int = knob(
        3, "demo videos of the task the planner imitates, each by a non-robot actor (count)", lo=1
    )
    horizon: int = knob(20, "plan length = the clip's env steps (the desk's episode length)", lo=1, hi=1000)
    num_frames: int = knob(20, "frames per clip, evenly spaced over the executed plan (count)", lo=2, hi=1000)
    image_size: int = knob(64, "pixels per side of each frame, the reward's frame size", lo=16, hi=1024)
    oracle_workers: int = knob(0, "processes rolling the candidates out (0 = one per usable core)", lo=0)
    torch_threads: int = knob(2, "intra-op threads of the reward (the machine's cores)", lo=1)
    progress_bar: bool = knob(True, "show a progress bar")

    def __post_init__(self) -> None:
        check_knobs(self, "")
        unknown = [t for t in self.tasks if t not in DESK_TASK_DESCRIPTIONS]
        if not self.tasks or unknown:
            raise ValueError(
                f"tasks: {unknown or 'none given'}; choose desk tasks from {', '.join(DESK_TASK_DESCRIPTIONS)}"
            )


@dataclass(frozen=True)
class PlannerClipsSettings:
    """Validated options plus the optimizer's config (composed from ``conf/optimizer``)."""

    options: PlannerClipsOptions
    optimizer: Any  # planners.optimizers config dataclass
    checkpoint: Path
    optimizer_node: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: DictConfig | dict[str, Any]) -> PlannerClipsSettings:
        """Validate a composed ``collect_planner_clips`` config; every problem is a one-line ``ConfigError``."""
        raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else copy.deepcopy(cfg)
        if not isinstance(raw, dict) or "optimizer" not in raw:
            raise ConfigError("a planner-clips config needs the optimizer group (conf/optimizer)")
        node = raw.pop("optimizer")
        try:
            optimizer = optimizer_config(node)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"optimizer: {one_line(str(e))}") from None
        options = parse_options(PlannerClipsOptions, {str(k): v for k, v in raw.items()}, "collect planner-clips")
        path = Path(options.checkpoint) if options.checkpoint else SHIPPED_DVD
        if not path.is_file():
            raise ConfigError(f"checkpoint={path}: no such file (a .pt from `robolearn train dvd`, or null)")
        return cls(options, optimizer, path, dict(node))

    def meta(self) -> dict[str, Any]:
        o = self.options
        clips = {
            "source": "rendered",
            "planner": "vmpc_dvd_oracle",
            "seed": o.seed,
            "tasks": list(o.tasks),
            "demos_per_plan": o.demos_per_plan,
            "horizon": o.horizon,
            "num_frames": o.num_frames,
            "image_size": o.image_size,
            "checkpoint": str(self.checkpoint),
            "optimizer": self.optimizer_node,
        }
        from sim.config import DeskEnvConfig
        from sim.scenes.desk import object_state_names  # on use: loads pybullet

        names = object_state_names(DeskEnvConfig().layout.num_blocks)
        return {**clips_meta(clips, o.image_size, names), "seed": o.seed}


def relabel(measured_task: str | None, outcome: str, attempted: str, tasks: Sequence[str]) -> tuple[str | None, str]:
    """(task, outcome) a planner clip is stored with. What it did, as measured, when that is one of the mined
    ``tasks`` (or no task at all); a clip that did another desk task (a push meant to the left that moved the mug
    towards the camera) is stored as a failed attempt of the task it ``attempted``: as what it did, it would be
    robot data of a task kept free of robot data (the generalisation protocol's), and as a failed attempt it is the
    negative it is meant to be."""
    if measured_task is not None and measured_task not in tasks:
        return attempted, "failed"
    return measured_task, outcome


@dataclass
class _PlanJob:
    """Plans and renders clip ``i`` (a ``robolearn.data.videos.writing.ClipJob``)."""

    settings: PlannerClipsSettings
    _model: DVDReward | None = None

    def setup(self) -> None:
        torch.set_num_threads(self.settings.options.torch_threads)
        self._model = load_dvd_model(self.settings.checkpoint)

    def episode(self, index: int) -> Episode:
        from sim.actors.clips import robot_clip_from_actions  # lazy: PyBullet
        from sim.envs.desk import DeskEnv

        if self._model is None:
            self.setup()
        assert self._model is not None
        o = self.settings.options
        task = o.tasks[index % len(o.tasks)]
        seed = o.seed + index
        rng = np.random.default_rng([seed, _DEMO_STREAM])
        training_actors = [a for a in NON_ROBOT_ACTORS if a != HELDOUT_ACTOR]
        first = DEMO_SEED_OFFSET + seed * DEMO_SEEDS_PER_CLIP
        demos, actors = render_demo_videos(task, o.demos_per_plan, training_actors, rng, first, o.image_size)
        env = DeskEnv(task=task, width=o.image_size, height=o.image_size)
        try:
            obs, _ = env.reset(seed=seed)
            box = cast(gym.spaces.Box, env.action_space)
            low = torch.as_tensor(box.low, dtype=torch.float32)
            high = torch.as_tensor(box.high, dtype=torch.float32)
            optimizer = make_optimizer(self.settings.optimizer, low, high, o.horizon, seed=seed)
            dynamics = SimulatorDynamics(rest_speed=0.005, workers=resolve_workers(o.oracle_workers))
            agent = VMPCAgent(
                dynamics,
                DVDObjective(self._model, demos),
                optimizer,
                VMPCConfig(horizon=o.horizon, replan_every=o.horizon, record_predictions=False),
            )
            agent.reset(env, obs, episode_steps=o.horizon)
            agent.act()  # the first (and only) plan of the episode
            plan = agent.plans[-1]
        finally:
            env.close()
        clip = robot_clip_from_actions(task, seed, plan.actions, o.num_frames, o.image_size)
        label_task, outcome = relabel(clip.task, clip.outcome, task, o.tasks)
        info = {
            **clip.info,
            "measured_task": clip.task,
            "measured_outcome": clip.outcome,
            "seed": seed,
            "object_state_names": list(clip.object_state_names),
            "planned_value": plan.value,
            "demo_actors": actors,
            # the executed plan (its steps are not the clip's frames, which are resampled from them)
            "plan_actions": np.round(plan.actions, 5).tolist(),
        }
        attr = clip_attr(
            template=clip.template,
            placeholders=clip.placeholders,
            task=label_task,
            actor=clip.actor,
            is_robot=True,
            outcome=outcome,
            variant=clip.variant,
            source="rendered",
            progress=clip.progress,
            behaviour=clip.behaviour,
            info=info,
        )
        return clip_episode(index, seed, clip.frames, attr, clip.object_states)


def run_planner_clips(settings: PlannerClipsSettings, echo: bool = True) -> dict[str, Any]:
    """Make (or resume) the planner-clip dataset ``settings`` describe; returns a summary with the outcomes' counts."""
    o = settings.options
    opts = WriteOptions(
        out=Path(o.out),
        total=o.clips,
        workers=1,  # the candidates of each plan already share the cores (oracle_workers)
        chunk_size=1,
        progress_bar=o.progress_bar,
        desc=f"collect planner-clips {o.out}",
    )
    with output_keys({"out": o.out}, "the finished clips are kept: rerun the same command to resume"):
        summary = write_clips(_PlanJob(settings), opts, settings.meta(), RESUME_KEYS)
    from robolearn.data.videos import ClipReader

    with ClipReader(o.out) as reader:
        outcomes = [info.outcome for info in reader.infos()]
    summary["outcomes"] = {k: outcomes.count(k) for k in sorted(set(outcomes))}
    if echo:
        counts = ", ".join(f"{v} {k}" for k, v in summary["outcomes"].items())
        print(
            f"planned {summary['made']} clips in {summary['seconds']:.0f} s; {o.out} holds {summary['held']} planner "
            f"clips ({counts}); fine-tune the reward on them: robolearn train dvd data=[YOUR_CLIPS,{o.out}] "
            f"init_from={settings.checkpoint}"
        )
    return summary
