"""Visual MPC benchmark (issue 5): success on LOReL's six desk tasks, and the time of one replanning step.

For each task, ``--trials`` seeded episodes (seed 0..trials-1, the task's own initial-state
distribution) are planned with the configured reward and dynamics; success is the final-state
criterion (the task achieved at the last of 20 steps), with LOReL's any-step criterion beside it.
The instruction given to the reward is the task's canonical one ("open the drawer").

Usage (from the repository root)::

    # learned reward + learned video model
    python benchmarks/vmpc.py --set reward_checkpoint=runs/lorel/best.pt dynamics_model=runs/video/best.pt
    # learned reward on oracle dynamics; oracle reward on oracle dynamics
    python benchmarks/vmpc.py --set reward_checkpoint=runs/lorel/best.pt dynamics_model=oracle
    python benchmarks/vmpc.py --set objective=oracle dynamics_model=oracle --trials 20
    # only the replanning time (CEM 3 × 200, horizon 10), learned reward + model
    python benchmarks/vmpc.py --set reward_checkpoint=runs/lorel/best.pt dynamics_model=runs/video/best.pt --timing-only

``--set`` takes any ``robolearn plan`` override (Hydra syntax), e.g. ``optimizer=icem agent.replan_every=2``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

#: LOReL's six simulated evaluation tasks
LOREL_TASKS = ("open_drawer", "close_drawer", "turn_faucet_left", "turn_faucet_right", "move_black_mug_right",
               "move_white_mug_down")
TARGET_REPLAN_SECONDS = 0.5


def _timing(settings, repeats: int) -> dict[str, float]:
    """Median wall time of one replanning step (optimizer call incl. rollouts and reward) from a real state."""
    import torch

    from robolearn.plan import build_agent, load_models
    from sim.envs.desk import DeskEnv

    reward_model, video_model = load_models(settings)
    env = DeskEnv(config=settings.env)
    try:
        obs, _ = env.reset(seed=0)
        agent = build_agent(settings, settings.env, 0, reward_model, video_model)
        agent.reset(env, obs)
        times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            agent.optimizer.optimize(agent.objective)
            times.append(time.perf_counter() - start)
        return {"median_s": statistics.median(times[1:]), "min_s": min(times[1:]),
                "threads": torch.get_num_threads()}
    finally:
        env.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=100, help="seeded episodes per task")
    p.add_argument("--tasks", nargs="*", default=list(LOREL_TASKS), help="desk tasks to plan")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="`robolearn plan` overrides")
    p.add_argument("--timing-only", action="store_true", help="only time one replanning step")
    p.add_argument("--repeats", type=int, default=5, help="replanning steps timed (median)")
    p.add_argument("--json", type=Path, default=None, help="write all results here")
    args = p.parse_args()

    import torch

    from robolearn.config import compose_config
    from robolearn.plan import PlanSettings, run_plan
    from sim.tasks.desk import DESK_TASKS

    def settings_for(task: str) -> PlanSettings:
        instruction = DESK_TASKS[task].description.instruction()
        return PlanSettings.from_config(compose_config("plan", [
            f"instruction={instruction}", f"task={task}", "video.path=null", f"episodes={args.trials}", *args.set]))

    torch.set_num_threads(settings_for(args.tasks[0]).torch_threads)
    timing = _timing(settings_for(args.tasks[0]), args.repeats)
    s0 = settings_for(args.tasks[0])
    print(f"one replanning step ({s0.optimizer.get('_target_', '?').rsplit('.', 1)[-1]}, horizon {s0.agent.horizon}, "
          f"{s0.objective} reward, dynamics {s0.dynamics}): median {timing['median_s']:.3f} s "
          f"(target ≤ {TARGET_REPLAN_SECONDS} s) on {timing['threads']} threads")
    results: dict[str, dict] = {}
    if not args.timing_only:
        for task in args.tasks:
            start = time.perf_counter()
            episodes = run_plan(settings_for(task), echo=False)
            final = sum(e["success"] for e in episodes) / len(episodes)
            anyst = sum(e["success_any"] for e in episodes) / len(episodes)
            results[task] = {"final": final, "any": anyst, "episodes": len(episodes),
                             "seconds": time.perf_counter() - start}
            print(f"{task:<22} final {final:6.1%}  any-step {anyst:6.1%}  ({len(episodes)} episodes, "
                  f"{results[task]['seconds']:.0f} s)", flush=True)
        mean_final = statistics.mean(r["final"] for r in results.values())
        mean_any = statistics.mean(r["any"] for r in results.values())
        print(f"{'mean':<22} final {mean_final:6.1%}  any-step {mean_any:6.1%}")
    if args.json is not None:
        args.json.write_text(json.dumps({"overrides": args.set, "timing": timing, "tasks": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
