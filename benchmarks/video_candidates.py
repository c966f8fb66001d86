"""Changes to the video model's recipe, each measured against the scaling curve's "s" point of the same budget
(issue 26, item 2).

A candidate is a set of ``robolearn train dynamics`` overrides on top of the shipped recipe (``CANDIDATES``). Each
is trained for ``--minutes`` of its own throughput on the 2 cores (measured on the idle machine once, as the
scaling curve's sizes are: ``rates.json``), then measured exactly as a point of the curve
(``benchmarks/video_scaling.py``): held-out PSNR per step, the shipped LOReL reward fine-tuned on the candidate's
own predictions (the "paired" reward), and planning success on the 180 validation episodes (30 seeds per task
from 2,000; the final table uses 0–99).

The report (``--publish``: results.json, results.md) sets each candidate beside the "s" point of the same budget
from the published scaling curve (``docs/results/video_scaling/results.json``: the same recipe without the
change, the same seeds) with the difference in success and its 95% interval, per task, the mean plan value
(what the planner believed) and the mean real final reward.

Every stage resumes and, as the scaling curve, can move machines: a run stopped by ``--hours`` leaves its
``last.pt`` in ``--publish``/in_progress/ for the next machine (after recollecting the same seeded dataset).

Usage (from the repository root, after ``robolearn collect out=data/desk episodes=50000 workers=2
'env.obs_keys=[rgb,proprio]'``)::

    python benchmarks/video_candidates.py --candidates objects --minutes 20     # ~50 min on 2 cores
    python benchmarks/video_candidates.py --stage report
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.data_regimes import difference_interval
from benchmarks.video_scaling import (
    budget_steps,
    finished,
    known_rates,
    measure,
    measure_rate,
    plan_summary,
    prediction_quality,
    train_run,
)

#: the candidates: what each tests, its training overrides of the shipped recipe ("s" size) and its planning
#: overrides (``robolearn plan`` settings of the benchmark)
CANDIDATES: Mapping[str, tuple[str, Sequence[str], Sequence[str]]] = {
    "objects": (
        "a training-only head predicts every object's change from each predicted latent (the simulator's object "
        "state): the latent must carry whether the hand really moved the handle or the mug",
        ("dynamics.object_state_dim=10",),
        (),
    ),
    "latent16": (
        "a 16×16 latent grid (two encoder levels instead of three): finer contact geometry, more compute per step",
        ("dynamics.encoder_channels=[32,64]",),
        (),
    ),
    "stochastic2": (
        "a stochastic model (a per-step latent from a learned prior) planned against two fixed draws of it, the "
        "worse reward counting: a plan must succeed whether or not the uncertain contact happens (~1 s per step)",
        ("dynamics.stochastic=true",),
        ("dynamics_samples=2",),
    ),
}
#: the published scaling curve whose "s" points are the baselines
SCALING = REPO_ROOT / "docs" / "results" / "video_scaling" / "results.json"


def point_dir(out: Path, name: str, minutes: float) -> Path:
    return out / f"{name}_{minutes:g}min"


def baseline_row(minutes: float) -> dict[str, Any]:
    """The scaling curve's "s" point at ``minutes`` (empty when it has none)."""
    if not SCALING.exists():
        return {}
    rows = json.loads(SCALING.read_text())["points"]
    return next((r for r in rows if r["size"] == "s" and r["minutes"] == round(minutes, 1)), {})


def counts(row: Mapping[str, Any], prefix: str) -> tuple[int, int]:
    """(successes, episodes) of a row's planning summary (``prefix`` "paired_" for the paired reward)."""
    n = int(row.get(f"{prefix}episodes", 0))
    return round(row.get(f"{prefix}success", 0.0) * n), n


def row_for(args: argparse.Namespace, rates: Mapping[str, float], name: str, minutes: float) -> dict[str, Any]:
    """A finished candidate's row: budget, held-out PSNR and paired planning (empty while it is under way)."""
    d = point_dir(args.out, name, minutes)
    if name not in rates or not finished(d, budget_steps(rates, name, minutes)):
        return {}
    summary = json.loads((d / "summary.json").read_text())
    row: dict[str, Any] = {
        "candidate": name,
        "overrides": list(CANDIDATES[name][1]),
        "plan_overrides": list(CANDIDATES[name][2]),
        "minutes": round(minutes, 1),
        "parameters": summary["parameters"],
        "steps": summary["step"],
        "steps_per_second": rates[name],
    }
    row.update(prediction_quality(d))
    row.update({f"paired_{k}": v for k, v in plan_summary(d / "plan_paired" / "episodes.jsonl").items()})
    base = baseline_row(minutes)
    if "paired_success" in row and "paired_success" in base:
        k1, n1 = counts(row, "paired_")
        k2, n2 = counts(base, "paired_")
        d_pts, lo, hi = difference_interval(k1, n1, k2, n2)
        row["baseline"] = {key: base.get(key) for key in ("steps", "psnr_changed", "paired_success", "paired_per_task")}
        row["difference_points"] = [d_pts, lo, hi]
    episodes = d / "plan_paired" / "episodes.jsonl"
    if episodes.exists():  # the episodes behind the row, kept beside it
        (args.publish / "episodes").mkdir(parents=True, exist_ok=True)
        (args.publish / "episodes" / f"{d.name}.jsonl").write_text(episodes.read_text())
    return row


def report(args: argparse.Namespace, rates: Mapping[str, float]) -> None:
    """results.json and results.md from every finished candidate (rows of earlier machines kept)."""
    path = args.publish / "results.json"
    earlier = json.loads(path.read_text())["rows"] if path.exists() else []
    rows = [r for name in CANDIDATES for minutes in args.minutes if (r := row_for(args, rates, name, minutes))]
    done = {(r["candidate"], r["minutes"]) for r in rows}
    rows += [r for r in earlier if (r["candidate"], r["minutes"]) not in done]
    rows.sort(key=lambda r: (list(CANDIDATES).index(r["candidate"]), r["minutes"]))
    args.publish.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"rates_steps_per_second": dict(rates), "rows": rows}, indent=1))
    tasks = ("open_drawer", "close_drawer", "turn_faucet_left", "turn_faucet_right", "move_black_mug_right")
    tasks += ("move_white_mug_down",)
    lines = [
        "| video model | minutes | steps | changed-pixel PSNR (dB) | "
        + " | ".join(t.replace("_", " ") for t in tasks)
        + " | success, paired reward [95% CI] | vs s [95% CI] (points) | plan value | real final reward |",
        "|---|---:|---:|---:|" + "---:|" * len(tasks) + "---:|---:|---:|---:|",
    ]
    for r in rows:
        base = r.get("baseline") or {}
        if base:
            per = base.get("paired_per_task") or {}
            lines.append(
                f"| s (scaling curve) | {r['minutes']:g} | {base['steps']} | {base['psnr_changed']:.2f} | "
                + " | ".join(per.get(t, "") for t in tasks)
                + f" | {100 * base['paired_success']:.1f}% | | | |"
            )
        if "paired_success" not in r:
            continue
        per = r["paired_per_task"]
        lo, hi = r["paired_success_interval"]
        diff = r.get("difference_points")
        lines.append(
            f"| s + {r['candidate']} | {r['minutes']:g} | {r['steps']} | {r.get('psnr_changed') or 0:.2f} | "
            + " | ".join(per.get(t, "") for t in tasks)
            + f" | **{100 * r['paired_success']:.1f}%** [{100 * lo:.0f}, {100 * hi:.0f}] | "
            + (f"{diff[0]:+.1f} [{diff[1]:+.1f}, {diff[2]:+.1f}]" if diff else "")
            + f" | {r['paired_plan_value']:.2f} | {r['paired_final_reward']:.2f} |"
        )
    (args.publish / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stage", choices=["all", "report"], default="all")
    p.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    p.add_argument("--data", default="data/desk", help="dataset from robolearn collect (with proprioception)")
    p.add_argument("--out", type=Path, default=Path("runs/candidates"), help="the runs (checkpoints, logs, episodes)")
    p.add_argument("--publish", type=Path, default=Path("docs/results/video_candidates"))
    p.add_argument("--minutes", nargs="+", type=float, default=[20.0], help="training budgets (minutes on 2 cores)")
    p.add_argument("--trials", type=int, default=30, help="planning seeds per task")
    p.add_argument("--first-seed", type=int, default=2000, help="first validation seed (not the table's 0–99)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--hours", type=float, default=None, help="start no new work after this much wall time")
    p.add_argument("--force", action="store_true", help="measure throughput even on a busy machine")
    args = p.parse_args(argv)
    args.out = args.out if args.out.is_absolute() else REPO_ROOT / args.out
    args.publish = args.publish if args.publish.is_absolute() else REPO_ROOT / args.publish
    args.reward = "paired"  # what video_scaling.measure reads: the reward fine-tuned on the candidate's predictions
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    rates = known_rates(args)
    if args.stage == "all":
        for minutes in sorted(args.minutes):
            for name in args.candidates:
                left = None if args.hours is None else args.hours * 60 - (time.monotonic() - start) / 60
                if left is not None and left <= 0:
                    print(f"--hours {args.hours} reached; rerun the command to go on", flush=True)
                    break
                _, training, planning = CANDIDATES[name]
                measure_rate(args, rates, name, training)
                d = point_dir(args.out, name, minutes)
                saved = args.publish / "in_progress" / d.name / "last.pt"
                steps = budget_steps(rates, name, minutes)
                if train_run(args, d, saved, steps, training, f"{name}_{minutes:g}", left):
                    measure(args, d, d / "best.pt", f"{name}_{minutes:g}", planning)
        (args.publish).mkdir(parents=True, exist_ok=True)
        (args.publish / "rates.json").write_text(json.dumps(rates, indent=1))
    report(args, rates)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
