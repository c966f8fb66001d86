"""Cameras and observation rendering (RGB, metric depth, instance segmentation, proprioception)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pybullet as p

from sim.config import CameraConfig
from sim.observation_keys import OBS_KEYS as OBS_KEYS  # re-exported: the desk's keys were defined here

if TYPE_CHECKING:  # pragma: no cover
    from sim.primitives import Body

PROPRIO_DIM = 14  # tcp xyz (3), tcp velocity (3), finger opening (1), arm joint angles (7)


@dataclass
class Lighting:
    """TinyRenderer light; ``direction`` points from the scene toward the light."""

    direction: tuple[float, float, float] = (0.4, -0.3, 1.0)
    ambient: float = 0.6
    diffuse: float = 0.5
    specular: float = 0.05


def tiny_render(
    client: int,
    width: int,
    height: int,
    view: Sequence[float],
    proj: Sequence[float],
    light: Lighting,
    flags: int = p.ER_NO_SEGMENTATION_MASK,
) -> tuple[Any, Any, Any]:
    """One image of PyBullet's CPU TinyRenderer (what every camera of the simulator renders with), lit by ``light``,
    no shadows.

    Args:
        client: the PyBullet client.
        width, height: image size (pixels).
        view, proj: view and projection matrices (16 floats each, column-major, as ``p.computeViewMatrix`` gives).
        light: the TinyRenderer light.
        flags: ``p.getCameraImage`` flags (``p.ER_SEGMENTATION_MASK_OBJECT_AND_LINKINDEX`` for a segmentation mask).

    Returns:
        (rgba, zbuf, seg) as PyBullet gives them: H·W·4 uint8 values, H·W OpenGL depths in [0, 1], H·W raw ids
        (reshape with ``np.asarray(...).reshape``).
    """
    _, _, rgba, zbuf, seg = p.getCameraImage(
        width,
        height,
        view,
        proj,
        renderer=p.ER_TINY_RENDERER,
        flags=flags,
        lightDirection=light.direction,
        lightAmbientCoeff=light.ambient,
        lightDiffuseCoeff=light.diffuse,
        lightSpecularCoeff=light.specular,
        shadow=0,
        physicsClientId=client,
    )
    return rgba, zbuf, seg


class Camera:
    """A pinhole camera rendering W×H frames with PyBullet's CPU TinyRenderer."""

    def __init__(self, cfg: CameraConfig, width: int, height: int):
        self.cfg = cfg
        self.width, self.height = width, height
        self.set_pose(cfg.eye, cfg.target, cfg.fov)

    def set_pose(self, eye: Sequence[float] | np.ndarray, target: Sequence[float] | np.ndarray, fov: float) -> None:
        self.eye, self.target, self.fov = tuple(eye), tuple(target), float(fov)
        self.view = p.computeViewMatrix(self.eye, self.target, self.cfg.up)
        self.proj = p.computeProjectionMatrixFOV(self.fov, self.width / self.height, self.cfg.near, self.cfg.far)

    def render(self, client: int, light: Lighting, want_seg: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Render one frame.

        Returns:
            rgb: uint8 (H, W, 3).
            depth: float32 (H, W), metres along the optical axis.
            seg: int32 (H, W) raw PyBullet ids (body + (link+1) << 24, -1 = background) or None.
        """
        return self.finish(*self.render_buffers(client, light, want_seg))

    def render_buffers(
        self, client: int, light: Lighting, want_seg: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """TinyRenderer's buffers for one frame: rgba uint8 (H, W, 4), OpenGL depth float32 (H, W) in [0, 1],
        raw ids int32 (H, W) or None (``finish`` turns them into ``render``'s arrays)."""
        flags = p.ER_SEGMENTATION_MASK_OBJECT_AND_LINKINDEX if want_seg else p.ER_NO_SEGMENTATION_MASK
        rgba, zbuf, seg = tiny_render(client, self.width, self.height, self.view, self.proj, light, flags)
        rgba = np.asarray(rgba, dtype=np.uint8).reshape(self.height, self.width, 4)
        zbuf = np.asarray(zbuf, dtype=np.float32).reshape(self.height, self.width)
        seg_arr = np.asarray(seg, dtype=np.int32).reshape(self.height, self.width) if want_seg else None
        return rgba, zbuf, seg_arr

    def finish(
        self, rgba: np.ndarray, zbuf: np.ndarray, seg: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``render_buffers``' buffers → (rgb uint8 (H, W, 3), depth float32 (H, W) m, raw ids or None)."""
        near, far = self.cfg.near, self.cfg.far
        # OpenGL z-buffer → metres; clipped because background pixels land a rounding error past ``far``.
        depth = np.clip(far * near / (far - (far - near) * zbuf), near, far).astype(np.float32)
        return rgba[..., :3], depth, seg


def segmentation_table(
    bodies: list[Body], robot: str, instance_name: Callable[[Body, int, str], str] | None = None
) -> tuple[np.ndarray, int, list[str], list[str]]:
    """A scene's segmentation lookup: instance id per (body, link), with names and classes.

    The body named ``robot`` is one instance of class "robot"; every other body has one instance per
    link, named by ``instance_name(body, link, semantic)`` (default: the body name for its base,
    ``body/semantic`` for its links); links that share a name share an instance.

    Returns:
        lut: int32 table for ``lookup_segmentation``; links_per_body; instance names and classes
        (index 0 is the background).
    """
    names, classes = ["background"], ["background"]
    links = max(len(b.link_index) for b in bodies) + 1
    lut = np.zeros((max(b.uid for b in bodies) + 1) * links + 2, dtype=np.int32)
    for b in bodies:
        for link, sem in b.semantic_by_link.items():
            if b.name == robot or link == -1:
                name = b.name
            else:
                name = f"{b.name}/{sem}"
            if instance_name is not None and b.name != robot:
                name = instance_name(b, link, name)
            if name not in names:
                names.append(name)
                classes.append("robot" if b.name == robot else sem)
            lut[b.uid * links + link + 2] = names.index(name)
    return lut, links, names, classes


def lookup_segmentation(raw: np.ndarray, lut: np.ndarray, links_per_body: int) -> np.ndarray:
    """PyBullet's raw segmentation ids (H, W) → instance ids (H, W) int32 through a scene's table.

    Raw ids pack body + (link + 1) << 24 (−1 = background); ``lut[uid * links_per_body + link + 2]``
    is the instance id of that body link (index 0 of the table is the background).
    """
    uid = raw & ((1 << 24) - 1)
    link = (raw >> 24) - 1
    key = np.where(raw < 0, 0, uid * links_per_body + link + 2)
    return lut[np.clip(key, 0, len(lut) - 1)]
