"""A video clip stored as an episode: its ``clip`` attribute, ``ClipInfo`` and the label "same task" means.

A clip dataset is an ordinary robolearn dataset (``robolearn.data.schema``) whose ``meta.json`` declares
``"content": "clips"`` (declared by whoever writes it, never guessed from the episodes). Each episode is one clip:

* ``obs/rgb``        uint8 (T+1, S, S, 3): the clip's frames, evenly spaced over what happened;
* ``actions``        float32 (T, 0) for an actor that is not the robot (no action space), the robot's (T, 4)
  when the renderer gives them; ``expert`` bool (T,); ``states`` float64 (T+1, 0);
* ``object_states``  float32 (T+1, K) for rendered clips (names in ``meta["object_state_names"]`` and in each
  clip's ``info["object_state_names"]``), (T+1, 0) for imported videos;
* attribute ``clip`` (JSON), the keys of ``CLIP_KEYS``: ``template`` (Something-Something template with
  brackets, "Opening [something]"), ``placeholders``, ``task`` (the desk task or null), ``actor``, ``is_robot``,
  ``outcome`` (done / partial / failed / pretending / none: measured when rendered, done for SSv2 videos),
  ``variant``, ``source`` (rendered / ssv2 / folder), ``progress`` (T+1 floats in [0, 1] or null), ``behaviour``,
  ``origin`` (the video file or SSv2 id an import came from, else null) and ``info`` (scene, camera, speed, ...).

"Same task" (DVD's discriminator, ``robolearn train dvd``) means the same ``ClipInfo.label``: the desk task when
the clip has one (``open_drawer``: the placeholder is kept where it tells desk tasks apart, drawer from cabinet),
else the template's class, SSv2's class name: the template without its brackets ("Pushing something from left to
right"). ``clip_label`` is the one definition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from robolearn.data.episode import Episode

__all__ = [
    "CLIPS_CONTENT",
    "CLIP_ATTR",
    "CLIP_KEYS",
    "OUTCOME_NAMES",
    "SOURCES",
    "ClipInfo",
    "clip_attr",
    "clip_episode",
    "clip_label",
    "is_clip_meta",
    "template_class",
]

#: ``meta["content"]`` of a clip dataset
CLIPS_CONTENT = "clips"
#: the episode attribute (JSON) that describes a clip
CLIP_ATTR = "clip"
#: where a clip came from
SOURCES = ("rendered", "ssv2", "folder")
#: the outcomes a clip may have: measured for rendered clips (``sim.actors``), given (default done) for imports
OUTCOME_NAMES = ("done", "partial", "failed", "pretending", "none")
#: the keys of the ``clip`` attribute
CLIP_KEYS = (
    "template",
    "placeholders",
    "task",
    "actor",
    "is_robot",
    "outcome",
    "variant",
    "source",
    "progress",
    "behaviour",
    "origin",
    "info",
)


def template_class(template: str) -> str:
    """SSv2's class name of a template: its brackets removed ("Opening [something]" → "Opening something")."""
    return " ".join(template.replace("[", "").replace("]", "").split())


def clip_label(task: str | None, template: str) -> str:
    """The class "same task" compares: the desk task if the clip has one, else the template's class."""
    return task if task else template_class(template)


def is_clip_meta(meta: Mapping[str, Any]) -> bool:
    """Whether a dataset's ``meta.json`` declares clips (``"content": "clips"``)."""
    return meta.get("content") == CLIPS_CONTENT


@dataclass(frozen=True)
class ClipInfo:
    """What one stored clip shows (its ``clip`` attribute, decoded).

    Attributes:
        index: the clip's episode index in its dataset.
        template: SSv2 template with brackets ("Opening [something]").
        placeholders: the objects filling the brackets, e.g. ("drawer",).
        task: the desk task it corresponds to, or None.
        actor: who acts ("hand", "stick", ..., "panda" for the robot; "person" or the CSV's actor for imports).
        is_robot: whether the actor is the robot.
        outcome: done / partial / failed / pretending / none: measured for rendered clips; for imported videos as
            the CSV gives it, else done (an SSv2 video shows what its template says; pretending is its own class).
        variant: the sim.variants name the clip was rendered in ("train" for actor clips), or "real".
        source: "rendered" | "ssv2" | "folder".
        progress: float32 (T+1,) fraction of the intended change done at each frame, in [0, 1]; None if unknown.
        label: the class used for "same task" (``clip_label``).
        behaviour: the scripted behaviour (rendered) or the label as given (imported).
        origin: the imported file or SSv2 id; None for rendered clips.
        info: JSON-able details (scene, camera, speed, pauses; an import's placeholders and file).
    """

    index: int
    template: str
    placeholders: tuple[str, ...]
    task: str | None
    actor: str
    is_robot: bool
    outcome: str
    variant: str
    source: str
    progress: np.ndarray | None
    label: str
    behaviour: str = ""
    origin: str | None = None
    info: Mapping[str, Any] | None = None

    @classmethod
    def from_attr(cls, index: int, attr: Mapping[str, Any]) -> ClipInfo:
        """Decode a ``clip`` attribute (already parsed from JSON).

        Raises:
            KeyError, TypeError, ValueError: a key is missing or of the wrong kind (the reader turns it into a
                DatasetError naming the file).
        """
        progress = attr["progress"]
        task = attr["task"]
        template = str(attr["template"])
        return cls(
            index=int(index),
            template=template,
            placeholders=tuple(str(p) for p in attr["placeholders"]),
            task=None if task is None else str(task),
            actor=str(attr["actor"]),
            is_robot=bool(attr["is_robot"]),
            outcome=str(attr["outcome"]),
            variant=str(attr["variant"]),
            source=str(attr["source"]),
            progress=None if progress is None else np.asarray(progress, dtype=np.float32),
            label=clip_label(None if task is None else str(task), template),
            behaviour=str(attr.get("behaviour") or ""),
            origin=attr.get("origin"),
            info=attr.get("info") or {},
        )


def clip_attr(
    *,
    template: str,
    placeholders: Sequence[str],
    task: str | None,
    actor: str,
    is_robot: bool,
    outcome: str,
    variant: str,
    source: str,
    progress: np.ndarray | Sequence[float] | None = None,
    behaviour: str = "",
    origin: str | None = None,
    info: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``clip`` attribute of one clip (JSON-able; ``progress`` float32 values as Python floats).

    Raises:
        ValueError: an unknown ``source``.
    """
    if source not in SOURCES:
        raise ValueError(f"clip source {source!r} is not one of {', '.join(SOURCES)}")
    return {
        "template": str(template),
        "placeholders": [str(p) for p in placeholders],
        "task": task,
        "actor": str(actor),
        "is_robot": bool(is_robot),
        "outcome": str(outcome),
        "variant": str(variant),
        "source": source,
        "progress": None if progress is None else np.asarray(progress, dtype=np.float32).tolist(),
        "behaviour": str(behaviour),
        "origin": origin,
        "info": dict(info or {}),
    }


def clip_episode(
    index: int,
    seed: int,
    frames: np.ndarray,
    clip: Mapping[str, Any],
    object_states: np.ndarray | None = None,
    actions: np.ndarray | None = None,
) -> Episode:
    """One clip as an ``Episode`` of the dataset format.

    Args:
        index: the clip's index in its dataset.
        seed: what generated it (a rendered clip's seed; an import's index).
        frames: uint8 (T+1, S, S, 3).
        clip: its ``clip`` attribute (``clip_attr``).
        object_states: float32 (T+1, K), or None (an imported video: (T+1, 0)).
        actions: float32 (T, A) the robot's actions, or None (no action space: (T, 0)).

    Raises:
        ValueError: frames that are not (T+1, H, W, 3) uint8 with T ≥ 1.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or frames.shape[0] < 2:
        raise ValueError(f"clip frames must be uint8 (T+1 ≥ 2, H, W, 3), got {frames.dtype} {frames.shape}")
    T = frames.shape[0] - 1
    states = np.zeros((T + 1, 0), np.float32) if object_states is None else np.asarray(object_states, np.float32)
    acts = np.zeros((T, 0), np.float32) if actions is None else np.asarray(actions, np.float32)
    return Episode(
        index=int(index),
        seed=int(seed),
        task=str(clip.get("task") or clip_label(None, str(clip["template"]))),
        exploration=f"clip:{clip['source']}",
        obs={"rgb": frames},
        actions=acts,
        expert=np.full(T, bool(clip.get("is_robot")), dtype=bool),
        states=np.zeros((T + 1, 0), np.float64),
        object_states=states,
        clip=dict(clip),
    )
