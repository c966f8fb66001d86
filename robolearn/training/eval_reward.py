"""``robolearn eval``: held-out accuracy and ROC-AUC of a reward, per task and per rephrasing category.

Protocol (LOReL's, on structured labels):

* episodes: the validation split of training (``split_episodes`` with the checkpoint's
  ``val_fraction`` and ``seed``, over the same ``max_episodes``), never seen by the optimizer;
* for each task label L, positives are the pairs (s0, s_T) of episodes whose *final* labels contain L;
  negatives are all other episodes' (s0, s_T). Hard negatives — the same object changed another way
  ("open the drawer" where the drawer closed; "move the white mug up" where it moved down or sideways)
  — are reported separately too (``hard_auc``: positives against hard negatives only);
* instructions in LOReL's rephrasing categories: ``seen`` (training verbs and nouns), ``unseen_verb``,
  ``unseen_noun``, ``unseen_verb_noun`` (``describe_category``; ``phrasings`` distinct sentences per
  category, metrics averaged), ``freeform`` (hand-written paraphrases, ``conf/instructions/freeform.yaml``)
  and, with ``instructions=FILE``, the user's own phrasings (column ``custom``).

Accuracy is at ``threshold`` over all pairs scored for a task (mostly negatives), so the balanced
accuracy (mean of the true-positive and true-negative rates) is reported next to it. AUC is
threshold-free: P(score of a random positive > score of a random negative).

Outputs: rich tables on stdout, ``eval_<checkpoint stem>.json`` (everything, per phrasing) and
``eval_<checkpoint stem>.csv`` (one row per task × category × phrasing) next to the checkpoint or in ``out``.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import yaml
from omegaconf import DictConfig
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from rewards.lorel import load_checkpoint, read_checkpoint
from rewards.metrics import roc_auc
from robolearn.config import ConfigError, one_line
from robolearn.data.labels import label_to_task
from robolearn.data.language import REPHRASING_CATEGORIES, describe_category
from robolearn.paths import conf_dir
from robolearn.training.datasets import held_out_episodes
from robolearn.training.eval_options import eval_options, report_dir
from robolearn.training.reward_data import LabelIndex, opposite_labels
from sim.plumbing.checks import shown
from sim.plumbing.files import atomic_open, output_keys, write_json_atomic
from sim.tasks.desk import DESK_TASKS

if TYPE_CHECKING:  # pragma: no cover
    from rewards.lorel import LorelReward

__all__ = [
    "CUSTOM",
    "FREEFORM",
    "EvalSettings",
    "category_phrasings",
    "load_instruction_file",
    "print_report",
    "run_eval",
]

FREEFORM = "freeform"
CUSTOM = "custom"
#: default free-form paraphrases, relative to the config directory
FREEFORM_FILE = Path("instructions") / "freeform.yaml"
#: the fewest held-out episodes a reward's evaluation takes (``max_val_episodes``): a positive and a negative
MIN_VAL_EPISODES = 2
# describe_category draws from small word banks; give up on finding more distinct phrasings after this
# many draws per wanted phrasing (a category may have fewer distinct sentences than asked for).
DRAWS_PER_PHRASING = 50
MIN_TABLE_WIDTH = 120  # columns: room for the widest table (task name + 6 categories) without truncation
CATEGORY_TITLES = {
    "seen": "seen",
    "unseen_verb": "unseen verb",
    "unseen_noun": "unseen noun",
    "unseen_verb_noun": "unseen verb+noun",
    FREEFORM: "free-form",
    CUSTOM: "custom",
}


@dataclass(frozen=True)
class EvalSettings:
    """A validated ``conf/eval.yaml`` for a reward checkpoint: its options (``EvalOptions``, whose knobs document
    every field) less the ``video`` node, with the paths as ``Path``s and ``freeform``'s ``default`` resolved."""

    checkpoint: Path
    data: Path | None
    out: Path | None
    max_episodes: int | str
    max_val_episodes: int | None
    instructions: Path | None
    freeform: Path | None
    phrasings: int
    max_negatives: int | None
    threshold: float
    phrasing_seed: int
    batch_size: int
    torch_threads: int
    progress_bar: bool

    @classmethod
    def from_config(cls, cfg: DictConfig | Mapping[str, Any]) -> EvalSettings:
        """Validate a composed ``eval`` config (the ``video`` node is not read); one-line ``ConfigError``s."""
        options = eval_options(cfg, ("video",), "runs/lorel/best.pt")
        if options.max_val_episodes is not None and options.max_val_episodes < MIN_VAL_EPISODES:
            raise ConfigError(
                f"max_val_episodes={options.max_val_episodes} is too few for a reward; use an integer "
                f"≥ {MIN_VAL_EPISODES} (a positive and a negative) or null"
            )
        values = {f.name: getattr(options, f.name) for f in fields(cls)}
        freeform = options.freeform
        values["checkpoint"] = Path(options.checkpoint)
        values["freeform"] = conf_dir() / FREEFORM_FILE if freeform == "default" else _optional_path(freeform)
        return cls(**values)


def _optional_path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


# ------------------------------------------------------------------------------------- instructions
def load_instruction_file(path: Path) -> dict[str, str]:
    """A user's phrasings: a YAML or JSON mapping ``instruction → task name``.

    Raises:
        ConfigError: missing or unparsable file, not a mapping of strings, or unknown task names (the
            message lists the valid ones).
    """
    if not path.is_file():
        raise ConfigError(f"instructions file {shown(str(path))} does not exist")
    if path.suffix.lower() not in (".json", ".yaml", ".yml"):
        raise ConfigError(f"instructions file {shown(str(path))}: use a .yaml, .yml or .json file")
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (ValueError, ImportError) as e:  # json.JSONDecodeError and yaml.YAMLError are ValueErrors / YAMLError
        raise ConfigError(
            f"instructions file {shown(str(path))} is not valid {path.suffix[1:].upper()}: {one_line(str(e))}"
        ) from None
    except Exception as e:
        raise ConfigError(f"instructions file {shown(str(path))} could not be parsed: {one_line(str(e))}") from None
    if not isinstance(data, Mapping) or not data:
        raise ConfigError(
            f"instructions file {shown(str(path))} must be a non-empty mapping instruction → task name, "
            'e.g. {"push the drawer shut": "close_drawer"}'
        )
    out: dict[str, str] = {}
    for instruction, task in data.items():
        if not isinstance(instruction, str) or not instruction.strip() or not isinstance(task, str):
            raise ConfigError(
                f"instructions file {shown(str(path))}: entry {shown(instruction)}: {shown(task)} must map an "
                "instruction string to a task name"
            )
        out[instruction.strip()] = task
    bad = sorted({t for t in out.values() if t not in DESK_TASKS})
    if bad:
        raise ConfigError(
            f"instructions file {shown(str(path))}: unknown task(s) {shown(bad)}; valid tasks: {', '.join(DESK_TASKS)}"
        )
    return out


def category_phrasings(label: tuple, category: str, k: int, rng: np.random.Generator) -> list[str]:
    """Up to ``k`` distinct ``describe_category(label, category, rng)`` sentences (fewer if the banks
    have fewer)."""
    found: dict[str, None] = {}
    for _ in range(k * DRAWS_PER_PHRASING):
        found[describe_category(label, category, rng)] = None
        if len(found) == k:
            break
    return list(found)


# ------------------------------------------------------------------------------------------ metrics
def _metrics(p: np.ndarray, pos: np.ndarray, hard: np.ndarray, threshold: float) -> dict[str, float | None]:
    """AUC (positives vs all negatives scored), hard AUC (vs hard negatives), accuracy, balanced accuracy."""
    neg = ~pos
    pred = p > threshold
    tpr = float(pred[pos].mean()) if pos.any() else math.nan
    tnr = float((~pred[neg]).mean()) if neg.any() else math.nan
    both = pos | hard
    return {
        "auc": roc_auc(p, pos) if pos.any() and neg.any() else None,
        "hard_auc": roc_auc(p[both], pos[both]) if pos.any() and hard.any() else None,
        "acc": float((pred == pos).mean()),
        "bal_acc": (tpr + tnr) / 2,
        "tpr": tpr,
        "tnr": tnr,
    }


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(vals)) if vals else None


# ------------------------------------------------------------------------------------------- scoring
# The image CNN does not see the instruction (both fusions encode the frames, then the head conditions
# on the text), so the evaluation encodes every held-out pair once and only re-runs the small head per
# phrasing: 15 tasks × ~16 phrasings would otherwise encode each pair ~240 times. The result equals
# ``model.score_pairs`` (tests/test_reward_training.py checks it).
def _pair_features(model: LorelReward, s0: torch.Tensor, st: torch.Tensor, batch: int) -> torch.Tensor:
    """Fused image features (E, F) of E (s0, s_t) pairs (uint8 (E, C, H, W) each), eval mode, no grad."""
    with torch.inference_mode():
        return torch.cat(
            [model.image_features(s0[i : i + batch], st[i : i + batch]) for i in range(0, s0.shape[0], batch)]
        ).cpu()


def _head_scores(model: LorelReward, feats: torch.Tensor, instruction: str) -> torch.Tensor:
    """Probabilities (N,) that the pairs with features ``feats`` (N, F) carry out ``instruction``."""
    with torch.inference_mode():
        return model.head_probabilities(
            feats.to(model.device), model.conditions(model.encode_text([instruction]))
        ).cpu()


# ------------------------------------------------------------------------------------------- running
def run_eval(s: EvalSettings, echo: bool = True, model: LorelReward | None = None) -> dict[str, Any]:
    """Evaluate the checkpoint of ``s``; returns the report (also written as JSON and CSV).

    Args:
        s: settings.
        echo: print the tables.
        model: an already loaded model to use instead of loading ``s.checkpoint`` (its training config
            is still read from the checkpoint).

    Raises:
        ConfigError: bad instruction file, no held-out episodes. FileNotFoundError / CheckpointError: bad
        checkpoint. DatasetError: bad data folder.
    """

    torch.set_num_threads(s.torch_threads)
    custom = load_instruction_file(s.instructions) if s.instructions is not None else {}
    freeform = load_instruction_file(s.freeform) if s.freeform is not None else {}
    if model is None:
        model, state = load_checkpoint(s.checkpoint)
    else:
        state = read_checkpoint(s.checkpoint)
    model.eval()
    data, reader, val_eps, _, split = held_out_episodes(state, s.checkpoint, s.data, s.max_episodes, s.max_val_episodes)
    max_episodes, val_fraction, split_seed = split["max_episodes"], split["val_fraction"], split["seed"]
    if len(val_eps) < 2:
        raise ConfigError(
            f"{data}: only {len(val_eps)} held-out episodes (val_fraction={val_fraction}, "
            f"seed={split_seed}); evaluate on a larger dataset"
        )
    index = LabelIndex(reader, val_eps, progress=s.progress_bar and echo)
    final = index.holds[index.offsets[1:] - 1]  # (E, V): labels of each episode's frame 0 → T
    pairs = [reader.frames(int(e), "rgb", (0, int(T))) for e, T in zip(index.episodes, index.lengths)]
    images = torch.from_numpy(np.stack(pairs)).permute(0, 1, 4, 2, 3)  # (E, 2, C, H, W) uint8
    s0, sT = images[:, 0], images[:, 1]
    feats = _pair_features(model, s0, sT, s.batch_size)  # (E, F): each pair through the CNN once
    rng_neg = np.random.default_rng([s.phrasing_seed, 1])

    tasks_out: dict[str, Any] = {}
    categories = [*REPHRASING_CATEGORIES, *([FREEFORM] if freeform else []), *([CUSTOM] if custom else [])]
    # on a terminal only (disable=None): on a redirected stderr a bar would sit in front of an error message
    bar = tqdm(
        index.task_ids, desc="tasks", unit="task", disable=None if s.progress_bar and echo else True, leave=False
    )
    for v in bar:
        label = index.vocab[v]
        task = str(label_to_task(label))
        pos_all = final[:, v]
        opp = [index.column[l] for l in opposite_labels(label, index.vocab)]
        hard_all = ~pos_all & (final[:, opp].any(axis=1) if opp else np.zeros_like(pos_all))
        rows = np.flatnonzero(pos_all | hard_all)
        others = np.flatnonzero(~pos_all & ~hard_all)
        if s.max_negatives is not None and others.size > s.max_negatives:
            others = np.sort(rng_neg.choice(others, s.max_negatives, replace=False))
        rows = np.sort(np.concatenate([rows, others]))
        pos, hard = pos_all[rows], hard_all[rows]
        entry: dict[str, Any] = {
            "label": list(label),
            "n_pos": int(pos.sum()),
            "n_neg": int((~pos).sum()),
            "n_hard": int(hard.sum()),
            "categories": {},
        }
        tasks_out[task] = entry
        if not pos.any():
            continue  # no held-out episode does this task: nothing to measure
        phr: dict[str, list[str]] = {}
        for ci, cat in enumerate(REPHRASING_CATEGORIES):
            phr[cat] = category_phrasings(label, cat, s.phrasings, np.random.default_rng([s.phrasing_seed, v, ci]))
        if freeform:
            phr[FREEFORM] = [t for t, name in freeform.items() if name == task]
        if custom:
            phr[CUSTOM] = [t for t, name in custom.items() if name == task]
        for cat, texts in phr.items():
            per: list[dict[str, str | float | None]] = []  # the report's rows: the text and its metrics
            scores: list[dict[str, float | None]] = []  # the same metrics without the text
            for text in texts:
                p = _head_scores(model, feats[torch.from_numpy(rows)], text).numpy()
                scores.append(_metrics(p, pos, hard, s.threshold))
                per.append({"text": text, **scores[-1]})
            entry["categories"][cat] = {
                "phrasings": per,
                **{m: _mean([x[m] for x in scores]) for m in ("auc", "hard_auc", "acc", "bal_acc")},
            }
    report: dict[str, Any] = {
        "checkpoint": str(s.checkpoint),
        "data": str(data),
        "step": int(state.get("step", 0)),
        "val_episodes": len(val_eps),
        "split": {"max_episodes": max_episodes, "val_fraction": val_fraction, "seed": split_seed},
        "threshold": s.threshold,
        "phrasings_per_category": s.phrasings,
        "categories": categories,
        "custom_instructions": custom,
        "tasks": tasks_out,
        "rephrasing": {
            cat: _mean([t["categories"][cat]["auc"] for t in tasks_out.values() if cat in t["categories"]])
            for cat in categories
        },
        "rephrasing_hard": {
            cat: _mean([t["categories"][cat]["hard_auc"] for t in tasks_out.values() if cat in t["categories"]])
            for cat in categories
        },
    }
    seen = [t["categories"]["seen"] for t in tasks_out.values() if "seen" in t["categories"]]
    report["seen"] = {m: _mean([c[m] for c in seen]) for m in ("auc", "hard_auc", "acc", "bal_acc")}
    out_dir = report_dir(s.out, s.checkpoint)
    stem = f"eval_{s.checkpoint.stem}"
    report["files"] = {"json": str(out_dir / f"{stem}.json"), "csv": str(out_dir / f"{stem}.csv")}
    with output_keys({"out": out_dir}):
        write_json_atomic(report["files"]["json"], report)
        _write_csv(Path(report["files"]["csv"]), report)
    if echo:
        print_report(report)
    return report


def _write_csv(path: Path, report: Mapping[str, Any]) -> None:
    """One row per task × category × phrasing."""
    cols = ["task", "category", "phrasing", "n_pos", "n_neg", "n_hard", "auc", "hard_auc", "acc", "bal_acc"]
    with atomic_open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for task, t in report["tasks"].items():
            for cat, c in t["categories"].items():
                for p in c["phrasings"]:
                    w.writerow(
                        [
                            task,
                            cat,
                            p["text"],
                            t["n_pos"],
                            t["n_neg"],
                            t["n_hard"],
                            *(("" if p[m] is None else f"{p[m]:.4f}") for m in cols[6:]),
                        ]
                    )


# ----------------------------------------------------------------------------------------- printing
def _fmt(x: float | None, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def print_report(report: Mapping[str, Any]) -> None:
    """The per-task table, the rephrasing table and (with a user file) the per-phrasing table."""
    # Non-terminal output (pipes, logs) defaults to 80 columns, which truncates task names.
    console = Console(highlight=False, width=max(MIN_TABLE_WIDTH, Console().width))
    t = Table(
        title=f"Held-out pairs, seen phrasings ({report['val_episodes']} episodes, step {report['step']}, "
        f"threshold {report['threshold']:g})"
    )
    for col in ("task", "pos", "neg", "hard neg", "acc", "bal. acc", "AUC", "hard AUC"):
        t.add_column(col, justify="left" if col == "task" else "right")
    for task, e in report["tasks"].items():
        c = e["categories"].get("seen", {})
        t.add_row(
            task,
            str(e["n_pos"]),
            str(e["n_neg"]),
            str(e["n_hard"]),
            _fmt(c.get("acc")),
            _fmt(c.get("bal_acc")),
            _fmt(c.get("auc")),
            _fmt(c.get("hard_auc")),
        )
    seen = report["seen"]
    t.add_row(
        "[bold]mean[/bold]",
        "",
        "",
        "",
        _fmt(seen["acc"]),
        _fmt(seen["bal_acc"]),
        f"[bold]{_fmt(seen['auc'])}[/bold]",
        _fmt(seen["hard_auc"]),
        end_section=True,
    )
    console.print(t)

    cats = report["categories"]
    r = Table(title="Rephrasing: ROC-AUC per instruction category (mean over phrasings)")
    r.add_column("task")
    for cat in cats:
        r.add_column(CATEGORY_TITLES.get(cat, cat), justify="right")
    for task, e in report["tasks"].items():
        r.add_row(task, *(_fmt(e["categories"].get(cat, {}).get("auc")) for cat in cats))
    r.add_row("[bold]mean AUC[/bold]", *(f"[bold]{_fmt(report['rephrasing'][c])}[/bold]" for c in cats))
    r.add_row("mean hard AUC", *(_fmt(report["rephrasing_hard"][c]) for c in cats))
    console.print(r)

    if CUSTOM in cats:
        u = Table(title="Your phrasings")
        for col in ("instruction", "task", "AUC", "hard AUC", "acc", "bal. acc"):
            u.add_column(col, justify="left" if col in ("instruction", "task") else "right")
        for task, e in report["tasks"].items():
            for p in e["categories"].get(CUSTOM, {}).get("phrasings", []):
                u.add_row(p["text"], task, _fmt(p["auc"]), _fmt(p["hard_auc"]), _fmt(p["acc"]), _fmt(p["bal_acc"]))
        asked = set(report["custom_instructions"].values())
        missing = [task for task, e in report["tasks"].items() if e["n_pos"] == 0 and task in asked]
        console.print(u)
        if missing:
            console.print(f"no held-out episode does {', '.join(missing)}: phrasings of these tasks are not scored")
    console.print(f"written: {report['files']['json']}, {report['files']['csv']}")
