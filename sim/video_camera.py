"""The hand-held camera of the "human" videos: a pose, a field of view, a smooth shake over the clip, mirroring.

Pure NumPy (no PyBullet): the view and projection matrices are computed here exactly as PyBullet's
``computeViewMatrix`` / ``computeProjectionMatrixFOV`` compute them (tests compare them), so
``project_points`` places a world point where ``sim.video_randomization.render_frame`` draws it, mirroring
included, and helper code can compute camera-relative labels (left/right, towards/away) without a renderer.

Image coordinates: ``(u, v)`` in [0, 1] image units, ``u`` to the right and ``v`` down, ``(0, 0)`` the top-left
corner of the top-left pixel (pixel column ``c`` covers ``u`` in ``[c/W, (c+1)/W]``). Depth: metres along the
optical axis, positive in front of the camera.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

#: the shake's six axes: rotations (yaw about the image's up, pitch about its right, roll about the view) then
#: translations (along right, up, forward)
SHAKE_AXES = 6


@dataclass
class CameraDraw:
    """One clip's camera (world frame, m and degrees).

    Attributes:
        eye, target, up: the pose at rest (``up`` already includes the drawn roll).
        fov: vertical field of view (degrees); near, far: clipping planes (m).
        shake_rotation: amplitude of the hand-held rotation about each camera axis (degrees).
        shake_translation: amplitude of the hand-held translation along each camera axis (m).
        shake_freqs, shake_phases: (6, K) frequencies (cycles per clip) and phases (rad) of the K sinusoids
            summed per shake axis (``SHAKE_AXES``); each axis is their mean, so it stays within ± amplitude.
        mirrored: the frame is flipped left-right (as a mirrored web video): ``project_points`` flips ``u``.
        roll: the drawn tilt (degrees), kept for the record (already in ``up``).
    """

    eye: tuple[float, float, float] = (1.45, 0.0, 1.50)
    target: tuple[float, float, float] = (0.40, 0.0, 0.82)
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    fov: float = 55.0
    near: float = 0.05
    far: float = 4.0
    shake_rotation: float = 0.0
    shake_translation: float = 0.0
    shake_freqs: list[list[float]] = field(default_factory=lambda: [[0.0]] * SHAKE_AXES)
    shake_phases: list[list[float]] = field(default_factory=lambda: [[0.0]] * SHAKE_AXES)
    mirrored: bool = False
    roll: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-able copy (lists and floats)."""
        d = asdict(self)
        for k in ("eye", "target", "up"):
            d[k] = [float(x) for x in d[k]]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CameraDraw:
        """Inverse of ``as_dict``."""
        kw = dict(d)
        for k in ("eye", "target", "up"):
            kw[k] = tuple(float(x) for x in kw[k])
        return cls(**kw)


def _camera(vp: Any) -> CameraDraw:
    """The ``CameraDraw`` of a ``VideoSceneParams`` (its ``camera``) or a ``CameraDraw`` itself."""
    cam = getattr(vp, "camera", vp)
    if not isinstance(cam, CameraDraw):
        raise TypeError(f"expected VideoSceneParams or CameraDraw, got {type(vp).__name__}")
    return cam


def cross3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of two 3-vectors (``np.cross`` costs ~10× more for one pair)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _rotate(v: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    """``v`` (3,) rotated by ``angle`` rad about unit ``axis`` (Rodrigues)."""
    c, s = np.cos(angle), np.sin(angle)
    return v * c + cross3(axis, v) * s + axis * np.dot(axis, v) * (1.0 - c)


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """4×4 OpenGL view matrix (row-major), as ``pybullet.computeViewMatrix`` (which returns its transpose, flat)."""
    f = _unit(np.asarray(target, float) - np.asarray(eye, float))
    s = _unit(cross3(f, up))
    u = cross3(s, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = s, u, -f
    m[:3, 3] = -m[:3, :3] @ np.asarray(eye, float)
    return m


def perspective(fov: float, aspect: float, near: float, far: float) -> np.ndarray:
    """4×4 OpenGL projection matrix (row-major), as ``pybullet.computeProjectionMatrixFOV``; ``fov`` vertical, degrees."""
    f = 1.0 / np.tan(np.radians(fov) / 2.0)
    m = np.zeros((4, 4))
    m[0, 0], m[1, 1] = f / aspect, f
    m[2, 2] = (far + near) / (near - far)
    m[2, 3] = 2.0 * far * near / (near - far)
    m[3, 2] = -1.0
    return m


def shake(cam: CameraDraw, t: float) -> np.ndarray:
    """The six shake offsets at clip time ``t`` ∈ [0, 1]: (yaw, pitch, roll) degrees, then (right, up, forward) m."""
    freqs, phases = np.asarray(cam.shake_freqs, float), np.asarray(cam.shake_phases, float)
    wave = np.sin(2.0 * np.pi * freqs * float(t) + phases).mean(axis=1)  # (6,), each in [-1, 1]
    amp = np.array([cam.shake_rotation] * 3 + [cam.shake_translation] * 3)
    return wave * amp


def pose_at(cam: CameraDraw, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(eye, target, up) (3,) each, world frame, at clip time ``t``: the rest pose moved by the hand-held shake."""
    eye, target, up = (np.asarray(x, float) for x in (cam.eye, cam.target, cam.up))
    f = _unit(target - eye)
    s = _unit(cross3(f, up))
    u = cross3(s, f)
    yaw, pitch, roll, dx, dy, dz = shake(cam, t)
    look = target - eye
    look = _rotate(look, u, np.radians(yaw))
    look = _rotate(look, s, np.radians(pitch))
    up_t = _rotate(_rotate(_rotate(u, u, np.radians(yaw)), s, np.radians(pitch)), _unit(look), np.radians(roll))
    eye_t = eye + dx * s + dy * u + dz * f
    return eye_t, eye_t + look, up_t


def matrices(cam: CameraDraw, t: float, aspect: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(view, projection) 4×4 row-major matrices at clip time ``t`` (mirroring is applied to images, not here)."""
    eye, target, up = pose_at(cam, t)
    return look_at(eye, target, up), perspective(cam.fov, aspect, cam.near, cam.far)


def camera_for_frame(vp: Any, t: float, width: int, height: int) -> tuple[list[float], list[float]]:
    """(view matrix, projection matrix) as PyBullet's ``getCameraImage`` takes them (16 floats, column-major) at
    clip time ``t`` ∈ [0, 1], hand-held shake included. ``vp``: a ``VideoSceneParams`` or a ``CameraDraw``.

    A mirrored camera's frames are flipped after rendering (``render_frame``); these matrices are unmirrored.
    """
    view, proj = matrices(_camera(vp), t, width / height)
    return view.T.reshape(-1).tolist(), proj.T.reshape(-1).tolist()


def project_points(vp: Any, t: float, points_world: np.ndarray, aspect: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Where world points appear in the frame ``render_frame`` draws at clip time ``t``, mirroring included.

    Args:
        vp: a ``VideoSceneParams`` or a ``CameraDraw``.
        t: clip time in [0, 1].
        points_world: (N, 3) world points (m).
        aspect: image width / height (frames are square by default).

    Returns:
        uv: (N, 2) float64 image coordinates in image units (``u`` right, ``v`` down; inside the frame when both
            are in [0, 1]; a mirrored camera gives ``1 − u``).
        depth: (N,) metres along the optical axis (≤ 0: behind the camera, where ``uv`` means nothing).
    """
    cam = _camera(vp)
    pts = np.asarray(points_world, float).reshape(-1, 3)
    view, proj = matrices(cam, t, aspect)
    homo = np.concatenate([pts, np.ones((len(pts), 1))], axis=1)
    eye_space = homo @ view.T  # camera looks along its −z
    clip = eye_space @ proj.T
    w = np.where(np.abs(clip[:, 3]) < 1e-12, 1e-12, clip[:, 3])
    ndc = clip[:, :2] / w[:, None]
    u = (ndc[:, 0] + 1.0) / 2.0
    v = (1.0 - ndc[:, 1]) / 2.0
    if cam.mirrored:
        u = 1.0 - u
    return np.stack([u, v], axis=1), -eye_space[:, 2]
