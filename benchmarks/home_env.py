"""Home environment benchmark (issue 7): speed, memory per environment, and the baseline agent.

1. Speed: env steps per second at 128 × 128 RGB-D plus a 228-ray LiDAR (the default observation of
   ``robolearn/PointNav-v0``), in one process, random actions, over several generated homes; with a
   per-part breakdown (physics, camera, LiDAR). The same run measures an iGibson-like stepping of the
   same env (1/240 s physics, 24 substeps per 0.1 s step, as iGibson's default physics) as the baseline.
2. Memory: resident-set growth per additional environment (each reset into a home).
3. Baseline agents (``planners.navigation.InteractiveNavAgent``; on open_drawer / open_door the
   ``planners.mobile_manipulation`` baselines, with the mobile manipulator): success, SPL, effort
   efficiency and INS on held-out homes (``split=test``, home seeds never used for training), per task.

Usage (from the repository root)::

    python benchmarks/home_env.py                              # everything, 50 episodes per task
    python benchmarks/home_env.py --episodes 10 --tasks pointnav --skip-speed
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

import gymnasium as gym
import numpy as np
import pybullet as p

import sim  # noqa: F401  (registers the envs)
from robolearn.bench.agents import NavBenchAgent
from robolearn.bench.stats import rate_row


def rss_mb() -> float:
    """This process's resident set size (MB)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def speed(steps: int, homes: int, physics: dict | None) -> dict[str, float]:
    """Steps per second of PointNav with random actions over ``homes`` episodes, and the part times (ms)."""
    env = gym.make("robolearn/PointNav-v0", physics=physics or {}).unwrapped
    rng = np.random.default_rng(0)
    parts = {"physics": 0.0, "camera": 0.0, "lidar": 0.0}
    total, n = 0.0, 0
    for h in range(homes):
        env.reset(seed=h)
        for _ in range(steps // homes):
            a = rng.uniform(-1, 1, 2).astype(np.float32)
            a[0] = abs(a[0])  # mostly forward, so the robot sees rooms rather than spinning at a wall
            t0 = time.perf_counter()
            env.step(a)
            total += time.perf_counter() - t0
            n += 1
        # Part breakdown on the same state, timed separately.
        t0 = time.perf_counter()
        env.scene.step_physics(env.cfg.physics.substeps)
        t1 = time.perf_counter()
        env.aim_camera()
        env.camera.render(env.client, env.light, False)
        t2 = time.perf_counter()
        env.lidar.scan(env.client, *env.scene.robot.lidar_origin(), None, env.scene.robot.uid, env.cfg.base.radius)
        t3 = time.perf_counter()
        parts["physics"] += (t1 - t0) * 1000 / homes
        parts["camera"] += (t2 - t1) * 1000 / homes
        parts["lidar"] += (t3 - t2) * 1000 / homes
    env.close()
    return {"steps_per_s": n / total, **{f"{k}_ms": v for k, v in parts.items()}}


def memory(n_envs: int) -> dict[str, float]:
    """RSS growth per environment: ``n_envs`` envs each reset into its own home."""
    envs = [gym.make("robolearn/PointNav-v0") for _ in range(1)]
    envs[0].reset(seed=0)
    base = rss_mb()
    for i in range(n_envs):
        e = gym.make("robolearn/PointNav-v0")
        e.reset(seed=100 + i)
        envs.append(e)
    per_env = (rss_mb() - base) / n_envs
    for e in envs:
        e.close()
    return {"first_env_and_libraries_mb": base, "per_additional_env_mb": per_env}


def baseline(task: str, episodes: int, first_seed: int) -> dict[str, float]:
    """The baseline agent (the bench's ``nav`` agent) on ``episodes`` held-out episodes of ``task``."""
    env = gym.make("robolearn/Home-v0", task=task, split="test", obs_keys=["scan", "goal"]).unwrapped
    agent = NavBenchAgent()
    rows = []
    for k in range(episodes):
        r = agent.run(env, "", first_seed + k)
        rows.append(r)
        print(
            f"  {task} episode {k}: {r['home']} success={r['success']} spl={r['spl']:.2f} "
            f"ins={r['ins']:.2f} L={r['shortest_path']:.1f} m",
            flush=True,
        )
    env.close()
    row = rate_row(rows)
    mean = lambda k: statistics.fmean(r[k] for r in rows)  # noqa: E731
    return {
        "episodes": len(rows),
        "homes": len({r["home"] for r in rows}),
        "success": row["final"],
        "ci_low": row["final_ci"][0],
        "ci_high": row["final_ci"][1],
        "spl": mean("spl"),
        "effort": mean("effort_efficiency"),
        "ins": mean("ins"),
        "mean_L": mean("shortest_path"),
        "s_per_episode": row["mean_seconds"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=1000, help="env steps of the speed measurement")
    ap.add_argument("--homes", type=int, default=5, help="homes the speed steps are spread over")
    ap.add_argument(
        "--episodes", type=int, default=50, help="held-out episodes per task for the baseline agent (0 = skip it)"
    )
    ap.add_argument("--first-seed", type=int, default=0, help="first episode seed of the baseline evaluation")
    ap.add_argument(
        "--tasks", nargs="*", default=["pointnav", "interactive_nav", "room_nav", "open_door", "open_drawer"]
    )
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args()
    if args.episodes < 0 or args.steps < 1 or args.homes < 1:
        ap.error("--episodes must be ≥ 0, --steps and --homes ≥ 1")
    print(f"pybullet {p.__version__ if hasattr(p, '__version__') else ''} cpu count {os.cpu_count()}")
    if not args.skip_speed:
        ours = speed(args.steps, args.homes, None)
        igib = speed(
            max(args.steps // 4, args.homes), args.homes, {"timestep": 1 / 240, "substeps": 24, "solver_iterations": 50}
        )
        print("\n| stepping | steps/s | physics ms | camera ms | LiDAR ms |\n|---|---:|---:|---:|---:|")
        for name, r in (
            ("robolearn (1/60 s × 6, 10 solver iterations)", ours),
            ("iGibson-like (1/240 s × 24, 50 solver iterations)", igib),
        ):
            print(
                f"| {name} | {r['steps_per_s']:.0f} | {r['physics_ms']:.2f} | {r['camera_ms']:.2f} | "
                f"{r['lidar_ms']:.2f} |"
            )
    if not args.skip_memory:
        m = memory(4)
        print(
            f"\nmemory: first env + libraries {m['first_env_and_libraries_mb']:.0f} MB RSS; "
            f"each additional env {m['per_additional_env_mb']:.1f} MB"
        )
    results = {}
    for task in args.tasks if args.episodes else []:
        results[task] = baseline(task, args.episodes, args.first_seed)
    if results:
        print("\n| task | episodes | homes | success [95% CI] | SPL | effort | INS | mean L (m) | s/episode |")
        print("|---|---:|---:|---|---:|---:|---:|---:|---:|")
        for task, r in results.items():
            print(
                f"| {task} | {r['episodes']} | {r['homes']} | {100 * r['success']:.0f}% [{100 * r['ci_low']:.0f}, "
                f"{100 * r['ci_high']:.0f}] | {r['spl']:.3f} | {r['effort']:.3f} | {r['ins']:.3f} | "
                f"{r['mean_L']:.1f} | {r['s_per_episode']:.1f} |"
            )


if __name__ == "__main__":
    main()
