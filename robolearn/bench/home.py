"""``robolearn bench env=home``: navigation agents on the home tasks, over held-out homes.

The same machinery as the desk bench (``robolearn.bench.run``): one episode per (agent, split, task,
seed), run in local processes or on Ray, appended to ``episodes.jsonl`` as it finishes (a rerun
resumes), and summarised as success with 95% Wilson intervals plus the mean SPL, effort efficiency
and INS (iGibson's interactive-navigation metrics, gated by success). The options are ``HomeBenchOptions``: those
every bench has (``robolearn.bench.run.BenchOptions``, ``conf/bench.yaml``) and the homes' own, which
``conf/bench/home.yaml`` (``env=home`` selects it) is generated from; a split plays the part of the desk bench's
variant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from omegaconf import DictConfig

from robolearn.bench.executor import ExecutorSettings
from robolearn.bench.run import (
    AGENT_TARGET_DOC,
    BenchOptions,
    EpisodeJob,
    bench_agent_specs,
    bench_env,
    bench_names,
    bench_out,
    parse_bench,
    worker_agent_and_env,
)
from robolearn.config import env_config, make_env
from sim.envs.home import HomeEnv
from sim.plumbing.settings import knob
from sim.tasks.navigation import HOME_TASKS, get_home_task

#: generated-home splits (sim.home_config): train draws the training pool, test the held-out one
SPLITS = ("train", "test")
#: per-episode metrics averaged in the tables, besides success
HOME_METRICS = ("spl", "effort_efficiency", "ins")


@dataclass(frozen=True)
class HomeBenchOptions(BenchOptions):
    """The options of ``robolearn bench env=home``: ``conf/bench/home.yaml`` is generated from the fields this class
    adds to ``BenchOptions`` (the options every bench has, in ``conf/bench.yaml``)."""

    agents: tuple[str, ...] = knob(
        ("nav", "random"),
        "agents to evaluate (names in agent_specs)",
        any_type=True,  # a list of names (or one name), checked against agent_specs below
    )
    tasks: tuple[str, ...] = knob(
        tuple(HOME_TASKS),
        "home tasks (sim/tasks/navigation.py); the last two run with robot=manipulator",
        any_type=True,
    )
    splits: tuple[str, ...] = knob(
        ("test",),
        "generated-home splits: test = held-out home seeds never used for training | train",
        any_type=True,
    )
    trials: int = knob(
        50, "seeded episodes per agent, split and task (seeds first_seed .. first_seed + trials - 1)", lo=1
    )
    out: str = knob("outputs/bench_home", "results folder; rerunning with the same settings resumes it")
    agent_specs: dict[str, dict[str, Any]] = knob(
        {
            "nav": {
                "_target_": "robolearn.bench.agents.NavBenchAgent",
                "config": "${nav_agent}",
                "manipulation": "${manipulation_agent}",
            },
            "random": {"_target_": "robolearn.bench.agents.RandomAgent"},
        },
        "The agents; each is built with `_target_` (robolearn.bench.agents).",
        field_docs={
            "nav": "A* + pure pursuit, pushing clutter and doors, LiDAR obstacle memory; at the counter: dock and "
            "pull the drawer",
            "random": "uniform random (v, ω): the floor every agent must clear",
            "*._target_": AGENT_TARGET_DOC,
            "nav.config": "NavAgentConfig values",
            "nav.manipulation": "ManipulationAgentConfig values (open_drawer, open_door)",
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        specs = bench_agent_specs(self.agent_specs)
        self._assign(
            agent_specs=specs,
            agents=bench_names("agents", self.agents, specs, "agents"),
            tasks=bench_names("tasks", self.tasks, tuple(HOME_TASKS), "home tasks"),
            splits=bench_names("splits", self.splits, SPLITS, "splits"),
        )
        bench_out(self.out)


@dataclass(frozen=True)
class HomeBenchSettings:
    """A validated ``conf/bench.yaml`` with ``env=home``: the options (``HomeBenchOptions``) with the env node
    checked for every task. The home kind's bench hook (``robolearn.kinds``); the field names match
    ``BenchSettings`` where they mean the same."""

    #: the env kind ``env`` is a config of (bench.json's env settings are compared as configs of it)
    ENV_KIND: ClassVar[str] = "home"

    env: dict[str, Any]
    agents: tuple[str, ...]
    agent_specs: dict[str, dict[str, Any]]
    tasks: tuple[str, ...]
    variants: tuple[str, ...]  # the splits
    trials: int
    first_seed: int
    out: Path
    executor: ExecutorSettings
    progress_bar: bool
    figure: bool
    threads_per_episode: int = 1
    instruction_file: None = None  # the home tasks draw their instruction per episode
    metrics: tuple[str, ...] = HOME_METRICS
    variant_word, instruction_word = "splits", "tasks"  # what the progress line counts

    @classmethod
    def from_config(cls, cfg: DictConfig | Mapping[str, Any]) -> HomeBenchSettings:
        """Validate a composed ``bench env=home`` config; every problem is a one-line ``ConfigError``.

        ``nav_agent`` and ``manipulation_agent`` are the groups the ``nav`` agent's spec reads: it checks them when
        ``run_bench`` builds it, before any episode.
        """
        o, groups = parse_bench(HomeBenchOptions, cfg, ("env", "nav_agent", "manipulation_agent"))
        env = bench_env(groups["env"], "home")
        for t in o.tasks:  # each task with the robot it needs: checked here, not in a worker
            env_config({**env, "task": t, "robot": _robot_for(t, env)}, kind="home")
        return cls(
            env=env,
            agents=o.agents,
            agent_specs=o.agent_specs,
            tasks=o.tasks,
            variants=o.splits,
            trials=o.trials,
            first_seed=o.first_seed,
            out=Path(o.out),
            executor=o.executor(),
            progress_bar=o.progress_bar,
            figure=o.figure,
        )

    def episodes_per_agent(self) -> list[tuple[str, str, str]]:
        """(split, task, "") of one seed, for every agent (the instruction is drawn per episode)."""
        return [(split, task, "") for split in self.variants for task in self.tasks]

    def job_runner(self) -> Callable[[EpisodeJob], dict[str, Any]]:
        return run_home_episode_job


def _robot_for(task: str, env: Mapping[str, Any]) -> str:
    """The robot an episode of ``task`` runs with: the manipulator where the task needs the arm."""
    return "manipulator" if get_home_task(task).needs_arm else str(env.get("robot", "base"))


def run_home_episode_job(job: EpisodeJob) -> dict[str, Any]:
    """Run one home episode in this process (agents and envs are built once per process and reused)."""

    def make_home_env(ctx: dict[str, Any]) -> HomeEnv:
        return make_env(
            env_config(
                {**ctx["env"], "task": job.task, "split": job.variant, "robot": _robot_for(job.task, ctx["env"])},
                kind="home",
            )
        )

    agent, env = worker_agent_and_env(job, "home", make_home_env)
    return agent.run(env, job.instruction, job.seed)
