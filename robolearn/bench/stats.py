"""Success rates with 95% Wilson intervals, per (agent, variant, task) and pooled.

The Wilson score interval stays inside [0, 1] and is sensible at 0% and 100% success, where the
normal approximation collapses to a zero-width interval.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["Z95", "rate_row", "success_table", "wilson"]

Z95 = 1.959964  # standard-normal quantile of a two-sided 95% interval


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """(low, high): the 95% Wilson score interval of ``successes`` out of ``n`` (0..1; (0, 1) when n = 0)."""
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # exactly 0 / 1 at the ends (the formula gives them only up to rounding)
    return (0.0 if successes == 0 else max(0.0, centre - half)), (1.0 if successes == n else min(1.0, centre + half))


def rate_row(episodes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Final-step and any-step success of ``episodes`` (rows with ``success`` and ``success_any``).

    Returns ``episodes``, ``final`` / ``any`` (rates, None without episodes), ``final_ci`` / ``any_ci``
    (95% Wilson intervals) and ``mean_seconds`` (mean wall time per episode, s).
    """
    n = len(episodes)
    fin = sum(bool(e["success"]) for e in episodes)
    anyst = sum(bool(e["success_any"]) for e in episodes)
    return {
        "episodes": n,
        "final": fin / n if n else None,
        "final_ci": list(wilson(fin, n)),
        "any": anyst / n if n else None,
        "any_ci": list(wilson(anyst, n)),
        "mean_seconds": statistics.mean(float(e.get("seconds", 0.0)) for e in episodes) if n else None,
    }


def success_table(
    episodes: Iterable[Mapping[str, Any]], group_by: Sequence[str], pool_over: str, mean_fields: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """One row per group of ``episodes`` (keyed by the ``group_by`` fields, in first-seen order), then
    per group of all fields but ``pool_over`` a pooled row whose ``pool_over`` field is ``"mean"``.

    The pooled row's rates are the mean of its groups' rates (every task weighs the same, whatever its
    episode count); its intervals are Wilson intervals over all its episodes pooled. Each field named
    in ``mean_fields`` (e.g. ``spl``) is averaged over a group's episodes, and over the groups in pooled rows.
    """
    if pool_over not in group_by:
        raise ValueError(f"pool_over={pool_over!r} must be one of group_by {list(group_by)}")
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for e in episodes:
        groups.setdefault(tuple(e[k] for k in group_by), []).append(e)
    rows = [
        {
            **dict(zip(group_by, key)),
            **rate_row(eps),
            **{f: statistics.mean(float(e[f]) for e in eps) for f in mean_fields},
        }
        for key, eps in groups.items()
    ]
    outer = [k for k in group_by if k != pool_over]
    pooled: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        pooled.setdefault(tuple(row[k] for k in outer), []).append(row)
    means = []
    for key, members in pooled.items():
        eps = [e for k, g in groups.items() if tuple(k[group_by.index(o)] for o in outer) == key for e in g]
        row = {k: "mean" if k == pool_over else key[outer.index(k)] for k in group_by} | rate_row(eps)
        row["final"] = statistics.mean(m["final"] for m in members)
        row["any"] = statistics.mean(m["any"] for m in members)
        for f in mean_fields:
            row[f] = statistics.mean(r[f] for r in members)
        means.append(row)
    return rows + means
