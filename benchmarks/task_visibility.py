"""How visible is each task's success in the camera image? A pixel-based reward cannot judge a change it
cannot see, and a planner will then satisfy it by occluding the object instead of changing it.

For each task, the scripted expert runs from ``--episodes`` seeded initial states until the task first
succeeds (the change just past its success threshold). Counted: pixels of the main camera image whose
colour changed by more than ``--delta`` (out of 255, any channel) between the first frame and that
frame, with the robot's pixels (instance ``panda`` in the segmentation) masked out in both frames, i.e.
the change the objects alone show.

Usage (from the repository root)::

    python benchmarks/task_visibility.py                       # LOReL's six tasks, 64 × 64
    python benchmarks/task_visibility.py --size 128 --tasks open_drawer turn_faucet_left
    python benchmarks/task_visibility.py --set "cameras.0.eye=[0.9,0.0,1.9]"   # try another viewpoint
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

LOREL_TASKS = (
    "open_drawer",
    "close_drawer",
    "turn_faucet_left",
    "turn_faucet_right",
    "move_black_mug_right",
    "move_white_mug_down",
)
ROBOT_INSTANCE = "panda"


def visible_change(task: str, seed: int, size: int, delta: int, overrides: list[str]) -> tuple[int, bool]:
    """(object-only changed pixels at the expert's first success, whether it succeeded)."""
    from robolearn.config import compose_config, env_config
    from sim.envs.desk import DeskEnv

    settings = [f"task={task}", f"width={size}", f"height={size}", "obs_keys=[rgb,segmentation]", *overrides]
    env = DeskEnv(config=env_config(compose_config("rollout", [f"env.{o}" for o in settings])["env"]))
    try:
        obs, _ = env.reset(seed=seed)
        scene = env.unwrapped.scene
        robot = [i for i, name in enumerate(scene.instance_names) if name == ROBOT_INSTANCE]
        first_rgb, first_seg = obs["rgb"].astype(np.int16), obs["segmentation"]
        expert = env.unwrapped.task.make_expert()
        success = False
        for _ in range(env.unwrapped.cfg.max_episode_steps):
            obs, _, _, _, info = env.step(env.unwrapped.expert_action(expert))
            if info["success"]:
                success = True
                break
        objects_only = ~np.isin(first_seg, robot) & ~np.isin(obs["segmentation"], robot)
        changed = (np.abs(obs["rgb"].astype(np.int16) - first_rgb).max(axis=-1) > delta) & objects_only
        return int(changed.sum()), success
    finally:
        env.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", nargs="*", default=list(LOREL_TASKS), help="desk tasks")
    p.add_argument("--episodes", type=int, default=10, help="seeded initial states per task")
    p.add_argument("--size", type=int, default=64, help="image side (pixels)")
    p.add_argument("--delta", type=int, default=24, help="colour change (0-255) that counts as changed")
    p.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="env config overrides (Hydra syntax, keys of conf/env/desk.yaml)",
    )
    args = p.parse_args()
    print(
        f"object-only pixels changed at the expert's first success ({args.size}×{args.size}, "
        f"Δ > {args.delta}/255, robot masked), {args.episodes} seeds per task"
    )
    print(f"{'task':<22} {'min':>5} {'median':>7} {'max':>5}  expert success")
    for task in args.tasks:
        results = [visible_change(task, seed, args.size, args.delta, args.set) for seed in range(args.episodes)]
        counts = [c for c, _ in results]
        print(
            f"{task:<22} {min(counts):>5} {statistics.median(counts):>7.0f} {max(counts):>5}  "
            f"{sum(ok for _, ok in results)}/{len(results)}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
