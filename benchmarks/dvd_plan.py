"""Planning from a demo video (issue 25, item 1): how often visual MPC maximising a DVD reward does the task a video
of another actor shows.

Each episode: the desk resets with the episode's seed in a variant; the demos are ``--demos`` videos of the task by
non-robot actors drawn per episode (the held-out actor among them, randomized scenes, seeds far from every training
seed), never seen in training; the agent is ``robolearn plan objective=dvd`` (``planners.objectives.DVDObjective``)
with the simulator as dynamics (``--dynamics oracle``) or a video model. Success is the env's final-step check.
Seeds: ``--seed`` + i; validation seeds (for choosing settings) start at 100, test seeds at 10,000.

Usage (from the repository root)::

    python benchmarks/dvd_plan.py --seeds 10 --seed 10000                      # the shipped reward, oracle
    python benchmarks/dvd_plan.py --checkpoint runs/dvd_r1/best.pt --tasks open_drawer close_drawer
    python benchmarks/dvd_plan.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, cast

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

import gymnasium as gym
import numpy as np
import torch
from omegaconf import OmegaConf

from robolearn.data.videos.collect_config import DEFAULT_ROBOT_TASKS


def demo_clips(task: str, seed: int, count: int, image_size: int) -> tuple[np.ndarray, list[str]]:
    """``count`` videos of ``task`` by actors drawn for episode ``seed`` (randomized scenes): (clips, actors), as
    ``robolearn bench``'s video-demo agents draw them."""
    from robolearn.bench.agents import episode_demos
    from robolearn.bench.run import DVD_DEMO_ACTORS, DVD_DEMO_SEED

    return episode_demos(task, seed, count, DVD_DEMO_ACTORS, DVD_DEMO_SEED, image_size)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from planners.dynamics import SimulatorDynamics, VideoModelDynamics
    from planners.objectives import DVDObjective
    from planners.optimizers import make_optimizer, optimizer_config
    from planners.simulator_rollouts import resolve_workers
    from planners.video import load_model as load_video_model
    from planners.vmpc import VMPCAgent, VMPCConfig, run_episode
    from rewards.dvd import load_model
    from robolearn.bench.stats import wilson
    from sim.envs.desk import DeskEnv

    torch.set_num_threads(args.threads)
    model = load_model(args.checkpoint)
    video_model = None if args.dynamics == "oracle" else load_video_model(args.dynamics)
    opt_cfg = optimizer_config(OmegaConf.load(REPO_ROOT / "conf" / "optimizer" / f"{args.optimizer}.yaml"))
    rows: list[dict[str, Any]] = []
    for variant in args.variants:
        for task in args.tasks:
            env = DeskEnv(task=task, variant=variant, obs_keys=("rgb", "proprio"))
            box = cast(gym.spaces.Box, env.action_space)
            low, high = torch.as_tensor(box.low), torch.as_tensor(box.high)
            for i in range(args.seeds):
                seed = args.seed + i
                demos, actors = demo_clips(task, seed, args.demos, model.config.image_size)
                optimizer = make_optimizer(opt_cfg, low, high, args.horizon, seed=seed)
                dynamics = (
                    SimulatorDynamics(rest_speed=0.005, workers=resolve_workers(0))
                    if video_model is None
                    else VideoModelDynamics(video_model)
                )
                agent = VMPCAgent(
                    dynamics,
                    DVDObjective(model, demos),
                    optimizer,
                    VMPCConfig(horizon=args.horizon, replan_every=args.replan_every, record_predictions=False),
                )
                start = time.perf_counter()
                rec = run_episode(env, agent, seed=seed)
                row = {
                    "task": task,
                    "variant": variant,
                    "seed": seed,
                    "demo_actors": actors,
                    "success": bool(rec.success),
                    "progress": float(rec.progress),
                    "final_reward": float(rec.rewards[-1]),
                    "plan_seconds": float(np.mean([p.seconds for p in rec.plans])),
                    "seconds": time.perf_counter() - start,
                }
                rows.append(row)
                print(
                    f"{variant:>15} {task:<22} seed {seed}: {'SUCCESS' if rec.success else 'failed ':7} progress "
                    f"{rec.progress:+.3f} reward {rec.rewards[-1]:.2f} ({row['plan_seconds']:.2f} s/plan) "
                    f"demos {','.join(actors)}",
                    flush=True,
                )
            env.close()
    print("\n| variant | task | success | 95% interval | mean plan s |\n|---|---|---:|---|---:|")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["variant"], r["task"]), []).append(r)
    for r in rows:  # each variant's total after its tasks
        groups.setdefault((r["variant"], "all"), []).append(r)
    groups = dict(sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] == "all")))
    for (variant, task), rs in groups.items():
        wins = sum(r["success"] for r in rs)
        lo, hi = wilson(wins, len(rs))
        print(
            f"| {variant} | {task} | {wins}/{len(rs)} = {100 * wins / len(rs):.0f}% | [{100 * lo:.0f}, {100 * hi:.0f}] "
            f"| {np.mean([r['plan_seconds'] for r in rs]):.2f} |"
        )
    return {"settings": vars(args), "episodes": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=str(REPO_ROOT / "robolearn" / "checkpoints" / "dvd_reward.pt"))
    parser.add_argument("--tasks", nargs="+", default=list(DEFAULT_ROBOT_TASKS))
    parser.add_argument("--variants", nargs="+", default=["train"])
    parser.add_argument("--seeds", type=int, default=5, help="episodes per task and variant")
    parser.add_argument("--seed", type=int, default=100, help="seed of the first episode (test seeds: 10000)")
    parser.add_argument("--demos", type=int, default=3, help="demo videos per episode")
    parser.add_argument("--dynamics", default="oracle", help="oracle or a video-model checkpoint")
    parser.add_argument("--optimizer", default="cem", choices=("cem", "icem", "mppi"))
    parser.add_argument("--horizon", type=int, default=20)
    parser.add_argument("--replan-every", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    out = run(args)
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
