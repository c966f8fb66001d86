"""Scene randomization of the "human" videos: far wider than the robot's, never what the held-out variants show.

A ``VideoSceneParams`` is one draw (``sample_video_scene``; pure NumPy, deterministic in its RNG) of every
factor a clip's scene varies: desk size and height, furniture positions (always in the training arrangement),
surface colours and procedural textures, lighting, a hand-held camera (pose, field of view, shake over the clip,
optional mirroring) and static distractor objects. Using one:

    cfg_env = video_env_config(base, vp)       # a validated DeskEnvConfig with the drawn layout
    scene = DeskScene(client, cfg_env)         # the bodies
    apply_video_scene(scene, client, vp)       # colours, textures, distractors
    rgb = render_frame(client, vp, t, 64)      # a frame at clip time t ∈ [0, 1]
    uv, depth = project_points(vp, t, points)  # where world points appear in it (camera-relative labels)

What the held-out variants (``sim.variants``) show never appears, by construction (a draw near one is redrawn):
    new_colors: no surface colour, nor any shade of it a texture gives, comes within ``palette_margin`` (L∞, per
        RGB channel) of any colour of ``sim.palette.HELDOUT_PALETTE``;
    new_viewpoint: no camera position (shake included) comes within ``viewpoint_margin`` of that variant's, and none
        looks from within ``viewpoint_margin_angle`` of its direction (seen from its look-at point);
    new_arrangement: the drawer and button stay on the −y side, the cabinet and faucet on the +y side (by
        ``arrangement_margin``); with ``small_piece_flip_probability`` the faucet and the button may each stand on
        the other side, the drawer and the cabinet never. A mirrored view would show that arrangement in image space, so mirroring is off
        by default, and a mirrored draw whose reflected camera is near the robot's or new_viewpoint's is redrawn.
        A twin desk (``twin_probability``; ``draw_twin``, ``place_twin``) has two drawers (the acted-on one on the
        +y side) or two cabinets (the acted-on one on the −y side), never a cabinet on −y with a drawer on +y.
"""

from __future__ import annotations

import colorsys
import copy
import dataclasses
import os
import tempfile
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pybullet as p

from sim.config import DeskEnvConfig, DeskLayout
from sim.dimensions import MUG_RADIUS
from sim.furniture import ButtonGeometry, DoorGeometry, DrawerGeometry, FaucetGeometry
from sim.observations import Lighting, tiny_render
from sim.palette import draw_outside_palette, near_heldout_palette
from sim.plumbing.files import write_cache_file
from sim.variants import VARIANTS
from sim.video_camera import SHAKE_AXES, CameraDraw, camera_for_frame, cross3, project_points
from sim.video_randomization_config import VideoRandomizationConfig

if TYPE_CHECKING:  # pragma: no cover - for the annotation only
    from sim.scenes.desk import DeskScene

__all__ = [
    "TWINS",
    "CameraDraw",
    "VideoRandomizationConfig",
    "VideoSceneParams",
    "apply_video_scene",
    "camera_for_frame",
    "draw_twin",
    "footprints",
    "heldout_arrangement_violations",
    "near_heldout_palette",
    "near_heldout_viewpoint",
    "place_twin",
    "project_points",
    "render_frame",
    "sample_video_scene",
    "twin_layout",
    "video_env_config",
    "video_textures",
]

# --------------------------------------------------------------------------------------- surfaces and textures
#: surfaces a video recolours: name → (scene attribute of the body, link, visual shape indices within the link or
#: None for all). Shape indices follow the order of the specs in ``sim.furniture`` (drawer link: inner box, front,
#: then the handle's three bars; door link: panel, then the handle's three bars).
SURFACES: dict[str, tuple[str, int, tuple[int, ...] | None]] = {
    "desk": ("desk", -1, None),
    "floor": ("floor", -1, None),
    "wall": ("wall", -1, None),
    "pedestal": ("pedestal", -1, None),
    "drawer": ("drawer", -1, None),
    "drawer_front": ("drawer", 0, (0, 1)),
    "drawer_handle": ("drawer", 0, (2, 3, 4)),
    "cabinet": ("cabinet", -1, None),
    "cabinet_door": ("cabinet", 0, (0,)),
    "cabinet_handle": ("cabinet", 0, (1, 2, 3)),
    "faucet": ("faucet", -1, None),
    "faucet_lever": ("faucet", 0, None),
    "button": ("button", -1, None),
    "button_cap": ("button", 0, None),
}
#: the surfaces that may get a texture (large flat ones; a texture on a handle is invisible at 64 × 64)
TEXTURED = ("desk", "floor", "wall", "pedestal", "drawer", "drawer_front", "cabinet", "cabinet_door")
MUGS = ("white_mug", "black_mug")
#: procedural textures: count, size (px) and darkest texel (a texel multiplies the surface colour, so a textured
#: surface shows every shade from TEXTURE_DARKEST × its colour to its colour; the palette check covers them all)
NUM_VIDEO_TEXTURES = 12
VIDEO_TEXTURE_SIZE = 32
TEXTURE_DARKEST = 0.55
TEXTURE_VERSION = 1  # in the file names: a change to the generator writes new files

# -------------------------------------------------------------------------------- furniture footprint sizes (m)
_DRAWER, _DOOR, _FAUCET, _BUTTON = DrawerGeometry(), DoorGeometry(), FaucetGeometry(), ButtonGeometry()
#: the cabinet carcass half size (x, y) and its door's hinge plane in front of it (sim.scenes.desk builds them so)
CABINET_HALF = (0.11, 0.12)
CABINET_DOOR_PLANE = 0.11 + 0.012
FAUCET_BASE_HALF = 0.05  # the faucet's base plate
#: heights above the desk top (m) of the points that must stay in view: drawer, cabinet, faucet, button, mugs
_VIEW_HEIGHTS = {"drawer": 0.07, "cabinet": 0.075, "faucet": 0.10, "button": 0.03, "mugs": 0.045}
SHAPES = ("box", "cylinder", "sphere")
#: twin desks: the piece there are two of (also its ``DeskScene`` attribute); the other piece is left out
TWINS = ("drawer", "cabinet")
#: the scene object a behaviour acts on → the twin kinds its clip may have (other objects: any)
_TWINS_FOR = {"drawer": ("drawer",), "cabinet_door": ("cabinet",)}
#: height (m, world) a left-out piece is moved to: far below the floor, outside every camera's view
HIDDEN_Z = -10.0


@dataclass
class VideoSceneParams:
    """One draw of a video scene (JSON-able through ``as_dict``).

    Attributes:
        layout: overrides of ``DeskLayout`` fields (desk_half_size, desk_height, drawer_center, cabinet_center,
            faucet_center, button_center, mug_region_low/high, back_wall); ``video_env_config`` applies them.
        colors: surface name (``SURFACES``, the mugs, blocks) → rgb in [0, 1].
        textures: surface name → index into ``video_textures()`` (−1 = none).
        light: the TinyRenderer light.
        camera: the clip's camera (pose, fov, shake, mirroring).
        distractors: static objects: ``shape`` (box / cylinder / sphere), ``size`` (box: 3 half extents; cylinder:
            radius, half height; sphere: radius; m), ``rgb``, ``xy`` (world, m), ``yaw`` (rad).
        twin: "" (a drawer and a cabinet), "drawer" or "cabinet" (two of that piece; ``place_twin``).
    """

    layout: dict[str, Any] = field(default_factory=dict)
    colors: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    textures: dict[str, int] = field(default_factory=dict)
    light: Lighting = field(default_factory=Lighting)
    camera: CameraDraw = field(default_factory=CameraDraw)
    distractors: list[dict[str, Any]] = field(default_factory=list)
    twin: str = ""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able copy (lists, floats, ints, bools, strings)."""
        return {
            "layout": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.layout.items()},
            "colors": {k: [float(c) for c in v] for k, v in self.colors.items()},
            "textures": {k: int(v) for k, v in self.textures.items()},
            "light": {**asdict(self.light), "direction": [float(x) for x in self.light.direction]},
            "camera": self.camera.as_dict(),
            "distractors": [dict(d) for d in self.distractors],
            "twin": self.twin,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VideoSceneParams:
        """Inverse of ``as_dict``."""
        light = dict(d["light"])
        light["direction"] = tuple(light["direction"])
        return cls(
            layout={k: (tuple(v) if isinstance(v, list) else v) for k, v in d["layout"].items()},
            colors={k: (float(v[0]), float(v[1]), float(v[2])) for k, v in d["colors"].items()},
            textures={k: int(v) for k, v in d["textures"].items()},
            light=Lighting(**light),
            camera=CameraDraw.from_dict(d["camera"]),
            distractors=[dict(x) for x in d["distractors"]],
            twin=str(d.get("twin", "")),  # clips rendered before twins existed have none
        )


# ------------------------------------------------------------------------------------------- held-out checks
def _reference_views(base: DeskEnvConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(eye, target) of the robot's camera and of the new_viewpoint variant's, world frame (m)."""
    cam = base.cameras[0]
    eye, target = np.asarray(cam.eye, float), np.asarray(cam.target, float)
    v = VARIANTS["new_viewpoint"]
    return {
        "train": (eye, target),
        "new_viewpoint": (eye + np.asarray(v.camera_eye_offset), target + np.asarray(v.camera_target_offset)),
    }


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def near_heldout_viewpoint(cam: CameraDraw, base: DeskEnvConfig, cfg: VideoRandomizationConfig) -> str | None:
    """Why camera ``cam`` is too near a held-out viewpoint (a short reason), or None.

    The eye may move by the shake's translation (≤ √3 · amplitude); a mirrored camera shows the scene mirrored in
    y seen from the camera reflected in y, so that reflection must also stay away from the robot's camera (the
    new_arrangement variant's view) and from new_viewpoint.
    """
    views = _reference_views(base)
    eye, target = np.asarray(cam.eye, float), np.asarray(cam.target, float)
    drift = float(np.sqrt(3.0) * cam.shake_translation)
    checks = [("new_viewpoint", eye, "")]
    if cam.mirrored:
        flip = np.array([1.0, -1.0, 1.0])
        checks += [("train", eye * flip, "mirrored "), ("new_viewpoint", eye * flip, "mirrored ")]
    for ref, e, how in checks:
        ref_eye, ref_target = views[ref]
        dist = float(np.linalg.norm(e - ref_eye))
        if dist < cfg.viewpoint_margin + drift:
            return f"{how}eye {dist:.3f} m from {ref}'s"
        reach = max(float(np.linalg.norm(e - ref_target)), 1e-6)
        slack = float(np.degrees(np.arcsin(min(1.0, drift / reach))))
        ang = _angle(e - ref_target, ref_eye - ref_target)
        if ang < cfg.viewpoint_margin_angle + slack:
            return f"{how}direction {ang:.1f}° from {ref}'s"
    del target  # the draw's own look-at point does not matter: a zoom along the held-out ray is excluded too
    return None


def heldout_arrangement_violations(layout: dict[str, Any], margin: float, flips: bool = False) -> list[str]:
    """The pieces that are not on their training side of the desk's centre line (world y = 0) by ``margin`` m:
    empty for the training arrangement. The held-out new_arrangement has every piece on the other side. ``flips``:
    the faucet and the button may stand on either side (``small_piece_flip_probability``), still ``margin`` m from
    the line; the drawer and the cabinet never, which alone keeps the held-out layout out."""
    sides = {"drawer_center": -1.0, "button_center": -1.0, "cabinet_center": 1.0, "faucet_center": 1.0}
    bad = []
    for name, sign in sides.items():
        y = float(layout[name][1])
        if (abs(y) if flips and name in _FLIPPABLE else sign * y) < margin - 1e-12:
            bad.append(name)
    return bad


#: the pieces ``small_piece_flip_probability`` may mirror across the desk's centre line
_FLIPPABLE = ("faucet_center", "button_center")


# ------------------------------------------------------------------------------------------------ layout
Rect = tuple[float, float, float, float]  # x0, x1, y0, y1 (m)


def footprints(layout: dict[str, Any]) -> dict[str, Rect]:
    """Axis-aligned floor plans (m, world) of what stands on the desk: the furniture bodies, the drawer's travel
    (with its handle), the cabinet door's swing, the faucet's base and lever sweep, the button, and the mugs'
    start region grown by a mug's radius."""
    dx, dy = layout["drawer_center"]
    cx, cy = layout["cabinet_center"]
    fx, fy = layout["faucet_center"]
    bx, by = layout["button_center"]
    (lx, ly), (hx, hy) = layout["mug_region_low"], layout["mug_region_high"]
    g = _DRAWER
    hinge_x, hinge_y = cx - CABINET_DOOR_PLANE, cy + CABINET_HALF[1]
    reach = _DOOR.width + _DOOR.thickness  # the door sweeps a disc about its hinge; open past 90°, a little outward
    outward = reach * max(0.0, np.sin(_DOOR.max_angle - np.pi / 2))
    lever = _FAUCET.lever_length + 2 * _FAUCET.lever_half_width
    return {
        "drawer": (dx - g.half_depth, dx + g.half_depth, dy - g.half_width, dy + g.half_width),
        "drawer_travel": (
            dx - g.half_depth - g.travel - g.handle_offset - 0.01,
            dx - g.half_depth,
            dy - g.half_width,
            dy + g.half_width,
        ),
        "cabinet": (cx - CABINET_HALF[0], cx + CABINET_HALF[0], cy - CABINET_HALF[1], cy + CABINET_HALF[1]),
        "cabinet_swing": (hinge_x - reach, hinge_x, hinge_y - reach, hinge_y + outward),
        "faucet": (fx - FAUCET_BASE_HALF, fx + FAUCET_BASE_HALF, fy - FAUCET_BASE_HALF, fy + FAUCET_BASE_HALF),
        "faucet_sweep": (fx - lever, fx + lever, fy - lever, fy + lever),
        "button": (
            bx - _BUTTON.housing_half,
            bx + _BUTTON.housing_half,
            by - _BUTTON.housing_half,
            by + _BUTTON.housing_half,
        ),
        "mugs": (lx - MUG_RADIUS, hx + MUG_RADIUS, ly - MUG_RADIUS, hy + MUG_RADIUS),
    }


#: footprints that may overlap: parts of one piece, and the lever (above the mugs' rims and the button) with
#: the low things it sweeps over
_MAY_OVERLAP = {
    frozenset(("drawer", "drawer_travel")),
    frozenset(("cabinet", "cabinet_swing")),
    frozenset(("faucet", "faucet_sweep")),
    frozenset(("faucet_sweep", "mugs")),
    frozenset(("faucet_sweep", "button")),
}
#: footprints that must lie on the desk top (the drawer's travel and the door's swing may reach past its edge)
_ON_DESK = ("drawer", "cabinet", "faucet", "button", "mugs")


def _overlap(a: Rect, b: Rect, clearance: float) -> bool:
    return not (
        a[1] + clearance <= b[0] + 1e-9
        or b[1] + clearance <= a[0] + 1e-9
        or a[3] + clearance <= b[2] + 1e-9
        or b[3] + clearance <= a[2] + 1e-9
    )


def _desk_rect(layout: dict[str, Any], base: DeskLayout) -> Rect:
    (cx, cy), (hx, hy) = base.desk_center, layout["desk_half_size"]
    return (cx - hx, cx + hx, cy - hy, cy + hy)


def layout_problem(layout: dict[str, Any], base: DeskLayout, clearance: float) -> str | None:
    """Why a drawn layout cannot be used (pieces off the desk or overlapping), or None."""
    rects = footprints(layout)
    desk = _desk_rect(layout, base)
    for name in _ON_DESK:
        r = rects[name]
        if r[0] < desk[0] - 1e-9 or r[1] > desk[1] + 1e-9 or r[2] < desk[2] - 1e-9 or r[3] > desk[3] + 1e-9:
            return f"{name} off the desk"
    names = list(rects)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if frozenset((a, b)) not in _MAY_OVERLAP and _overlap(rects[a], rects[b], clearance):
                return f"{a} overlaps {b}"
    return None


def twin_layout(layout: dict[str, Any]) -> dict[str, Any]:
    """``layout`` with the drawer and the cabinet in each other's place: where a twin desk's pieces stand (the moved
    piece at the other's place, its copy in its own), for ``layout_problem``'s check (it allows for the copy's
    swing or travel too, which it never makes)."""
    return {**layout, "drawer_center": layout["cabinet_center"], "cabinet_center": layout["drawer_center"]}


def draw_twin(
    cfg: VideoRandomizationConfig, rng: np.random.Generator, base: DeskLayout, layout: dict[str, Any], uses: str
) -> str:
    """The twin kind of a clip's desk ("" = one drawer and one cabinet): with probability ``cfg.twin_probability``,
    "drawer" or "cabinet" as the clip can have it (``uses``: the scene object its behaviour acts on; a clip on the
    drawer cannot leave the drawer out), "" when the twin desk would not fit ``layout``. Draws nothing from ``rng``
    when the probability is 0, so clips rendered without twins stay as they were."""
    if cfg.twin_probability <= 0.0:
        return ""
    kinds = _TWINS_FOR.get(uses, TWINS)
    wanted = rng.uniform() < cfg.twin_probability
    kind = kinds[int(rng.integers(len(kinds)))]
    if not wanted or layout_problem(twin_layout(layout), base, cfg.furniture_clearance) is not None:
        return ""
    return kind


def place_twin(scene: DeskScene, client: int, vp: VideoSceneParams) -> dict[str, int]:
    """Make ``scene`` (built from ``video_env_config(base, vp)``) the twin desk ``vp.twin`` says: the moved piece goes
    to the other's place, the other piece is put out of sight (``HIDDEN_Z``), an unmoving copy of the moved piece
    (the same build, fixed base) stands in its own place. Returns {scene attribute ("drawer" / "cabinet"): the
    copy's body id}, which ``apply_video_scene`` colours like the piece itself; {} for an ordinary desk."""
    if not vp.twin:
        return {}
    from sim.furniture import Door, Drawer  # local: only twin desks build extra furniture

    if vp.twin not in TWINS:
        raise ValueError(f"VideoSceneParams.twin={vp.twin!r}: use '' or one of {list(TWINS)}")
    h = scene.desk_height
    dyn = scene.cfg.dynamics
    (dx, dy), (cx, cy) = vp.layout["drawer_center"], vp.layout["cabinet_center"]
    # a cabinet's body frame is its door's hinge plane, CABINET_DOOR_PLANE in front (−x) of its carcass' centre
    if vp.twin == "drawer":  # the drawer to the cabinet's place, its copy in its own, the cabinet out of sight
        moved, new_at = scene.drawer.uid, (cx, cy, h)
        hidden, hidden_at = scene.cabinet.uid, (cx - CABINET_DOOR_PLANE, cy, HIDDEN_Z)
        copy_uid = Drawer(client, (dx, dy, h), 0.0, dyn.drawer_damping, dyn.drawer_friction).uid
    else:  # the cabinet to the drawer's place, its copy in its own, the drawer out of sight
        moved, new_at = scene.cabinet.uid, (dx - CABINET_DOOR_PLANE, dy, h)
        hidden, hidden_at = scene.drawer.uid, (dx, dy, HIDDEN_Z)
        copy_uid = Door(client, (cx - CABINET_DOOR_PLANE, cy, h), 0.0, dyn.door_damping, dyn.door_friction).uid
    for uid, at in ((moved, new_at), (hidden, hidden_at)):
        p.resetBasePositionAndOrientation(uid, at, (0.0, 0.0, 0.0, 1.0), physicsClientId=client)
    return {vp.twin: copy_uid}


def _draw_layout(cfg: VideoRandomizationConfig, rng: np.random.Generator, base: DeskLayout) -> dict[str, Any]:
    """One layout draw (not yet checked)."""
    hx, hy = rng.uniform(*cfg.desk_half_size_x), rng.uniform(*cfg.desk_half_size_y)
    height = rng.uniform(*cfg.desk_height)
    scale_y = hy / base.desk_half_size[1]  # the drawer and cabinet keep their place relative to the desk's sides
    s = cfg.furniture_shift

    def moved(xy: tuple[float, float], sy: float = 1.0) -> tuple[float, float]:
        d = rng.uniform(-s, s, 2)
        return (float(xy[0] + d[0]), float(xy[1] * sy + d[1]))

    shift = rng.uniform(-cfg.mug_region_shift, cfg.mug_region_shift, 2)
    out: dict[str, Any] = {
        "desk_half_size": (float(hx), float(hy)),
        "desk_height": float(height),
        "drawer_center": moved(base.drawer_center, scale_y),
        "cabinet_center": moved(base.cabinet_center, scale_y),
        "faucet_center": moved(base.faucet_center),
        "button_center": moved(base.button_center),
        "mug_region_low": tuple(float(v) for v in np.asarray(base.mug_region_low) + shift),
        "mug_region_high": tuple(float(v) for v in np.asarray(base.mug_region_high) + shift),
    }
    out["back_wall"] = bool(rng.uniform() < cfg.back_wall_probability)
    if cfg.small_piece_flip_probability > 0:  # no draw otherwise: scenes drawn before the option stay as they were
        for name in _FLIPPABLE:
            if rng.uniform() < cfg.small_piece_flip_probability:
                out[name] = (out[name][0], -out[name][1])
    return out


def video_env_config(base: DeskEnvConfig, vp: VideoSceneParams) -> DeskEnvConfig:
    """``base`` with the drawn layout, the training variant and the clip camera's rest pose as its camera, checked
    by ``DeskEnvConfig``'s own validation (a one-line ValueError if the layout does not fit)."""
    return _with_layout(copy.deepcopy(base), vp)


def _with_layout(cfg: DeskEnvConfig, vp: VideoSceneParams) -> DeskEnvConfig:
    """``video_env_config`` without the copy (the result shares ``cfg``'s nested configs): sampling checks each
    layout draw this way, and the deep copy would cost more than the check."""
    try:
        layout = DeskLayout(**{**asdict(cfg.layout), **vp.layout})
        cam = vp.camera
        camera = dataclasses.replace(cfg.cameras[0], eye=cam.eye, target=cam.target, up=cam.up, fov=float(cam.fov))
        return dataclasses.replace(cfg, layout=layout, variant="train", cameras=[camera, *cfg.cameras[1:]])
    except ValueError as e:
        raise ValueError(f"video scene: {e}") from None


# ------------------------------------------------------------------------------------------------ colours
def _hsv(h: float, s: float, v: float) -> tuple[float, float, float]:
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return (float(r), float(g), float(b))


#: candidate colours drawn per surface at once: one vectorised palette check for all is much cheaper than one each
_COLOR_BATCH = 16


def _draw_colors(
    cfg: VideoRandomizationConfig,
    rng: np.random.Generator,
    wants: list[tuple[str, tuple[float, float], tuple[float, float], float]],
) -> dict[str, tuple[float, float, float]]:
    """A colour per ``(name, saturation range, value range, darkest shade)``: the first of ``_COLOR_BATCH`` HSV
    draws (hue over the whole circle) outside the held-out palette's margin, drawn again for names without one."""
    if not wants:
        return {}
    return draw_outside_palette(
        rng,
        [w[0] for w in wants],
        np.array([w[1] for w in wants], float),
        np.array([w[2] for w in wants], float),
        np.array([w[3] for w in wants], float),
        cfg.palette_margin,
        cfg.max_redraws,
        "video_randomization: widen its saturation/value ranges or lower palette_margin",
        _COLOR_BATCH,
    )


# ------------------------------------------------------------------------------------------------- camera
def _key_points(layout: dict[str, Any]) -> np.ndarray:
    """(N, 3) world points that must stay in view: each piece of furniture and the corners of the mugs' region."""
    h = layout["desk_height"]
    pts = [
        (*layout["drawer_center"], h + _VIEW_HEIGHTS["drawer"]),
        (*layout["cabinet_center"], h + _VIEW_HEIGHTS["cabinet"]),
        (*layout["faucet_center"], h + _VIEW_HEIGHTS["faucet"]),
        (*layout["button_center"], h + _VIEW_HEIGHTS["button"]),
    ]
    (lx, ly), (hx, hy) = layout["mug_region_low"], layout["mug_region_high"]
    pts += [(x, y, h + _VIEW_HEIGHTS["mugs"]) for x in (lx, hx) for y in (ly, hy)]
    return np.array(pts, float)


def _draw_camera(
    cfg: VideoRandomizationConfig, rng: np.random.Generator, base: DeskEnvConfig, layout: dict[str, Any]
) -> tuple[CameraDraw, str | None]:
    """One camera draw and why it must be redrawn (None: usable)."""
    robot = base.cameras[0]
    rise = layout["desk_height"] - base.layout.desk_height  # the look-at point follows the desk top
    target = np.asarray(robot.target, float) + np.array([0.0, 0.0, rise])
    target = target + rng.uniform(-1.0, 1.0, 3) * np.asarray(cfg.target_offset)
    az, el = np.radians(rng.uniform(*cfg.camera_azimuth)), np.radians(rng.uniform(*cfg.camera_elevation))
    dist = rng.uniform(*cfg.camera_distance)
    eye = target + dist * np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    fov = rng.uniform(*cfg.camera_fov)
    roll = rng.uniform(*cfg.camera_roll)
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = cross3(forward, np.array(robot.up, float))
    right /= np.linalg.norm(right)
    up0 = cross3(right, forward)
    r = np.radians(roll)
    up = up0 * np.cos(r) + cross3(forward, up0) * np.sin(r)
    k = cfg.shake_components
    cam = CameraDraw(
        eye=(float(eye[0]), float(eye[1]), float(eye[2])),
        target=(float(target[0]), float(target[1]), float(target[2])),
        up=(float(up[0]), float(up[1]), float(up[2])),
        fov=float(fov),
        near=float(robot.near),
        far=float(robot.far),
        shake_rotation=float(rng.uniform(0.0, cfg.shake_rotation)),
        shake_translation=float(rng.uniform(0.0, cfg.shake_translation)),
        shake_freqs=rng.uniform(*cfg.shake_frequency, (SHAKE_AXES, k)).tolist(),
        shake_phases=rng.uniform(0.0, 2.0 * np.pi, (SHAKE_AXES, k)).tolist(),
        mirrored=bool(rng.uniform() < cfg.mirror_probability),
        roll=float(roll),
    )
    why = near_heldout_viewpoint(cam, base, cfg)
    if why is not None:
        return cam, why
    uv, depth = project_points(cam, 0.0, _key_points(layout))
    m = cfg.in_view_margin
    if (depth <= cam.near).any() or (uv < m).any() or (uv > 1.0 - m).any():
        return cam, "the furniture or the mugs' region out of view"
    return cam, None


# -------------------------------------------------------------------------------------------- distractors
def _distractor_radius(shape: str, size: list[float]) -> float:
    """Radius (m) of a disc that covers a distractor's floor plan at any yaw."""
    return float(np.hypot(size[0], size[1])) if shape == "box" else float(size[0])


def _draw_distractors(
    cfg: VideoRandomizationConfig, rng: np.random.Generator, layout: dict[str, Any], base: DeskLayout
) -> list[dict[str, Any]]:
    n = int(rng.integers(cfg.num_distractors[0], cfg.num_distractors[1] + 1))
    rects = footprints(layout)
    desk = _desk_rect(layout, base)
    out: list[dict[str, Any]] = []
    colors = _draw_colors(cfg, rng, [(f"distractor_{i}", cfg.color_saturation, cfg.color_value, 1.0) for i in range(n)])
    for i in range(n):
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        lo, hi = cfg.distractor_size
        size = {"box": 3, "cylinder": 2, "sphere": 1}[shape]
        dims = [float(v) for v in rng.uniform(lo, hi, size)]
        rgb = colors[f"distractor_{i}"]
        yaw = float(rng.uniform(0.0, np.pi))
        rad = _distractor_radius(shape, dims)
        for _ in range(cfg.max_redraws):
            xy = rng.uniform([desk[0] + rad, desk[2] + rad], [desk[1] - rad, desk[3] - rad])
            me: Rect = (xy[0] - rad, xy[0] + rad, xy[1] - rad, xy[1] + rad)
            clear = all(
                not _overlap(me, r, cfg.distractor_mug_clearance if name == "mugs" else cfg.distractor_clearance)
                for name, r in rects.items()
            )
            clear = clear and all(
                np.hypot(*(xy - np.asarray(d["xy"]))) > rad + _distractor_radius(d["shape"], d["size"]) for d in out
            )
            if clear:
                out.append(
                    {
                        "shape": shape,
                        "size": dims,
                        "rgb": list(rgb),
                        "xy": [float(xy[0]), float(xy[1])],
                        "yaw": yaw,
                        "collide": cfg.distractor_collision,
                    }
                )
                break
        # no free place for this one on a crowded desk: the scene has one distractor fewer
    return out


# ------------------------------------------------------------------------------------------------ sampling
def sample_video_scene(
    cfg: VideoRandomizationConfig, rng: np.random.Generator, base: DeskEnvConfig
) -> VideoSceneParams:
    """Draw one video scene around ``base`` (its layout, colours and camera are the nominal ones).

    Deterministic in ``rng``'s state; never returns a held-out variant's palette, viewpoint or arrangement (see
    the module docstring): a draw near one, a layout ``DeskEnvConfig`` refuses, overlapping furniture or a camera
    that crops the furniture is redrawn.

    Raises:
        ValueError: one line, when ``cfg.max_redraws`` draws of one factor all failed (the ranges cannot be met).
    """
    vp = VideoSceneParams()
    why = "no draw"
    for _ in range(cfg.max_redraws):
        layout = _draw_layout(cfg, rng, base.layout)
        why = layout_problem(layout, base.layout, cfg.furniture_clearance) or ""
        bad_side = heldout_arrangement_violations(layout, cfg.arrangement_margin, cfg.small_piece_flip_probability > 0)
        if bad_side:
            why = f"{', '.join(bad_side)} not on its training side"
        if not why:
            vp.layout = layout
            try:
                _with_layout(base, vp)
            except ValueError as e:
                why = str(e)
        if not why:
            break
    else:
        raise ValueError(
            f"scene: no usable layout in {cfg.max_redraws} draws (last: {why}); narrow scene.desk_half_size_x/_y or "
            "scene.furniture_shift, or lower scene.furniture_clearance / scene.arrangement_margin"
        )

    wants = []
    for name in SURFACES:
        use = name in TEXTURED and rng.uniform() < cfg.texture_probability
        vp.textures[name] = int(rng.integers(NUM_VIDEO_TEXTURES)) if use else -1
        wants.append((name, cfg.color_saturation, cfg.color_value, TEXTURE_DARKEST if use else 1.0))
    wants.append(("white_mug", (0.0, cfg.mug_tint), cfg.white_mug_value, 1.0))
    wants.append(("black_mug", (0.0, cfg.mug_tint), cfg.black_mug_value, 1.0))
    wants += [(f"block_{i}", cfg.color_saturation, cfg.color_value, 1.0) for i in range(base.layout.num_blocks)]
    drawn = _draw_colors(cfg, rng, wants)
    vp.colors = {w[0]: drawn[w[0]] for w in wants}

    az, el = np.radians(rng.uniform(*cfg.light_azimuth)), np.radians(rng.uniform(*cfg.light_elevation))
    vp.light = Lighting(
        (float(np.cos(el) * np.cos(az)), float(np.cos(el) * np.sin(az)), float(np.sin(el))),
        float(rng.uniform(*cfg.light_ambient)),
        float(rng.uniform(*cfg.light_diffuse)),
        float(rng.uniform(*cfg.light_specular)),
    )

    for _ in range(cfg.max_redraws):
        cam, why_cam = _draw_camera(cfg, rng, base, vp.layout)
        if why_cam is None:
            vp.camera = cam
            break
    else:
        raise ValueError(
            f"scene: no usable camera in {cfg.max_redraws} draws (last: {why_cam}); widen the scene.camera_* ranges, "
            "or lower scene.in_view_margin / scene.viewpoint_margin / scene.viewpoint_margin_angle"
        )
    vp.distractors = _draw_distractors(cfg, rng, vp.layout, base.layout)
    return vp


# --------------------------------------------------------------------------------------------- textures
def video_textures() -> list[str]:
    """Paths of ``NUM_VIDEO_TEXTURES`` greyscale PNG textures (texels in [TEXTURE_DARKEST, 1]: checks of several
    sizes, stripes three ways, noise, wood grain, dots, a gradient, bricks, plaid), made once per machine from a
    fixed seed, so every process writes the same files (atomically: parallel workers never read half a file)."""
    import imageio.v3 as iio  # local: imageio costs ~0.1 s to import and only textures need it

    folder = os.path.join(tempfile.gettempdir(), "robolearn_video_textures")
    n = VIDEO_TEXTURE_SIZE
    yy, xx = np.mgrid[0:n, 0:n].astype(float)
    rng = np.random.default_rng(TEXTURE_VERSION)
    noise = rng.uniform(0.0, 1.0, (n, n))
    kinds = [
        ((xx // 4 + yy // 4) % 2),
        ((xx // 8 + yy // 8) % 2),
        ((xx // 16 + yy // 16) % 2),
        0.5 + 0.5 * np.sin(xx / 1.5),
        0.5 + 0.5 * np.sin(yy / 3.0),
        0.5 + 0.5 * np.sin((xx + yy) / 2.5),
        noise,
        0.5 + 0.5 * np.sin(yy / 1.2 + 3.0 * np.sin(xx / 6.0) + 2.0 * noise),
        (np.hypot(xx % 8 - 3.5, yy % 8 - 3.5) < 2.2).astype(float),
        xx / (n - 1),
        (((yy % 8) < 1) | (((xx + 8 * ((yy // 8) % 2)) % 16) < 1)).astype(float) * -1 + 1,
        0.5 * (((xx % 8) < 3).astype(float) + ((yy % 8) < 3).astype(float)),
    ]
    paths = []
    for i, pattern in enumerate(kinds[:NUM_VIDEO_TEXTURES]):
        path = os.path.join(folder, f"v{TEXTURE_VERSION}_tex{i}.png")
        if not os.path.exists(path):
            level = TEXTURE_DARKEST + (1.0 - TEXTURE_DARKEST) * np.clip(pattern, 0.0, 1.0)
            img = np.repeat((level * 255).round().astype(np.uint8)[..., None], 3, axis=2)
            write_cache_file(path, iio.imwrite("<bytes>", img, extension=".png"))
        paths.append(path)
    return paths


# ------------------------------------------------------------------------------------------------ applying
def _targets(scene: DeskScene, name: str, copies: dict[str, int]) -> list[tuple[int, int, tuple[int, ...] | None]]:
    """(body uid, link, shape indices) a surface name stands for in ``scene`` (empty if the scene lacks it), its
    twin copy's too (``copies``: ``place_twin``'s result)."""
    if name in SURFACES:
        attr, link, shapes = SURFACES[name]
        if name == "wall" and not scene.cfg.layout.back_wall:
            return []
        bodies = [getattr(scene, attr).uid] + ([copies[attr]] if attr in copies else [])
        return [(uid, link, shapes) for uid in bodies]
    if name in scene.movable:
        return [(scene.movable[name].uid, -1, None)]
    return []


def apply_video_scene(
    scene: DeskScene, client: int, vp: VideoSceneParams, copies: dict[str, int] | None = None
) -> list[int]:
    """Colour and texture ``scene``'s surfaces and add the distractors; returns the distractors' body ids.

    ``scene`` must be built from ``video_env_config(base, vp)`` (its layout is checked against ``vp``'s). ``copies``:
    ``place_twin``'s result, whose bodies get the colours of the piece they copy.
    """
    lay = scene.cfg.layout
    if abs(lay.desk_height - vp.layout.get("desk_height", lay.desk_height)) > 1e-9 or tuple(
        lay.desk_half_size
    ) != tuple(vp.layout.get("desk_half_size", lay.desk_half_size)):
        raise ValueError(
            "apply_video_scene: the scene's layout is not the video scene's; build it from video_env_config(base, vp)"
        )
    paths: list[str] | None = None
    loaded: dict[int, int] = {}
    for name, rgb in vp.colors.items():
        tex = vp.textures.get(name, -1)
        tex_id = -1
        if tex >= 0:
            if paths is None:
                paths = video_textures()
            if tex not in loaded:  # loaded per call: ids die with p.resetSimulation, which rebuilds scenes
                loaded[tex] = p.loadTexture(paths[tex], physicsClientId=client)
            tex_id = loaded[tex]
        for uid, link, shapes in _targets(scene, name, copies or {}):
            for shape in shapes if shapes is not None else (-1,):
                p.changeVisualShape(
                    uid,
                    link,
                    shapeIndex=shape,
                    rgbaColor=(*rgb, 1.0),
                    textureUniqueId=tex_id,
                    physicsClientId=client,
                )
    uids = []
    z0 = scene.desk_height
    for d in vp.distractors:
        rgba = (*d["rgb"], 1.0)
        size = d["size"]
        if d["shape"] == "box":
            kw: dict[str, Any] = {"shapeType": p.GEOM_BOX, "halfExtents": size}
            half_h = size[2]
        elif d["shape"] == "cylinder":
            kw = {"shapeType": p.GEOM_CYLINDER, "radius": size[0]}
            half_h = size[1]
        else:
            kw = {"shapeType": p.GEOM_SPHERE, "radius": size[0]}
            half_h = size[0]
        vis_kw = dict(kw, length=2 * half_h) if d["shape"] == "cylinder" else kw
        col_kw = dict(kw, height=2 * half_h) if d["shape"] == "cylinder" else kw
        vis = p.createVisualShape(rgbaColor=rgba, physicsClientId=client, **vis_kw)
        col = p.createCollisionShape(physicsClientId=client, **col_kw) if d.get("collide", False) else -1
        uid = p.createMultiBody(
            0.0,
            col,
            vis,
            (d["xy"][0], d["xy"][1], z0 + half_h),
            p.getQuaternionFromEuler((0.0, 0.0, d["yaw"])),
            physicsClientId=client,
        )
        uids.append(uid)
    return uids


def render_frame(client: int, vp: VideoSceneParams, t: float, size: int) -> np.ndarray:
    """The clip's frame at time ``t`` ∈ [0, 1]: uint8 (size, size, 3), TinyRenderer (the env camera's renderer),
    hand-held shake applied, flipped left-right when the camera is mirrored (``project_points`` agrees)."""
    view, proj = camera_for_frame(vp, t, size, size)
    rgba, _, _ = tiny_render(client, size, size, view, proj, vp.light, p.ER_NO_SEGMENTATION_MASK)
    rgb = np.asarray(rgba, dtype=np.uint8).reshape(size, size, 4)[..., :3]
    if vp.camera.mirrored:
        rgb = rgb[:, ::-1]
    return np.ascontiguousarray(rgb)
