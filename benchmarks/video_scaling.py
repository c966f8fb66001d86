"""Is the learned video model's planning gap a matter of compute? A scaling curve (issue 26, item 1).

Video models of several sizes (``SIZES``: ≥ 10× apart in parameters) are trained for several budgets of training
time on the 2 cores (``--minutes``, default 20, 60 and 180), each budget a run of its own whose learning-rate
schedule ends at the budget (a snapshot of a longer run would be judged before its learning rate decayed). A
budget is a number of optimizer steps: minutes × the size's steps per second measured on the idle machine
(``rates.json``, stage ``rate``), so the curve does not depend on what else the machine ran while training.

Each point is then measured two ways (stage ``eval``):

* held-out prediction quality: ``robolearn eval`` on the video model's validation episodes, PSNR per horizon
  step over all pixels and over the pixels that change (the arm, moved objects);
* planning success: ``benchmarks/vmpc.py`` on LOReL's six tasks with the shipped LOReL reward (the same reward
  for every point, so only the video model differs), ``--trials`` seeds per task from ``--first-seed``. These are
  validation seeds: the final benchmark table evaluates seeds 0–99, aggregation rounds recorded from 1,000.

Stage ``report`` writes ``results.json``, ``results.md`` and ``scaling.png`` (success and changed-pixel PSNR
against training minutes, one line per size) in ``--publish``.

Every stage resumes: a training run continues from its ``last.pt``, a planning benchmark skips the episodes in
its ``episodes.jsonl``, so the whole curve can be spread over sessions by rerunning the same command. ``--hours``
bounds a session: no new work starts after it, and a training run under way stops at it (validated and
checkpointed). The curve can also outlive the machine it started on: the published folder (``--publish``, in the
repository) keeps the measured points' rows (``results.json``, merged with the new ones by the report), the
throughput that sets every budget (``rates.json``), and the ``last.pt`` of each unfinished run
(``in_progress/<point>/``), which a new machine resumes from after recollecting the same seeded dataset.

Usage (from the repository root, after ``robolearn collect out=data/desk episodes=50000 workers=2
'env.obs_keys=[rgb,proprio]'``)::

    python benchmarks/video_scaling.py --stage rate                        # on the idle machine, ~2 min
    python benchmarks/video_scaling.py --stage train --minutes 20          # the 20-minute runs of every size
    python benchmarks/video_scaling.py --stage eval --minutes 20
    python benchmarks/video_scaling.py --stage all --hours 2.5             # whatever is left, cheapest first
    python benchmarks/video_scaling.py --stage reference                   # the shipped model, measured the same way
    python benchmarks/video_scaling.py --stage report
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

#: the sizes of the curve: `robolearn train dynamics` overrides of conf/dynamics/video.yaml. "s" is the shipped
#: model's architecture; every size reads proprioception (dynamics.proprio_dim=14, the desk's vector).
SIZES: Mapping[str, Sequence[str]] = {
    "xs": (  # 42 k parameters
        "dynamics.encoder_channels=[8,16,32]",
        "dynamics.latent_channels=16",
        "dynamics.transition_hidden=32",
        "dynamics.action_embed=32",
        "dynamics.proprio_hidden=64",
    ),
    "s": (),  # 160 k parameters: the shipped video model's settings
    "l": (  # 691 k parameters
        "dynamics.encoder_channels=[32,64,128]",
        "dynamics.latent_channels=64",
        "dynamics.transition_hidden=128",
        "dynamics.action_embed=128",
        "dynamics.transition_blocks=2",
    ),
}
#: what every run shares: the shipped video model's recipe (robolearn/checkpoints/README.md, step 3)
COMMON = ("dynamics.proprio_dim=14", "progress_bar=false")
#: optimizer steps of the throughput measurement
RATE_STEPS = 60
#: validations (and checkpoints) per training run
VALIDATIONS_PER_RUN = 6
#: the longest learning-rate warm-up (steps); a short run warms up over a tenth of its steps
MAX_WARMUP = 200
#: the reward every point plans with
REWARD = "${shipped:lorel_reward.pt}"
#: ``--reward paired``: the shipped reward fine-tuned on each point's own predicted frames, the recipe that made the
#: shipped reward from the shipped video model's (robolearn/checkpoints/README.md, step 4)
PAIRED_REWARD = (
    "max_episodes=20000",
    "negatives.other_episode=0.15",
    "negatives.reversed=0.1",
    "negatives.opposite=0.4",
    "negatives.incomplete=0.15",
    "steps=4000",
    "lr=3e-4",
    "warmup_steps=100",
    "progress_bar=false",
)
#: a machine this busy (1-minute load average) is not idle enough to measure throughput on
IDLE_LOAD = 0.5


def run(cmd: Sequence[str], log: Path) -> None:
    """Run ``cmd`` from the repository root, its output appended to ``log``; exit with its message if it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    print("$ " + " ".join(cmd), flush=True)
    with log.open("a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        code = subprocess.call(list(cmd), cwd=REPO_ROOT, stdout=f, stderr=subprocess.STDOUT)
    if code != 0:
        sys.exit(f"failed ({code}): {' '.join(cmd)}; see {log}")


def robolearn() -> list[str]:
    return [sys.executable, "-m", "robolearn.cli"]


def known_rates(args: argparse.Namespace) -> dict[str, float]:
    """The rates measured so far (``rates.json``), the published ones on a new machine: budgets are fixed once,
    whatever machine goes on with the curve."""
    path, published = args.out / "rates.json", args.publish / "rates.json"
    if not path.exists() and published.exists():
        shutil.copyfile(published, path)
    return json.loads(path.read_text()) if path.exists() else {}


def measure_rates(args: argparse.Namespace) -> dict[str, float]:
    """Optimizer steps per second of each size on this machine (``rates.json``; measured once)."""
    rates = known_rates(args)
    for size in args.sizes:
        measure_rate(args, rates, size, SIZES[size])
    return rates


def measure_rate(args: argparse.Namespace, rates: dict[str, float], name: str, overrides: Sequence[str]) -> float:
    """Optimizer steps per second of the shipped recipe with ``overrides`` on this idle machine, once per ``name``
    (kept in ``rates`` and ``out/rates.json``)."""
    if name in rates:
        return rates[name]
    load = os.getloadavg()[0]
    if load > IDLE_LOAD and not args.force:
        sys.exit(f"the machine is busy (load {load:.2f} > {IDLE_LOAD}): measure throughput when it is idle, or --force")
    tmp = args.out / "rate_runs" / name
    shutil.rmtree(tmp, ignore_errors=True)
    run(
        [
            *robolearn(),
            "train",
            "dynamics",
            f"data={args.data}",
            f"out={tmp}",
            f"steps={RATE_STEPS}",
            f"eval_every={RATE_STEPS}",
            f"checkpoint_every={RATE_STEPS}",
            "warmup_steps=0",
            *COMMON,
            *overrides,
        ],
        args.out / "logs" / f"rate_{name}.log",
    )
    summary = json.loads((tmp / "summary.json").read_text())
    rates[name] = summary["step"] / summary["train_seconds"]  # optimizer steps (validation not counted)
    (args.out / "rates.json").write_text(json.dumps(rates, indent=1))
    print(f"{name}: {rates[name]:.3f} steps/s ({summary['parameters']} parameters)", flush=True)
    return rates[name]


def point_dir(out: Path, size: str, minutes: float) -> Path:
    return out / f"{size}_{minutes:g}min"


def budget_steps(rates: Mapping[str, float], size: str, minutes: float) -> int:
    return max(1, round(rates[size] * minutes * 60))


def finished(d: Path, steps: int) -> bool:
    """Whether the run in ``d`` reached its budget (a run stopped at ``--hours`` has not)."""
    summary = d / "summary.json"
    return summary.exists() and json.loads(summary.read_text()).get("step") == steps


def in_progress(args: argparse.Namespace, size: str, minutes: float) -> Path:
    """Where the published copy of an unfinished run's ``last.pt`` lives."""
    return args.publish / "in_progress" / point_dir(args.out, size, minutes).name / "last.pt"


def train(
    args: argparse.Namespace, rates: Mapping[str, float], size: str, minutes: float, minutes_left: float | None
) -> bool:
    """Train (or go on training) one point; ``minutes_left``: stop by then, checkpointed. True when it is done."""
    return train_run(
        args,
        point_dir(args.out, size, minutes),
        in_progress(args, size, minutes),
        budget_steps(rates, size, minutes),
        SIZES[size],
        f"{size}_{minutes:g}",
        minutes_left,
    )


def train_run(
    args: argparse.Namespace,
    d: Path,
    saved: Path,
    steps: int,
    overrides: Sequence[str],
    name: str,
    minutes_left: float | None,
) -> bool:
    """Train (or go on training) the video model in ``d`` for ``steps`` optimizer steps with the shipped recipe
    (``COMMON``) and ``overrides``, resuming from ``saved`` (the published state of a run another machine started)
    when ``d`` has none; a run stopped at ``minutes_left`` is copied to ``saved``. True when it is done."""
    if finished(d, steps):
        return True
    if not (d / "last.pt").exists() and saved.exists():  # a run another machine started
        d.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(saved, d / "last.pt")
        print(f"resuming {d.name} from {saved}", flush=True)
    every = max(1, steps // VALIDATIONS_PER_RUN)
    limit = [f"max_minutes={max(minutes_left, 1.0):.1f}"] if minutes_left is not None else []
    run(
        [
            *robolearn(),
            "train",
            "dynamics",
            f"data={args.data}",
            f"out={d}",
            f"steps={steps}",
            f"eval_every={every}",
            f"checkpoint_every={every}",
            f"warmup_steps={min(MAX_WARMUP, steps // 10)}",
            *COMMON,
            *overrides,
            *limit,
        ],
        args.out / "logs" / f"train_{name}.log",
    )
    if finished(d, steps):
        if saved.exists():
            shutil.rmtree(saved.parent)
        return True
    saved.parent.mkdir(parents=True, exist_ok=True)  # commit this file to go on from another machine
    shutil.copyfile(d / "last.pt", saved)
    print(f"{d.name} stopped at the time limit; its state is in {saved}", flush=True)
    return False


def evaluate(args: argparse.Namespace, size: str, minutes: float) -> None:
    d = point_dir(args.out, size, minutes)
    if (d / "best.pt").exists():
        measure(args, d, d / "best.pt", f"{size}_{minutes:g}")


def measure(args: argparse.Namespace, d: Path, checkpoint: Path, name: str, plan_overrides: Sequence[str] = ()) -> None:
    """Held-out PSNR per step (``d/eval_<checkpoint>.json``) and planning success (``d/plan``) of ``checkpoint``
    (``plan_overrides``: further ``robolearn plan`` settings of the planning benchmark)."""
    if not list(d.glob("eval_*.json")):
        run(
            [
                *robolearn(),
                "eval",
                f"checkpoint={checkpoint}",
                f"data={args.data}",  # the shipped model was trained on a copy of the same collection elsewhere
                f"out={d}",
                "progress_bar=false",
            ],
            args.out / "logs" / f"eval_{name}.log",
        )
    reward, plan_dir = REWARD, d / "plan"
    if args.reward == "paired":
        reward, plan_dir = str(d / "reward" / "best.pt"), d / "plan_paired"
        run(  # resumes from d/reward/last.pt; a finished run returns at once
            [
                *robolearn(),
                "train",
                f"data={args.data}",
                f"out={d / 'reward'}",
                f"init_from={REPO_ROOT / 'robolearn' / 'checkpoints' / 'lorel_reward.pt'}",
                f"predicted_frames.video_checkpoint={checkpoint}",
                *PAIRED_REWARD,
            ],
            args.out / "logs" / f"reward_{name}.log",
        )
    run(
        [
            sys.executable,
            "benchmarks/vmpc.py",
            "--trials",
            str(args.trials),
            "--first-seed",
            str(args.first_seed),
            "--workers",
            str(args.workers),
            "--out",
            str(plan_dir),
            "--set",
            f"reward_checkpoint={reward}",
            f"dynamics_model={checkpoint}",
            *plan_overrides,
        ],
        args.out / "logs" / f"plan_{name}.log",
    )


def reference(args: argparse.Namespace) -> None:
    """The shipped video model measured the same way, in ``out/shipped`` (the steps it was trained for are its
    budget, in minutes at the "s" size's rate: it has that architecture)."""
    sys.path.insert(0, str(REPO_ROOT))
    import torch

    d = args.out / "shipped"
    d.mkdir(parents=True, exist_ok=True)
    checkpoint = REPO_ROOT / "robolearn" / "checkpoints" / "video_model.pt"
    if not (d / "summary.json").exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        params = sum(v.numel() for k, v in state["state_dict"].items() if hasattr(v, "numel"))
        (d / "summary.json").write_text(json.dumps({"parameters": params, "step": int(state["step"])}))
    measure(args, d, checkpoint, "shipped")


def plan_summary(path: Path) -> dict[str, Any]:
    """Success, its 95% interval, per-task counts and mean replanning time of a planning benchmark's episodes (empty
    when it has none)."""
    sys.path.insert(0, str(REPO_ROOT))
    from robolearn.bench.stats import wilson

    if not path.exists():
        return {}
    episodes = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not episodes:
        return {}
    wins = sum(bool(x["success"]) for x in episodes)
    per_task: dict[str, list[int]] = {}
    for x in episodes:
        per_task.setdefault(x["task"], [0, 0])
        per_task[x["task"]][0] += bool(x["success"])
        per_task[x["task"]][1] += 1
    return {
        "success": wins / len(episodes),
        "success_interval": list(wilson(wins, len(episodes))),
        "episodes": len(episodes),
        "per_task": {t: f"{w}/{n}" for t, (w, n) in per_task.items()},
        "plan_seconds": sum(x.get("mean_plan_seconds", 0.0) for x in episodes) / len(episodes),
        # what the planner believed of its last plan, and what the reward made of the real final frame
        "plan_value": sum(x.get("last_plan_value", 0.0) for x in episodes) / len(episodes),
        "final_reward": sum(x.get("final_reward", 0.0) for x in episodes) / len(episodes),
    }


def prediction_quality(d: Path) -> dict[str, Any]:
    """Held-out PSNR (dB), mean and per horizon step, over all pixels and the changed ones, from the run's
    ``robolearn eval`` report (empty before it)."""
    evals = sorted(d.glob("eval_*.json"))
    if not evals:
        return {}
    e = json.loads(evals[0].read_text())
    return {
        "psnr_per_step": e["per_step"].get("psnr"),
        "psnr_changed_per_step": e["per_step"].get("psnr_changed"),
        "psnr": e["mean"].get("psnr"),
        "psnr_changed": e["mean"].get("psnr_changed"),
    }


def report(args: argparse.Namespace, rates: Mapping[str, float]) -> None:
    """results.json, results.md and scaling.png from every point measured so far."""
    points = [(size, minutes, point_dir(args.out, size, minutes)) for size in args.sizes for minutes in args.minutes]
    shipped = args.out / "shipped" / "summary.json"
    if "s" in rates and shipped.exists():  # the shipped model: the "s" architecture, its steps in minutes at that rate
        points.append(("shipped", json.loads(shipped.read_text())["step"] / rates["s"] / 60, shipped.parent))
    rows = []
    published_rows = args.publish / "results.json"
    earlier = json.loads(published_rows.read_text())["points"] if published_rows.exists() else []
    for size, minutes, d in points:
        if not (d / "summary.json").exists():
            continue
        if size in SIZES and not finished(d, budget_steps(rates, size, minutes)):
            continue  # a run still under way
        summary = json.loads((d / "summary.json").read_text())
        row = {
            "size": size,
            "minutes": round(minutes, 1),
            "parameters": summary["parameters"],
            "steps": summary["step"],
            "budget_steps": budget_steps(rates, size, minutes) if size in rates else summary["step"],
            "best_val_loss": summary.get("best_val_loss"),
        }
        row.update(prediction_quality(d))
        row.update(plan_summary(d / "plan" / "episodes.jsonl"))
        paired_plan = plan_summary(d / "plan_paired" / "episodes.jsonl")
        row.update({f"paired_{k}": v for k, v in paired_plan.items()})
        for plan in ("plan", "plan_paired"):  # the episodes behind the row, kept beside it
            episodes = d / plan / "episodes.jsonl"
            if episodes.exists():
                (args.publish / "episodes").mkdir(parents=True, exist_ok=True)
                shutil.copyfile(episodes, args.publish / "episodes" / f"{d.name}_{plan}.jsonl")
        rows.append(row)
    measured = {(r["size"], r["minutes"]) for r in rows}
    for r in earlier:  # points measured on an earlier machine, kept unless measured again here
        if (r["size"], r["minutes"]) not in measured:
            rows.append(r)
    order = {size: i for i, size in enumerate([*SIZES, "shipped"])}
    rows.sort(key=lambda r: (order.get(r["size"], len(order)), r["minutes"]))
    args.publish.mkdir(parents=True, exist_ok=True)
    (args.publish / "results.json").write_text(json.dumps({"rates_steps_per_second": rates, "points": rows}, indent=1))
    lines = [
        "| size | parameters | minutes | steps | changed-pixel PSNR (dB), mean / last step | success | 95% "
        "interval | episodes | s per replanning step | success, paired reward | 95% interval |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        ps = (
            f"{r['psnr_changed']:.2f} / {r['psnr_changed_per_step'][-1]:.2f}"
            if r.get("psnr_changed") is not None
            else ""
        )
        su = (
            f"{100 * r['success']:.1f}% | [{100 * r['success_interval'][0]:.0f}, "
            f"{100 * r['success_interval'][1]:.0f}] | {r['episodes']} | {r['plan_seconds']:.2f}"
            if "success" in r
            else " | | | "
        )
        pa = (
            f"{100 * r['paired_success']:.1f}% | [{100 * r['paired_success_interval'][0]:.0f}, "
            f"{100 * r['paired_success_interval'][1]:.0f}]"
            if "paired_success" in r
            else " | "
        )
        lines.append(f"| {r['size']} | {r['parameters']:,} | {r['minutes']:g} | {r['steps']} | {ps} | {su} | {pa} |")
    (args.publish / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for size in SIZES:  # every size with a row, also those this run did not touch (--sizes)
        pts = [r for r in rows if r["size"] == size]
        if not pts:
            continue
        label = f"{size} ({pts[0]['parameters'] / 1000:.0f} k)"
        sp = [r for r in pts if "success" in r]
        if sp:
            axes[0].errorbar(
                [r["minutes"] for r in sp],
                [100 * r["success"] for r in sp],
                yerr=[
                    [100 * (r["success"] - r["success_interval"][0]) for r in sp],
                    [100 * (r["success_interval"][1] - r["success"]) for r in sp],
                ],
                marker="o",
                capsize=3,
                label=label,
            )
        paired = [r for r in pts if "paired_success" in r]
        if paired:  # the same colour, dashed: the reward fine-tuned on this size's predictions
            axes[0].plot(
                [r["minutes"] for r in paired],
                [100 * r["paired_success"] for r in paired],
                linestyle="--",
                marker="s",
                color=axes[0].lines[-1].get_color() if sp else None,
                label=f"{label}, paired reward",
            )
        pp = [r for r in pts if r.get("psnr_changed") is not None]
        if pp:
            axes[1].plot([r["minutes"] for r in pp], [r["psnr_changed"] for r in pp], marker="o", label=label)
    shipped = [r for r in rows if r["size"] == "shipped" and "success" in r]
    for r in shipped:
        axes[0].plot([r["minutes"]], [100 * r["success"]], "k*", markersize=12, label="shipped model")
        if "paired_success" in r:
            axes[0].plot([r["minutes"]], [100 * r["paired_success"]], "ks", markersize=8, label="shipped, paired")
    for r in (r for r in rows if r["size"] == "shipped" and r.get("psnr_changed") is not None):
        axes[1].plot([r["minutes"]], [r["psnr_changed"]], "k*", markersize=12, label="shipped model")
    for ax, title in zip(axes, ("planning success, LOReL-6 (%)", "held-out changed-pixel PSNR (dB)")):
        ax.set_xscale("log")
        ax.set_xlabel("training minutes on 2 cores")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.tight_layout()
    fig.savefig(args.publish / "scaling.png", dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stage", choices=["rate", "train", "eval", "reference", "all", "report"], default="all")
    p.add_argument("--data", default="data/desk", help="dataset from robolearn collect (with proprioception)")
    p.add_argument("--out", type=Path, default=Path("runs/scaling"), help="the runs (checkpoints, logs, episodes)")
    p.add_argument(
        "--publish",
        type=Path,
        default=Path("docs/results/video_scaling"),
        help="the results kept in the repository: rows, table, figure, rates and unfinished runs' state",
    )
    p.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    p.add_argument("--minutes", nargs="+", type=float, default=[20.0, 60.0, 180.0])
    p.add_argument("--trials", type=int, default=30, help="planning seeds per task (≥ 30 for the curve)")
    p.add_argument("--first-seed", type=int, default=2000, help="first validation seed (not the table's 0–99)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--reward",
        choices=["shipped", "paired"],
        default="shipped",
        help="plan with the shipped reward (out/…/plan), or with it fine-tuned on each point's predictions "
        "(~16 min per point; out/…/plan_paired)",
    )
    p.add_argument("--hours", type=float, default=None, help="start no new work after this much wall time")
    p.add_argument("--force", action="store_true", help="measure throughput even on a busy machine")
    args = p.parse_args(argv)
    args.out = args.out if args.out.is_absolute() else REPO_ROOT / args.out
    args.publish = args.publish if args.publish.is_absolute() else REPO_ROOT / args.publish
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()

    def minutes_left() -> float | None:
        return None if args.hours is None else args.hours * 60 - (time.monotonic() - start) / 60

    def out_of_time() -> bool:
        left = minutes_left()
        return left is not None and left <= 0

    rates = known_rates(args) if args.stage == "report" else measure_rates(args)
    if args.stage == "reference":
        reference(args)
    # cheapest first: every size's shortest budget, trained then measured, before any longer budget
    for minutes in sorted(args.minutes):
        for size in args.sizes:
            if out_of_time():
                print(f"--hours {args.hours} reached; rerun the command to go on", flush=True)
                report(args, rates)
                return 0
            if args.stage in ("train", "all") and not train(args, rates, size, minutes, minutes_left()):
                continue  # stopped at --hours: measured once a later session finishes it
            if args.stage in ("eval", "all"):
                evaluate(args, size, minutes)
    report(args, rates)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
