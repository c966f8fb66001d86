"""What does the planner believe? The scripted expert's plan against the plan the optimizer picks (issue 26, item 2).

For each LOReL task and seed, from the episode's start state:

* the scripted expert is run in the simulator (its actions and whether it succeeds), and the reward scores the
  real final frame;
* the same expert actions are rolled out open-loop in the dynamics the planner uses, and the reward scores the
  predicted frames as the planner would (``VMPCAgent.objective``): the expert plan's *predicted* value;
* the optimizer's first call from that state gives the plan the planner would pick, with its predicted value;
* with ``--smooth``, both plans' values are also averaged over random perturbations of their actions (Gaussian,
  the given stds as fractions of the action range's half-width): is the optimizer's pick a narrow exploit?

If the expert's plan is predicted to succeed, but the optimizer finds plans predicted to succeed *more*, the planner
is exploiting errors of the model or the reward. Prints one line per task and writes every row to ``--out``.

Usage (from the repository root)::

    python benchmarks/expert_plan_value.py --seeds 8                     # shipped models, ~3 min
    python benchmarks/expert_plan_value.py --seeds 6 --smooth 0.1 0.2 0.3
    python benchmarks/expert_plan_value.py --set dynamics_model=runs/video/best.pt reward_checkpoint=runs/lorel/best.pt
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np
import torch

from robolearn.bench.run import LOREL_TASKS

#: the shipped models, as the scaling curve's reference point plans with
DEFAULT_SET = ("reward_checkpoint=${shipped:lorel_reward.pt}", "dynamics_model=${shipped:video_model.pt}")
#: perturbed copies of a plan per smoothed value
SMOOTH_SAMPLES = 32


def task_rows(
    task: str, seeds: Sequence[int], overrides: Sequence[str], smooth: Sequence[float]
) -> list[dict[str, Any]]:
    """One row per seed: the expert's real outcome, its plan's predicted value, the optimizer's pick's value."""
    from benchmarks.vmpc import settings_for  # the planning benchmark's settings: both plan alike
    from robolearn.plan import build_agent, load_models
    from sim.envs.desk import DeskEnv

    s = settings_for(task, list(overrides))
    env_cfg = s.env_for(task)
    models = load_models(s)
    env = DeskEnv(config=env_cfg)
    steps = env_cfg.max_episode_steps
    rows = []
    try:
        for seed in seeds:
            obs, _ = env.reset(seed=seed)
            expert, actions, info = env.make_expert(), [], {}
            final = obs
            for _ in range(steps):
                actions.append(env.expert_action(expert))
                final, _, terminated, truncated, info = env.step(actions[-1])
                if terminated or truncated:
                    break
            agent = build_agent(s, env_cfg, seed, *models)
            obs, _ = env.reset(seed=seed)  # the planner's start state again
            agent.reset(env, obs, episode_steps=steps)
            plan = torch.zeros(s.agent.horizon, env.action_space.shape[0])
            n = min(len(actions), s.agent.horizon)
            plan[:n] = torch.from_numpy(np.stack(actions[:n]))
            chosen = agent.optimizer.optimize(agent.objective)
            row: dict[str, Any] = {
                "seed": seed,
                "expert_success": bool(info.get("success")),
                "expert_real": agent.real_reward(env, final),
                "expert_predicted": float(agent.objective(plan[None])[0]),
                "chosen_predicted": float(chosen.value),
                "chosen_best_sample": float(chosen.best_value),
            }
            generator = torch.Generator().manual_seed(seed)
            for std in smooth:
                noise = torch.randn((SMOOTH_SAMPLES, *plan.shape), generator=generator) * std
                low, high = agent.optimizer.action_low, agent.optimizer.action_high
                for name, actions_ in (("expert", plan), ("chosen", chosen.actions)):
                    perturbed = torch.maximum(torch.minimum(actions_[None] + noise, high), low)
                    row[f"{name}_smoothed_{std:g}"] = float(agent.objective(perturbed).mean())
            rows.append(row)
    finally:
        env.close()
    return rows


def summary_line(task: str, rows: Sequence[dict[str, Any]], smooth: Sequence[float]) -> str:
    mean = lambda key: statistics.mean(r[key] for r in rows)  # noqa: E731
    n = len(rows)
    line = (
        f"{task:22s} expert succeeds {sum(r['expert_success'] for r in rows)}/{n}, real {mean('expert_real'):.2f}, "
        f"predicted {mean('expert_predicted'):.2f} | optimizer's pick predicted {mean('chosen_predicted'):.2f} | "
        f"expert ≥ pick in {sum(r['expert_predicted'] >= r['chosen_predicted'] for r in rows)}/{n}"
    )
    for std in smooth:
        e, c = f"expert_smoothed_{std:g}", f"chosen_smoothed_{std:g}"
        line += f"\n{'':22s} perturbed by {std:g}: expert {mean(e):.2f}, pick {mean(c):.2f}, expert higher in "
        line += f"{sum(r[e] > r[c] for r in rows)}/{n}"
    return line


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=8, help="seeds per task")
    p.add_argument("--first-seed", type=int, default=2000, help="the scaling curve's validation seeds")
    p.add_argument("--tasks", nargs="+", default=list(LOREL_TASKS))
    p.add_argument("--smooth", nargs="*", type=float, default=[], help="perturbation stds (fractions of half-range)")
    p.add_argument("--set", nargs="*", default=list(DEFAULT_SET), metavar="KEY=VALUE", help="robolearn plan overrides")
    p.add_argument("--out", type=Path, default=None, help="write every row here (JSON)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    results = {}
    for task in args.tasks:
        results[task] = task_rows(task, seeds, args.set, args.smooth)
        print(summary_line(task, results[task], args.smooth), flush=True)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"set": args.set, "rows": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
