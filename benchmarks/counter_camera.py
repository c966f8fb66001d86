"""How well head-camera poses of ``robolearn/Counter-v1`` show the drawer opening (issue 7): the table in
docs/benchmarks.md, "A head camera that sees the drawer".

For each pose (height m, forward m, left m, pan °, tilt °) and seeds of the held-out homes, the drawer expert
opens the drawer; then the frame is rendered again with the drawer put back where it started and the arm left
where it is (``sim.envs.counter.drawer_visibility``). The number of 64×64 pixels that differ is what a reward can see of the
opening; the robot's share of the view is what its own links cover.

Usage (from the repository root)::

    python benchmarks/counter_camera.py                       # Counter-v0's pose, the shipped one, and others
    python benchmarks/counter_camera.py --pose 1.2,0.1,0.17,-50,-35 --seeds 8
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

POSES = (
    (1.7, -0.15, 0.0, 0.0, -55.0),  # Counter-v0: behind and above the arm
    (1.15, 0.10, 0.17, -55.0, -32.0),  # Counter-v1 (shipped)
    (1.25, 0.10, 0.17, -45.0, -38.0),
    (1.3, 0.10, 0.17, -60.0, -40.0),
)


def measure(pose: tuple[float, ...], seeds: int) -> tuple[list[int], float]:
    """Changed pixels per seed, and the robot's mean share of the view, for one head pose."""
    from sim.counter_config import manipulation_camera
    from sim.envs.counter import CounterEnv, drawer_visibility

    base = {
        **vars(manipulation_camera()),
        **dict(zip(("camera_height", "camera_forward", "camera_left", "camera_yaw", "camera_pitch"), pose)),
    }
    env = CounterEnv(config={"split": "test", "obs_keys": ["rgb", "segmentation"], "base": base})
    changed, robot = [], []
    try:
        for seed in range(seeds):
            env.reset(seed=seed)
            expert = env.make_expert()
            for _ in range(env.cfg.max_episode_steps):
                env.step(env.expert_action(expert))
            pixels, share = drawer_visibility(env)
            changed.append(pixels)
            robot.append(share)
    finally:
        env.close()
    return changed, float(np.mean(robot))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--pose",
        action="append",
        default=None,
        help="height,forward,left,pan,tilt (m, m, m, degrees, degrees); repeat for several",
    )
    parser.add_argument("--seeds", type=int, default=4, help="held-out episodes per pose")
    args = parser.parse_args()
    poses = [tuple(float(v) for v in p.split(",")) for p in args.pose] if args.pose else POSES
    print("| head camera (height, forward, left, pan, tilt) | pixels the opening changes (mean, min) | robot's share |")
    print("|---|---:|---:|")
    for pose in poses:
        if len(pose) != 5:
            raise SystemExit(f"--pose {pose}: give 5 numbers, height,forward,left,pan,tilt")
        changed, robot = measure(pose, args.seeds)
        print(
            f"| {', '.join(f'{v:g}' for v in pose)} | {np.mean(changed):.0f}, {min(changed)} | {robot:.0%} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
