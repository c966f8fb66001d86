"""DVD reward targets (issue 23): held-out pair ROC-AUC of three rewards trained on the same robot demos.

The whole protocol, with the ``robolearn`` commands a user would type (each step is resumable: rerunning the script
after a kill renders only the missing clips and resumes training from ``last.pt``):

1. render a training set (robot demos of the default robot tasks on the training layout + actor clips of every
   task and more, the held-out actor left out) and a supplement of actor clips on twin desks (``--twin-clips``,
   seeds 6,000,000+, ``scene.twin_probability=1``: two drawers or two cabinets, so that which piece moves is not
   told by which side of the image moves; ``scene.small_piece_flip_probability=0.5``: the faucet and the button on
   either side; never the held-out arrangement), a *validation* evaluation set (seeds 1,000,000+ and 2,000,000+:
   used for choosing settings) and a *test* evaluation set (seeds 3,000,000+ and 4,000,000+: reported, never used
   for choosing). Each evaluation set is actor clips of the training actors, robot demos of every desk task in the
   training layout and in each held-out variant, and clips of the held-out actor, every actor clip in a randomized
   scene (``plain_scene_fraction=0``: a user's video never shows the robot's own scene);
2. train three rewards on the same robot demos:
   * ``symmetric``: the symmetric head, robot demos + actor ("human") videos (the default ``robolearn train dvd``),
   * ``robot_only``: the symmetric head, the same robot demos alone,
   * ``concat``: DVD's concat head with DVD's objective (pair cross-entropy, other tasks as the only negatives, no
     state head), robot demos + actor videos;
3. ``robolearn eval dvd`` each on the chosen evaluation sets; print one table (pair ROC-AUC per split) and write
   it with the figures under ``--out``.

Usage (from the repository root; about 95 minutes on 2 cores with the defaults: 46 to render, 15 per reward)::

    python benchmarks/dvd_targets.py --out runs/dvd_targets                # test sets (reported)
    python benchmarks/dvd_targets.py --out runs/dvd_targets --split val    # validation sets (for choosing)
    python benchmarks/dvd_targets.py --out runs/dvd_targets --actor-clips 600 --steps 300   # a quick look
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

#: seed bases of the evaluation sets: validation (choosing settings) and test (reporting), far from the training
#: set's (0 + clip index), so that no clip repeats
EVAL_SEEDS = {"val": (1_000_000, 2_000_000), "test": (3_000_000, 4_000_000)}
HELDOUT_VARIANTS = "[train,new_colors,new_viewpoint,new_arrangement]"
#: seed base of the twin-desk supplement: far from the training set's (0 + clip index) and the evaluation sets' (1e6-4e6+)
TWIN_SEED = 6_000_000
#: the three rewards compared: name → `robolearn train dvd` overrides
RUNS: dict[str, list[str]] = {
    "symmetric": [],
    "robot_only": ["robot_only=true"],
    # DVD's head and objective, without the state head DVD did not have
    "concat": [
        "reward.head=concat",
        "hard_negatives=false",
        "contrastive_weight=0",
        "cross_domain=0",
        "reward.state_names=[]",
    ],
}
#: the splits of the table, in order (`robolearn eval dvd` names)
SPLITS = (
    "robot-robot",
    "robot-human",
    "held-out actor",
    "variant new_colors",
    "variant new_viewpoint",
    "variant new_arrangement",
    "human-only tasks",
)


def robolearn(args: list[str], log: Path) -> None:
    """Run ``robolearn ARGS`` in a child process, its output appended to ``log``; stop the script if it fails."""
    cmd = [sys.executable, "-m", "robolearn.cli", *args]
    print("$ robolearn " + " ".join(args), flush=True)
    t = time.perf_counter()
    with log.open("a") as f:
        f.write("$ robolearn " + " ".join(args) + "\n")
        f.flush()
        done = subprocess.run(cmd, cwd=REPO_ROOT, stdout=f, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        sys.exit(f"robolearn {args[0]} {args[1]} failed (exit {done.returncode}); see {log}")
    print(f"  {time.perf_counter() - t:.0f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/dvd_targets"), help="folder of the datasets and runs")
    ap.add_argument("--split", choices=sorted(EVAL_SEEDS), default="test", help="evaluation sets: val or test")
    ap.add_argument("--actor-clips", type=int, default=40000, help="actor clips of the training set")
    ap.add_argument("--twin-clips", type=int, default=12000, help="actor clips of the twin-desk supplement (0: none)")
    ap.add_argument("--eval-actor-clips", type=int, default=600, help="actor clips of each evaluation set")
    ap.add_argument("--eval-robot-demos", type=int, default=5, help="robot demos per task and variant, evaluation")
    ap.add_argument("--steps", type=int, default=4000, help="training steps of each reward")
    ap.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=list(RUNS), help="rewards to train")
    ap.add_argument("--workers", type=int, default=2, help="rendering processes")
    a = ap.parse_args()
    out = a.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    log = out / "log.txt"
    t0 = time.perf_counter()
    common = [f"workers={a.workers}", "progress_bar=false"]

    train = out / "videos"
    robolearn(["collect", "videos", f"out={train}", f"actor_clips={a.actor_clips}", *common], log)
    training = [train]
    if a.twin_clips:
        twin = out / "videos_twin"
        robolearn(
            [
                "collect",
                "videos",
                f"out={twin}",
                f"seed={TWIN_SEED}",
                f"actor_clips={a.twin_clips}",
                "robot_demos_per_task=0",
                "scene.twin_probability=1",
                "scene.small_piece_flip_probability=0.5",
                *common,
            ],
            log,
        )
        training.append(twin)
    data = ",".join(str(d) for d in training)
    seed, actor_seed = EVAL_SEEDS[a.split]
    evalset, actorset = out / f"videos_{a.split}", out / f"videos_{a.split}_heldout_actor"
    robolearn(
        [
            "collect",
            "videos",
            f"out={evalset}",
            f"seed={seed}",
            f"actor_clips={a.eval_actor_clips}",
            "robot_tasks=all",
            f"robot_demos_per_task={a.eval_robot_demos}",
            f"robot_variants={HELDOUT_VARIANTS}",
            "plain_scene_fraction=0",
            *common,
        ],
        log,
    )
    robolearn(
        [
            "collect",
            "videos",
            f"out={actorset}",
            f"seed={actor_seed}",
            f"actor_clips={a.eval_actor_clips // 2}",
            "actors=heldout",
            "robot_demos_per_task=0",
            "plain_scene_fraction=0",
            *common,
        ],
        log,
    )

    table: dict[str, dict[str, float]] = {}
    for name in a.runs:
        run = out / name
        robolearn(
            ["train", "dvd", f"data=[{data}]", f"out={run}", f"steps={a.steps}", "progress_bar=false"] + RUNS[name],
            log,
        )
        report_dir = out / f"eval_{a.split}" / name
        robolearn(
            [
                "eval",
                "dvd",
                f"checkpoint={run / 'best.pt'}",
                # the main training set's held-out clips join the pool, the twin supplement's do not: every run
                # is measured on the same clips whatever its training data
                f"data=[{train},{evalset},{actorset}]",
                f"out={report_dir}",
            ],
            log,
        )
        report = json.loads(next(report_dir.glob("eval_dvd_*.json")).read_text())
        table[name] = {str(row["split"]): float(row["auc"]) for row in report["splits"]}
        table[name]["ranking"] = float(report.get("ranking_overall") or float("nan"))

    header = "| split | " + " | ".join(a.runs) + " |"
    lines = [header, "|" + "---|" * (len(a.runs) + 1)]
    for split in (*SPLITS, "ranking"):
        cells = [f"{table[n].get(split, float('nan')):.3f}" for n in a.runs]
        lines.append(f"| {split} | " + " | ".join(cells) + " |")
    text = "\n".join(lines)
    print(f"\npair ROC-AUC on the {a.split} sets (ranking: share of attempt pairs ordered done > partial > failed)\n")
    print(text)
    (out / f"table_{a.split}.md").write_text(text + "\n")
    print(f"\n{(time.perf_counter() - t0) / 60:.1f} min; reports in {out / f'eval_{a.split}'}")


if __name__ == "__main__":
    main()
