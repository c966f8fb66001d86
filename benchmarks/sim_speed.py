"""Simulator speed benchmark (issue 2): ``robolearn/Desk-v1`` against a naive PyBullet baseline.

Measures environment steps per second with random actions. A "step" is one control step as a
learner sees it: the action is applied, physics advances, the observation is rendered and returned,
and, when an episode ends, the reset that follows is counted inside that step. Each measurement
runs a short warm-up first and then times a fixed number of steps.

Configurations:

* ``robolearn/Desk-v1`` with RGB-D observations at 64×64 and 128×128, in one process and in two
  independent worker processes (``multiprocessing.Pool``, one env each, as data collection runs);
  plus, for information, gymnasium's ``AsyncVectorEnv`` with two workers (lockstep, shared memory);
* a naive baseline, ``NaivePandaBaseline``: pybullet_data's Franka Panda on a table with two small
  cubes, one step = random joint position targets + 10 physics substeps of 1/240 s + one 64×64
  TinyRenderer RGB-D frame; in one process and in two processes (``multiprocessing.Pool``, each
  worker with its own DIRECT client), so that each Desk-v1 figure is compared with the baseline
  at the same process count.

Usage (from the repository root)::

    python benchmarks/sim_speed.py                  # default run, a couple of minutes on 2 cores
    python benchmarks/sim_speed.py --quick          # smoke run, a few seconds
    python benchmarks/sim_speed.py --json out.json  # also write the results as JSON
    python benchmarks/sim_speed.py --profile        # also cProfile single-process 64×64 Desk-v1
    python benchmarks/sim_speed.py --guard          # regression guard (CI): fails if the desk/baseline ratio
                                                    # falls too far below the recorded one (sim_speed_reference.json)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import multiprocessing as mp
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pybullet as p
import pybullet_data

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout: make ``sim`` importable
    sys.path.insert(0, str(REPO_ROOT))

import sim  # noqa: F401  (importing sim registers robolearn/Desk-v1; spawned workers re-run this)
from sim.plumbing.processes import init_worker

ENV_ID = "robolearn/Desk-v1"
DESK_TASK = "open_drawer"  # the task barely matters for speed: every task steps the same scene
OBS_KEYS = ("rgb", "depth")
SEED = 0
ACTION_DIM = 4  # Desk-v1 action: (dx, dy, dz, gripper) in [-1, 1]

# Step counts. ``--steps`` sets the single-process 64×64 Desk-v1 count; the others are scaled from it
# so that every measurement takes a few seconds on a 2-core machine.
DEFAULT_STEPS = 2000
QUICK_STEPS = 200
DEFAULT_REPEATS = 3  # each configuration is measured this many times; the table reports the median
STEP_SCALE = {
    "desk64": 1.0,
    "desk128": 0.5,  # 4× the pixels: roughly half the rate
    "baseline": 0.1,  # the baseline is roughly an order of magnitude slower
}
DESK_WARMUP_STEPS = 20  # one default-length episode (max_episode_steps=20), so a reset is warmed up too
BASELINE_WARMUP_STEPS = 5  # first frames pay for loading/caching the meshes
NUM_WORKERS = 2  # the machine this targets has 2 cores
BARRIER_TIMEOUT_S = 120.0  # generous: spawned workers import pybullet and build their scene first

# Regression guard (issue 24): the recorded ratio lives beside this script, with the date and command that measured it.
REFERENCE_FILE = Path(__file__).with_name("sim_speed_reference.json")
GUARD_BASELINE_STEPS = 100  # per round: ~1.5 s of the baseline on a quiet 2-core machine
GUARD_DESK_STEPS = 600  # per round: ~1 s of Desk-v1 64×64 RGB-D, 30 episodes (resets included as in the benchmark)
GUARD_ROUNDS = 5  # baseline and desk measured alternately this many times; each round's ratio compares two
# measurements a second apart, so a load change hits both sides alike, and the median ratio ignores a round that a
# burst of load hit on one side only (3 rounds' ratio of medians gave 11.2× and 14.4× on the same code)

# Targets from issue 2.
TARGET_SINGLE_64 = 500.0  # steps/s, one process, 64×64 RGB-D
TARGET_RATIO = 10.0  # × the naive baseline, one process, 64×64 RGB-D
TARGET_WORKERS_64 = 900.0  # aggregate steps/s, 2 workers, 64×64 RGB-D


# --------------------------------------------------------------------------- naive baseline
@dataclass(frozen=True)
class BaselineConfig:
    """The naive scene: stock pybullet_data assets, default-ish PyBullet settings."""

    width: int = 64
    height: int = 64
    timestep: float = 1.0 / 240.0  # PyBullet's default physics timestep
    substeps: int = 10  # physics substeps per env step, as Desk-v1
    table_pos: tuple[float, float, float] = (0.5, 0.0, 0.0)  # table.urdf's top surface is at z = 0.625
    robot_pos: tuple[float, float, float] = (0.0, 0.0, 0.625)  # on the near end of the table top
    cube_positions: tuple[tuple[float, float, float], ...] = ((0.5, -0.1, 0.65), (0.5, 0.1, 0.65))
    # A camera on the far side of the table, looking back at the table and the robot.
    eye: tuple[float, float, float] = (1.4, 0.0, 1.3)
    target: tuple[float, float, float] = (0.3, 0.0, 0.6)
    fov: float = 50.0  # degrees, as Desk-v1's default camera
    near: float = 0.05  # m, as Desk-v1's default camera
    far: float = 4.0  # m, as Desk-v1's default camera


class NaivePandaBaseline:
    """The straightforward PyBullet setup that Desk-v1 is compared with.

    pybullet_data's ``franka_panda/panda.urdf`` (fixed base, full visual meshes) on ``table/table.urdf``
    with two ``cube_small.urdf``. One ``step()`` = random position targets for the 7 arm joints
    (POSITION_CONTROL), ``substeps`` physics steps, and one RGB-D frame from TinyRenderer converted
    to numpy arrays (uint8 RGB, metric float32 depth) as Desk-v1 returns them.
    """

    ARM_JOINTS = tuple(range(7))  # panda.urdf: joints 0–6 are the revolute arm joints

    def __init__(self, cfg: BaselineConfig = BaselineConfig(), seed: int = SEED):
        self.cfg = cfg
        self.rng = np.random.default_rng(seed)
        self.client = p.connect(p.DIRECT)
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=self.client)
        p.setGravity(0.0, 0.0, -9.81, physicsClientId=self.client)
        p.setTimeStep(cfg.timestep, physicsClientId=self.client)
        p.loadURDF("table/table.urdf", cfg.table_pos, useFixedBase=True, physicsClientId=self.client)
        self.robot = p.loadURDF(
            "franka_panda/panda.urdf", cfg.robot_pos, useFixedBase=True, physicsClientId=self.client
        )
        for pos in cfg.cube_positions:
            p.loadURDF("cube_small.urdf", pos, physicsClientId=self.client)
        limits = [p.getJointInfo(self.robot, j, physicsClientId=self.client)[8:10] for j in self.ARM_JOINTS]
        self.lower = np.array([lo for lo, _ in limits])
        self.upper = np.array([hi for _, hi in limits])
        self.view = p.computeViewMatrix(cfg.eye, cfg.target, (0.0, 0.0, 1.0))
        self.proj = p.computeProjectionMatrixFOV(cfg.fov, cfg.width / cfg.height, cfg.near, cfg.far)

    def step(self) -> tuple[np.ndarray, np.ndarray]:
        """Random joint targets, ``substeps`` physics steps, one frame; returns (rgb, depth)."""
        targets = self.rng.uniform(self.lower, self.upper)
        p.setJointMotorControlArray(
            self.robot,
            self.ARM_JOINTS,
            p.POSITION_CONTROL,
            targetPositions=targets.tolist(),
            physicsClientId=self.client,
        )
        for _ in range(self.cfg.substeps):
            p.stepSimulation(physicsClientId=self.client)
        return self.render()

    def render(self) -> tuple[np.ndarray, np.ndarray]:
        """One TinyRenderer RGB-D frame: uint8 (H, W, 3) and float32 (H, W) metres."""
        w, h, near, far = self.cfg.width, self.cfg.height, self.cfg.near, self.cfg.far
        _, _, rgba, zbuf, _ = p.getCameraImage(
            w,
            h,
            self.view,
            self.proj,
            renderer=p.ER_TINY_RENDERER,
            flags=p.ER_NO_SEGMENTATION_MASK,
            physicsClientId=self.client,
        )
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(h, w, 4)[..., :3]
        zbuf = np.asarray(zbuf, dtype=np.float32).reshape(h, w)
        depth = (far * near / (far - (far - near) * zbuf)).astype(np.float32)  # OpenGL z-buffer → metres
        return rgb, depth

    def close(self) -> None:
        """Disconnect this baseline's DIRECT client."""
        if p.isConnected(self.client):
            p.disconnect(self.client)


def time_baseline(
    steps: int, warmup: int = BASELINE_WARMUP_STEPS, seed: int = SEED, barrier: Barrier | None = None
) -> tuple[float, float]:
    """Build a baseline, warm it up, then time ``steps`` steps.

    With a ``barrier`` (one per worker process), the timed loop starts only once every worker has
    finished building and warming up, so the workers' timed intervals overlap.

    Returns:
        (start, end) of the timed loop on ``time.perf_counter`` (CLOCK_MONOTONIC on Linux, so
        comparable across processes on one machine).
    """
    env = NaivePandaBaseline(seed=seed)
    try:
        for _ in range(warmup):
            env.step()
        if barrier is not None:
            barrier.wait(BARRIER_TIMEOUT_S)
        start = time.perf_counter()
        for _ in range(steps):
            env.step()
        return start, time.perf_counter()
    finally:
        env.close()


def measure_baseline_single(steps: int) -> tuple[int, float]:
    """One process; returns (steps, seconds)."""
    start, end = time_baseline(steps)
    return steps, end - start


_pool_barrier: Barrier | None = None  # set in each Pool worker by _init_pool_worker


def _init_pool_worker(barrier: Barrier, parent: int) -> None:
    """Pool initializer: keep the start barrier (synchronisation objects can only be inherited); the worker
    exits when the benchmark dies (``init_worker``)."""
    global _pool_barrier
    init_worker(parent)
    _pool_barrier = barrier


def _baseline_pool_task(args: tuple[int, int, int]) -> tuple[float, float]:
    """One Pool task: (steps, seed, unused image size) → the timed loop's (start, end)."""
    steps, seed, _ = args
    return time_baseline(steps, seed=seed, barrier=_pool_barrier)


def _desk_pool_task(args: tuple[int, int, int]) -> tuple[float, float]:
    """One Pool task: (steps, seed, image size) → the timed loop's (start, end) for Desk-v1."""
    steps, seed, size = args
    env = DeskEnvFactory(size, size)()
    try:
        rng = np.random.default_rng(seed)
        env.reset(seed=seed)
        run_desk_single(env, DESK_WARMUP_STEPS, rng)
        if _pool_barrier is not None:
            _pool_barrier.wait(BARRIER_TIMEOUT_S)
        start = time.perf_counter()
        run_desk_single(env, steps, rng)
        return start, time.perf_counter()
    finally:
        env.close()


def measure_workers(
    task: Callable[[tuple[int, int, int]], tuple[float, float]],
    steps_per_worker: int,
    workers: int,
    context: str,
    size: int = 64,
) -> tuple[int, float]:
    """Run ``task`` in ``workers`` independent processes at once; returns (total steps, wall seconds).

    This is how data collection and evaluation use the cores (one env per process, no lockstep);
    the baseline and Desk-v1 are measured the same way. The wall time spans from the first worker's
    start to the last worker's end of the timed loop.
    """
    ctx = mp.get_context(context)
    barrier = ctx.Barrier(workers)
    # Each task blocks on the barrier until all have started, so no worker can take two tasks.
    with ctx.Pool(workers, initializer=_init_pool_worker, initargs=(barrier, os.getpid())) as pool:
        spans = pool.map(task, [(steps_per_worker, SEED + i, size) for i in range(workers)], chunksize=1)
    start = min(s for s, _ in spans)
    end = max(e for _, e in spans)
    return steps_per_worker * workers, end - start


# --------------------------------------------------------------------------------- Desk-v1
@dataclass(frozen=True)
class DeskEnvFactory:
    """Picklable env constructor, so that each vector-env worker builds its own env (fork or spawn)."""

    width: int
    height: int
    backdrop: bool = True  # the static scene drawn once per episode (DeskEnv's default); False draws it every frame

    def __call__(self) -> gym.Env:
        # ``sim`` is imported at module level, which a spawned worker re-runs, so the id is registered.
        return gym.make(
            ENV_ID,
            task=DESK_TASK,
            obs_keys=OBS_KEYS,
            width=self.width,
            height=self.height,
            static_backdrop=self.backdrop,
        )


def run_desk_single(env: gym.Env, steps: int, rng: np.random.Generator) -> None:
    """``steps`` random-action steps; an episode's end triggers a reset inside the same step."""
    for _ in range(steps):
        action = rng.uniform(-1.0, 1.0, ACTION_DIM).astype(np.float32)
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()


def measure_desk_single(size: int, steps: int, backdrop: bool = True) -> tuple[int, float]:
    """One process; returns (env steps, seconds)."""
    env = DeskEnvFactory(size, size, backdrop)()
    try:
        rng = np.random.default_rng(SEED)
        env.reset(seed=SEED)
        run_desk_single(env, DESK_WARMUP_STEPS, rng)
        start = time.perf_counter()
        run_desk_single(env, steps, rng)
        return steps, time.perf_counter() - start
    finally:
        env.close()


def measure_desk_vector(size: int, env_steps: int, workers: int, context: str) -> tuple[int, float]:
    """``workers`` envs in an AsyncVectorEnv; returns (aggregate env steps, seconds).

    SAME_STEP autoreset resets a finished sub-env inside the step that ended its episode, which
    matches the single-process loop (the default NEXT_STEP mode would spend a whole step on it).
    """
    envs = gym.vector.AsyncVectorEnv(
        [DeskEnvFactory(size, size) for _ in range(workers)],
        shared_memory=True,
        context=context,
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    try:
        rng = np.random.default_rng(SEED)
        envs.reset(seed=SEED)  # sub-env i gets seed SEED + i
        vector_steps = max(1, env_steps // workers)

        def run(n: int) -> None:
            for _ in range(n):
                envs.step(rng.uniform(-1.0, 1.0, (workers, ACTION_DIM)).astype(np.float32))

        run(DESK_WARMUP_STEPS)
        start = time.perf_counter()
        run(vector_steps)
        return vector_steps * workers, time.perf_counter() - start
    finally:
        envs.close()


# ------------------------------------------------------------------------------ benchmark
@dataclass
class Result:
    """One configuration's measurements."""

    name: str
    kind: str  # "desk", "baseline", "vector" (AsyncVectorEnv) or "ablation" (the desk with one speed-up off)
    processes: int
    width: int
    height: int
    env_steps: int  # per repeat
    rates: list[float] = field(default_factory=list)  # env steps/s, one per repeat
    ratio: float | None = None  # median rate / baseline median rate at the same process count
    targets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def steps_per_s(self) -> float:
        """Median over the repeats."""
        return statistics.median(self.rates)


def _repeat(fn: Callable[[], tuple[int, float]], repeats: int) -> tuple[int, list[float]]:
    """Call a measurement ``repeats`` times; returns (steps per call, steps/s of each call)."""
    rates, steps = [], 0
    for _ in range(repeats):
        steps, seconds = fn()
        rates.append(steps / seconds)
    return steps, rates


def run_benchmark(steps: int, repeats: int, context: str, log: Callable[[str], None]) -> list[Result]:
    """Measure every configuration; ratios and target checks are filled in."""
    n_desk64 = max(1, round(steps * STEP_SCALE["desk64"]))
    n_desk128 = max(1, round(steps * STEP_SCALE["desk128"]))
    n_base = max(1, round(steps * STEP_SCALE["baseline"]))
    plan: list[tuple[Result, Callable[[], tuple[int, float]]]] = [
        (Result("naive baseline 64×64 RGB-D", "baseline", 1, 64, 64, n_base), lambda: measure_baseline_single(n_base)),
        (Result("Desk-v1 64×64 RGB-D", "desk", 1, 64, 64, n_desk64), lambda: measure_desk_single(64, n_desk64)),
        (Result("Desk-v1 128×128 RGB-D", "desk", 1, 128, 128, n_desk128), lambda: measure_desk_single(128, n_desk128)),
        # issue 24: each speed-up measured alone, switched off here, against the same baseline
        (
            Result("Desk-v1 64×64 RGB-D, no static backdrop", "ablation", 1, 64, 64, n_desk64),
            lambda: measure_desk_single(64, n_desk64, backdrop=False),
        ),
        (
            Result(f"naive baseline 64×64 RGB-D, {NUM_WORKERS} workers", "baseline", NUM_WORKERS, 64, 64, n_base),
            lambda: measure_workers(_baseline_pool_task, max(1, n_base // NUM_WORKERS), NUM_WORKERS, context),
        ),
        (
            Result(f"Desk-v1 64×64 RGB-D, {NUM_WORKERS} workers", "desk", NUM_WORKERS, 64, 64, n_desk64),
            lambda: measure_workers(_desk_pool_task, max(1, n_desk64 // NUM_WORKERS), NUM_WORKERS, context, 64),
        ),
        (
            Result(f"Desk-v1 128×128 RGB-D, {NUM_WORKERS} workers", "desk", NUM_WORKERS, 128, 128, n_desk128),
            lambda: measure_workers(_desk_pool_task, max(1, n_desk128 // NUM_WORKERS), NUM_WORKERS, context, 128),
        ),
        # Informational: gymnasium's AsyncVectorEnv steps its workers in lockstep from a third process.
        (
            Result(f"Desk-v1 64×64 RGB-D, AsyncVectorEnv({NUM_WORKERS})", "vector", NUM_WORKERS, 64, 64, n_desk64),
            lambda: measure_desk_vector(64, n_desk64, NUM_WORKERS, context),
        ),
    ]
    results = []
    for result, fn in plan:
        t0 = time.perf_counter()
        result.env_steps, result.rates = _repeat(fn, repeats)
        log(
            f"{result.name}: {result.steps_per_s:.1f} steps/s "
            f"({repeats} × {result.env_steps} steps, {time.perf_counter() - t0:.1f} s)"
        )
        results.append(result)

    baseline = {r.processes: r.steps_per_s for r in results if r.kind == "baseline"}
    for r in results:
        if r.kind in ("vector", "ablation"):
            r.ratio = r.steps_per_s / baseline[r.processes]
        if r.kind != "desk":
            continue
        ratio = r.ratio = r.steps_per_s / baseline[r.processes]
        if r.width != 64:
            continue  # the targets are for 64×64 RGB-D
        checks = (
            [
                (f"≥{TARGET_SINGLE_64:.0f} steps/s", r.steps_per_s >= TARGET_SINGLE_64),
                (f"≥{TARGET_RATIO:.0f}× baseline", ratio >= TARGET_RATIO),
            ]
            if r.processes == 1
            else [(f"≥{TARGET_WORKERS_64:.0f} steps/s", r.steps_per_s >= TARGET_WORKERS_64)]
        )
        r.targets = [{"target": text, "met": met} for text, met in checks]
    return results


@dataclass
class GuardReference:
    """The recorded same-run speed ratio the guard compares with (``sim_speed_reference.json``)."""

    ratio: float  # Desk-v1 64×64 RGB-D, one process, env steps/s ÷ the naive baseline's, same run
    tolerance: float  # the guard fails below ratio × (1 − tolerance) (fraction, 0–1)
    measured: str  # date of the measurement
    command: str  # what measured it

    @classmethod
    def load(cls, path: Path = REFERENCE_FILE) -> GuardReference:
        """Read and check the reference file; a one-line ``ValueError`` names the file and the problem."""
        try:
            raw = json.loads(path.read_text())
            ref = cls(float(raw["ratio"]), float(raw["tolerance"]), str(raw["measured"]), str(raw["command"]))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(
                f"{path}: not a readable speed reference ({type(e).__name__}: {e}); it needs ratio, tolerance, "
                "measured and command (see benchmarks/sim_speed.py --guard)"
            ) from None
        if not ref.ratio > 0 or not 0 <= ref.tolerance < 1:
            raise ValueError(f"{path}: ratio must be > 0 and tolerance in [0, 1), got {ref.ratio} and {ref.tolerance}")
        return ref


def guard_verdict(ratio: float, ref: GuardReference, path: Path = REFERENCE_FILE) -> tuple[bool, str]:
    """Whether a measured same-run ``ratio`` passes the guard, and the line that says so."""
    floor = ref.ratio * (1.0 - ref.tolerance)
    if ratio >= floor:
        return True, (
            f"sim_speed guard: OK, Desk-v1 64×64 RGB-D at {ratio:.1f}× the naive baseline in this run "
            f"(recorded {ref.ratio:.1f}× on {ref.measured}; the guard fails below {floor:.1f}×)"
        )
    return False, (
        f"sim_speed guard: FAILED, Desk-v1 64×64 RGB-D at {ratio:.1f}× the naive baseline in this run, more than "
        f"{ref.tolerance:.0%} below the recorded {ref.ratio:.1f}× ({path.name}, {ref.measured}): a change made the "
        "desk step slower; find it with `python benchmarks/sim_speed.py --profile`, or, if the slowdown is "
        f"intended, re-measure with `{ref.command}` on a quiet machine and record the new ratio in {path.name}"
    )


def run_guard(log: Callable[[str], None], rounds: int = GUARD_ROUNDS) -> float:
    """The same-run ratio the guard checks: the median over alternating rounds of desk rate ÷ baseline rate."""
    base, desk = [], []
    for k in range(rounds):
        n, s = measure_baseline_single(GUARD_BASELINE_STEPS)
        base.append(n / s)
        n, s = measure_desk_single(64, GUARD_DESK_STEPS)
        desk.append(n / s)
        log(f"guard round {k + 1}/{rounds}: baseline {base[-1]:.1f} steps/s, Desk-v1 64×64 RGB-D {desk[-1]:.1f}")
    return statistics.median(d / b for d, b in zip(desk, base))


def profile_desk_single(steps: int, top: int = 10) -> str:
    """cProfile of the single-process 64×64 Desk-v1 loop; the ``top`` functions by own time."""
    env = DeskEnvFactory(64, 64)()
    try:
        rng = np.random.default_rng(SEED)
        env.reset(seed=SEED)
        run_desk_single(env, DESK_WARMUP_STEPS, rng)
        profiler = cProfile.Profile()
        profiler.enable()
        run_desk_single(env, steps, rng)
        profiler.disable()
    finally:
        env.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    shares = component_shares(stats)
    out.write(
        f"Desk-v1 64×64 RGB-D, one process, {steps} steps; share of profiled time: "
        + ", ".join(f"{name} {share:.0%}" for name, share in shares.items())
        + "\n"
    )
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


#: the PyBullet calls that make up a Desk-v1 step, by component
PROFILE_COMPONENTS = {
    "render": "pybullet.getCameraImage",
    "physics": "pybullet.stepSimulation",
    "IK": "pybullet.calculateInverseKinematics",
}


def component_shares(stats: pstats.Stats) -> dict[str, float]:
    """Fractions of the profiled time spent in each of ``PROFILE_COMPONENTS`` (own time), and the rest."""
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    total = stats.total_tt  # type: ignore[attr-defined]
    shares = {
        name: sum(v[2] for (_, _, fn), v in raw.items() if call in fn) / total
        for name, call in PROFILE_COMPONENTS.items()
    }
    shares["other (Python, numpy, other PyBullet calls)"] = 1.0 - sum(shares.values())
    return shares


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "gymnasium": gym.__version__,
        "pybullet": p.getAPIVersion(),
        "renderer": "TinyRenderer (CPU)",
    }


def _targets_text(r: Result) -> str:
    """A row's target checks, e.g. ``✓ ≥500 steps/s, ✗ ≥10× baseline``."""
    return ", ".join(f"{'✓' if t['met'] else '✗'} {t['target']}" for t in r.targets) or "—"


def print_table(results: Sequence[Result]) -> None:
    """The results as a table (rich when available, plain text otherwise)."""
    header = ("configuration", "procs", "steps/s", "min–max", "× baseline", "targets")
    rows = [
        (
            r.name,
            str(r.processes),
            f"{r.steps_per_s:.0f}",
            f"{min(r.rates):.0f}–{max(r.rates):.0f}",
            "—" if r.ratio is None else f"{r.ratio:.1f}×",
            _targets_text(r),
        )
        for r in results
    ]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
        for row in (header, *rows):
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
        return
    table = Table(title="Simulator speed (env steps/s; ratio vs the naive baseline at the same process count)")
    for i, name in enumerate(header):
        table.add_column(name, justify="right" if 0 < i < 5 else "left")
    for row in rows:
        table.add_row(*row)
    # Wide enough for one line per row when the output is not a terminal (e.g. piped to a file).
    Console(width=None if sys.stdout.isatty() else 132).print(table)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` changes the defaults of ``--steps`` and ``--repeats``."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help=f"timed steps for single-process 64×64 Desk-v1 (default {DEFAULT_STEPS}); 128×128 "
        f"runs ×{STEP_SCALE['desk128']}, the baseline ×{STEP_SCALE['baseline']}, and the "
        f"{NUM_WORKERS}-worker runs the same number of env steps in total",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"measurements per configuration, median reported (default {DEFAULT_REPEATS})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_STEPS} steps, 1 repeat (unless --steps/--repeats are given)",
    )
    parser.add_argument(
        "--context",
        choices=("spawn", "fork", "forkserver"),
        default="spawn",
        help="multiprocessing start method of the worker processes (default spawn)",
    )
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--guard",
        action="store_true",
        help=f"regression guard only (what CI runs, ~25 s): measure the single-process desk/baseline ratio "
        f"({GUARD_ROUNDS} alternating rounds) and exit 1 if it is more than the recorded tolerance below the ratio "
        f"in {REFERENCE_FILE.name}",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile the single-process 64×64 Desk-v1 loop and print the top 10 by tottime",
    )
    args = parser.parse_args(argv)
    if args.steps is None:
        args.steps = QUICK_STEPS if args.quick else DEFAULT_STEPS
    if args.repeats is None:
        args.repeats = 1 if args.quick else DEFAULT_REPEATS
    if args.steps < 1 or args.repeats < 1:
        parser.error("--steps and --repeats must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table (and profile), optionally write JSON."""
    args = parse_args(argv)
    info = machine_info()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    run = "guard" if args.guard else f"steps={args.steps} repeats={args.repeats} context={args.context}"
    log(
        f"sim_speed: {info['cpus']} CPUs, {info['platform']}, python {info['python']}, "
        f"pybullet API {info['pybullet']}; {run}"
    )
    if args.guard:
        try:
            ref = GuardReference.load()
        except ValueError as e:
            log(str(e))
            return 2
        ok, line = guard_verdict(run_guard(log), ref)
        print(line)
        return 0 if ok else 1
    t0 = time.perf_counter()
    results = run_benchmark(args.steps, args.repeats, args.context, log)
    total_s = time.perf_counter() - t0
    print_table(results)
    print(f"total benchmark time: {total_s:.1f} s")
    profile = None
    if args.profile:
        profile = profile_desk_single(args.steps)
        print(profile)
    if args.json is not None:
        payload = {
            "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "machine": info,
            "total_seconds": total_s,
            "results": [{**asdict(r), "steps_per_s": r.steps_per_s} for r in results],
            "profile": profile,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
