"""DVD's generalization protocol (issue 25, item 3): video-demo agents on the tasks with robot demos and on the tasks
seen only in human videos, in the training layout and the three held-out variants.

Each cell is (agent, task group, variant): the tasks with robot demos (the agent's reward checkpoint's
``robot_labels``) or the other desk tasks (for the shipped reward, those seen only in human videos), in one variant. A cell gets at least
``--per-cell`` episodes, spread evenly over the group's tasks (seeds ``--first-seed`` + i); every episode is shown
``demos`` videos of its task by non-robot actors rendered for it (``robolearn.bench.agents.VideoDemoBenchAgent``,
the held-out actor included). The episodes run through ``robolearn bench`` into ``--out`` (rerun the command to
resume; ``--workers`` processes), a seed of every task at a time (an interrupted run leaves the cells balanced), then this script writes ``protocol.json``, ``protocol.md`` (a table with 95%
Wilson intervals) and ``protocol.png`` (DVD's figure: the training layout, the unseen variants and the unseen
tasks, one bar per agent).

Usage (from the repository root)::

    python benchmarks/dvd_protocol.py                                   # the shipped reward, oracle dynamics, 50/cell
    python benchmarks/dvd_protocol.py --agents vmpc_dvd_oracle vmpc_dvd_robot_only_oracle --per-cell 50
    python benchmarks/dvd_protocol.py --per-cell 4 --variants train --out outputs/dvd_protocol_small
    python benchmarks/dvd_protocol.py --report-only      # the tables from the episodes run so far
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

#: the task groups of the protocol, in the table's order
GROUPS = ("robot tasks", "human-only tasks")
#: the variant every other is compared with
TRAIN = "train"
#: test seeds of the planning benchmarks (validation seeds start at 100)
TEST_SEED = 10_000


def agent_task_groups(agent: str, bench_overrides: Sequence[str] = ()) -> dict[str, tuple[str, ...]]:
    """The desk tasks of each group for a video-demo agent: from its reward checkpoint's vocabulary, the tasks it had
    robot demos of, and every other desk task (for the shipped reward, those it saw only in human videos; a reward
    trained on the robot demos alone is measured on the same tasks, which it never saw)."""
    from rewards.dvd import load_model
    from robolearn.config import compose_config
    from sim.tasks.desk import DESK_TASKS

    cfg = compose_config("bench", list(bench_overrides))
    spec = cfg.agent_specs[agent]
    vocab = load_model(str(spec.plan.reward_checkpoint)).vocabulary
    robot = tuple(t for t in DESK_TASKS if t in vocab.robot_labels)
    human = tuple(t for t in DESK_TASKS if t not in vocab.robot_labels)
    return {GROUPS[0]: robot, GROUPS[1]: human}


def run_cells(args: argparse.Namespace, groups: dict[str, tuple[str, ...]]) -> None:
    """Run (or resume) the bench episodes of every cell through ``robolearn bench``, one seed per task and group at a
    time, so that an interrupted run leaves every cell with about as many episodes as the others."""
    from robolearn.cli import main as robolearn_main

    trials = {group: math.ceil(args.per_cell / len(tasks)) for group, tasks in groups.items() if tasks}
    for rounds in range(1, max(trials.values(), default=0) + 1):
        for group, tasks in groups.items():
            if not tasks:
                continue
            command = [
                "bench",
                f"agents=[{','.join(args.agents)}]",
                f"tasks=[{','.join(tasks)}]",
                f"variants=[{','.join(args.variants)}]",
                f"trials={min(rounds, trials[group])}",
                f"first_seed={args.first_seed}",
                f"workers={args.workers}",
                f"out={args.out}",
                *args.overrides,
            ]
            print("robolearn " + " ".join(command), flush=True)
            code = robolearn_main(command)
            if code:
                raise SystemExit(code)


def summarise(out: Path, agents: Sequence[str], groups: dict[str, dict[str, tuple[str, ...]]]) -> dict[str, Any]:
    """Success per (agent, group, variant) and per (agent, group, seen / unseen variants) from ``out``'s episodes."""
    from robolearn.bench.run import EPISODES_FILE, read_episodes
    from robolearn.bench.stats import wilson

    episodes = list(read_episodes(out / EPISODES_FILE).values())
    rows: list[dict[str, Any]] = []
    for agent in agents:
        for group, tasks in groups[agent].items():
            mine = [e for e in episodes if e["agent"] == agent and e["task"] in tasks]
            variants = sorted({e["variant"] for e in mine}, key=lambda v: (v != TRAIN, v))
            cells = {v: [e for e in mine if e["variant"] == v] for v in variants}
            unseen = [e for v in variants if v != TRAIN for e in cells[v]]
            if unseen:
                cells["unseen variants"] = unseen
            for where, eps in cells.items():
                wins = sum(bool(e["success"]) for e in eps)
                lo, hi = wilson(wins, len(eps))
                rows.append(
                    {
                        "agent": agent,
                        "group": group,
                        "variant": where,
                        "episodes": len(eps),
                        "success": wins / len(eps),
                        "low": lo,
                        "high": hi,
                    }
                )
    tasks: list[dict[str, Any]] = []  # per task: where the cells' rates come from
    for agent in agents:
        for group, names in groups[agent].items():
            for task in names:
                mine = [e for e in episodes if e["agent"] == agent and e["task"] == task]
                if mine:
                    seen = [e for e in mine if e["variant"] == TRAIN]
                    unseen = [e for e in mine if e["variant"] != TRAIN]
                    tasks.append(
                        {
                            "agent": agent,
                            "group": group,
                            "task": task,
                            "train": [sum(bool(e["success"]) for e in seen), len(seen)],
                            "unseen variants": [sum(bool(e["success"]) for e in unseen), len(unseen)],
                        }
                    )
    return {"cells": rows, "tasks": tasks}


def write_report(out: Path, summary: dict[str, Any]) -> None:
    """``protocol.md`` (the table), ``protocol.json`` and ``protocol.png`` (DVD's figure) into ``out``."""
    from sim.plumbing.files import atomic_path, write_bytes_atomic, write_json_atomic

    lines = ["| agent | tasks | variant | success | 95% interval | episodes |", "|---|---|---|---:|---|---:|"]
    for r in summary["cells"]:
        lines.append(
            f"| {r['agent']} | {r['group']} | {r['variant']} | {100 * r['success']:.0f}% | "
            f"[{100 * r['low']:.0f}, {100 * r['high']:.0f}] | {r['episodes']} |"
        )
    lines += ["", "| agent | tasks | task | train | unseen variants |", "|---|---|---|---:|---:|"]
    for t in summary.get("tasks", []):
        (a, n), (b, m) = t["train"], t["unseen variants"]
        lines.append(f"| {t['agent']} | {t['group']} | {t['task']} | {a}/{n} | {b}/{m} |")
    table = "\n".join(lines) + "\n"
    print(table)
    write_bytes_atomic(out / "protocol.md", table.encode("utf-8"))
    write_json_atomic(out / "protocol.json", summary)
    with atomic_path(out / "protocol.png") as tmp:
        write_figure(tmp, summary)


def write_figure(path: Path, summary: dict[str, Any]) -> None:
    """DVD's figure: success on the robot tasks in the training layout and in the unseen variants, and on the tasks
    seen only in human videos (all variants), one bar per agent, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("robot tasks", TRAIN, "robot tasks,\ntraining layout"),
        ("robot tasks", "unseen variants", "robot tasks,\nunseen variants"),
        ("human-only tasks", TRAIN, "unseen tasks,\ntraining layout"),
        ("human-only tasks", "unseen variants", "unseen tasks,\nunseen variants"),
    ]
    cells = {(r["agent"], r["group"], r["variant"]): r for r in summary["cells"]}
    agents = list(dict.fromkeys(r["agent"] for r in summary["cells"]))
    fig, ax = plt.subplots(figsize=(2.2 * len(panels) + 1, 3.2))
    width = 0.8 / max(1, len(agents))
    for k, agent in enumerate(agents):
        xs, ys, errs = [], [], [[], []]
        for i, (group, variant, _) in enumerate(panels):
            r = cells.get((agent, group, variant))
            if r is None:
                continue
            xs.append(i + (k - (len(agents) - 1) / 2) * width)
            ys.append(100 * r["success"])
            errs[0].append(100 * (r["success"] - r["low"]))
            errs[1].append(100 * (r["high"] - r["success"]))
        bars = ax.bar(xs, ys, width, yerr=errs, capsize=3, label=agent)
        counts = [cells[(agent, g, v)]["episodes"] for g, v, _ in panels if (agent, g, v) in cells]
        ax.bar_label(bars, labels=[f"n={n}" for n in counts], fontsize=6, padding=2)
    ax.set_xticks(range(len(panels)), [p[2] for p in panels], fontsize=8)
    ax.set_ylabel("success (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", nargs="+", default=["vmpc_dvd_oracle"], help="video-demo agents of the bench")
    parser.add_argument("--variants", nargs="+", default=["train", "new_colors", "new_viewpoint", "new_arrangement"])
    parser.add_argument("--per-cell", type=int, default=50, help="episodes per (agent, task group, variant), ≥ 1")
    parser.add_argument("--first-seed", type=int, default=TEST_SEED, help="seed of each task's first episode")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("docs/results/dvd_protocol"))
    parser.add_argument("--report-only", action="store_true", help="summarise the episodes already in --out")
    parser.add_argument("overrides", nargs="*", help="more robolearn bench overrides, e.g. progress_bar=false")
    args = parser.parse_args(argv)
    if args.per_cell < 1:
        parser.error(f"--per-cell={args.per_cell} must be ≥ 1")
    groups = {agent: agent_task_groups(agent, args.overrides) for agent in args.agents}
    if not args.report_only:
        for agent in args.agents:  # one agent at a time: its groups are its own reward's
            run_cells(argparse.Namespace(**{**vars(args), "agents": [agent]}), groups[agent])
    write_report(args.out, summarise(args.out, args.agents, groups))


if __name__ == "__main__":
    main()
