"""``robolearn bench env=home``: navigation agents on the home tasks, over held-out homes.

The same machinery as the desk bench (``robolearn.bench.run``): one episode per (agent, split, task,
seed), run in local processes or on Ray, appended to ``episodes.jsonl`` as it finishes (a rerun
resumes), and summarised as success with 95% Wilson intervals plus the mean SPL, effort efficiency
and INS (iGibson's interactive-navigation metrics, gated by success). The options are in
``conf/bench.yaml`` with ``conf/bench/home.yaml`` (``env=home`` selects it); a split plays the part of the desk bench's variant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from robolearn.bench.executor import ExecutorSettings
from robolearn.bench.run import BenchOptions, EpisodeJob, worker_agent_and_env
from robolearn.config import ConfigError, env_config, make_env
from sim.envs.home import HomeEnv
from sim.tasks.navigation import HOME_TASKS, get_home_task

#: generated-home splits (sim.home_config): train draws the training pool, test the held-out one
SPLITS = ("train", "test")
#: per-episode metrics averaged in the tables, besides success
HOME_METRICS = ("spl", "effort_efficiency", "ins")


@dataclass(frozen=True)
class HomeBenchSettings:
    """A validated ``conf/bench.yaml`` with ``env=home`` (``conf/bench/home.yaml``), the home kind's bench hook
    (``robolearn.kinds``); the field names match ``BenchSettings`` where they mean the same."""

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
        """Validate a composed ``bench env=home`` config; every problem is a one-line ``ConfigError``."""
        o = BenchOptions.of(cfg)
        d = o.d
        known = {
            "env",
            "nav_agent",
            "manipulation_agent",
            "agents",
            "agent_specs",
            "tasks",
            "splits",
            "trials",
            "first_seed",
            "out",
            "workers",
            "ray_address",
            "max_retries",
            "progress_bar",
            "figure",
        }
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown bench option(s) {unknown}; valid options are {sorted(known)}")
        specs = o.agent_specs()
        env_config(d.get("env"), kind="home")  # validates the env node now, not in a worker
        env = o.env()
        tasks = o.names("tasks", tuple(HOME_TASKS), "home tasks")
        for t in tasks:  # each task with the robot it needs: checked here, not in a worker
            env_config({**env, "task": t, "robot": _robot_for(t, env)}, kind="home")
        return cls(
            env=env,
            agents=o.names("agents", specs, "agents"),
            agent_specs=specs,
            tasks=tasks,
            variants=o.names("splits", SPLITS, "splits"),
            trials=o.integer("trials", 1),
            first_seed=o.integer("first_seed", 0),
            out=o.out(),
            executor=o.executor(),
            progress_bar=o.flag("progress_bar"),
            figure=o.flag("figure"),
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
