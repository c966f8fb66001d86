"""Several rounds of plan-outcome aggregation for the video model and the reward together (issue 26, item 2).

A sampling optimizer finds the action sequences the learned video model is wrong about in the reward's favour.
One round of aggregation into the reward alone did not help (docs/benchmarks.md, "The reward trained on the
outcomes of its own plans"), and one round into the model alone moved the exploit to another task (issue 5). The
standard remedy iterates both, as DAgger does: each round

1. plans with the current model and reward on fresh seeds (``--trials`` per task from ``--first-seed`` + 100 ×
   (round − 1)) and keeps every chosen plan rolled out for real (``record_plans``: what the plans the planner
   believed in really do);
2. fine-tunes the video model on the offline data mixed with every round's plan outcomes so far, so the action
   sequences it was wrong about are in its data;
3. fine-tunes the reward on the same mix, scoring the new model's predicted frames (``predicted_frames``), so it
   learns what the new model's predictions of those plans look like when they fail;
4. plans the validation episodes (30 seeds per task from 2,000, those of the scaling curve and the other
   candidates; the final table uses 0–99) with the new pair.

Round 0 is the shipped pair. The report (``--publish``: results.json, results.md, each round's validation
episodes) gives per round the recording's success on its own seeds and the validation success with its 95%
interval, per task, the mean plan value (what the planner believed) and the mean real final reward.

Every step resumes (planning skips the episodes in its ``episodes.jsonl``, training continues from ``last.pt``);
rerun the same command. ``--hours`` starts no new step after that much wall time.

Usage (from the repository root, after ``robolearn collect out=data/desk episodes=50000 workers=2
'env.obs_keys=[rgb,proprio]'``)::

    python benchmarks/plan_aggregation.py --rounds 3              # ~30 min per round on 2 cores
    python benchmarks/plan_aggregation.py --stage report
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.data_regimes import OPP_NEGATIVES, TRAIN_EPISODES
from benchmarks.data_regimes import run as run_timed
from benchmarks.video_scaling import plan_summary, robolearn

SHIPPED = REPO_ROOT / "robolearn" / "checkpoints"
#: the validation episodes every item-2 candidate is measured on (the final table uses seeds 0–99)
VALIDATION_FIRST_SEED = 2000
VALIDATION_TRIALS = 30
#: the video model's fine-tuning per round: half offline clips, half plan outcomes (issue 5's round), from the
#: previous round's weights
MODEL_RECIPE = (
    "extra_fraction=0.5",
    "steps=800",
    "lr=5e-4",
    "warmup_steps=50",
    "eval_every=200",
    "checkpoint_every=200",
    "dynamics.proprio_dim=14",
)
#: the reward's fine-tuning per round: the shipped recipe's aggregation step (robolearn/checkpoints/README.md,
#: step 5), from the previous round's weights, on the new model's predictions
REWARD_RECIPE = (
    TRAIN_EPISODES,
    *OPP_NEGATIVES,
    "negatives.attempted=0.2",
    "extra_fraction=0.3",
    "steps=1500",
    "lr=3e-4",
    "warmup_steps=100",
)


def pair(args: argparse.Namespace, k: int) -> tuple[Path, Path]:
    """(video model, reward) after round ``k`` (0: the shipped ones)."""
    if k == 0:
        return SHIPPED / "video_model.pt", SHIPPED / "lorel_reward.pt"
    d = args.out / f"round{k}"
    return d / "video" / "best.pt", d / "reward" / "best.pt"


def plan(args: argparse.Namespace, k: int, out: Path, trials: int, first_seed: int, extra: Sequence[str]) -> None:
    """``benchmarks/vmpc.py`` with round ``k``'s pair."""
    video, reward = pair(args, k)
    cmd = [sys.executable, "benchmarks/vmpc.py", "--trials", str(trials), "--first-seed", str(first_seed)]
    cmd += ["--workers", str(args.workers), "--out", str(out), "--set"]
    cmd += [f"reward_checkpoint={reward}", f"dynamics_model={video}", *extra]
    run_timed(cmd, args.out / "logs" / f"{out.parent.name}_{out.name}.log", args.out / "timings.json", out.name)


def one_round(args: argparse.Namespace, k: int, out_of_time: Callable[[], bool]) -> bool:
    """Round ``k`` (1-based); False when ``--hours`` ran out before it finished."""
    d, data = args.out / f"round{k}", f"data={args.data}"
    recordings = ",".join(str(args.out / f"round{j}" / "plans") for j in range(1, k + 1))
    steps = [
        lambda: plan(
            args,
            k - 1,
            d / "record",
            args.trials,
            args.first_seed + 100 * (k - 1),
            [f"record_plans={d / 'plans'}"],
        ),
        lambda: run_timed(
            [*robolearn(), "train", "dynamics", data, f"out={d / 'video'}", f"init_from={pair(args, k - 1)[0]}"]
            + [f"extra_data=[{recordings}]", *MODEL_RECIPE, "progress_bar=false"],
            args.out / "logs" / f"round{k}_video.log",
            args.out / "timings.json",
            f"round{k}_video",
        ),
        lambda: run_timed(
            [*robolearn(), "train", data, f"out={d / 'reward'}", f"init_from={pair(args, k - 1)[1]}"]
            + [f"predicted_frames.video_checkpoint={pair(args, k)[0]}", f"extra_data=[{recordings}]"]
            + [*REWARD_RECIPE, "progress_bar=false"],
            args.out / "logs" / f"round{k}_reward.log",
            args.out / "timings.json",
            f"round{k}_reward",
        ),
        lambda: plan(args, k, d / "val", VALIDATION_TRIALS, VALIDATION_FIRST_SEED, []),
    ]
    for step in steps:
        if out_of_time():
            return False
        step()  # a finished step returns at once
    return True


def report(args: argparse.Namespace) -> None:
    """results.json and results.md in ``--publish``, with each round's validation episodes."""
    rounds = []
    for k in range(0, args.rounds + 1):
        val = args.out / f"round{k}" / "val" / "episodes.jsonl"
        entry: dict[str, Any] = {"round": k, "validation": plan_summary(val)}
        if k:
            entry["recording"] = plan_summary(args.out / f"round{k}" / "record" / "episodes.jsonl")
        if entry["validation"]:
            args.publish.mkdir(parents=True, exist_ok=True)
            (args.publish / f"val_round{k}.jsonl").write_text(val.read_text())
        rounds.append(entry)
    args.publish.mkdir(parents=True, exist_ok=True)
    (args.publish / "results.json").write_text(json.dumps({"rounds": rounds}, indent=1))
    tasks = sorted({t for r in rounds for t in r["validation"].get("per_task", {})})
    lines = [
        "| round | recording (own seeds) | "
        + " | ".join(tasks)
        + " | validation [95% CI] | plan value | real final reward |",
        "|---|---:|" + "---:|" * len(tasks) + "---|---:|---:|",
    ]
    for r in rounds:
        v, rec = r["validation"], r.get("recording") or {}
        if not v:
            continue
        lo, hi = v["success_interval"]
        lines.append(f"| {r['round']} | {100 * rec['success']:.1f}% |" if rec else f"| {r['round']} (shipped) | |")
        lines[-1] += "".join(f" {v['per_task'].get(t, '')} |" for t in tasks)
        lines[-1] += f" **{100 * v['success']:.1f}%** [{100 * lo:.0f}, {100 * hi:.0f}] |"
        lines[-1] += f" {v['plan_value']:.2f} | {v['final_reward']:.2f} |"
    (args.publish / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stage", choices=["all", "report"], default="all")
    p.add_argument("--data", default="data/desk", help="the offline dataset (with proprioception)")
    p.add_argument("--out", type=Path, default=Path("runs/aggregation"))
    p.add_argument("--publish", type=Path, default=Path("docs/results/aggregation"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--trials", type=int, default=25, help="recorded seeds per task and round")
    p.add_argument("--first-seed", type=int, default=3000, help="round k records seeds from this + 100 (k - 1)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--hours", type=float, default=None, help="start no new step after this much wall time")
    args = p.parse_args(argv)
    args.out = args.out if args.out.is_absolute() else REPO_ROOT / args.out
    args.publish = args.publish if args.publish.is_absolute() else REPO_ROOT / args.publish
    if args.rounds < 1 or args.trials < 1:
        p.error("--rounds and --trials must be ≥ 1")
    start = time.monotonic()

    def out_of_time() -> bool:
        return args.hours is not None and time.monotonic() - start > args.hours * 3600

    if args.stage == "all":
        plan(args, 0, args.out / "round0" / "val", VALIDATION_TRIALS, VALIDATION_FIRST_SEED, [])  # the baseline
        for k in range(1, args.rounds + 1):
            if not one_round(args, k, out_of_time):
                print(f"--hours {args.hours} reached; rerun the command to go on", flush=True)
                break
    report(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
