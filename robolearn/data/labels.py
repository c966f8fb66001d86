"""Structured hindsight labels: what changed between two frames of an episode.

A label is ``(object, change, direction)``, e.g. ``("white_mug", "move", "up")`` or
``("drawer", "open", None)``; it is the same triple as a task's ``TaskDescription``, so a label of
a desk task means exactly "this task's success check passes between these two frames". That is
why the rules below use ``sim.config.SuccessThresholds`` and the tasks' own direction vectors
(``sim.tasks.desk.DIRECTIONS``) instead of thresholds of their own.

Rules (LOReL's hindsight relabelling, made consistent with task success):

* mug or block (xy only; lifting or tipping is not labelled): for every image direction d,
  ``Δxy · DIRECTIONS[d] >= thresholds.mug`` gives ``(obj, "move", d)``. A diagonal push can give
  two labels (e.g. up and left); opposite directions can never both hold.
* drawer: ``Δ >= thresholds.drawer`` → open, ``Δ <= -thresholds.drawer`` → close.
* cabinet door (``cabinet_door``): the same with ``thresholds.door``.
* faucet: ``Δ >= thresholds.faucet`` → turn left, ``Δ <= -thresholds.faucet`` → turn right
  (positive angle = lever turned to the camera's left = counter-clockwise seen from above).
* button: it springs back once released, so the largest depression over the episode counts when the
  trajectory is given (``max_t button_t - button_0 >= thresholds.button``); without a trajectory only
  the last frame can be used.

Comparisons are ``>=`` like ``Task.succeeded``; values are compared in float64. Note that the
dataset stores ``object_states`` as float32, so relabelling a stored episode can differ from the
collector's labels when a change lies within float32 rounding (~1e-7 m) of a threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from robolearn.data.episode import Label
from sim.config import SuccessThresholds
from sim.tasks.desk import DESK_TASKS, DIRECTIONS

__all__ = [
    "DO_NOTHING",
    "FURNITURE",
    "LOREL_THRESHOLDS",
    "MOVE_DIRECTIONS",
    "Label",
    "free_objects",
    "hindsight_labels",
    "label_to_task",
    "label_vocabulary",
    "labels_at",
]

#: the label of an episode in which nothing changed enough to be named
DO_NOTHING: Label = ("nothing", "none", None)

#: LOReL's hindsight thresholds (2 cm for mugs and drawer, π/10 for the faucet). LOReL had no cabinet
#: door and no button; for those two our own defaults (``SuccessThresholds()``) are used. Treat this
#: instance as read-only: SuccessThresholds is a plain (mutable) dataclass.
LOREL_THRESHOLDS = SuccessThresholds(
    mug=0.02, drawer=0.02, faucet=math.pi / 10, door=SuccessThresholds().door, button=SuccessThresholds().button
)

#: articulated objects (entries of ``ObjectStates.names()`` without a ``.x/.y/.z`` suffix), each with
#: the labels its positive and negative change give, in canonical order. The button has no negative
#: label: it cannot be pulled up.
FURNITURE: dict[str, tuple[Label, Label | None]] = {
    "drawer": (("drawer", "open", None), ("drawer", "close", None)),
    "cabinet_door": (("cabinet_door", "open", None), ("cabinet_door", "close", None)),
    "faucet": (("faucet", "turn", "left"), ("faucet", "turn", "right")),
    "button": (("button", "press", None), None),
}

#: the directions a free object (mug, block) can be moved in, in canonical order
MOVE_DIRECTIONS: tuple[str, ...] = ("up", "down", "left", "right")
if set(MOVE_DIRECTIONS) != set(DIRECTIONS):  # pragma: no cover - guards against a change in sim.tasks.desk
    raise ImportError(
        f"MOVE_DIRECTIONS {MOVE_DIRECTIONS} must list the directions of sim.tasks.desk: {sorted(DIRECTIONS)}"
    )


def _threshold(th: SuccessThresholds, obj: str) -> float:
    """The threshold that applies to ``obj`` (mugs and blocks share ``th.mug``)."""
    value = {"drawer": th.drawer, "cabinet_door": th.door, "faucet": th.faucet, "button": th.button}.get(obj, th.mug)
    if not value > 0:  # a zero threshold would label noise and make opposite labels hold together
        raise ValueError(f"success threshold for {obj!r} must be positive, got {value!r}")
    return float(value)


def free_objects(names: Sequence[str]) -> list[str]:
    """The free objects (mugs, blocks) of ``names``, in the order they appear, each with x, y and z entries.

    Raises:
        ValueError: a name is neither ``<object>.<x|y|z>`` nor a known articulated object, or an object
            lacks one of its x/y/z entries.
    """
    objects: list[str] = []
    axes: dict[str, set[str]] = {}
    for name in names:
        if name in FURNITURE:
            continue
        obj, dot, axis = name.rpartition(".")
        if not dot or axis not in ("x", "y", "z") or not obj:
            raise ValueError(
                f"unknown object-state name {name!r}: expected '<object>.x|y|z' or one of {sorted(FURNITURE)}"
            )
        if obj not in axes:
            objects.append(obj)
            axes[obj] = set()
        axes[obj].add(axis)
    incomplete = [o for o in objects if axes[o] != {"x", "y", "z"}]
    if incomplete:
        raise ValueError(f"object-state names lack x, y or z entries for {incomplete}")
    return objects


def label_vocabulary(names: Sequence[str]) -> list[Label]:
    """Every label that can occur for the objects in ``names``, in canonical order.

    Order: each free object in the order of ``names`` with its moves up, down, left, right; then the
    drawer (open, close), cabinet door (open, close), faucet (turn left, right) and button (press),
    those of them present in ``names``; ``DO_NOTHING`` last.
    """
    vocab: list[Label] = [(obj, "move", d) for obj in free_objects(names) for d in MOVE_DIRECTIONS]
    present = set(names)
    for obj, (positive, negative) in FURNITURE.items():
        if obj in present:
            vocab.append(positive)
            if negative is not None:
                vocab.append(negative)
    vocab.append(DO_NOTHING)
    return vocab


def _checked_vector(names: Sequence[str], v: np.ndarray, what: str) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    if v.shape != (len(names),):
        raise ValueError(f"{what} has shape {v.shape}, expected ({len(names)},) to match the object-state names")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{what} contains non-finite values")
    return v


def hindsight_labels(
    names: Sequence[str],
    first: np.ndarray,
    last: np.ndarray,
    thresholds: SuccessThresholds,
    trajectory: np.ndarray | None = None,
) -> list[Label]:
    """The changes from ``first`` to ``last`` (``ObjectStates.vector()``), as labels in canonical order.

    Args:
        names: ``ObjectStates.names()``, naming the entries of the vectors.
        first: object states at the first frame, shape (K,).
        last: object states at the last frame, shape (K,).
        thresholds: how large a change has to be; the environment's ``cfg.thresholds`` makes labels
            agree with task success, ``LOREL_THRESHOLDS`` reproduces LOReL's relabelling.
        trajectory: optional (T+1, K) object states of every frame from ``first`` to ``last``; only
            the button uses it (its largest depression, since it springs back).

    Returns:
        The labels in the order of ``label_vocabulary(names)``, or ``[DO_NOTHING]`` if none holds.
    """
    first = _checked_vector(names, first, "first")
    last = _checked_vector(names, last, "last")
    index = {n: i for i, n in enumerate(names)}
    if len(index) != len(names):
        raise ValueError("object-state names are not unique")
    button_peak: float | None = None
    if trajectory is not None:
        traj = np.asarray(trajectory, dtype=np.float64)
        if traj.ndim != 2 or traj.shape[1] != len(names) or traj.shape[0] < 1:
            raise ValueError(f"trajectory has shape {traj.shape}, expected (T+1, {len(names)})")
        if "button" in index:
            button_peak = float(np.max(traj[:, index["button"]]))

    labels: list[Label] = []
    for obj in free_objects(names):
        th = _threshold(thresholds, obj)
        delta = np.array(
            [last[index[f"{obj}.x"]] - first[index[f"{obj}.x"]], last[index[f"{obj}.y"]] - first[index[f"{obj}.y"]]]
        )
        # Same measure as MoveMugTask.progress: displacement along the direction's world vector.
        labels += [(obj, "move", d) for d in MOVE_DIRECTIONS if float(np.dot(delta, DIRECTIONS[d])) >= th]
    for obj, (positive, negative) in FURNITURE.items():
        if obj not in index:
            continue
        th = _threshold(thresholds, obj)
        i = index[obj]
        end = max(button_peak, last[i]) if (obj == "button" and button_peak is not None) else last[i]
        change = float(end - first[i])
        if change >= th:
            labels.append(positive)
        elif negative is not None and -change >= th:
            labels.append(negative)
    return labels or [DO_NOTHING]


def labels_at(names: Sequence[str], trajectory: np.ndarray, t: int, thresholds: SuccessThresholds) -> list[Label]:
    """Labels of the change from frame 0 to frame ``t`` of ``trajectory`` (T+1, K).

    The button counts its largest depression over frames 0..t. Negative ``t`` counts from the end,
    as in Python indexing.
    """
    traj = np.asarray(trajectory, dtype=np.float64)
    if traj.ndim != 2 or traj.shape[0] < 1:
        raise ValueError(f"trajectory has shape {traj.shape}, expected (T+1, {len(names)})")
    n = traj.shape[0]
    if not -n <= t < n:
        raise IndexError(f"frame {t} is out of range for a trajectory of {n} frames")
    t = t % n
    return hindsight_labels(names, traj[0], traj[t], thresholds, trajectory=traj[: t + 1])


# Reverse of DESK_TASKS' descriptions: a label names a task exactly when the triples are equal.
_TASK_BY_LABEL: dict[Label, str] = {
    (task.description.object, task.description.change, task.description.direction): name
    for name, task in DESK_TASKS.items()
}


def label_to_task(label: Label) -> str | None:
    """The ``DESK_TASKS`` name whose ``TaskDescription`` equals ``label``, or None (blocks, do-nothing)."""
    return _TASK_BY_LABEL.get(tuple(label))  # type: ignore[arg-type]
