"""Pair metrics of a DVD reward: embeddings of a pool of clips, sampled same-task pairs, ROC-AUC, accuracy, ranking.

Shared by the trainer's validation (``robolearn.training.train_dvd``) and the evaluation
(``robolearn.training.eval_dvd``, whose docstring defines each split's pairs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rewards.dvd.model import DVDReward
from rewards.metrics import roc_auc
from rewards.nets import evaluating
from robolearn.training.dvd_data import OUTCOME_RANK, Pool

__all__ = ["PairSet", "embed_pool", "pair_metrics", "pair_probabilities", "ranking", "roc_curve", "sample_pairs"]

#: clips per encoder call when embedding a pool (bounds memory)
EMBED_CHUNK = 256
#: pairs per head call (the concat head's MLP runs per pair)
PAIR_CHUNK = 8192


@torch.no_grad()
def embed_pool(model: DVDReward, frames: np.ndarray, chunk: int = EMBED_CHUNK) -> Tensor:
    """Embeddings (N, E) of uint8 clips (N, F, S, S, 3), in eval mode (the previous mode is restored)."""
    with evaluating(model):
        parts = [model.embed(frames[i : i + chunk]) for i in range(0, len(frames), chunk)]
    return torch.cat(parts) if parts else torch.zeros(0, model.config.embed_dim)


@torch.no_grad()
def pair_probabilities(model: DVDReward, emb: Tensor, cand: np.ndarray, demo: np.ndarray) -> np.ndarray:
    """P(same task) (float64, (P,)) of pairs (emb[cand[k]] as the candidate, emb[demo[k]] as the demo), in eval mode."""
    with evaluating(model):
        out = [
            torch.sigmoid(model.pair_logits(emb[cand[i : i + PAIR_CHUNK]], emb[demo[i : i + PAIR_CHUNK]])).double()
            for i in range(0, len(cand), PAIR_CHUNK)
        ]
    return torch.cat(out).numpy() if out else np.zeros(0)


@dataclass
class PairSet:
    """Sampled (candidate, demo) pairs of pool positions and whether each shows the same task."""

    cand: np.ndarray  # int64 (P,)
    demo: np.ndarray  # int64 (P,)
    same: np.ndarray  # bool (P,)


def sample_pairs(
    pool: Pool,
    candidates: np.ndarray,
    demos: np.ndarray,
    rng: np.random.Generator,
    max_pairs: int,
    keep: np.ndarray | None = None,
) -> PairSet:
    """Every (candidate, demo) pair of different clips (``keep[c, d]`` True, when given), then at most ``max_pairs /
    2`` positives (same label) and ``max_pairs / 2`` negatives drawn without replacement, so both classes weigh alike.

    Args:
        pool: the clips (labels).
        candidates, demos: pool positions.
        keep: optional bool (len(candidates), len(demos)) mask of the pairs allowed.
    """
    c = np.asarray(candidates, dtype=np.int64)
    d = np.asarray(demos, dtype=np.int64)
    cc, dd = np.meshgrid(c, d, indexing="ij")
    mask = cc != dd
    if keep is not None:
        mask &= keep
    cc, dd = cc[mask], dd[mask]
    same = pool.labels[cc] == pool.labels[dd]
    half = max(1, max_pairs // 2)
    parts = []
    for cls in (True, False):
        idx = np.flatnonzero(same == cls)
        if idx.size > half:
            idx = np.sort(rng.choice(idx, half, replace=False))
        parts.append(idx)
    take = np.concatenate(parts)
    return PairSet(cc[take], dd[take], same[take].astype(bool))


def pair_metrics(p: np.ndarray, same: np.ndarray, threshold: float) -> dict[str, float]:
    """ROC-AUC (NaN without both classes), balanced accuracy at ``threshold`` and the pair counts."""
    pos, neg = int(same.sum()), int((~same).sum())
    auc = roc_auc(p, same) if pos and neg else float("nan")
    hit = (p >= threshold) == same
    parts = [hit[same].mean() if pos else np.nan, hit[~same].mean() if neg else np.nan]
    acc = float(np.nanmean(parts)) if pos or neg else float("nan")
    return {"auc": float(auc), "accuracy": acc, "positives": pos, "negatives": neg}


def roc_curve(p: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false-positive rate, true-positive rate) at every threshold, from (0, 0) to (1, 1)."""
    order = np.argsort(-p, kind="mergesort")
    y = same[order].astype(np.float64)
    tp = np.r_[0.0, np.cumsum(y)]
    fp = np.r_[0.0, np.cumsum(1.0 - y)]
    return fp / max(1.0, fp[-1]), tp / max(1.0, tp[-1])


def ranking(scores: np.ndarray, outcomes: Sequence[str]) -> dict[str, float]:
    """How well ``scores`` order attempts of one task: the fraction of pairs of attempts of different ranks
    (done > partial > failed / pretending) ordered correctly (ties count one half), and the pair count."""
    ranks = np.array([OUTCOME_RANK[o] for o in outcomes])
    s = np.asarray(scores, dtype=np.float64)
    higher = ranks[:, None] > ranks[None, :]
    n = int(higher.sum())
    if not n:
        return {"ordered": float("nan"), "pairs": 0}
    diff = s[:, None] - s[None, :]
    good = (diff > 0) + 0.5 * (diff == 0)
    return {"ordered": float(good[higher].sum() / n), "pairs": n}
