"""Visual MPC in the homes (issue 7): at the counter (docked), and as the local planner of "open the kitchen drawer".

Five rows, each on the same held-out seeds (``split=test`` homes, never trained on):

* ``docked / vmpc``: ``robolearn plan env=counter`` with the given reward and video model (20 arm steps from
  the counter env's reset: docked with docking error, gripper near the start pose, drawer nearly closed);
* ``docked / expert`` and ``docked / random``: the scripted drawer expert and uniform random arm actions in
  the same episodes (the upper and lower references);
* ``home / vmpc``: ``robolearn plan env=counter episode_start=home``: the robot starts anywhere in the home, the
  drawer baseline drives to the counter and docks, the arm unfolds, then VMPC has 20 arm steps;
* ``home / baseline``: the scripted drawer baseline (``OpenDrawerAgent``) in the same home episodes.

Rows run on the seeds ``--first-seed`` .. ``--first-seed + --episodes - 1``. Success is the task's final-state
criterion (docked: the drawer opened by the counter threshold, 8 cm; home:
the drawer at least ``drawer_open_threshold`` open), with 95% Wilson intervals. Finished episodes are appended
to ``<--out>/episodes.jsonl`` at once, so an interrupted run resumes where it stopped.

Usage (from the repository root)::

    python benchmarks/counter_vmpc.py --out runs/bench/counter --episodes 30 \\
        --reward runs/counter_lorel/best.pt --video runs/counter_video/best.pt
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

from robolearn.bench.run import append_row
from robolearn.bench.stats import wilson

ROWS = ("docked/vmpc", "docked/expert", "docked/random", "home/vmpc", "home/baseline")
EPISODES_FILE = "episodes.jsonl"


def plan_settings(args: argparse.Namespace, start: str) -> Any:
    from robolearn.config import compose_config
    from robolearn.plan import PlanSettings

    overrides = [
        "env=counter",
        "env.split=test",
        f"episode_start={start}",
        "instruction=open the drawer",
        f"reward_checkpoint={args.reward}",
        f"dynamics_model={args.video}",
        "video.path=null",
        "env.obs_keys=[rgb,proprio]",
        *args.set,
    ]
    return PlanSettings.from_config(compose_config("plan", overrides))


def scripted_docked(seed: int, random_actions: bool) -> dict[str, Any]:
    """The counter env's episode ``seed`` driven by the drawer expert, or by uniform random arm actions."""
    import numpy as np

    from sim.envs.counter import CounterEnv

    env = CounterEnv(config={"split": "test"})
    try:
        start = time.perf_counter()
        env.reset(seed=seed)
        expert, rng = env.make_expert(), np.random.default_rng(seed)
        for _ in range(env.cfg.max_episode_steps):
            action = rng.uniform(-1, 1, 4) if random_actions else env.expert_action(expert)
            *_, info = env.step(action)
        return {"success": info["success"], "progress": info["progress"], "seconds": time.perf_counter() - start}
    finally:
        env.close()


def scripted_home(seed: int) -> dict[str, Any]:
    """The drawer baseline in the home episode ``seed`` that ``home/vmpc`` plans (same env config)."""
    from planners.mobile_manipulation import OpenDrawerAgent
    from robolearn.plan import make_home_env
    from sim.counter_config import CounterEnvConfig

    env = make_home_env(CounterEnvConfig(split="test", obs_keys=("rgb", "proprio")))  # as home/vmpc's
    try:
        start = time.perf_counter()
        obs, _ = env.reset(seed=seed)
        agent = OpenDrawerAgent()
        agent.reset(env)
        for _ in range(env.cfg.max_episode_steps):
            obs, _, terminated, truncated, info = env.step(agent.act(obs))
            if terminated or truncated:
                break
        return {"success": info["success"], "seconds": time.perf_counter() - start}
    finally:
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for episodes.jsonl and summary.json")
    parser.add_argument("--episodes", type=int, default=30, help="episodes per row: seeds first-seed .. first-seed+N-1")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seed of the first episode (choose checkpoints on other seeds than you report)",
    )
    parser.add_argument("--reward", required=True, help="LOReL reward checkpoint trained on counter data")
    parser.add_argument("--video", required=True, help="video-model checkpoint trained on counter data")
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=ROWS)
    parser.add_argument("--set", nargs="*", default=[], help="extra `robolearn plan` overrides, e.g. optimizer=cem")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / EPISODES_FILE
    done = {(r["row"], r["seed"]) for r in map(json.loads, path.read_text().splitlines())} if path.exists() else set()
    models, seeds = None, range(args.first_seed, args.first_seed + args.episodes)
    for row in args.rows:
        for seed in seeds:
            if (row, seed) in done:
                continue
            if row.endswith("vmpc"):
                from robolearn.plan import load_models, run_plan

                s = plan_settings(args, row.split("/")[0])
                s = dataclasses.replace(s, seed=seed, episodes=1)
                models = models or load_models(s)
                result = run_plan(s, echo=False, models=models)[0]
            elif row == "home/baseline":
                result = scripted_home(seed)
            else:
                result = scripted_docked(seed, random_actions=row == "docked/random")
            append_row(path, {"row": row, "seed": seed, **result})
            print(
                f"{row} seed {seed}: {'SUCCESS' if result['success'] else 'failed'} ({result['seconds']:.1f} s)",
                flush=True,
            )
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    summary = {}
    print("\n| row | episodes | success [95% CI] | s/episode |\n|---|---:|---|---:|")
    for row in args.rows:
        mine = [r for r in rows if r["row"] == row and r["seed"] in seeds]
        wins = sum(r["success"] for r in mine)
        lo, hi = wilson(wins, len(mine))
        seconds = sum(r["seconds"] for r in mine) / max(len(mine), 1)
        summary[row] = {"episodes": len(mine), "success": wins / max(len(mine), 1), "ci": [lo, hi], "seconds": seconds}
        print(
            f"| {row} | {len(mine)} | {100 * wins / max(len(mine), 1):.0f}% [{100 * lo:.0f}, {100 * hi:.0f}] "
            f"| {seconds:.1f} |"
        )
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
