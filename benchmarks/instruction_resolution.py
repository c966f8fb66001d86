"""How well instructions resolve to desk tasks (issue 26, item 4): the slot resolver against nearest-neighbour.

A phrasing set is two YAML files written by hand, as new users would type (``benchmarks/instructions/``):
``<name>.yaml`` maps instruction → the one task it asks for; ``<name>_extra.yaml`` holds ``ambiguous``
(instruction → the tasks it could mean) and ``unrelated`` (requests the robot cannot do). For each set this
prints and writes:

* accuracy on the instructions with one task, for ``robolearn.instructions.InstructionResolver`` and for the
  nearest-neighbour matcher it replaced (the nearest reference phrasing's task when its similarity reaches
  0.6), in the same run;
* the confusions that matter: left/right, up/down, open/close and white/black swapped;
* how often an ambiguous instruction is answered with a question instead of a guess, and an unrelated one
  refused;
* the confusion matrix (``confusion.png``), ``results.json`` and ``results.md`` in ``--out``.

It also checks that no instruction of a set is one of the sentences the resolver's references are drawn from
(the word banks' single-clause phrasings, with or without the article, and ``conf/instructions/freeform.yaml``).

Usage (from the repository root)::

    python benchmarks/instruction_resolution.py                       # the held-out set, final
    python benchmarks/instruction_resolution.py --sets dev final --out docs/results/instructions
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import yaml

from robolearn.data.language import HELDOUT, TRAIN, WordBank
from robolearn.instructions import AmbiguousInstructionError, InstructionResolver, UnknownInstructionError
from robolearn.paths import conf_dir
from sim.tasks.desk import DESK_TASKS

HERE = Path(__file__).resolve().parent / "instructions"
#: the nearest-neighbour matcher's threshold before issue 26 (the old ``min_similarity`` default)
BASELINE_MIN_SIMILARITY = 0.6
SWAPS = {
    "left/right": ("left", "right"),
    "up/down": ("up", "down"),
    "open/close": ("open", "close"),
    "white/black": ("white", "black"),
}


def normalized(text: str) -> str:
    """Lower case, words only: what two phrasings must share to count as the same sentence."""
    return " ".join(re.findall(r"[a-z']+", text.lower()))


def bank_sentences(bank: WordBank) -> set[str]:
    """Every single-clause imperative a word bank can write, with and without the article (no frames or typos)."""
    out: set[str] = set()
    kinds = {"drawer", "cabinet_door", "faucet", "button", "mug"}  # the desk tasks' objects (blocks have no task)
    for (kind, _change), verbs in bank.verbs.items():
        if kind not in kinds:
            continue
        nouns = list(bank.nouns[kind])
        if kind == "mug":
            nouns = [f"{c} {n}" for cs in (bank.colours["white"], bank.colours["black"]) for c in cs for n in nouns]
        dirs = [
            d for (k, _), ds in bank.directions.items() if k == ("faucet" if kind == "faucet" else "free") for d in ds
        ]
        for (imperative, _), noun, article in itertools.product(verbs, nouns, ("the ", "")):
            for d in dirs if "{dir}" in imperative else [""]:
                out.add(normalized(imperative.format(obj=article + noun, dir=d)))
    return out


def reference_sentences() -> set[str]:
    """The sentences the resolver's references come from: both word banks, the canonical and free-form ones."""
    freeform = yaml.safe_load((Path(conf_dir()) / "instructions" / "freeform.yaml").read_text())
    return (
        bank_sentences(TRAIN)
        | bank_sentences(HELDOUT)
        | {normalized(t) for t in freeform}
        | {normalized(t.description.instruction()) for t in DESK_TASKS.values()}
    )


def swapped(expected: str, got: str) -> list[str]:
    """The slot swaps that turn task ``expected`` into ``got`` (e.g. ["left/right"])."""
    a, b = expected.split("_"), got.split("_")
    if len(a) != len(b):
        return []
    diff = [(x, y) for x, y in zip(a, b) if x != y]
    return [name for name, pair in SWAPS.items() if len(diff) == 1 and set(diff[0]) == set(pair)]


def nearest_neighbour(resolver: InstructionResolver, text: str) -> str | None:
    """The matcher before issue 26: the nearest reference phrasing's task, if similar enough."""
    near = resolver.nearest(text)
    task = max(near, key=lambda t: near[t][0])
    return task if near[task][0] >= BASELINE_MIN_SIMILARITY else None


def resolved(resolver: InstructionResolver, text: str) -> tuple[str | None, list[str]]:
    """(task or None, the candidates named when it asks which)."""
    try:
        return resolver.resolve(text).task, []
    except AmbiguousInstructionError as e:
        return None, e.candidates
    except UnknownInstructionError:
        return None, []


def evaluate(name: str, resolver: InstructionResolver, references: set[str]) -> dict:
    main = yaml.safe_load((HERE / f"{name}.yaml").read_text())
    extra = yaml.safe_load((HERE / f"{name}_extra.yaml").read_text())
    unknown_tasks = sorted({t for t in main.values() if t not in DESK_TASKS})
    if unknown_tasks:
        sys.exit(f"{name}.yaml names tasks that are not desk tasks: {unknown_tasks}")
    overlap = sorted(t for t in main if normalized(t) in references)
    tasks = list(DESK_TASKS)
    rows = []
    for text, task in main.items():
        got, asked = resolved(resolver, text)
        rows.append(
            {
                "instruction": text,
                "task": task,
                "resolver": got,
                "asked": asked,
                "nearest_neighbour": nearest_neighbour(resolver, text),
            }
        )
    result: dict = {"set": name, "instructions": len(rows), "in_reference_sentences": overlap}
    for method in ("resolver", "nearest_neighbour"):
        correct = sum(r[method] == r["task"] for r in rows)
        swaps = Counter(s for r in rows if r[method] for s in swapped(r["task"], r[method]))
        result[method] = {
            "correct": correct,
            "accuracy": round(correct / len(rows), 4),
            "wrong_task": sum(r[method] is not None and r[method] != r["task"] for r in rows),
            "refused": sum(r[method] is None for r in rows),
            "swaps": {k: swaps.get(k, 0) for k in SWAPS},
            "per_task": {
                t: f"{sum(r[method] == t for r in rows if r['task'] == t)}/{sum(r['task'] == t for r in rows)}"
                for t in tasks
            },
        }
    # the held-out measure: only the instructions that are none of the reference sentences
    held = [r for r in rows if r["instruction"] not in overlap]
    result["held_out_only"] = {
        "instructions": len(held),
        "tasks_covered": len({r["task"] for r in held}),
        **{m: sum(r[m] == r["task"] for r in held) for m in ("resolver", "nearest_neighbour")},
    }
    result["errors"] = [r for r in rows if r["resolver"] != r["task"]]
    amb = []
    for text, cands in extra.get("ambiguous", {}).items():
        got, asked = resolved(resolver, text)
        amb.append(
            {
                "instruction": text,
                "could_mean": cands,
                "resolver": got,
                "asked": asked,
                "nearest_neighbour": nearest_neighbour(resolver, text),
            }
        )
    result["ambiguous"] = {
        "count": len(amb),
        "resolver_not_guessed": sum(a["resolver"] is None for a in amb),
        "resolver_asked_exactly": sum(sorted(a["asked"]) == sorted(a["could_mean"]) for a in amb),
        "nearest_neighbour_not_guessed": sum(a["nearest_neighbour"] is None for a in amb),
        "guessed": [a for a in amb if a["resolver"] is not None],
    }
    unrelated = list(extra.get("unrelated", []))
    un = [
        {"instruction": t, "resolver": resolved(resolver, t)[0], "nearest_neighbour": nearest_neighbour(resolver, t)}
        for t in unrelated
    ]
    result["unrelated"] = {
        "count": len(un),
        "resolver_refused": sum(u["resolver"] is None for u in un),
        "nearest_neighbour_refused": sum(u["nearest_neighbour"] is None for u in un),
        "accepted": [u for u in un if u["resolver"] is not None],
    }
    matrix = np.zeros((len(tasks), len(tasks) + 1), dtype=int)
    for r in rows:
        col = tasks.index(r["resolver"]) if r["resolver"] else len(tasks)
        matrix[tasks.index(r["task"]), col] += 1
    result["confusion"] = {"rows": tasks, "columns": [*tasks, "(asked or refused)"], "counts": matrix.tolist()}
    return result


def plot_confusion(result: Mapping, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.array(result["confusion"]["counts"])
    rows, cols = result["confusion"]["rows"], result["confusion"]["columns"]
    fig, ax = plt.subplots(figsize=(9, 7.5))
    ax.imshow(counts / np.maximum(counts.sum(1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    for i, j in zip(*np.nonzero(counts)):
        ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7, color="white" if i == j else "crimson")
    ax.set_xticks(range(len(cols)), cols, rotation=75, fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.set_xlabel("resolved to")
    ax.set_ylabel("asked for")
    ax.set_title(
        f"instruction resolution, set {result['set']!r}: "
        f"{result['resolver']['correct']}/{result['instructions']} correct"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(results: Sequence[Mapping]) -> str:
    lines = [
        "| set | instructions | method | correct | wrong task | asked / refused | left/right | up/down | "
        "open/close | white/black | ambiguous: not guessed | unrelated: refused |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for m, label in (("resolver", "slots + embedding"), ("nearest_neighbour", "nearest neighbour")):
            s, h = r[m], r["held_out_only"]
            amb = r["ambiguous"][f"{m}_not_guessed"]
            un = r["unrelated"][f"{m}_refused"]
            lines.append(
                f"| {r['set']} | {r['instructions']} | {label} | {s['correct']} ({100 * s['accuracy']:.1f}%) | "
                f"{h[m]}/{h['instructions']} ({100 * h[m] / max(h['instructions'], 1):.1f}%) | {s['wrong_task']} | {s['refused']} | "
                + " | ".join(str(s["swaps"][k]) for k in SWAPS)
                + f" | {amb}/{r['ambiguous']['count']} | {un}/{r['unrelated']['count']} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=["final"], help="phrasing sets in benchmarks/instructions/")
    parser.add_argument("--out", default="outputs/instructions", help="folder for results.json / .md / png")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    resolver = InstructionResolver()
    references = reference_sentences()
    results = []
    for name in args.sets:
        r = evaluate(name, resolver, references)
        results.append(r)
        plot_confusion(r, out / f"confusion_{name}.png")
        print(
            f"set {name}: {r['instructions']} instructions ({len(r['in_reference_sentences'])} also reference "
            f"sentences: {r['in_reference_sentences']})"
        )
        for e in r["errors"]:
            print(
                f"  wrong: {e['instruction']!r} asked {e['task']}, got {e['resolver'] or 'a question'}"
                + (f" ({', '.join(e['asked'])})" if e["asked"] else "")
            )
        for g in r["ambiguous"]["guessed"]:
            print(f"  guessed on an ambiguous one: {g['instruction']!r} → {g['resolver']}")
        for a in r["unrelated"]["accepted"]:
            print(f"  accepted an unrelated one: {a['instruction']!r} → {a['resolver']}")
    table = markdown(results)
    print(table)
    (out / "results.md").write_text(table)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
