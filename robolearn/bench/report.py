"""The benchmark's tables and figure: a console table, a CSV and a matplotlib bar chart with 95% intervals."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from sim.plumbing.files import atomic_open

__all__ = ["CSV_FIELDS", "print_results", "write_csv", "write_figure"]

#: the CSV's columns (rates and interval bounds are fractions in [0, 1])
CSV_FIELDS = (
    "agent",
    "variant",
    "task",
    "instruction",
    "episodes",
    "final",
    "final_lo",
    "final_hi",
    "any",
    "any_lo",
    "any_hi",
    "mean_seconds",
)
# Figure layout: inches per panel, bar group width (fraction of a task's slot), dpi.
_PANEL_W, _PANEL_H, _GROUP_WIDTH, _DPI = 7.0, 3.2, 0.8, 120
_LOG_WIDTH = 180  # console table width (characters) when the output is not a terminal


def _flat(row: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    out = {k: row.get(k, "") for k in fields}
    out["final_lo"], out["final_hi"] = row["final_ci"]
    out["any_lo"], out["any_hi"] = row["any_ci"]
    return out


def write_csv(path: Path, rows: Sequence[dict[str, Any]], metrics: Sequence[str] = ()) -> None:
    """One line per table row (per task or instruction, and the pooled ``mean`` rows), written atomically;
    ``metrics`` (e.g. the homes' ``spl``) are columns after ``CSV_FIELDS``."""
    buf = io.StringIO()
    fields = (*CSV_FIELDS, *metrics)
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow(_flat(row, fields))
    with atomic_open(path, "w") as f:
        f.write(buf.getvalue())


def write_figure(path: Path, rows: Sequence[dict[str, Any]], by_instruction: bool = False) -> None:
    """Final-step success per task (or instruction) and agent, one panel per variant; error bars: 95% intervals."""
    import matplotlib  # on use: heavy; and matplotlib.use("Agg") must run before pyplot loads

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt  # after matplotlib.use("Agg"), see above

    key = "instruction" if by_instruction else "task"
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    agents = list(dict.fromkeys(r["agent"] for r in rows))
    groups = list(dict.fromkeys(r[key] for r in rows))
    fig, axes = plt.subplots(
        len(variants),
        1,
        figsize=(max(_PANEL_W, 0.9 * len(groups) * max(1, len(agents)) / 2), _PANEL_H * len(variants)),
        squeeze=False,
    )
    width = _GROUP_WIDTH / max(1, len(agents))
    for ax, variant in zip(axes[:, 0], variants):
        for a, agent in enumerate(agents):
            xs, ys, lo, hi = [], [], [], []
            for g, group in enumerate(groups):
                match = [r for r in rows if r["variant"] == variant and r["agent"] == agent and r[key] == group]
                if not match or match[0]["final"] is None:
                    continue
                r = match[0]
                xs.append(g - _GROUP_WIDTH / 2 + (a + 0.5) * width)
                ys.append(100 * r["final"])
                lo.append(100 * (r["final"] - r["final_ci"][0]))
                hi.append(100 * (r["final_ci"][1] - r["final"]))
            ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=agent)
        ax.set_title(f"variant: {variant}", fontsize=10)
        ax.set_ylabel("final-step success (%)")
        ax.set_ylim(0, 105)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels([g.replace("_", " ") for g in groups], rotation=20, ha="right", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=8, ncol=min(len(agents), 4), loc="upper right")
    fig.tight_layout()
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=_DPI)
    plt.close(fig)


def print_results(results: dict[str, Any]) -> None:
    """The table on the console.

    Per task: one row per agent and variant, a column per task with its final-step success, then the
    mean over tasks with its 95% interval and the mean any-step success. In instruction-file mode: one
    row per instruction, with the task it is judged on and what it resolves to.
    """
    rows = [r for r in results["rows"] if r["final"] is not None]
    by_instruction = bool(results["settings"].get("instruction_file"))
    # Per-episode metrics besides success (the homes' SPL, effort, INS): the first one shows in every task's
    # cell, and each gets a mean column.
    metrics = list(results["settings"].get("metrics", []))
    cell_metric = metrics[0] if metrics else None
    title = (
        f"final-step success over {results['episodes']}/{results['expected_episodes']} episodes "
        "(mean: [95% interval]; any step: LOReL's lenient criterion"
        + (f"; per task: success / {_label(cell_metric)}" if cell_metric else "")
        + ")"
    )
    table = Table(title=title)
    if by_instruction:
        for col in ("agent", "variant", "instruction", "task", "resolves to", "n", "final step", "any step"):
            table.add_column(col, justify="right" if col in ("n", "final step", "any step") else "left")
        for r in rows:
            res = results.get("resolution", {}).get(r["instruction"])
            resolved = "" if res is None else f"{res['resolves_to']} {'✓' if res['correct'] else '✗'}"
            mean = r["instruction"] == "mean"
            table.add_row(
                r["agent"],
                r["variant"],
                r["instruction"],
                r.get("task", ""),
                resolved,
                str(r["episodes"]),
                _rate(r, interval=mean),
                f"{r['any']:.1%}",
                style="bold" if mean else None,
            )
    else:
        tasks = list(dict.fromkeys(r["task"] for r in rows if r["task"] != "mean"))
        for col in (
            "agent",
            "variant",
            *[t.replace("_", " ") for t in tasks],
            "mean final",
            "mean any",
            "n",
            *(f"mean {_label(m)}" for m in metrics),
        ):
            table.add_column(col, justify="left" if col in ("agent", "variant") else "right")
        cells = {(r["agent"], r["variant"], r["task"]): r for r in rows}
        for agent, variant in dict.fromkeys((r["agent"], r["variant"]) for r in rows):
            mean = cells.get((agent, variant, "mean"))
            table.add_row(
                agent,
                variant,
                *[
                    _rate(cells[(agent, variant, t)], metric=cell_metric) if (agent, variant, t) in cells else "—"
                    for t in tasks
                ],
                _rate(mean, interval=True) if mean else "—",
                f"{mean['any']:.1%}" if mean else "—",
                str(mean["episodes"]) if mean else "0",
                *(f"{mean[m]:.3f}" if mean else "—" for m in metrics),
            )
    console = Console(highlight=False)
    if not console.is_terminal:  # a log file or a pipe: wide enough for every column, not 80 characters
        console = Console(highlight=False, width=_LOG_WIDTH)
    console.print(table)


def _label(metric: str) -> str:
    """A metric's column name: acronyms (spl, ins) in capitals, other names in words."""
    return metric.upper() if len(metric) <= 3 else metric.replace("_", " ")


def _rate(row: dict[str, Any], interval: bool = False, metric: str | None = None) -> str:
    lo, hi = row["final_ci"]
    text = f"{row['final']:.0%} [{lo:.0%}, {hi:.0%}]" if interval else f"{row['final']:.0%}"
    return f"{text} / {row[metric]:.2f}" if metric else text
