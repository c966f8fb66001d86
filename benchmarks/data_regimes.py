"""LOReL's own protocol: VMPC + LOReL against LCBC in two data regimes (issue 26, item 3).

LOReL's offline data was random actions only; robolearn's default data (``robolearn collect``'s exploration mix)
also has reach-and-push and noisy scripted-expert segments. This script makes the random-only regime with exactly
the commands that made the shipped models (robolearn/checkpoints/README.md, steps 1–6; only ``data=`` differs) and
benchmarks both agents of both regimes on the same seeds:

* stage ``data``: 50,000 episodes of i.i.d. uniform actions (``exploration.uniform=1``, the other modes 0) with
  proprioception, from seed 200,000 (no start state shared with the default data, collected from seed 0);
* stage ``models``: the LOReL reward from scratch (12,000 steps on 20,000 episodes), the video model (2,600 steps),
  the reward fine-tuned on that video model's predictions (4,000 steps), one round of data aggregation (the planner
  recorded on 50 seeds per task from 1,000, the reward fine-tuned on them, 1,500 steps) and the LCBC baseline
  (3,000 steps on the same 20,000 episodes), in ``--out``/uniform/;
* stage ``bench``: one ``robolearn bench`` on the training layout, ``--trials`` seeds per task from 0 (the final
  table's seeds, never used to choose anything), of four agents: ``lcbc_uniform`` and ``vmpc_lorel_uniform`` (the
  models above, named in conf/bench/desk.yaml), then the shipped ``lcbc`` and ``vmpc_lorel`` (the default regime),
  in ``--out``/bench (its table, CSV and figure show all four);
* stage ``report``: ``--out``/results.md and results.json, one row per agent and regime with its 95% interval, and
  VMPC's lead over LCBC in each regime with the interval of the difference.

Every stage resumes (collection, training and the bench each pick up where they stopped); rerun the same command.
Wall times of each step on the 2 cores: docs/benchmarks.md, "Two data regimes".

Usage (from the repository root)::

    python benchmarks/data_regimes.py                    # everything left, ~2.5 h on 2 cores
    python benchmarks/data_regimes.py --stage bench --trials 100
    python benchmarks/data_regimes.py --stage report
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.video_scaling import robolearn
from benchmarks.video_scaling import run as run_logged
from robolearn.bench.run import UNIFORM_RUNS, read_episodes
from robolearn.bench.stats import success_table, wilson

#: LOReL's data: every episode's actions i.i.d. uniform in [-1, 1]
UNIFORM_EXPLORATION = (
    "exploration.uniform=1",
    "exploration.correlated=0",
    "exploration.reach=0",
    "exploration.expert_mix=0",
)
#: the default data's first seed is 0; this regime's episodes start far from it
UNIFORM_SEED = 200_000
EPISODES = 50_000
#: the recipe of the shipped models (robolearn/checkpoints/README.md), shared by both regimes
TRAIN_EPISODES = "max_episodes=20000"
OPP_NEGATIVES = (
    "negatives.other_episode=0.15",
    "negatives.reversed=0.1",
    "negatives.opposite=0.4",
    "negatives.incomplete=0.15",
)
#: seeds of the aggregation round's recorded episodes (the bench evaluates 0 .. trials - 1)
AGGREGATION_FIRST_SEED = 1000
AGGREGATION_TRIALS = 50
#: (agent name, regime, kind) of the bench rows, the new regime first
AGENTS = (
    ("lcbc_uniform", "random actions only (LOReL's)", "LCBC"),
    ("vmpc_lorel_uniform", "random actions only (LOReL's)", "VMPC + LOReL"),
    ("lcbc", "default mix", "LCBC"),
    ("vmpc_lorel", "default mix", "VMPC + LOReL"),
)


def run(cmd: Sequence[str], log: Path, timings: Path, name: str) -> None:
    """``video_scaling.run`` (output appended to ``log``, exit on failure), its wall time added under ``name`` in
    ``timings`` (JSON, minutes summed over resumes)."""
    start = time.monotonic()
    run_logged(cmd, log)
    times: dict[str, float] = json.loads(timings.read_text()) if timings.exists() else {}
    times[name] = round(times.get(name, 0.0) + (time.monotonic() - start) / 60, 2)
    timings.write_text(json.dumps(times, indent=1))


def runs() -> dict[str, Path]:
    """The uniform regime's run folders; the final ones are where the bench's ``_uniform`` agents read them."""
    d = REPO_ROOT / "runs" / "regimes" / "uniform"
    return {
        "lorel_base": d / "lorel_base",
        "video": REPO_ROOT / Path(UNIFORM_RUNS["video"]).parent,
        "lorel_opp": d / "lorel_opp",
        "planned": d / "planned_r1",
        "bench_r1": d / "bench_r1",
        "lorel": REPO_ROOT / Path(UNIFORM_RUNS["reward"]).parent,
        "lcbc": REPO_ROOT / Path(UNIFORM_RUNS["policy"]).parent,
    }


def collect(args: argparse.Namespace) -> None:
    cmd = [*robolearn(), "collect", f"out={args.data}", f"episodes={EPISODES}", f"seed={UNIFORM_SEED}"]
    cmd += ["workers=2", "progress_bar=false", "env.obs_keys=[rgb,proprio]", *UNIFORM_EXPLORATION]
    run(cmd, args.out / "logs" / "collect.log", args.out / "timings.json", "collect")


def train_models(args: argparse.Namespace) -> None:
    r, logs, timings = runs(), args.out / "logs", args.out / "timings.json"
    data = f"data={args.data}"
    quiet = "progress_bar=false"
    steps = [
        ("lorel_base", [*robolearn(), "train", data, f"out={r['lorel_base']}", TRAIN_EPISODES, quiet]),
        (
            "video",
            [*robolearn(), "train", "dynamics", data, f"out={r['video']}", "steps=2600", "eval_every=250"]
            + ["checkpoint_every=250", "dynamics.proprio_dim=14", quiet],
        ),
        (
            "lorel_opp",
            [*robolearn(), "train", data, f"out={r['lorel_opp']}", TRAIN_EPISODES]
            + [
                f"init_from={r['lorel_base'] / 'best.pt'}",
                f"predicted_frames.video_checkpoint={r['video'] / 'best.pt'}",
            ]
            + [*OPP_NEGATIVES, "steps=4000", "lr=3e-4", "warmup_steps=100", quiet],
        ),
    ]
    for name, cmd in steps:
        run(cmd, logs / f"{name}.log", timings, name)  # a finished run returns at once
    run(  # resumes from its episodes.jsonl (a finished one returns at once); the recorded folder grows with it
        [sys.executable, "benchmarks/vmpc.py", "--trials", str(AGGREGATION_TRIALS), "--first-seed"]
        + [str(AGGREGATION_FIRST_SEED), "--workers", "2", "--out", str(r["bench_r1"]), "--set"]
        + [f"reward_checkpoint={r['lorel_opp'] / 'best.pt'}", f"dynamics_model={r['video'] / 'best.pt'}"]
        + [f"record={r['planned']}"],
        logs / "bench_r1.log",
        timings,
        "aggregation_plan",
    )
    run(
        [*robolearn(), "train", data, f"out={r['lorel']}", TRAIN_EPISODES, f"init_from={r['lorel_opp'] / 'best.pt'}"]
        + [f"predicted_frames.video_checkpoint={r['video'] / 'best.pt'}", *OPP_NEGATIVES, "negatives.attempted=0.2"]
        + [f"extra_data=[{r['planned']}]", "extra_fraction=0.3", "steps=1500", "lr=3e-4", "warmup_steps=100", quiet],
        logs / "lorel.log",
        timings,
        "lorel_aggregated",
    )
    run(
        [*robolearn(), "train", "policy", data, f"out={r['lcbc']}", TRAIN_EPISODES, "steps=3000"]
        + ["policy.proprio_dim=14", quiet],
        logs / "lcbc.log",
        timings,
        "lcbc",
    )


def bench(args: argparse.Namespace) -> None:
    # one bench of the four agents, so that its table, CSV and figure show both regimes side by side; it resumes
    # episode by episode, the new regime's agents first
    run(
        [*robolearn(), "bench", f"agents=[{','.join(a for a, _, _ in AGENTS)}]", "variants=[train]"]
        + [f"trials={args.trials}", f"out={args.out / 'bench'}", "workers=2", "progress_bar=false"],
        args.out / "logs" / "bench.log",
        args.out / "timings.json",
        "bench",
    )


def difference_interval(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """p1 − p2 and its 95% interval (Newcombe's hybrid score method from the two Wilson intervals), in points."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return 100 * d, 100 * lo, 100 * hi


def report(args: argparse.Namespace) -> dict[str, Any]:
    """results.json and results.md in ``--out`` from the bench's episodes (the agents it has so far)."""
    episodes = read_episodes(args.out / "bench" / "episodes.jsonl")
    rows = [r for r in episodes.values() if r["variant"] == "train" and r["seed"] < args.trials]
    stats = success_table(rows, ("agent", "task"), pool_over="task")
    tasks = list(dict.fromkeys(r["task"] for r in stats if r["task"] != "mean"))
    table = []
    for agent, regime, kind in AGENTS:
        per = {r["task"]: r for r in stats if r["agent"] == agent}
        if "mean" not in per:
            continue
        k = sum(round(r["final"] * r["episodes"]) for t, r in per.items() if t != "mean")
        n = per["mean"]["episodes"]
        table.append(
            {
                "agent": agent,
                "regime": regime,
                "kind": kind,
                "per_task": {t: 100 * r["final"] for t, r in per.items() if t != "mean"},
                "success": 100 * k / n,
                "ci": [100 * x for x in per["mean"]["final_ci"]],  # Wilson, over the pooled episodes
                "k": k,
                "n": n,
            }
        )
    by_agent = {row["agent"]: row for row in table}
    leads: list[dict[str, Any]] = []
    for vmpc, lcbc, regime in (
        ("vmpc_lorel_uniform", "lcbc_uniform", AGENTS[0][1]),
        ("vmpc_lorel", "lcbc", AGENTS[2][1]),
    ):
        if vmpc in by_agent and lcbc in by_agent:
            v, c = by_agent[vmpc], by_agent[lcbc]
            d, lo, hi = difference_interval(v["k"], v["n"], c["k"], c["n"])
            leads.append({"regime": regime, "lead": d, "ci": [lo, hi]})
    results = {"trials": args.trials, "tasks": tasks, "rows": table, "vmpc_lead": leads}
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    head = "| data | agent | " + " | ".join(t.replace("_", " ") for t in tasks) + " | mean final [95% CI] | n |"
    lines = [head, "|---|---|" + "---:|" * (len(tasks) + 2)]
    for row in table:
        cells = " | ".join(f"{row['per_task'].get(t, float('nan')):.0f}" for t in tasks)
        lo, hi = row["ci"]
        lines.append(
            f"| {row['regime']} | {row['kind']} | {cells} | **{row['success']:.1f}%** [{lo:.0f}, {hi:.0f}] | {row['n']} |"
        )
    lines += ["", "| data | VMPC + LOReL − LCBC (points) [95% CI] |", "|---|---:|"]
    lines += [f"| {x['regime']} | **{x['lead']:+.1f}** [{x['ci'][0]:+.1f}, {x['ci'][1]:+.1f}] |" for x in leads]
    (args.out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines), flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stage", choices=["data", "models", "bench", "all", "report"], default="all")
    p.add_argument("--data", type=Path, default=Path("data/desk_uniform"), help="the random-action dataset folder")
    p.add_argument("--out", type=Path, default=Path("runs/regimes"))
    p.add_argument("--trials", type=int, default=100, help="bench seeds per task, from 0 (the final table's)")
    args = p.parse_args(argv)
    args.out = args.out if args.out.is_absolute() else REPO_ROOT / args.out
    args.out.mkdir(parents=True, exist_ok=True)
    if args.stage in ("data", "all"):
        collect(args)
    if args.stage in ("models", "all"):
        train_models(args)
    if args.stage in ("bench", "all"):
        bench(args)
    report(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
