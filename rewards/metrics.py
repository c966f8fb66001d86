"""Evaluation metrics for reward models (numpy only, no scikit-learn needed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["roc_auc"]


def roc_auc(scores: Sequence[float] | np.ndarray, labels: Sequence[int | bool] | np.ndarray) -> float:
    """Area under the ROC curve: P(score of a random positive > score of a random negative).

    Ties count one half. Computed from ranks (the Mann–Whitney U statistic) in O(n log n):
    AUC = (sum of the positives' ranks − n_pos (n_pos + 1) / 2) / (n_pos · n_neg), with tied scores
    given their average rank.

    Args:
        scores: (n,) real scores (probabilities, logits, anything monotone), higher = more positive.
        labels: (n,) binary labels (1/True = positive).

    Returns:
        AUC in [0, 1]; 0.5 is chance.

    Raises:
        ValueError: shapes differ, non-binary labels, non-finite scores, or only one class present.

    Example:
        >>> roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
        0.75
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel()
    if s.shape != y.shape:
        raise ValueError(f"roc_auc: {s.size} scores but {y.size} labels")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"roc_auc: labels must be 0/1 or bool, got values {np.unique(y)[:5].tolist()}")
    if not np.isfinite(s).all():
        raise ValueError("roc_auc: scores contain NaN or inf")
    y = y.astype(bool)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"roc_auc needs both classes; got {n_pos} positives and {n_neg} negatives")
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    # 1-based ranks, ties replaced by the mean rank of their run
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s)) + 1]
    ends = np.r_[starts[1:], s.size]
    mean_rank = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(s.size)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))
