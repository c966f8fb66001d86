"""How fast, and how faithful, the oracle dynamics (the simulator as the planner's model) are, in one run.

Times one replanning step (``robolearn plan``'s optimizer on the oracle reward with dynamics_model=oracle, from
the first state of an episode; the median of ``--repeats`` steps) for each configuration, the configurations
taking turns ``--rounds`` times so that they share the machine's speed of the moment:

* ``before``: one process, one world per real step, no sleeping bodies (the oracle of issue 24's first day);
* ``rest``: one process, the default chunks (a world rebuilt per ``oracle_chunk`` candidates), bodies at rest sleep;
* ``workers``: the chunks shared over the cores (oracle_workers=0), no sleeping;
* ``both``: the defaults.

Then the fidelity of what changed: at real states along a random episode, ``--candidates`` random candidate
sequences are rolled out with each setting and in worlds rebuilt per candidate (bit-exact), and the mean absolute
difference of their oracle rewards and the fraction of candidate pairs ordered alike are printed.

    python benchmarks/oracle_speed.py                        # CEM 3 × 200, horizon 10 and 20
    python benchmarks/oracle_speed.py --set optimizer=icem   # any `robolearn plan` override
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np
import torch

CONFIGS = {
    "before": ["oracle_workers=1", "oracle_rest_speed=0", "oracle_chunk=1000000000"],
    "rest": ["oracle_workers=1"],
    "workers": ["oracle_workers=0", "oracle_rest_speed=0"],
    "both": [],
}


def settings(task: str, horizon: int, overrides: list[str]) -> Any:
    from robolearn.config import compose_config
    from robolearn.plan import PlanSettings
    from sim.tasks.desk import DESK_TASKS

    instruction = DESK_TASKS[task].description.instruction()
    base = [f"instruction={instruction}", f"task={task}", "video.path=null", "objective=oracle"]
    base += ["dynamics_model=oracle", "optimizer=cem", f"agent.horizon={horizon}"]
    return PlanSettings.from_config(compose_config("plan", base + overrides))


def replan_seconds(s: Any, repeats: int, after: int) -> float:
    """Median wall time (s) of one replanning step in seed 0's episode after ``after`` steps of the task's
    scripted expert (0: the first state, the mugs still rocking from the reset; later, the arm on its way)."""
    from robolearn.plan import build_agent
    from sim.envs.desk import DeskEnv

    env_cfg = s.env_for(s.task)
    env = DeskEnv(config=env_cfg)
    try:
        obs, _ = env.reset(seed=0)
        expert = env.make_expert()
        for _ in range(after):
            obs, *_ = env.step(env.expert_action(expert))
        agent = build_agent(s, env_cfg, 0, None, None)
        agent.reset(env, obs)
        agent.optimizer.optimize(agent.objective)  # warm-up: the first call starts the worker processes
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            agent.optimizer.optimize(agent.objective)
            times.append(time.perf_counter() - start)
        agent.dynamics.close()
        return statistics.median(times)
    finally:
        env.close()


def fidelity(
    task: str, settings_: dict[str, tuple[int, float]], candidates: int, states: int, seed: int
) -> dict[str, tuple[float, float]]:
    """Per setting (chunk, rest speed): the mean |oracle reward − a rebuilt world's| over candidates and states,
    and the fraction of candidate pairs it orders as the rebuilt worlds do (what the optimizer acts on)."""
    from planners.simulator_rollouts import RolloutWorld
    from sim.envs.desk import DeskEnv

    env = DeskEnv(task=task)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    worlds = {name: RolloutWorld(env.cfg, chunk, rest) for name, (chunk, rest) in settings_.items()}
    exact = RolloutWorld(env.cfg, chunk=1)
    errors: dict[str, list[float]] = {name: [] for name in worlds}
    agree: dict[str, list[float]] = {name: [] for name in worlds}
    upper = np.triu_indices(candidates, 1)
    for _ in range(states):
        acts = rng.uniform(-1.0, 1.0, (candidates, 10, env.action_space.shape[0]))
        state = env.get_state()
        rewards = {}
        for name, world in [("exact", exact), *worlds.items()]:
            world.observe(state)
            _, dense = world.rollout(acts, [9], frames=False, states=True)
            assert dense is not None
            rewards[name] = dense[:, 0].astype(np.float64)
        ref = np.sign(rewards["exact"][:, None] - rewards["exact"][None, :])[upper]
        for name in worlds:
            errors[name].append(float(np.abs(rewards[name] - rewards["exact"]).mean()))
            got = np.sign(rewards[name][:, None] - rewards[name][None, :])[upper]
            agree[name].append(float((got == ref).mean()))
        for _ in range(3):  # the next real state: three random real steps on
            env.step(rng.uniform(-1.0, 1.0, env.action_space.shape[0]))
    for w in [exact, *worlds.values()]:
        w.close()
    env.close()
    return {name: (float(np.mean(errors[name])), float(np.mean(agree[name]))) for name in worlds}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", default="open_drawer", help="desk task of the episode timed")
    p.add_argument("--horizons", type=int, nargs="+", default=[10, 20], help="planning horizons timed")
    p.add_argument("--repeats", type=int, default=3, help="replanning steps timed per configuration and round")
    p.add_argument("--rounds", type=int, default=2, help="turns each configuration takes")
    p.add_argument("--after", type=int, nargs="+", default=[0, 4], help="expert steps before the timed state(s)")
    p.add_argument("--candidates", type=int, default=30, help="candidates per state in the fidelity check (0: skip)")
    p.add_argument("--states", type=int, default=6, help="real states in the fidelity check")
    p.add_argument("--set", nargs="*", default=[], help="`robolearn plan` overrides for every configuration")
    args = p.parse_args()
    if min(args.repeats, args.rounds, args.states) < 1 or args.candidates < 0 or min(args.horizons) < 1:
        p.error("--repeats, --rounds, --states and --horizons must be ≥ 1, --candidates ≥ 0")
    torch.set_num_threads(1)  # the optimizer's tensors are tiny; the cores are the simulator's
    rest = settings(args.task, args.horizons[0], args.set).oracle_rest_speed
    for horizon in args.horizons:
        runs: dict[tuple[str, int], list[float]] = {(n, a): [] for n in CONFIGS for a in args.after}
        plans = {name: settings(args.task, horizon, args.set + extra) for name, extra in CONFIGS.items()}
        for _ in range(args.rounds):
            for name, s in plans.items():
                for after in args.after:
                    runs[name, after].append(replan_seconds(s, args.repeats, after))
        s = plans["both"]
        print(
            f"\none replanning step, {type(s.optimizer).__name__} {s.optimizer.iterations} × "
            f"{s.optimizer.population}, horizon {horizon}, oracle reward, task {args.task}, seed 0 "
            f"(median of {args.repeats} steps, best of {args.rounds} rounds), s (× before):"
        )
        print(
            "| configuration | workers | chunk | rest speed | "
            + " | ".join(f"after {a} steps" for a in args.after)
            + " |"
        )
        print("|---|---:|---:|---:|" + "---:|" * len(args.after))
        for name in CONFIGS:
            cells = []
            for after in args.after:
                t = min(runs[name, after])
                cells.append(f"{t:.3f} ({min(runs['before', after]) / t:.2f}×)")
            pl = plans[name]
            chunk = "per step" if pl.oracle_chunk >= 10**9 else pl.oracle_chunk
            print(f"| {name} | {pl.oracle_workers} | {chunk} | {pl.oracle_rest_speed:g} | " + " | ".join(cells) + " |")
    if args.candidates:
        chunk = plans["both"].oracle_chunk
        settings_ = {"one world per replanning step (before)": (10**9, 0.0), f"chunk {chunk}": (chunk, 0.0)}
        settings_ |= {f"chunk {chunk}, rest {r:g} m/s": (chunk, r) for r in sorted({rest, 0.02, 0.1} - {0.0})}
        errs = fidelity(args.task, settings_, args.candidates, args.states, seed=1)
        print(
            f"\nfidelity against worlds rebuilt per candidate (bit-exact), {args.candidates} random candidates "
            f"(horizon 10) at {args.states} states of a random episode:"
        )
        print("| setting | mean abs oracle reward difference | candidate pairs ordered alike |")
        print("|---|---:|---:|")
        for name, (e, a) in errs.items():
            print(f"| {name} | {e:.4f} | {a:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
