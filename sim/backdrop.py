"""A fixed camera's frames drawn as a static backdrop, rendered once, under the moving bodies, rendered each frame.

TinyRenderer's cost grows with the pixels each body covers, and on the desk most of them belong to bodies that
never move (floor, wall, pedestal, desk top: about 60% of a 64×64 frame's time). ``StaticBackdrop`` draws those
once per camera pose and lighting, then each frame draws the moving bodies alone and keeps, at every pixel, the
nearer of the two. The frames are bit-identical to drawing everything at once (tested), because

* TinyRenderer draws without shadows here (``sim.observations.tiny_render``), so a pixel of a body depends only on
  that body, the camera and the light, never on the other bodies;
* a frame's pixel is the body nearest the camera (a z-buffer), which is what the depth comparison keeps. Where
  two surfaces coincide exactly (an exact depth tie) TinyRenderer picks one in an order of its own, not the bodies'
  creation order (two coincident boxes: 65 pixels of one and 117 of the other, whichever was created first), which
  compositing cannot reproduce; the moving body is kept there. The desk has no such surfaces (its frames are
  bit-identical to full ones through random and expert episodes: ``tests/sim/test_static_backdrop.py``);
* bodies are left out of a draw by giving their shapes alpha 0, which TinyRenderer skips, and their colours are
  written back right after (the values PyBullet reported when the backdrop was made, so nothing else changes).

Bodies that move only when something pushes them (the desk's drawer, cabinet door, faucet and button) are *parked*:
drawn into the backdrop while they stay exactly where they were when it was drawn (Bullet leaves an untouched
joint's position bit-for-bit unchanged), and drawn with the moving bodies, the backdrop redrawn without them, from
the first frame they have moved.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pybullet as p

from sim.observations import Camera, Lighting

# (body, link, shape index within the link, rgba) of one visual shape
_Shape = tuple[int, int, int, tuple[float, float, float, float]]


def visual_shapes(client: int, bodies: Sequence[int]) -> list[_Shape]:
    """Every visual shape of ``bodies`` with its colour now."""
    out: list[_Shape] = []
    for uid in bodies:
        count: dict[int, int] = {}
        for data in p.getVisualShapeData(uid, physicsClientId=client):
            link = int(data[1])
            k = count.get(link, 0)
            count[link] = k + 1
            r, g, b, a = (float(v) for v in data[7])
            out.append((uid, link, k, (r, g, b, a)))
    return out


def _hide(client: int, shapes: Sequence[_Shape]) -> None:
    for uid, link, k, rgba in shapes:
        p.changeVisualShape(uid, link, shapeIndex=k, rgbaColor=(*rgba[:3], 0.0), physicsClientId=client)


def _show(client: int, shapes: Sequence[_Shape]) -> None:
    for uid, link, k, rgba in shapes:
        p.changeVisualShape(uid, link, shapeIndex=k, rgbaColor=rgba, physicsClientId=client)


def _pose(client: int, uid: int, joints: list[int]) -> tuple[object, ...]:
    """A body's base pose and the positions of ``joints``, as PyBullet reports them (compared exactly)."""
    pos, orn = p.getBasePositionAndOrientation(uid, physicsClientId=client)
    q = tuple(s[0] for s in p.getJointStates(uid, joints, physicsClientId=client)) if joints else ()
    return (pos, orn, q)


class StaticBackdrop:
    """``camera``'s frames, as ``Camera.render`` gives them, with the ``static`` bodies drawn once.

    ``static``: bodies that never move while this backdrop is in use; ``parked``: bodies drawn into the backdrop while
    they have not moved (module docstring); ``moving``: every other body the frames show.
    Build it once the scene is built and styled: the shapes' colours are read then and written back after each
    draw that hides them. They are never read again, because PyBullet reports a multi-shape link's colours wrongly
    once one of its shapes has been recoloured (the renderer keeps the right ones), so a scene recoloured later
    needs a new backdrop (``DeskEnv`` makes new ones at every reset and ``set_state``). The backdrop is redrawn by
    itself when the camera's pose or the light changes, or a parked body moves.
    """

    def __init__(
        self,
        camera: Camera,
        client: int,
        static: Sequence[int],
        moving: Sequence[int],
        parked: Sequence[int] = (),
    ):
        self.camera, self.client = camera, client
        self._static_shapes = visual_shapes(client, static)
        self._moving_shapes = visual_shapes(client, moving)
        self._parked = {uid: visual_shapes(client, [uid]) for uid in parked}
        self._joints = {uid: list(range(p.getNumJoints(uid, physicsClientId=client))) for uid in parked}
        self._parked_poses: dict[int, tuple[object, ...]] = {}
        self._hidden = self._backdrop_shapes()  # hidden in every frame; changes only when a parked body moves
        self._key: tuple[object, ...] | None = None
        self._rgba = self._zbuf = self._seg = np.zeros(0)

    def _backdrop_shapes(self) -> list[_Shape]:
        """The shapes the backdrop holds: the static bodies' and the still parked ones'."""
        return self._static_shapes + [s for shapes in self._parked.values() for s in shapes]

    def _capture(self, light: Lighting, key: tuple[object, ...]) -> None:
        _hide(self.client, self._moving_shapes)
        try:
            rgba, zbuf, seg = self.camera.render_buffers(self.client, light, True)
        finally:
            _show(self.client, self._moving_shapes)
        assert seg is not None
        self._rgba, self._zbuf, self._seg = rgba, zbuf, seg
        self._parked_poses = {uid: _pose(self.client, uid, self._joints[uid]) for uid in self._parked}
        self._key = key

    def _unpark_moved(self) -> bool:
        """Move every parked body that left its pose to the moving bodies; True if any did."""
        moved = [uid for uid, pose in self._parked_poses.items() if _pose(self.client, uid, self._joints[uid]) != pose]
        for uid in moved:
            self._moving_shapes += self._parked.pop(uid)
        if moved:
            self._hidden = self._backdrop_shapes()
        return bool(moved)

    def render(self, light: Lighting, want_seg: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """One frame: rgb uint8 (H, W, 3), depth float32 (H, W) m, raw ids int32 (H, W) or None (``Camera.render``)."""
        cam = self.camera
        # the view and projection are tuples Camera.set_pose replaces, so comparing them costs no copy
        key = (cam.view, cam.proj, light.direction, light.ambient, light.diffuse, light.specular)
        if key != self._key or (self._parked and self._unpark_moved()):
            self._capture(light, key)
        _hide(self.client, self._hidden)
        try:
            rgba, zbuf, seg = cam.render_buffers(self.client, light, want_seg)
        finally:
            _show(self.client, self._hidden)
        front = zbuf <= self._zbuf  # the moving bodies' pixels (exact ties too: module docstring)
        rgba = np.where(front[..., None], rgba, self._rgba)  # all 4 channels: contiguous, faster than slicing RGB
        zbuf = np.where(front, zbuf, self._zbuf)
        seg = np.where(front, seg, self._seg) if seg is not None else None
        return cam.finish(rgba, zbuf, seg)
