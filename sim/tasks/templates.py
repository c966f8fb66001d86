"""Something-Something-V2 labels of a clip, computed from what happened as the clip's own camera sees it.

A template keeps SSv2's exact wording and brackets (``Pushing [something] from left to right``), so rendered clips
and imported SSv2 videos share classes (the class is the template without brackets). Directions are
camera-relative: a mug's desk-plane displacement is split along the camera's right axis (flipped for a mirrored
frame) and its viewing direction laid flat on the desk; the larger part names the motion: left / right, or
towards / away from the camera. A faucet turn is ``left`` when the lever turns counter-clockwise in the image (a
camera above the desk sees a turn about +z counter-clockwise unless the frame is mirrored); under the robot's
training camera that is exactly ``turn_faucet_left``.

The clip's desk task is the one that, seen from the robot's training camera, looks like what this clip shows:
left/right stay left/right, away from the camera is ``up`` and towards it ``down`` (the training camera looks
along -x from the far side of the desk, so a push toward the robot, ``move_*_up``, moves away from it).
Under the default camera the extras "towards/away from the camera" therefore coincide with the ``down``/``up``
mug tasks (the projection of a desk-plane push along the view is 84 % depth, 54 % image height: it is a motion
in depth, not "up"); under a rotated clip camera they are different world motions.

Light: NumPy and ``sim.video_camera`` only (no PyBullet).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.video_camera import CameraDraw

#: the SSv2 templates rendered clips get (SSv2's wording, brackets included), by what happened
TEMPLATES: dict[str, str] = {
    "open": "Opening [something]",
    "close": "Closing [something]",
    "pretend_open": "Pretending to open [something] without actually opening it",
    "pretend_close": "Pretending to close [something] without actually closing it",
    "push_left_to_right": "Pushing [something] from left to right",
    "push_right_to_left": "Pushing [something] from right to left",
    "away": "Moving [something] away from the camera",
    "towards": "Moving [something] towards the camera",
    "slightly": "Pushing [something] so that it slightly moves",
    "twist": "Twisting [something]",
    "pretend_twist": "Pretending or trying and failing to twist [something]",
    "poke": "Poking [something] so it slightly moves",
    "poke_lightly": "Poking [something] so lightly that it doesn't or almost doesn't move",
    "pretend_poke": "Pretending to poke [something]",
    "touch": "Touching (without moving) [part] of [something]",
    "pick_up": "Picking [something] up",
    "move_up": "Moving [something] up",
    "pretend_pick_up": "Pretending to pick [something] up",
    "nothing": "Doing nothing",  # the one label that is not SSv2's (LOReL's "do nothing"); no placeholder
}
#: what each object is called in a label's placeholders
NOUNS = {
    "drawer": "drawer",
    "cabinet_door": "cabinet",
    "faucet": "faucet",
    "button": "button",
    "white_mug": "white mug",
    "black_mug": "black mug",
}
#: the part a touch rests on
TOUCHED_PART = {"drawer": "top", "cabinet_door": "top", "faucet": "lever", "white_mug": "rim", "black_mug": "rim"}
#: a mug displacement below this (m) has no direction of its own: the intended one names the task
MIN_DIRECTED_MOVE = 0.01


@dataclass(frozen=True)
class ClipLabel:
    """A clip's SSv2 template, its placeholders (in bracket order) and the desk task it corresponds to (or None)."""

    template: str
    placeholders: tuple[str, ...]
    task: str | None


def template_class(template: str) -> str:
    """SSv2's class name of a template: the brackets removed (``Opening [something]`` → ``Opening something``)."""
    return template.replace("[", "").replace("]", "")


def camera_axes(cam: CameraDraw) -> tuple[np.ndarray, np.ndarray]:
    """(right, forward) unit xy (2,) vectors on the desk of the camera at rest: ``right`` is the image's +u (flipped
    when the frame is mirrored), ``forward`` the viewing direction laid flat (away from the camera)."""
    eye, target, up = (np.asarray(v, float) for v in (cam.eye, cam.target, cam.up))
    f = target - eye
    f /= np.linalg.norm(f)
    s = np.cross(f, up)
    s /= np.linalg.norm(s)
    right = s[:2] * (-1.0 if cam.mirrored else 1.0)
    fwd = f[:2]
    if np.linalg.norm(fwd) < 1e-6:  # looking straight down: "away" is the image's up
        fwd = np.cross(up, s)[:2] if np.linalg.norm(np.cross(up, s)[:2]) > 1e-6 else np.array([1.0, 0.0])
    return right / np.linalg.norm(right), fwd / np.linalg.norm(fwd)


def mug_motion(displacement_xy: np.ndarray, cam: CameraDraw) -> str:
    """``left``, ``right``, ``away`` or ``towards``: how the camera sees a desk-plane displacement (2,) (m)."""
    right, fwd = camera_axes(cam)
    d = np.asarray(displacement_xy, float)[:2]
    lateral, radial = float(d @ right), float(d @ fwd)
    if abs(lateral) >= abs(radial):
        return "right" if lateral > 0 else "left"
    return "away" if radial > 0 else "towards"


def faucet_motion(turn: float, cam: CameraDraw) -> str:
    """``left`` or ``right``: how the camera sees a faucet turn of ``turn`` rad (positive = counter-clockwise from
    above): left when it turns counter-clockwise in the image."""
    eye, target = np.asarray(cam.eye, float), np.asarray(cam.target, float)
    looks_down = (target - eye)[2] < 0  # the +z axis points toward the camera: it sees CCW from above as CCW
    ccw = (turn > 0) == looks_down
    if cam.mirrored:
        ccw = not ccw
    return "left" if ccw else "right"


_MUG_TASK_DIRECTION = {"left": "left", "right": "right", "away": "up", "towards": "down"}


def label_clip(
    kind: str,
    obj: str,
    outcome: str,
    cam: CameraDraw,
    *,
    displacement_xy: np.ndarray | None = None,
    intended_xy: np.ndarray | None = None,
    turn: float = 0.0,
    intended_turn: float = 0.0,
    completed_close: bool = False,
) -> ClipLabel:
    """The label of a clip.

    Args:
        kind: the behaviour's kind (``sim.actors.catalogue.Behaviour.kind``: open, close, turn, press, push,
            push_halfway, touch, lift).
        obj: the object it acts on (``drawer``, ``cabinet_door``, ``faucet``, ``button``, ``white_mug``, ...).
        outcome: the MEASURED outcome (done, partial, failed, pretending, none).
        cam: the clip's camera.
        displacement_xy: a pushed mug's displacement (2,) (m); intended_xy: the push's intended world direction (2,).
        turn / intended_turn: the faucet's measured / intended change (rad, + = counter-clockwise from above).
        completed_close: a halfway push went far enough to count as closing the drawer.

    Returns:
        The template, its placeholders and the desk task (None for pretending, doing nothing and the extras).
    """
    noun = NOUNS.get(obj, obj.replace("_", " "))
    attempt = outcome in ("done", "partial", "failed")
    if outcome == "none":
        return ClipLabel(TEMPLATES["nothing"], (), None)
    if kind in ("open", "close"):
        task = f"{kind}_{'drawer' if obj == 'drawer' else 'cabinet'}"
        if outcome in ("done", "partial"):
            return ClipLabel(TEMPLATES[kind], (noun,), task)
        return ClipLabel(TEMPLATES[f"pretend_{kind}"], (noun,), task if attempt else None)
    if kind == "push_halfway":
        if completed_close:
            return ClipLabel(TEMPLATES["close"], (noun,), "close_drawer")
        if outcome in ("done", "partial"):
            return ClipLabel(TEMPLATES["slightly"], (noun,), None)
        return ClipLabel(TEMPLATES["pretend_close"], (noun,), None)
    if kind == "turn":
        seen = faucet_motion(turn if abs(turn) > 0.02 else intended_turn, cam)
        task = f"turn_faucet_{seen}"
        if outcome in ("done", "partial"):
            return ClipLabel(TEMPLATES["twist"], (noun,), task)
        return ClipLabel(TEMPLATES["pretend_twist"], (noun,), task if attempt else None)
    if kind == "press":
        key = {"done": "poke", "partial": "poke_lightly", "failed": "poke_lightly"}.get(outcome, "pretend_poke")
        return ClipLabel(TEMPLATES[key], (noun,), "push_button" if attempt else None)
    if kind == "push":
        d = np.zeros(2) if displacement_xy is None else np.asarray(displacement_xy, float)[:2]
        ref = d if np.linalg.norm(d) >= MIN_DIRECTED_MOVE or intended_xy is None else np.asarray(intended_xy, float)
        seen = mug_motion(ref, cam)
        task = f"move_{obj}_{_MUG_TASK_DIRECTION[seen]}"
        if outcome in ("done", "partial"):
            key = {"left": "push_right_to_left", "right": "push_left_to_right"}.get(seen, seen)
            return ClipLabel(TEMPLATES[key], (noun,), task)
        if outcome == "failed":
            key = "slightly" if np.linalg.norm(d) >= 0.004 else "poke_lightly"
            return ClipLabel(TEMPLATES[key], (noun,), task)
        return ClipLabel(TEMPLATES["pretend_poke"], (noun,), None)
    if kind == "touch":
        if outcome == "done":
            return ClipLabel(TEMPLATES["touch"], (TOUCHED_PART.get(obj, "side"), noun), None)
        if outcome == "failed":
            return ClipLabel(TEMPLATES["slightly"], (noun,), None)
        return ClipLabel(TEMPLATES["pretend_poke"], (noun,), None)
    if kind == "lift":
        key = {"done": "pick_up", "partial": "move_up"}.get(outcome, "pretend_pick_up")
        return ClipLabel(TEMPLATES[key], (noun,), None)
    raise ValueError(f"no label for behaviour kind {kind!r}")
