"""``robolearn bench``: agents × environment variants × tasks (or instructions) × seeds, with confidence intervals.

``BenchSettings`` is a validated ``conf/bench.yaml`` at the desk: the options every bench has
(``BenchOptions``, which ``conf/bench.yaml`` is generated from) and the desk's (``DeskBenchOptions``,
``conf/bench/desk.yaml``), parsed by their knobs (``sim.plumbing.settings``) with the env node checked;
``robolearn.bench.home`` is the homes' counterpart. ``run_bench`` builds the episode jobs, skips those
already in ``<out>/episodes.jsonl``, runs the rest through ``robolearn.bench.executor`` (serially,
over local processes or on Ray), appends each finished episode to the file at once, and writes the
tables (``results.json``, ``results.csv``) and the figure (``results.png``).

Each episode runs in a fresh ``reset(seed)`` of an env built for its (variant, task), with
``threads_per_episode`` torch threads: its result depends on nothing else, so it is the same serially,
over processes, on Ray, and in whatever order the episodes run.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from robolearn import paths  # paths.SHIPPED_DIR read on use: another install (or a test) may move it
from robolearn.bench.executor import ExecutorSettings, JobsFailed, run_jobs
from robolearn.bench.report import print_results, write_csv, write_figure
from robolearn.bench.stats import success_table
from robolearn.conf_files import parse_options
from robolearn.config import ConfigError, env_config, make_env, one_line
from robolearn.instructions import InstructionResolver, UnknownInstructionError, resolve_instruction
from sim.envs.desk import DeskEnv
from sim.plumbing.checks import shorten, shown
from sim.plumbing.files import check_writable, output_error, output_keys, write_json_atomic
from sim.plumbing.settings import knob
from sim.tasks.desk import DESK_TASKS, LOREL_TASKS
from sim.variants import VARIANTS

if TYPE_CHECKING:  # pragma: no cover
    from robolearn.bench.home import HomeBenchSettings

__all__ = [
    "BenchError",
    "BenchOptions",
    "BenchSettings",
    "DeskBenchOptions",
    "EpisodeJob",
    "append_row",
    "read_episodes",
    "run_bench",
    "run_episode_job",
]

EPISODES_FILE = "episodes.jsonl"
#: what an error writing the results adds: the finished episodes are kept
RESUME_NOTE = f"the finished episodes are kept in {EPISODES_FILE}: rerun the same command to resume"
META_FILE = "bench.json"
#: observations every bench env provides: the camera frame, and the arm's joints for video models
#: that condition on them (a few joint reads, no rendering)
BENCH_OBS_KEYS = ("rgb", "proprio")
#: envs one worker keeps open (one per variant and task it has run); the oldest is closed beyond this
MAX_OPEN_ENVS = 8
#: the doc of every agent spec's ``_target_`` in conf/bench/<kind>.yaml
AGENT_TARGET_DOC = "class built with the keys below"


#: the DVD rewards the bench's video-demo agents plan with (agent name suffix → checkpoint): the shipped reward
#: (robot demos + human videos) and the two baselines of DVD's protocol, trained by the commands in docs/dvd.md
DVD_BENCH_REWARDS = {
    "": "${shipped:dvd_reward.pt}",
    "_robot_only": "runs/dvd_robot/last.pt",  # its validation (robot clips alone) saturates at step 250: the full run
    "_concat": "runs/dvd_concat/best.pt",
}

#: the models of the "_rand" agents, trained on domain-randomized robot data (issue 25, item 4; the commands are in
#: docs/benchmarks.md, "Generalization for every reward"): model → checkpoint
RANDOMIZED_RUNS = {
    "reward": "runs/lorel_rand/best.pt",
    "video": "runs/video_rand/best.pt",
    "policy": "runs/lcbc_rand/best.pt",
}

#: the models of the "_uniform" agents, trained on LOReL's kind of data: uniform random actions only (issue 26,
#: item 3; made by ``benchmarks/data_regimes.py``): model → checkpoint
UNIFORM_RUNS = {
    "reward": "runs/regimes/uniform/lorel/best.pt",
    "video": "runs/regimes/uniform/video/best.pt",
    "policy": "runs/regimes/uniform/lcbc/best.pt",
}

#: the video-demo agents' demo actors: every non-robot actor, the held-out planar_arm included (the order fixes the
#: draw, so the recorded episodes stay reproducible)
DVD_DEMO_ACTORS = ("hand", "stick", "gripper", "human_arm", "planar_arm")
#: render seed of their first episode's demos: far from every DVD dataset's seeds (0+, 1e6–4e6+, 6e6+, 9.5e6+)
DVD_DEMO_SEED = 70_000_000


class BenchError(RuntimeError):
    """The bench could not finish (episodes that failed on every retry); the message names them."""


def bench_names(key: str, value: Any, valid: Collection[str], what: str) -> tuple[str, ...]:
    """A bench's list option (``agents``, ``tasks``, ``variants``, ``splits``): a non-empty list of distinct names
    from ``valid`` (a single name is a list of one).

    Raises:
        ValueError: one line naming the key, the value and the fix.
    """
    v = [value] if isinstance(value, str) else list(value) if isinstance(value, tuple) else value
    if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
        raise ValueError(f"{key}={v!r} must be a non-empty list of {what}, e.g. {key}=[{next(iter(valid))}]")
    unknown = [x for x in v if x not in valid]
    if unknown:
        raise ValueError(f"unknown {what} {unknown} in {key}; choose from {', '.join(valid)}")
    if len(set(v)) != len(v):
        raise ValueError(f"{key}={v} lists an entry twice")
    return tuple(v)


def bench_agent_specs(specs: Any) -> dict[str, dict[str, Any]]:
    """``agent_specs``: names → specs, each a mapping with a ``_target_`` class path (copied as plain dicts).

    Raises:
        ValueError: one line naming the spec at fault.
    """
    if not isinstance(specs, Mapping) or not specs:
        raise ValueError("agent_specs must map agent names to specs with a _target_")
    for name, spec in specs.items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("_target_"), str):
            raise ValueError(f"agent_specs.{name} must be a mapping with a _target_ (a class path), got {spec!r}")
    return {str(k): dict(v) for k, v in specs.items()}


def bench_out(out: str) -> None:
    """A ValueError unless ``out`` (a string, as its knob checked) names a folder."""
    if not out.strip():
        raise ValueError(f"out={out!r} must be a results folder path")


@dataclass(frozen=True)
class BenchOptions(ExecutorSettings):
    """The options every ``robolearn bench`` has, whatever the env's kind (``conf/bench.yaml`` is generated from
    this class). Where episodes run (``workers``, ``ray_address``, ``max_retries``) are ``ExecutorSettings``'s
    knobs; each kind's bench adds its own options in a subclass, whose file ``conf/bench/<kind>.yaml`` holds
    only those (``DeskBenchOptions`` here, ``robolearn.bench.home.HomeBenchOptions``)."""

    workers: int = 2
    first_seed: int = knob(0, "seed of each task's first episode", lo=0)
    progress_bar: bool = knob(True, "show a progress bar over episodes")
    figure: bool = knob(True, "write results.png (success per task, one panel per variant, bars with 95% intervals)")

    def __post_init__(self) -> None:
        if self.ray_address in ("", "null"):  # `ray_address=` on the command line: no Ray
            self._assign(ray_address=None)
        super().__post_init__()

    def _assign(self, **values: Any) -> None:
        """Set fields in ``__post_init__`` (this class is frozen) to their canonical values (a list as a tuple)."""
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def executor(self) -> ExecutorSettings:
        """Where the episodes run."""
        return ExecutorSettings(workers=self.workers, ray_address=self.ray_address, max_retries=self.max_retries)


_O = TypeVar("_O", bound=BenchOptions)


def parse_bench(
    cls: type[_O], cfg: DictConfig | Mapping[str, Any], groups: tuple[str, ...]
) -> tuple[_O, dict[str, Any]]:
    """A kind's bench options ``cls`` from a composed ``bench`` config, and the nodes of its composed ``groups``
    (``env``...: built by their own factories, not bench options).

    Raises:
        ConfigError: an unknown option or an invalid value (one line naming the key).
    """
    raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else copy.deepcopy(dict(cfg))
    if not isinstance(raw, dict):
        raise ConfigError(f"a bench config must be a mapping, got {raw!r}")
    data = {str(k): v for k, v in raw.items()}
    nodes = {group: data.pop(group, None) for group in groups}
    options = parse_options(cls, data, "bench")
    # now, not once the agents are built (each kind's options declare out)
    check_writable(cast(Any, options).out, "out", folder=True)
    return options, nodes


def bench_env(node: Any, kind: str) -> dict[str, Any]:
    """The ``env`` node, validated as an env config of ``kind`` (now, not in a worker), without its ``kind``: what
    the episodes' envs are built from (``kind`` is the settings class's), as ``bench.json`` keeps it to refuse
    resuming with other env settings."""
    env_config(node, kind=kind)
    return {str(k): v for k, v in node.items() if k != "kind"}


@dataclass(frozen=True)
class DeskBenchOptions(BenchOptions):
    """The options of ``robolearn bench`` at the desk (``env=desk``, the default): ``conf/bench/desk.yaml`` is
    generated from the fields this class adds to ``BenchOptions``."""

    agents: tuple[str, ...] = knob(
        ("random", "lcbc", "vmpc_goal_image", "vmpc_lorel"),
        "agents to evaluate (names in agent_specs); the oracle-dynamics ones are slow (docs/benchmarks.md, "
        '"Oracle dynamics"), add them by name',
        any_type=True,  # a list of names (or one name), checked against agent_specs below
    )
    tasks: tuple[str, ...] = knob(
        LOREL_TASKS, "desk tasks (LOReL's six); each is told its canonical instruction", any_type=True
    )
    variants: tuple[str, ...] = knob(
        tuple(VARIANTS),
        "environment variants (sim/variants.py): the training layout and three held-out shifts",
        any_type=True,
    )
    trials: int = knob(
        100, "seeded episodes per agent, variant and task (seeds first_seed .. first_seed + trials - 1)", lo=1
    )
    instruction_file: str | None = knob(
        None,
        "instruction-file mode: a YAML/JSON mapping instruction → task (conf/instructions/freeform.yaml's "
        "format); each instruction is told to the agents and judged on its task (entries whose task is not in "
        "`tasks` are skipped); null = the canonical instructions",
        any_type=True,  # a file path or null, checked below
    )
    out: str = knob("outputs/bench", "results folder; rerunning with the same settings resumes it")
    threads_per_episode: int = knob(
        1,
        "torch threads inside each episode, whatever the parallelism (results then match bit for bit across workers)",
        lo=1,
    )
    agent_specs: dict[str, dict[str, Any]] = knob(
        {
            "random": {"_target_": "robolearn.bench.agents.RandomAgent"},
            "lcbc": {"_target_": "robolearn.bench.agents.PolicyAgent", "checkpoint": "${shipped:lcbc_policy.pt}"},
            "vmpc_goal_image": {
                "_target_": "robolearn.bench.agents.VMPCBenchAgent",
                "plan": {"objective": "goal_image", "dynamics_model": "${shipped:video_model.pt}"},
            },
            "vmpc_lorel": {
                "_target_": "robolearn.bench.agents.VMPCBenchAgent",
                "plan": {
                    "objective": "lorel",
                    "reward_checkpoint": "${shipped:lorel_reward.pt}",
                    "dynamics_model": "${shipped:video_model.pt}",
                },
            },
            "vmpc_lorel_oracle": {
                "_target_": "robolearn.bench.agents.VMPCBenchAgent",
                "plan": {
                    "objective": "lorel",
                    "reward_checkpoint": "${shipped:lorel_reward.pt}",
                    "dynamics_model": "oracle",
                },
            },
            "vmpc_oracle": {
                "_target_": "robolearn.bench.agents.VMPCBenchAgent",
                "plan": {"objective": "oracle", "dynamics_model": "oracle"},
            },
            "lcbc_rand": {"_target_": "robolearn.bench.agents.PolicyAgent", "checkpoint": RANDOMIZED_RUNS["policy"]},
            "vmpc_lorel_rand": {
                "_target_": "robolearn.bench.agents.VMPCBenchAgent",
                "plan": {
                    "objective": "lorel",
                    "reward_checkpoint": RANDOMIZED_RUNS["reward"],
                    "dynamics_model": RANDOMIZED_RUNS["video"],
                },
            },
            "vmpc_goal_image_rand": {
                "_target_": "robolearn.bench.agents.VMPCBenchAgent",
                "plan": {"objective": "goal_image", "dynamics_model": RANDOMIZED_RUNS["video"]},
            },
            "lcbc_uniform": {"_target_": "robolearn.bench.agents.PolicyAgent", "checkpoint": UNIFORM_RUNS["policy"]},
            "vmpc_lorel_uniform": {
                "_target_": "robolearn.bench.agents.VMPCBenchAgent",
                "plan": {
                    "objective": "lorel",
                    "reward_checkpoint": UNIFORM_RUNS["reward"],
                    "dynamics_model": UNIFORM_RUNS["video"],
                },
            },
            **{
                f"vmpc_dvd{suffix}{'_oracle' if oracle else ''}": {
                    "_target_": "robolearn.bench.agents.VideoDemoBenchAgent",
                    "plan": {
                        "objective": "dvd",
                        "reward_checkpoint": checkpoint,
                        "dynamics_model": "oracle" if oracle else "${shipped:video_model.pt}",
                        "optimizer": "cem",
                    },
                    "demos": 3,
                    "demo_actors": list(DVD_DEMO_ACTORS),
                    "demo_seed": DVD_DEMO_SEED,
                }
                for suffix, checkpoint in DVD_BENCH_REWARDS.items()
                for oracle in (False, True)
            },
        },
        "The agents; each is built with `_target_` (robolearn.bench.agents). A VMPC agent's `plan` holds values of "
        "conf/plan.yaml, nested as there (e.g. +agent_specs.vmpc_lorel.plan.optimizer=cem, or "
        "+agent_specs.vmpc_lorel.plan.agent.horizon=10); its instruction, task and seed are set per episode. "
        "Checkpoints default to the ones shipped with the package (${shipped:NAME}: robolearn/checkpoints/, "
        "regenerated by the commands in its README.md); point them at your own runs/.../best.pt to benchmark "
        "yours.",
        field_docs={
            "random": "uniform random actions",
            "lcbc": "language-conditioned behaviour cloning on the same offline data (LOReL's baseline)",
            "vmpc_goal_image": "VMPC on the learned video model, minus the pixel distance to an image of the task "
            "done (Visual Foresight's cost)",
            "vmpc_lorel": "VMPC on the learned video model, maximising the LOReL reward",
            "vmpc_lorel_oracle": "the LOReL reward on oracle dynamics (the simulator predicts): the reward's upper "
            "bound",
            "vmpc_oracle": "the oracle state reward on oracle dynamics: the planner's upper bound",
            "lcbc_rand": "LCBC trained on domain-randomized robot data (colours over any hue but the held-out "
            "palette, textures, lighting, camera jitter; the held-out variants stay held out): the commands are in "
            "docs/benchmarks.md, 'Generalization for every reward'",
            "vmpc_lorel_rand": "VMPC + LOReL with the reward and the video model trained on that randomized data",
            "vmpc_goal_image_rand": "the goal-image cost on the randomized video model",
            "lcbc_uniform": "LCBC trained on random-action data only (LOReL's data regime: `robolearn collect "
            "exploration.uniform=1`, the other modes 0); made by `python benchmarks/data_regimes.py`",
            "vmpc_lorel_uniform": "VMPC + LOReL with the reward and the video model trained on that random-action data",
            "vmpc_dvd": "VMPC (CEM) on the learned video model, maximising the shipped DVD reward (robot demos + "
            "human videos) against demo videos of the task by non-robot actors, rendered per episode (DVD's "
            "protocol: shown, not told)",
            "vmpc_dvd_oracle": "the same on oracle dynamics (the simulator predicts): the video reward's upper bound",
            "vmpc_dvd_robot_only": "VMPC + a DVD reward trained on the same robot demos alone (`robolearn train dvd "
            "robot_only=true out=runs/dvd_robot`), learned video model",
            "vmpc_dvd_robot_only_oracle": "the same on oracle dynamics",
            "vmpc_dvd_concat": "VMPC + DVD's own concatenation head (`robolearn train dvd reward.head=concat "
            "hard_negatives=false out=runs/dvd_concat`), learned video model",
            "vmpc_dvd_concat_oracle": "the same on oracle dynamics",
            "*.demos": "demo videos per episode",
            "*.demo_actors": "actors the demo videos are drawn from (the held-out planar_arm included)",
            "*.demo_seed": "render seed of the first episode's demos (far from the DVD datasets' seeds)",
            "*._target_": AGENT_TARGET_DOC,
            "lcbc.checkpoint": "policy checkpoint from `robolearn train policy`",
            "lcbc_rand.checkpoint": "policy checkpoint from `robolearn train policy` on the randomized data",
            "lcbc_uniform.checkpoint": "policy checkpoint from `robolearn train policy` on the random-action data",
            "*.plan": "conf/plan.yaml values",
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        specs = bench_agent_specs(self.agent_specs)
        self._assign(
            agent_specs=specs,
            agents=bench_names("agents", self.agents, specs, "agents"),
            tasks=bench_names("tasks", self.tasks, DESK_TASKS, "desk tasks"),
            variants=bench_names("variants", self.variants, VARIANTS, "variants"),
        )
        bench_out(self.out)
        path = self.instruction_file
        if path is not None and (not isinstance(path, str) or not Path(path).is_file()):
            raise ValueError(f"instruction_file={path!r}: no such file (a YAML/JSON mapping instruction → task)")


@dataclass(frozen=True)
class BenchSettings:
    """A validated ``conf/bench.yaml`` with ``env=desk``: the options (``DeskBenchOptions``) with the env node
    checked and the paths as ``Path``.

    The desk kind's bench hook (``robolearn.kinds``): ``robolearn bench`` builds these from a config whose env is a desk.
    """

    #: the env kind ``env`` is a config of (bench.json's env settings are compared as configs of it)
    ENV_KIND: ClassVar[str] = "desk"

    env: dict[str, Any]
    agents: tuple[str, ...]
    agent_specs: dict[str, dict[str, Any]]
    tasks: tuple[str, ...]
    variants: tuple[str, ...]
    trials: int
    first_seed: int
    instruction_file: Path | None
    out: Path
    executor: ExecutorSettings
    threads_per_episode: int
    progress_bar: bool
    figure: bool

    @classmethod
    def from_config(cls, cfg: DictConfig | Mapping[str, Any]) -> BenchSettings:
        """Validate a composed ``bench`` config; every problem is a one-line ``ConfigError``."""
        o, groups = parse_bench(DeskBenchOptions, cfg, ("env",))
        return cls(
            env=bench_env(groups["env"], "desk"),
            agents=o.agents,
            agent_specs=o.agent_specs,
            tasks=o.tasks,
            variants=o.variants,
            trials=o.trials,
            first_seed=o.first_seed,
            instruction_file=Path(o.instruction_file) if o.instruction_file else None,
            out=Path(o.out),
            executor=o.executor(),
            threads_per_episode=o.threads_per_episode,
            progress_bar=o.progress_bar,
            figure=o.figure,
        )

    metrics: tuple[str, ...] = ()  # per-episode metrics averaged in the tables besides success (none here)
    variant_word, instruction_word = "variants", "instructions"  # what the progress line counts

    def job_runner(self) -> Callable[[EpisodeJob], dict[str, Any]]:
        """The (picklable, module-level) function that runs one ``EpisodeJob`` in a worker."""
        return run_episode_job

    def episodes_per_agent(self) -> list[tuple[str, str, str]]:
        """(variant, task, instruction) of one seed, for every agent: the canonical instruction per task, or
        the instruction file's entries whose task is benchmarked."""
        pairs = (
            read_instruction_file(self.instruction_file, self.tasks)
            if self.instruction_file
            else canonical_pairs(self.tasks)
        )
        return [(variant, task, instruction) for variant in self.variants for instruction, task in pairs]


def canonical_pairs(tasks: tuple[str, ...]) -> list[tuple[str, str]]:
    """(instruction, task) with each task's canonical instruction ("open the drawer")."""
    return [(DESK_TASKS[t].description.instruction(), t) for t in tasks]


def read_instruction_file(path: Path, tasks: tuple[str, ...]) -> list[tuple[str, str]]:
    """(instruction, task) pairs of a YAML/JSON mapping file, keeping those whose task is in ``tasks``.

    Raises:
        ConfigError: unreadable file, not a mapping, an entry that is no instruction, unknown task names, or no
            entry for ``tasks``.
    """
    where = f"instruction_file={shown(str(path))}"
    try:
        data = OmegaConf.to_container(OmegaConf.load(path))
    except Exception as e:  # OmegaConf raises many types for a missing, unreadable or malformed file
        raise ConfigError(f"{where} is not readable YAML/JSON: {shorten(one_line(str(e)), 200)}") from None
    if not isinstance(data, Mapping) or not data:
        raise ConfigError(f"{where} must be a mapping instruction → task, e.g. `push the drawer shut: close_drawer`")
    for text, task in data.items():
        if not isinstance(text, str) or not text.strip() or not isinstance(task, str):
            raise ConfigError(
                f"{where}: the entry {shown(text)}: {shown(task)} must map an instruction (a sentence) to a task "
                "name, e.g. `push the drawer shut: close_drawer`"
            )
    unknown = sorted({str(t) for t in data.values() if t not in DESK_TASKS})
    if unknown:
        raise ConfigError(f"{where} names unknown tasks {shown(unknown)}; desk tasks: {', '.join(DESK_TASKS)}")
    pairs = [(str(text).strip(), str(task)) for text, task in data.items() if task in tasks]
    if not pairs:
        raise ConfigError(f"{where} has no instruction for the benchmarked tasks {list(tasks)}")
    return pairs


@dataclass(frozen=True)
class EpisodeJob:
    """One benchmark episode. ``context`` is the JSON of what every episode shares (env, agent specs, threads)."""

    agent: str
    variant: str
    task: str
    instruction: str
    seed: int
    context: str

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        return self.agent, self.variant, self.task, self.instruction, self.seed


# --------------------------------------------------------------------- worker
_E = TypeVar("_E")  # the env class a worker builds (DeskEnv, HomeEnv)
_WORKER: dict[str, Any] = {"agents": {}, "envs": {}}


def worker_agent_and_env(job: EpisodeJob, kind: str, make_env: Callable[[dict[str, Any]], _E]) -> tuple[Any, _E]:
    """This worker's agent and env for ``job``, built once per process and reused.

    ``make_env(ctx)`` builds the env of ``kind`` for the job's variant and task from the job's context; at most
    ``MAX_OPEN_ENVS`` envs stay open (the oldest is closed first).
    """
    ctx = json.loads(job.context)
    agents, envs = _WORKER["agents"], _WORKER["envs"]
    akey = (job.agent, json.dumps(ctx["agent_specs"][job.agent], sort_keys=True))
    if akey not in agents:
        agents[akey] = instantiate(ctx["agent_specs"][job.agent])
    ekey = (kind, job.variant, job.task, json.dumps(ctx["env"], sort_keys=True))
    if ekey not in envs:
        if len(envs) >= MAX_OPEN_ENVS:
            envs.pop(next(iter(envs))).close()
        envs[ekey] = make_env(ctx)
    return agents[akey], envs[ekey]


def run_episode_job(job: EpisodeJob) -> dict[str, Any]:
    """Run one desk episode in this process (agents and envs are built once per process and reused)."""

    def make_desk_env(ctx: dict[str, Any]) -> DeskEnv:
        return make_env(
            env_config(
                {
                    **ctx["env"],
                    "task": job.task,
                    "variant": job.variant,
                    "obs_keys": sorted(set(ctx["env"].get("obs_keys", ())) | set(BENCH_OBS_KEYS)),
                },
                kind="desk",
            )
        )

    agent, env = worker_agent_and_env(job, "desk", make_desk_env)
    threads = torch.get_num_threads()
    torch.set_num_threads(json.loads(job.context)["threads"])
    try:
        return agent.run(env, job.instruction, job.seed)
    finally:
        torch.set_num_threads(threads)


def _close_worker_envs() -> None:
    for env in _WORKER["envs"].values():
        env.close()
    _WORKER["envs"].clear()


# ------------------------------------------------------------------- results
def read_episodes(path: Path) -> dict[tuple[str, str, str, str, int], dict[str, Any]]:
    """The finished episodes of an ``episodes.jsonl`` (a torn last line from a crash is ignored)."""
    done: dict[tuple[str, str, str, str, int], dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                row = json.loads(line)
                done[(row["agent"], row["variant"], row["task"], row["instruction"], int(row["seed"]))] = row
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
    return done


def append_row(path: str | os.PathLike[str], row: dict[str, Any]) -> None:
    """One JSON line per finished episode, flushed to disk: a crash loses at most the episodes running.

    Raises:
        sim.plumbing.files.OutputError: the line could not be written (a full disk...); the file is cut back to
            its earlier lines, so no torn line is left for the next one to be appended to.
    """
    line = (json.dumps(row) + "\n").encode("utf-8")
    try:
        with open(path, "ab") as f:
            size = f.tell()
            try:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            except OSError:
                with contextlib.suppress(OSError):
                    f.truncate(size)
                raise
    except OSError as err:
        raise output_error(err, path) from err


def _portable(spec: Any) -> Any:
    """``spec`` with the shipped-checkpoint folder written ``${shipped:}``: the same agent compares equal
    whichever checkout or install of robolearn resolved it."""
    if isinstance(spec, Mapping):
        return {k: _portable(v) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_portable(v) for v in spec]
    return spec.replace(str(paths.SHIPPED_DIR), "${shipped:}") if isinstance(spec, str) else spec


def _same_env(recorded: Any, env: dict[str, Any], kind: str) -> bool:
    """Whether the env settings ``recorded`` in a bench.json build the same env config as ``env``: a knob added to
    the env since then, at its default (which keeps the old behaviour), is no other setting."""
    if recorded == env:
        return True
    if not isinstance(recorded, Mapping):
        return False
    try:
        return asdict(env_config(recorded, kind=kind)) == asdict(env_config(env, kind=kind))
    except (ConfigError, TypeError, ValueError):  # settings this version no longer accepts: not the same env
        return False


def _check_resume(out: Path, s: BenchSettings | HomeBenchSettings) -> None:
    """Refuse to mix results made with other settings (env or an agent's spec) into one folder."""
    meta_path = out / META_FILE
    meta = {"env": s.env, "agents": {a: _portable(s.agent_specs[a]) for a in s.agents}}
    if meta_path.exists():
        try:
            old = json.loads(meta_path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            old = e
        if not isinstance(old, dict) or not isinstance(old.get("agents", {}), dict):
            what = shorten(one_line(str(old)), 120) if isinstance(old, Exception) else "not a mapping of settings"
            raise ConfigError(
                f"{meta_path} is damaged ({what}): it records the settings the episodes in out={shown(str(out))} "
                "were made with; restore it, or give a new out= (or delete the folder) to start the bench over"
            )
        if not _same_env(old.get("env"), s.env, s.ENV_KIND):
            raise ConfigError(
                f"out={str(out)!r} holds results made with other env settings; give a new out= or delete {meta_path}"
            )
        for name, spec in meta["agents"].items():
            if name in old.get("agents", {}) and old["agents"][name] != spec:
                raise ConfigError(
                    f"out={str(out)!r} holds results of agent {name!r} made with another spec; give a "
                    f"new out=, rename the agent, or delete the folder"
                )
        meta["agents"] = {**old.get("agents", {}), **meta["agents"]}
    write_json_atomic(meta_path, meta)


def run_bench(s: BenchSettings | HomeBenchSettings, echo: bool = True) -> dict[str, Any]:
    """Run (or resume) the benchmark; write the tables and the figure. Returns the results.

    Raises:
        ConfigError: an agent cannot run (missing checkpoint, bad override), or ``out`` holds results
            made with other settings.
        BenchError: episodes failed on every retry (the others are saved; rerunning retries them).
        sim.plumbing.files.OutputError: a results file could not be written (a full disk...): one line naming it
            and ``out=``; the finished episodes are kept.
    """
    with output_keys({"out": s.out}, RESUME_NOTE):
        return _run_bench(s, echo)


def _run_bench(s: BenchSettings | HomeBenchSettings, echo: bool) -> dict[str, Any]:
    for name in s.agents:  # build and check every agent here, before any episode runs anywhere
        try:
            agent = instantiate(s.agent_specs[name])
        except Exception as e:
            cause = e.__cause__ or e
            raise ConfigError(f"agent {name!r} cannot be built: {one_line(str(cause))}") from None
        try:
            agent.check()
            # Optional: agents whose checkpoints take a fixed image size compare it with the bench's env here.
            check_env = getattr(agent, "check_env", None)
            if check_env is not None:
                check_env(s.env)
        except ConfigError as e:
            raise ConfigError(f"agent {name!r}: {e}") from None
    s.out.mkdir(parents=True, exist_ok=True)
    _check_resume(s.out, s)
    path = s.out / EPISODES_FILE
    done = read_episodes(path)
    context = json.dumps(
        {"env": s.env, "agent_specs": {a: s.agent_specs[a] for a in s.agents}, "threads": s.threads_per_episode},
        sort_keys=True,
    )
    seeds = range(s.first_seed, s.first_seed + s.trials)
    per_agent = s.episodes_per_agent()  # (the instruction file is read once, not per seed and agent)
    wanted = [EpisodeJob(a, v, t, i, seed, context) for seed in seeds for a in s.agents for v, t, i in per_agent]
    jobs = [j for j in wanted if j.key not in done]
    if echo:
        print(
            f"{len(wanted)} episodes ({len(s.agents)} agents × {len(s.variants)} {s.variant_word} × "
            f"{len(per_agent) // len(s.variants)} {s.instruction_word} × {s.trials} seeds); "
            f"{len(wanted) - len(jobs)} already in {path}, {len(jobs)} to run on {_where(s)}",
            flush=True,
        )
    start = time.perf_counter()
    failed: dict[Any, str] = {}
    bar = tqdm(total=len(jobs), unit="ep", disable=not (s.progress_bar and echo), desc="bench", dynamic_ncols=True)
    try:
        with bar:
            for job, result in run_jobs(s.job_runner(), jobs, s.executor):
                row = {
                    "agent": job.agent,
                    "variant": job.variant,
                    "task": job.task,
                    "instruction": job.instruction,
                    "seed": job.seed,
                    **result,
                }
                append_row(path, row)
                done[job.key] = row
                bar.update(1)
    except JobsFailed as e:
        failed = e.failures
    except (KeyboardInterrupt, SystemExit):
        # interrupted (Ctrl-C, `kill`, a time limit): still write the tables of what has finished, then stop
        results = summarize(s, done)
        results["interrupted"] = True
        write_results(s, results)
        raise
    finally:
        _close_worker_envs()
    results = summarize(s, done)
    results["wall_seconds_this_run"] = round(time.perf_counter() - start, 1)
    write_results(s, results)
    if echo:
        print_results(results)
        print(
            f"results: {s.out / 'results.json'}, {s.out / 'results.csv'}"
            + (f", {s.out / 'results.png'}" if s.figure else "")
        )
    if failed:
        ((job, why),) = list(failed.items())[:1]
        raise BenchError(
            f"{len(failed)} episode(s) failed after {s.executor.max_retries} retries, e.g. "
            f"{job.agent}/{job.variant}/{job.task} seed {job.seed}: {why}; the others are saved in "
            f"{path}, rerun the same command to retry the failed ones"
        )
    return results


def _where(s: BenchSettings | HomeBenchSettings) -> str:
    e = s.executor
    if e.ray_address:
        return f"Ray ({e.ray_address})"
    return "this process" if e.workers == 1 else f"{e.workers} local processes"


def summarize(
    s: BenchSettings | HomeBenchSettings, done: Mapping[tuple[str, str, str, str, int], dict[str, Any]]
) -> dict[str, Any]:
    """The tables of the settings' episodes found in ``done``: per (agent, variant, task) and per agent and
    variant the mean over tasks; in instruction-file mode per instruction, with what each resolves to."""
    seeds = set(range(s.first_seed, s.first_seed + s.trials))
    per_agent = s.episodes_per_agent()
    wanted = set(per_agent)
    rows = [r for k, r in done.items() if k[0] in s.agents and (k[1], k[2], k[3]) in wanted and k[4] in seeds]
    order = {(a, v, t, i): n for n, (a, (v, t, i)) in enumerate((a, x) for a in s.agents for x in per_agent)}
    rows.sort(key=lambda r: (order[(r["agent"], r["variant"], r["task"], r["instruction"])], r["seed"]))
    by = ("agent", "variant", "instruction") if s.instruction_file else ("agent", "variant", "task")
    table = success_table(rows, by, pool_over=by[-1], mean_fields=s.metrics)
    results: dict[str, Any] = {
        "settings": {
            "agents": list(s.agents),
            "variants": list(s.variants),
            "tasks": list(s.tasks),
            "trials": s.trials,
            "first_seed": s.first_seed,
            "instruction_file": str(s.instruction_file) if s.instruction_file else None,
            "agent_specs": {a: s.agent_specs[a] for a in s.agents},
            "metrics": list(s.metrics),
        },
        "episodes": len(rows),
        "expected_episodes": len(s.agents) * len(wanted) * s.trials,
        "rows": table,
    }
    if s.instruction_file:
        task_of = {i: t for _, t, i in per_agent}
        for row in table:
            row["task"] = task_of.get(row["instruction"], "")
        results["resolution"] = resolve_instructions(task_of)
    return results


def resolve_instructions(task_of: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """What ``robolearn plan`` / ``demo`` would make of each instruction: the task it resolves to (or None)."""
    resolver = InstructionResolver()  # built once: its reference phrasings are embedded once for every instruction
    out = {}
    for instruction, task in task_of.items():
        try:
            r = resolve_instruction(instruction, resolver=resolver)
            out[instruction] = {
                "task": task,
                "resolves_to": r.task,
                "similarity": round(r.similarity, 3),
                "correct": r.task == task,
            }
        except UnknownInstructionError:
            out[instruction] = {"task": task, "resolves_to": None, "similarity": None, "correct": False}
    return out


def write_results(s: BenchSettings | HomeBenchSettings, results: dict[str, Any]) -> None:
    """results.json, results.csv and (with ``figure``) results.png in ``s.out``, each written atomically."""
    write_json_atomic(s.out / "results.json", results)
    write_csv(s.out / "results.csv", results["rows"], s.metrics)
    if s.figure and results["rows"]:
        write_figure(s.out / "results.png", results["rows"], by_instruction=bool(s.instruction_file))
