"""``robolearn eval dvd``: a DVD reward's same-task pair ROC-AUC and accuracy per split, and the ranking check.

The clips evaluated are every clip of the ``data`` datasets except those the checkpoint trained on: a dataset the
run trained on (same folder) contributes only its validation split (the split settings are read from the
checkpoint), and clips past its ``max_clips``. What the training datasets held (``Protocol``: the labels with
robot clips, *seen tasks*; the other labels, *human-only tasks*; the actors of their non-robot clips, *training
actors*), joined with the checkpoint's vocabulary (``rewards.dvd.DVDVocabulary``), defines the splits, so rewards
trained on the same datasets are measured on the same pairs (a robot-only reward included, although it never
looked at the human clips).

Notation: a clip *demonstrates* its label when its outcome is not failed / partial / pretending; R = robot clips
that demonstrate, in a training variant; H = human clips that demonstrate, by a training actor; H' = human clips that
demonstrate, by another actor (held out); R_V = robot clips that demonstrate, rendered in variant V (one
not trained on: ``new_colors``, ``new_viewpoint``, ``new_arrangement``). Each split scores (candidate, demo) pairs
of different clips with P(same task) (the candidate first: the concat head's order when planning), a pair being
positive iff both clips have the same label:

* ``robot-robot``: candidates R, demos R, both of seen tasks;
* ``robot-human``: candidates R, demos H, both of seen tasks (the pairing planning uses: a human demo, a robot clip);
* ``held-out actor``: candidates R, demos H', both of seen tasks;
* ``variant V``: candidates R_V, demos H, both of seen tasks;
* ``human-only tasks``: candidates R, demos H, labels of trained tasks, pairs where at least one side's label is a
  human-only task (its positives: a robot clip of a task whose robot clips were never trained on, and a human demo);
* ``ranking``: per trained label with attempts of at least two outcomes: the demos are the first ``ranking_demos``
  clips of H of that label, the candidates every other clip of that label by the robot (training variants) or a
  training actor (done, partial, failed); a candidate's score is ``DVDReward.score`` (mean over the demos of P(same task),
  times the progress factor); reported: the fraction of candidate pairs of different outcomes ordered done > partial
  > failed / pretending (ties ½), and the mean score per outcome.

Each AUC split keeps at most ``max_pairs / 2`` positive and ``max_pairs / 2`` negative pairs (drawn with ``seed``);
accuracy is balanced (the mean of the accuracies on positive and on negative pairs) at ``threshold``. A split
without both positive and negative pairs is reported with its counts and no AUC.

Outputs (atomic): ``<out>/eval_dvd_<checkpoint stem>.md`` (the table), ``.csv``, ``.json`` and ``.png`` (ROC curves
per split, and the ranking check's mean scores per outcome).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from rewards.dvd.checkpoint import load_checkpoint
from rewards.dvd.model import DVDReward
from robolearn.conf_files import parse_options
from robolearn.config import ConfigError
from robolearn.training.dvd_data import (
    NEGATIVE_OUTCOMES,
    OUTCOME_RANK,
    ClipSet,
    LoadClips,
    Pool,
    load_clip_set,
    root_key,
    split_clips,
)
from robolearn.training.dvd_metrics import (
    embed_pool,
    pair_metrics,
    pair_probabilities,
    ranking,
    roc_curve,
    sample_pairs,
)
from sim.plumbing.files import atomic_open, check_writable, output_keys, write_json_atomic
from sim.plumbing.settings import check_knobs, knob

__all__ = ["DVDEvalOptions", "DVDEvalSettings", "run_eval_dvd"]

#: the outcomes of the ranking check, best first, as reported
RANK_OUTCOMES = ("done", "partial", "failed", "pretending")
#: figure size (inches) and resolution
FIGSIZE, DPI = (11.0, 4.5), 110


@dataclass(frozen=True, kw_only=True)
class DVDEvalOptions:
    """The options of ``robolearn eval dvd`` (``conf/eval_dvd.yaml`` is generated from this class)."""

    checkpoint: Path = knob(Path("runs/dvd/best.pt"), "the DVD reward checkpoint (robolearn train dvd)")
    data: tuple[Path, ...] = knob(
        (Path("data/videos"), Path("data/videos_eval"), Path("data/videos_heldout_actor")),
        "clip datasets to evaluate on (robot and human; held-out variants and actors included): clips the checkpoint "
        "trained on are left out (its datasets contribute their validation split only)",
        value_type=Path,
    )
    out: Path | None = knob(
        None, "folder of the report files; null = the checkpoint's folder", value_type=Path, nullable=True
    )
    max_pairs: int = knob(20000, "pairs per split at most (half positive when there are enough)", lo=2)
    ranking_demos: int = knob(3, "human demo clips per task in the ranking check (count)", lo=1)
    threshold: float = knob(0.5, "P(same task) at or above which a pair is called the same task (accuracy)", lo=0, hi=1)
    seed: int = knob(0, "seed of the pairs drawn", lo=0)
    torch_threads: int = knob(2, "intra-op threads (the machine's cores)", lo=1)

    def __post_init__(self) -> None:
        check_knobs(self, "")


@dataclass(frozen=True, kw_only=True)
class DVDEvalSettings(DVDEvalOptions):
    """A validated ``conf/eval_dvd.yaml`` (``raw``: the resolved config)."""

    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: DictConfig | Mapping[str, Any]) -> DVDEvalSettings:
        """Validate a composed ``eval_dvd`` config; every problem is a one-line ``ConfigError``."""
        raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
        if not isinstance(raw, dict):
            raise ConfigError(f"an eval dvd config must be a mapping, got {raw!r}")
        plain = {str(k): v for k, v in raw.items()}
        parsed = parse_options(DVDEvalOptions, plain, "eval dvd")
        values = {f.name: getattr(parsed, f.name) for f in fields(parsed)}
        if not values["data"]:
            raise ConfigError("data=[] names no clip dataset; e.g. data=[data/videos,data/videos_eval]")
        folder = values["out"] if values["out"] is not None else Path(values["checkpoint"]).parent
        values["out"] = check_writable(folder, "out", folder=True)
        return cls(**values, raw=plain)


# ----------------------------------------------------------------------------------------------- clips
@dataclass
class Protocol:
    """What the training datasets held, whether or not the run used all of it (a robot-only run skips the human
    clips): the actors of their non-robot clips, their labels, and the labels that have robot clips. Every reward
    trained on the same datasets is then evaluated on the same splits, a robot-only one included."""

    actors: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)
    robot_labels: set[str] = field(default_factory=set)

    def add(self, infos: Sequence[Any]) -> None:
        for info in infos:
            self.labels.add(str(info.label))
            if info.is_robot:
                self.robot_labels.add(str(info.label))
            else:
                self.actors.add(str(info.actor))

    def merged(self, vocab: Any) -> Protocol:
        """This protocol joined with what the checkpoint itself trained on (its ``DVDVocabulary``)."""
        return Protocol(
            self.actors | set(vocab.actors),
            self.labels | set(vocab.labels),
            self.robot_labels | set(vocab.robot_labels),
        )


def held_out_clips(
    s: DVDEvalSettings, train_config: Mapping[str, Any], num_frames: int, size: int, load: LoadClips
) -> tuple[Pool, dict[str, int], Protocol]:
    """The clips of ``s.data`` the checkpoint did not train on (see the module docstring), per dataset how many, and
    the protocol of the training datasets among ``s.data``."""
    trained = [root_key(p) for p in train_config.get("data") or []]
    human = [root_key(p) for p in train_config.get("human_data") or []]
    if not train_config.get("robot_only"):
        trained += human
    protocol = Protocol()  # from every dataset the run was given, read or not
    val_fraction = float(train_config.get("val_fraction", 0.1))
    seed = int(train_config.get("seed", 0))
    max_clips = train_config.get("max_clips")
    parts: list[tuple[ClipSet, list[int]]] = []
    counts: dict[str, int] = {}
    for root in s.data:
        clips = load(root, num_frames, size)
        positions = list(range(len(clips.infos)))
        if root_key(root) in trained or root_key(root) in human:
            protocol.add(clips.infos)
        if root_key(root) in trained:
            limit = len(positions) if max_clips is None else min(len(positions), int(max_clips))
            head = clips.head(limit)
            positions = sorted(split_clips(head, val_fraction, seed)[1]) + list(range(limit, len(clips.infos)))
        parts.append((clips, positions))
        counts[str(root)] = len(positions)
    return Pool.gather(parts), counts, protocol


@dataclass
class Split:
    """One AUC split: its name, what its pairs are, and the pairs' P(same task)."""

    name: str
    about: str
    p: np.ndarray
    same: np.ndarray
    metrics: dict[str, float]


def _sets(pool: Pool, vocab: Any, protocol: Protocol) -> dict[str, np.ndarray]:
    """The clip sets of the module docstring (pool positions)."""
    seen = np.isin(pool.labels, sorted(protocol.robot_labels))
    trained = np.isin(pool.labels, sorted(protocol.labels))
    variant = np.array([str(i.variant) for i in pool.infos], dtype=object)
    actor = np.array([str(i.actor) for i in pool.infos], dtype=object)
    train_variant = np.isin(variant, list(vocab.variants))
    known_actor = np.isin(actor, sorted(protocol.actors))
    pos = pool.positive
    return {
        "R": pool.where(pos & pool.robot & train_variant & trained),
        "R_seen": pool.where(pos & pool.robot & train_variant & seen),
        "H": pool.where(pos & ~pool.robot & known_actor & trained),
        "H_seen": pool.where(pos & ~pool.robot & known_actor & seen),
        "H_new_seen": pool.where(pos & ~pool.robot & ~known_actor & seen),
        "variant": variant,
        "train_variant": train_variant,
        "known_actor": known_actor,
        "seen": seen,
        "human_only": np.isin(pool.labels, sorted(protocol.labels - protocol.robot_labels)),
    }


def auc_splits(
    model: DVDReward,
    pool: Pool,
    emb: torch.Tensor,
    s: DVDEvalSettings,
    sets: Mapping[str, np.ndarray],
) -> list[Split]:
    """Every AUC split of the module docstring that has pairs (``sets``: ``_sets`` of the pool)."""
    rng = np.random.default_rng(s.seed)
    human_only = sets["human_only"]
    specs: list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray | None]] = [
        ("robot-robot", "robot clip vs robot clip, seen tasks", sets["R_seen"], sets["R_seen"], None),
        ("robot-human", "robot clip vs human demo, seen tasks", sets["R_seen"], sets["H_seen"], None),
        ("held-out actor", "robot clip vs demo by an actor not trained on", sets["R_seen"], sets["H_new_seen"], None),
    ]
    variants = sorted({str(v) for v in sets["variant"][pool.robot & ~sets["train_variant"]]})
    for v in variants:
        cand = pool.where(pool.positive & pool.robot & (sets["variant"] == v) & sets["seen"])
        specs.append((f"variant {v}", f"robot clip rendered in {v} vs human demo", cand, sets["H_seen"], None))
    cand, demo = sets["R"], sets["H"]
    keep = human_only[cand][:, None] | human_only[demo][None, :]
    specs.append(
        ("human-only tasks", "robot clip vs human demo, a task without robot clips in training", cand, demo, keep)
    )
    out = []
    for name, about, c, d, k in specs:
        if not len(c) or not len(d):
            continue
        pairs = sample_pairs(pool, c, d, rng, s.max_pairs, k)
        if not len(pairs.same):
            continue
        p = pair_probabilities(model, emb, pairs.cand, pairs.demo)
        out.append(Split(name, about, p, pairs.same, pair_metrics(p, pairs.same, s.threshold)))
    return out


def ranking_check(
    model: DVDReward, pool: Pool, s: DVDEvalSettings, protocol: Protocol, sets: Mapping[str, np.ndarray]
) -> list[dict[str, Any]]:
    """The ranking check of the module docstring: one row per label that has it (``sets``: ``_sets`` of the pool)."""
    rows = []
    for label in sorted(protocol.labels):
        demos = sets["H"][pool.labels[sets["H"]] == label][: s.ranking_demos]
        # Attempts by the robot (training variants) and by the training actors, the demos themselves left out:
        # rendered robot demos all succeed, so the failed and partial attempts are mostly the actors'.
        attempt = (pool.robot & sets["train_variant"]) | (~pool.robot & sets["known_actor"])
        cand = np.setdiff1d(pool.where(attempt & (pool.labels == label)), demos)
        outcomes = [str(pool.infos[i].outcome) for i in cand]
        outcomes_known = [o for o in outcomes if o in OUTCOME_RANK]
        if len({OUTCOME_RANK[o] for o in outcomes_known}) < 2 or not len(demos):
            continue
        cand = np.array([i for i, o in zip(cand, outcomes) if o in OUTCOME_RANK], dtype=np.int64)
        scores = model.score(pool.frames[cand], pool.frames[demos]).double().numpy()
        r = ranking(scores, outcomes_known)
        means = {
            o: float(np.mean([sc for sc, oc in zip(scores, outcomes_known) if oc == o]))
            for o in RANK_OUTCOMES
            if o in outcomes_known
        }
        rows.append(
            {"label": label, "ordered": r["ordered"], "pairs": r["pairs"], "candidates": len(cand), "mean_score": means}
        )
    return rows


# ----------------------------------------------------------------------------------------------- report
def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return "–" if math.isnan(x) else f"{x:.3f}"
    return str(x)


def markdown(report: Mapping[str, Any]) -> str:
    """The report as markdown: the AUC table, then the ranking table."""
    lines = [
        f"# DVD reward evaluation: {report['checkpoint']}",
        "",
        f"head {report['head']}; {report['clips']} held-out clips; seen tasks {report['vocabulary']['robot_labels']}; "
        f"human-only tasks {report['human_only_labels']}",
        "",
        "| split | pairs | positives | ROC-AUC | balanced accuracy | pairs of |",
        "|---|---|---|---|---|---|",
    ]
    for r in report["splits"]:
        lines.append(
            f"| {r['split']} | {r['positives'] + r['negatives']} | {r['positives']} | {_fmt(r['auc'])} | "
            f"{_fmt(r['accuracy'])} | {r['about']} |"
        )
    lines += ["", "Ranking check (done > partial > failed / pretending attempts of the same task):", ""]
    lines += ["| task | candidates | ordered pairs | " + " | ".join(f"mean score {o}" for o in RANK_OUTCOMES) + " |"]
    lines += ["|---|---|---|" + "---|" * len(RANK_OUTCOMES)]
    for r in report["ranking"]:
        scores = " | ".join(_fmt(r["mean_score"].get(o, float("nan"))) for o in RANK_OUTCOMES)
        lines.append(f"| {r['label']} | {r['candidates']} | {_fmt(r['ordered'])} ({r['pairs']}) | {scores} |")
    if report["ranking_overall"] is not None:
        lines += ["", f"ranking overall: {_fmt(report['ranking_overall'])} of candidate pairs ordered correctly"]
    return "\n".join(lines) + "\n"


def write_csv(path: Path, report: Mapping[str, Any]) -> None:
    """One row per split (metric = auc / accuracy) and per ranked task (metric = ordered / mean_<outcome>)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["kind", "name", "metric", "value", "count"])
    for r in report["splits"]:
        n = r["positives"] + r["negatives"]
        w.writerow(["split", r["split"], "auc", r["auc"], n])
        w.writerow(["split", r["split"], "accuracy", r["accuracy"], n])
    for r in report["ranking"]:
        w.writerow(["ranking", r["label"], "ordered", r["ordered"], r["pairs"]])
        for o, v in r["mean_score"].items():
            w.writerow(["ranking", r["label"], f"mean_{o}", v, r["candidates"]])
    with atomic_open(path, "w", newline="") as f:
        f.write(buf.getvalue())


def write_figure(path: Path, splits: Sequence[Split], report: Mapping[str, Any]) -> None:
    """ROC curves per split (left) and the ranking check's mean score per outcome and task (right)."""
    import matplotlib  # on use: heavy; and matplotlib.use("Agg") must run before pyplot loads

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt  # after matplotlib.use("Agg"), see above

    fig, (roc, bars) = plt.subplots(1, 2, figsize=FIGSIZE)
    for sp in splits:
        if sp.same.any() and (~sp.same).any():
            fpr, tpr = roc_curve(sp.p, sp.same)
            roc.plot(fpr, tpr, label=f"{sp.name} (AUC {sp.metrics['auc']:.3f})")
    roc.plot([0, 1], [0, 1], "k:", lw=0.8)
    roc.set(xlabel="false-positive rate", ylabel="true-positive rate", title="same-task pairs: ROC per split")
    roc.legend(fontsize=7, loc="lower right")
    rows = report["ranking"]
    width = 0.8 / len(RANK_OUTCOMES)
    for k, o in enumerate(RANK_OUTCOMES):
        vals = [r["mean_score"].get(o, np.nan) for r in rows]
        bars.bar(np.arange(len(rows)) + k * width, vals, width, label=o)
    bars.set_xticks(
        np.arange(len(rows)) + 0.4 - width / 2, [r["label"] for r in rows], rotation=30, fontsize=7, ha="right"
    )
    bars.set(ylabel="mean score vs human demos", title="ranking check: mean score per outcome", ylim=(0, 1))
    if rows:
        bars.legend(fontsize=7)
    fig.tight_layout()
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=DPI)
    plt.close(fig)


def run_eval_dvd(s: DVDEvalSettings, echo: bool = True, load: LoadClips = load_clip_set) -> dict[str, Any]:
    """Evaluate the checkpoint on the held-out clips; write and return the report (see the module docstring).

    Raises:
        FileNotFoundError, rewards.dvd.checkpoint.CheckpointError: no or not a DVD checkpoint.
        ConfigError: no held-out clip to evaluate.
        robolearn.data.metadata.DatasetError: a folder is not a clip dataset.
    """
    torch.set_num_threads(s.torch_threads)
    model, info = load_checkpoint(s.checkpoint)
    c = model.config
    train_config = dict((info.get("extra") or {}).get("config") or {})
    pool, counts, protocol = held_out_clips(s, train_config, c.num_frames, c.image_size, load)
    protocol = protocol.merged(model.vocabulary)
    if not len(pool):
        raise ConfigError(
            f"no held-out clip in data={[str(p) for p in s.data]} (the checkpoint trained on all of them); "
            "evaluate on other datasets"
        )
    emb = embed_pool(model, pool.frames)
    sets = _sets(pool, model.vocabulary, protocol)  # the clip sets both checks draw from, computed once
    splits = auc_splits(model, pool, emb, s, sets)
    rank_rows = ranking_check(model, pool, s, protocol, sets)
    total = sum(r["pairs"] for r in rank_rows)
    overall = sum(r["ordered"] * r["pairs"] for r in rank_rows) / total if total else None
    stem = f"eval_dvd_{Path(s.checkpoint).stem}"
    assert s.out is not None  # from_config sets it
    files = {k: str(s.out / f"{stem}.{k}") for k in ("md", "csv", "json", "png")}
    report: dict[str, Any] = {
        "checkpoint": str(s.checkpoint),
        "step": info["step"],
        "head": c.head,
        "clips": len(pool),
        "clips_per_dataset": counts,
        "outcomes": {o: int(sum(str(i.outcome) == o for i in pool.infos)) for o in (*RANK_OUTCOMES, "none")},
        "vocabulary": model.vocabulary.to_dict(),
        "human_only_labels": sorted(protocol.labels - protocol.robot_labels),
        "protocol_actors": sorted(protocol.actors),
        "splits": [{"split": sp.name, "about": sp.about, **sp.metrics} for sp in splits],
        "ranking": rank_rows,
        "ranking_overall": overall,
        "negative_outcomes": list(NEGATIVE_OUTCOMES),
        "files": files,
    }
    with output_keys({"out": s.out}):
        s.out.mkdir(parents=True, exist_ok=True)
        with atomic_open(files["md"], "w") as f:
            f.write(markdown(report))
        write_csv(Path(files["csv"]), report)
        write_json_atomic(files["json"], report)
        write_figure(Path(files["png"]), splits, report)
    if echo:
        print(markdown(report), end="")
        print(f"written: {', '.join(files.values())}")
    return report
