"""Visual MPC benchmark (issue 5): success on LOReL's six desk tasks, and the time of one replanning step.

For each task, ``--trials`` seeded episodes (seeds 0..trials-1, the task's own initial-state
distribution) are planned with the configured reward and dynamics; success is the final-state
criterion (the task achieved at the last of 20 steps), with LOReL's any-step criterion beside it,
each with a 95% Wilson confidence interval. The instruction given to the reward is the task's
canonical one ("open the drawer").

Every finished episode is appended to ``<--out>/episodes.jsonl`` at once, so an interrupted run
resumes where it stopped (episodes already there are skipped) and a run can be spread over several
sessions; ``--workers`` processes split the episodes (results do not depend on their number: each
episode depends only on its task, its seed and the settings).

Usage (from the repository root)::

    # learned reward + learned video model
    python benchmarks/vmpc.py --out runs/bench/learned --set reward_checkpoint=runs/lorel/best.pt \\
        dynamics_model=runs/video/best.pt
    # learned reward on oracle dynamics; oracle reward on oracle dynamics
    python benchmarks/vmpc.py --out runs/bench/oracle_dyn --set reward_checkpoint=runs/lorel/best.pt dynamics_model=oracle
    python benchmarks/vmpc.py --out runs/bench/oracle --set objective=oracle dynamics_model=oracle
    # only the replanning time of the issue-5 target (CEM 3 × 200, horizon 10), learned reward + model
    python benchmarks/vmpc.py --set reward_checkpoint=runs/lorel/best.pt dynamics_model=runs/video/best.pt \\
        optimizer=cem agent.horizon=10 --timing-only

``--set`` takes any ``robolearn plan`` override (Hydra syntax), e.g. ``optimizer=cem agent.replan_every=1``;
``--set record=DIR`` keeps every planned episode as training data (data aggregation: plan on seeds the
benchmark does not evaluate, ``--first-seed 1000``, then ``robolearn train extra_data=[DIR]`` for the reward,
``robolearn train dynamics extra_data=[DIR]`` for the video model).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

from robolearn.bench.run import append_row
from robolearn.bench.stats import wilson
from sim.plumbing.processes import init_worker
from sim.tasks.desk import LOREL_TASKS

TARGET_REPLAN_SECONDS = 0.5
EPISODES_FILE = "episodes.jsonl"


def settings_for(task: str, overrides: list[str]) -> Any:
    from robolearn.config import compose_config
    from robolearn.plan import PlanSettings
    from sim.tasks.desk import DESK_TASKS

    instruction = DESK_TASKS[task].description.instruction()
    return PlanSettings.from_config(
        compose_config("plan", [f"instruction={instruction}", f"task={task}", "video.path=null", *overrides])
    )


def _timing(settings: Any, repeats: int) -> dict[str, float]:
    """Median wall time of one replanning step (optimizer call incl. rollouts and reward) from a real state."""
    import torch

    from robolearn.plan import build_agent, load_models, plan_demos
    from sim.envs.desk import DeskEnv

    reward_model, video_model = load_models(settings)
    # objective=dvd: the demo videos of --set demo=... (a shipped demo's name, a file, DATASET:ids)
    demos = plan_demos(settings, reward_model, echo=False)[0].clips if settings.objective == "dvd" else None
    env_cfg = settings.env_for(settings.task)
    env = DeskEnv(config=env_cfg)
    try:
        obs, _ = env.reset(seed=0)
        agent = build_agent(settings, env_cfg, 0, reward_model, video_model, demos=demos)
        agent.reset(env, obs)
        times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            agent.optimizer.optimize(agent.objective)
            times.append(time.perf_counter() - start)
        return {"median_s": statistics.median(times[1:]), "min_s": min(times[1:]), "threads": torch.get_num_threads()}
    finally:
        env.close()


def _worker(
    jobs: list[tuple[str, int]], overrides: list[str], out: str, threads: int, parent: int | None = None
) -> None:
    """Plan ``jobs`` ((task, seed) pairs), appending one JSON line per finished episode to ``out``; a worker
    process (``parent``: the benchmark's pid) exits when the benchmark dies, however it dies."""
    if parent is not None:
        init_worker(parent)
    import torch

    from planners.vmpc import run_episode
    from robolearn.plan import build_agent, episode_recording, load_models
    from sim.envs.desk import DeskEnv

    torch.set_num_threads(threads)
    models = recording = None
    # Per task, its settings, env config and env are built once per process (as `robolearn plan` reuses
    # one env over its episodes: each episode's reset(seed) fully determines it).
    per_task: dict[str, tuple[Any, Any, Any]] = {}
    try:
        for task, seed in jobs:
            if task not in per_task:
                s = settings_for(task, overrides)
                env_cfg = s.env_for(task)
                per_task[task] = (s, env_cfg, DeskEnv(config=env_cfg))
            s, env_cfg, env = per_task[task]
            if models is None:  # the same checkpoints for every task: load once per process
                models = load_models(s)
            if recording is None:  # record=DIR keeps the episodes as training data: one writer per process
                recording = episode_recording(s)
            rec = run_episode(env, build_agent(s, env_cfg, seed, *models), seed=seed, recorder=recording.recorder)
            recording.write(env, rec.plans, task, seed)  # record= / record_plans=, if asked
            append_row(out, {"task": task, "seed": seed, **rec.summary()})
    finally:
        if recording is not None:
            recording.close()
        for _, _, env in per_task.values():
            env.close()


def read_episodes(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """The finished episodes of a results file (a torn last line from a crash is ignored)."""
    done: dict[tuple[str, int], dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            done[(row["task"], int(row["seed"]))] = row
    return done


def summarize(
    done: dict[tuple[str, int], dict[str, Any]], tasks: list[str], trials: int, first_seed: int = 0
) -> dict[str, Any]:
    """Per-task and mean success (final-step and any-step) with 95% Wilson intervals."""

    def row(rows: list[dict[str, Any]]) -> dict[str, Any]:
        n = len(rows)
        fin, anyst = sum(r["success"] for r in rows), sum(r["success_any"] for r in rows)
        return {
            "episodes": n,
            "final": fin / n if n else None,
            "final_ci": wilson(fin, n),
            "any": anyst / n if n else None,
            "any_ci": wilson(anyst, n),
            "mean_plan_seconds": statistics.mean(r["mean_plan_seconds"] for r in rows) if rows else None,
        }

    seeds = range(first_seed, first_seed + trials)
    per_task = {task: [done[(task, s)] for s in seeds if (task, s) in done] for task in tasks}
    table = {task: row(rows) for task, rows in per_task.items()}
    measured = [t for t in tasks if per_task[t]]
    if measured:
        # the pooled row: intervals over all episodes; "final"/"any" the mean of the per-task rates
        table["mean"] = row([r for t in measured for r in per_task[t]])
        table["mean"]["final"] = statistics.mean(table[t]["final"] for t in measured)
        table["mean"]["any"] = statistics.mean(table[t]["any"] for t in measured)
    return table


def print_table(table: dict[str, Any]) -> None:
    def pct(v: float | None) -> str:
        return "   —  " if v is None else f"{v:6.1%}"

    print(f"{'task':<22} {'episodes':>8}  {'final step (95% CI)':<24} {'any step (95% CI)':<24}")
    for task, r in table.items():
        lo, hi = r["final_ci"]
        alo, ahi = r["any_ci"]
        print(
            f"{task:<22} {r['episodes']:>8}  {pct(r['final'])} [{lo:5.1%}, {hi:5.1%}]   "
            f"{pct(r['any'])} [{alo:5.1%}, {ahi:5.1%}]"
        )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=100, help="seeded episodes per task")
    p.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seed of each task's first episode (seeds first..first+trials-1); e.g. 1000 to record "
        "training episodes (--set record=DIR) on seeds the benchmark never evaluates",
    )
    p.add_argument("--tasks", nargs="*", default=list(LOREL_TASKS), help="desk tasks to plan")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="`robolearn plan` overrides")
    p.add_argument(
        "--out", type=Path, default=None, help=f"results folder ({EPISODES_FILE}, summary.json); rerunning resumes it"
    )
    p.add_argument("--workers", type=int, default=1, help="processes planning episodes in parallel")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads per worker (default: the plan config's torch_threads / workers)",
    )
    p.add_argument("--timing-only", action="store_true", help="only time one replanning step")
    p.add_argument("--repeats", type=int, default=5, help="replanning steps timed (median)")
    args = p.parse_args()
    if args.workers < 1 or args.trials < 1 or args.first_seed < 0:
        p.error("--workers and --trials must be ≥ 1, --first-seed ≥ 0")
    from sim.tasks.desk import DESK_TASKS

    unknown = [t for t in args.tasks if t not in DESK_TASKS]
    if unknown:
        p.error(f"unknown task(s) {unknown}; desk tasks: {', '.join(DESK_TASKS)}")

    import torch

    s0 = settings_for(args.tasks[0], args.set)
    torch.set_num_threads(s0.torch_threads)
    optimizer = type(s0.optimizer).__name__  # the validated config dataclass, e.g. ICEMConfig
    if args.timing_only or args.out is None:
        timing = _timing(s0, args.repeats)
        print(
            f"one replanning step ({optimizer}, horizon {s0.agent.horizon}, {s0.objective} reward, dynamics "
            f"{s0.dynamics}): median {timing['median_s']:.3f} s (target ≤ {TARGET_REPLAN_SECONDS} s) "
            f"on {timing['threads']} threads"
        )
        if args.timing_only:
            return 0
        p.error("--out is required to measure success")

    args.out.mkdir(parents=True, exist_ok=True)
    if s0.record is not None or s0.record_plans is not None:  # create the datasets once, before workers append
        from robolearn.plan import episode_recording
        from sim.envs.desk import DeskEnv

        env = DeskEnv(config=s0.env_for(args.tasks[0]))
        recording = episode_recording(s0)
        try:
            recording.open(env)
        finally:
            recording.close()
            env.close()
    path = args.out / EPISODES_FILE
    done = read_episodes(path)
    seeds = range(args.first_seed, args.first_seed + args.trials)
    jobs = [(t, s) for s in seeds for t in args.tasks if (t, s) not in done]
    print(f"{len(done)} episodes already in {path}; {len(jobs)} to plan with {args.workers} worker(s)", flush=True)
    start = time.perf_counter()
    if jobs:
        threads = args.threads or max(1, s0.torch_threads // args.workers)
        if args.workers == 1:
            _worker(jobs, args.set, str(path), threads)
        else:
            ctx = mp.get_context("spawn")  # fresh interpreters: no forked torch / Bullet state
            procs = [
                ctx.Process(
                    target=_worker,
                    args=(jobs[w :: args.workers], args.set, str(path), threads, os.getpid()),
                    daemon=True,
                )
                for w in range(args.workers)
            ]
            # A killed benchmark takes its workers with it (SIGTERM → SystemExit → finally), instead of
            # leaving them planning, and appending, in the background.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
            try:
                for proc in procs:
                    proc.start()
                for proc in procs:
                    proc.join()
            finally:
                for proc in procs:
                    if proc.is_alive():
                        proc.terminate()
            failed = [proc.exitcode for proc in procs if proc.exitcode != 0]
            if failed:
                print(
                    f"{len(failed)} worker(s) failed (exit codes {failed}); rerun the command to finish "
                    "the remaining episodes",
                    file=sys.stderr,
                )
                return 1
    done = read_episodes(path)
    table = summarize(done, args.tasks, args.trials, args.first_seed)
    print_table(table)
    from sim.plumbing.files import write_json_atomic

    write_json_atomic(
        args.out / "summary.json",
        {
            "overrides": args.set,
            "optimizer": optimizer,
            "horizon": s0.agent.horizon,
            "replan_every": s0.agent.replan_every,
            "aggregation": s0.agent.aggregation,
            "objective": s0.objective,
            "dynamics": s0.dynamics,
            "trials": args.trials,
            "first_seed": args.first_seed,
            "tasks": table,
            "wall_seconds_this_run": round(time.perf_counter() - start, 1),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
