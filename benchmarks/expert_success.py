"""Success rate of every task's scripted expert from random initial states.

Target (issue 2): at least 95% final-step success per task. Runs state-only observations (no
rendering) so a full sweep takes about a minute per 100 episodes × 15 tasks on one core.

    python benchmarks/expert_success.py --episodes 100 --variants train new_arrangement
    python benchmarks/expert_success.py --physics substeps=4 timestep=0.0208333  # other physics stepping (issue 24)
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor

import gymnasium as gym
import numpy as np

from sim.plumbing.processes import init_worker

TARGET = 0.95  # minimum final-step success rate per task
FIRST_SEED = 1000  # seeds FIRST_SEED … FIRST_SEED + episodes - 1; tests use small seeds


def evaluate(task: str, variant: str, episodes: int, horizon: int, physics: dict[str, float] | None = None) -> dict:
    """Run the expert for ``episodes`` seeded episodes; success rates and steps to first success. ``physics``
    overrides fields of the env's ``physics`` config (``sim.config.PhysicsConfig``)."""
    import sim  # noqa: F401  (registers the envs in the worker process)

    config: dict = {"max_episode_steps": horizon}
    if physics:
        config["physics"] = dict(physics)
    env = gym.make("robolearn/Desk-v1", task=task, variant=variant, obs_keys=("proprio",), config=config).unwrapped
    final, anytime, steps = [], [], []
    for i in range(episodes):
        env.reset(seed=FIRST_SEED + i)
        expert = env.task.make_expert()
        first = None
        info: dict = {}
        for t in range(horizon):
            *_, info = env.step(env.expert_action(expert))
            if info["success"] and first is None:
                first = t + 1
        final.append(info["success"])
        anytime.append(info["success_any"])
        steps.append(first if first is not None else np.nan)
    env.close()
    return {
        "task": task,
        "variant": variant,
        "episodes": episodes,
        "final": float(np.mean(final)),
        "any": float(np.mean(anytime)),
        "median_steps": float(np.nanmedian(steps)) if any(anytime) else None,
        "failed_seeds": [FIRST_SEED + i for i, ok in enumerate(final) if not ok],
    }


def main() -> None:
    from sim.tasks.desk import DESK_TASKS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--horizon", type=int, default=20, help="steps per episode (the env default is 20)")
    ap.add_argument("--variants", nargs="+", default=["train"])
    ap.add_argument("--tasks", nargs="+", default=sorted(DESK_TASKS))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", help="also write the results to this JSON file")
    ap.add_argument(
        "--physics",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override physics settings of the env (sim.config.PhysicsConfig: timestep, substeps, solver_iterations)",
    )
    args = ap.parse_args()
    physics: dict[str, float] = {}
    for item in args.physics:
        key, sep, value = item.partition("=")
        if not sep:
            ap.error(f"--physics takes KEY=VALUE pairs, got {item!r} (e.g. substeps=4)")
        try:
            physics[key] = json.loads(value)  # 4 → int, 0.02 → float; the env's config checks names and ranges
        except json.JSONDecodeError:
            ap.error(f"--physics {key}: {value!r} is not a number")
    try:  # checked here, once, so a bad name or value is one line rather than a worker's traceback
        from sim.config import DeskEnvConfig
        from sim.plumbing.settings import from_mapping

        from_mapping(DeskEnvConfig, {"physics": physics})  # the env's own checks, stability included
    except (TypeError, ValueError) as e:
        ap.error(f"--physics: {e}")

    start = time.perf_counter()
    jobs = [(t, v, args.episodes, args.horizon, physics) for v in args.variants for t in args.tasks]
    with ProcessPoolExecutor(args.workers, initializer=init_worker, initargs=(os.getpid(),)) as pool:
        results = list(pool.map(evaluate, *zip(*jobs)))
    print(f"{'variant':16s} {'task':24s} {'final':>6s} {'any':>6s} {'steps':>6s}  failed seeds")
    for r in results:
        flag = "" if r["final"] >= TARGET else "  < target"
        print(
            f"{r['variant']:16s} {r['task']:24s} {r['final']:6.2f} {r['any']:6.2f} "
            f"{r['median_steps'] or float('nan'):6.0f}  {r['failed_seeds'][:8]}{flag}"
        )
    for v in args.variants:
        rates = [r["final"] for r in results if r["variant"] == v]
        print(
            f"{v}: mean final-step success {np.mean(rates):.3f}, worst task {min(rates):.2f} "
            f"(target ≥ {TARGET:.2f} per task)"
        )
    print(f"{len(jobs) * args.episodes} episodes in {time.perf_counter() - start:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
