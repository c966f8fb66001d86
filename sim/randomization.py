"""Domain randomization of the desk scene: colours, textures, lighting, camera, dynamics.

A ``SceneParams`` sample is drawn at every reset from the environment's RNG (so the same seed
gives the same scene) and applied to the bodies. Factors that are switched off keep their
nominal values; a named variant (see ``sim.variants``) shifts one factor to a held-out value.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pybullet as p

from sim.config import RandomizationConfig
from sim.observations import Lighting
from sim.palette import HELDOUT_PALETTE, MUG_BRIGHTNESS, TRAIN_PALETTE, draw_outside_palette
from sim.plumbing.files import write_cache_file
from sim.variants import Variant

if TYPE_CHECKING:  # pragma: no cover - for the annotation only
    from sim.scenes.desk import DeskScene

TEXTURE_SIZE = 32  # px; procedural textures are tiny, TinyRenderer samples them per pixel
NUM_TEXTURES = 6


@dataclass
class SceneParams:
    """One draw of every randomized factor (nominal values when a factor is off)."""

    colors: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    textures: dict[str, int] = field(default_factory=dict)  # body name → texture index (-1 = none)
    light: Lighting = field(default_factory=Lighting)
    camera_eye_offset: np.ndarray = field(default_factory=lambda: np.zeros(3))
    camera_target_offset: np.ndarray = field(default_factory=lambda: np.zeros(3))
    camera_fov_offset: float = 0.0
    friction_scale: float = 1.0
    mass_scale: float = 1.0
    damping_scale: float = 1.0


def sample_scene_params(
    cfg: RandomizationConfig, variant: Variant, rng: np.random.Generator, mug_names: list[str]
) -> SceneParams:
    """Draw a ``SceneParams``. The RNG is always advanced the same way, whatever is switched on,
    so that switching one factor on does not change the draws of the others."""
    palette = HELDOUT_PALETTE if variant.palette == "heldout" else TRAIN_PALETTE
    sp = SceneParams()
    jitters = []
    for name, rgb in palette.items():
        jitter = rng.uniform(-cfg.color_jitter, cfg.color_jitter, 3)
        jitters.append(jitter)
        sp.colors[name] = tuple(np.clip(np.asarray(rgb) + (jitter if cfg.colors else 0.0), 0, 1).tolist())
    if cfg.colors and cfg.palette == "wide" and variant.palette != "heldout":
        sp.colors.update(wide_colors(cfg, list(palette), np.concatenate(jitters)))
    for name in mug_names:
        lo, hi = MUG_BRIGHTNESS.get(name, (0.0, 1.0))
        g = rng.uniform(lo, hi)
        if cfg.colors and name in MUG_BRIGHTNESS:
            sp.colors[name] = (g, g, g)
    for name in ("desk", "floor", "wall", "drawer", "cabinet"):
        use = rng.uniform() < cfg.texture_probability
        idx = int(rng.integers(NUM_TEXTURES))
        sp.textures[name] = idx if (cfg.textures and use) else -1
    az = np.radians(rng.uniform(*cfg.light_azimuth))
    el = np.radians(rng.uniform(*cfg.light_elevation))
    amb, dif = rng.uniform(*cfg.light_ambient), rng.uniform(*cfg.light_diffuse)
    if cfg.lighting:
        sp.light = Lighting(
            (float(np.cos(el) * np.cos(az)), float(np.cos(el) * np.sin(az)), float(np.sin(el))), float(amb), float(dif)
        )
    eye = rng.uniform(-1, 1, 3) * cfg.camera_eye_jitter
    tgt = rng.uniform(-1, 1, 3) * cfg.camera_target_jitter
    fov = rng.uniform(-1, 1) * cfg.camera_fov_jitter
    sp.camera_eye_offset = np.asarray(variant.camera_eye_offset) + (eye if cfg.camera else 0.0)
    sp.camera_target_offset = np.asarray(variant.camera_target_offset) + (tgt if cfg.camera else 0.0)
    sp.camera_fov_offset = float(fov) if cfg.camera else 0.0
    scales = [rng.uniform(*cfg.friction_scale), rng.uniform(*cfg.mass_scale), rng.uniform(*cfg.damping_scale)]
    if cfg.physics:
        sp.friction_scale, sp.mass_scale, sp.damping_scale = (float(s) for s in scales)
    return sp


#: candidates tried per surface before a wide-palette draw gives up (with the defaults 47% fall within the margin)
WIDE_MAX_DRAWS = 512


def wide_colors(cfg: RandomizationConfig, names: list[str], draws: np.ndarray) -> dict[str, tuple[float, float, float]]:
    """The ``palette: wide`` colour of each surface in ``names``: any hue, HSV saturation and value in the
    config's ranges, redrawn while within ``heldout_margin`` of the held-out palette.

    The candidates come from a generator seeded by ``draws`` (the scene's own colour-jitter draws), so the scene's
    RNG advances exactly as in the jitter mode and switching the mode changes no other factor's draw. A texture
    multiplies its own coloured texels into the surface colour; the margin is kept by the untextured colour.

    Raises:
        ValueError: no colour outside the margin in ``WIDE_MAX_DRAWS`` candidates (ranges too narrow).
    """
    child = np.random.default_rng(np.frombuffer(np.ascontiguousarray(draws, float).tobytes(), np.uint32))
    n = len(names)
    return draw_outside_palette(
        child,
        names,
        np.tile(cfg.wide_saturation, (n, 1)),
        np.tile(cfg.wide_value, (n, 1)),
        np.ones(n),
        cfg.heldout_margin,
        WIDE_MAX_DRAWS,
        "randomization: widen wide_saturation / wide_value or lower heldout_margin",
    )


def procedural_textures(rng_seed: int = 0) -> list[str]:
    """Paths of ``NUM_TEXTURES`` small PNG textures (checks, stripes, noise), made once per machine.

    The draws come from a fixed seed, so every process writes the same files.
    """
    import imageio.v3 as iio  # local: imageio costs ~0.1 s to import and only textures need it

    folder = os.path.join(tempfile.gettempdir(), "robolearn_textures")
    rng = np.random.default_rng(rng_seed)
    paths = []
    n = TEXTURE_SIZE
    yy, xx = np.mgrid[0:n, 0:n]
    for i in range(NUM_TEXTURES):
        path = os.path.join(folder, f"tex{i}.png")
        if not os.path.exists(path):
            base = rng.uniform(0.3, 0.9, 3)
            kind = i % 3
            if kind == 0:
                pattern = ((xx // 8 + yy // 8) % 2)[..., None] * 0.35 + 0.65
            elif kind == 1:
                pattern = (0.75 + 0.25 * np.sin(xx / 2.5 + rng.uniform(0, 6)))[..., None]
            else:
                pattern = rng.uniform(0.7, 1.0, (n, n, 1))
            img = (np.clip(base * pattern, 0, 1) * 255).astype(np.uint8)
            # atomic: parallel workers never load a half-written file
            write_cache_file(path, iio.imwrite("<bytes>", img, extension=".png"))
        paths.append(path)
    return paths


class SceneStyler:
    """Applies ``SceneParams`` to a built scene, remembering nominal dynamics so scales never compound."""

    def __init__(self, scene: DeskScene, client: int):
        self.scene = scene
        self.client = client
        self._texture_ids: list[int] | None = None
        self.targets = {
            "desk": [(scene.desk.uid, -1)],
            "floor": [(scene.floor.uid, -1)],
            "wall": [(scene.wall.uid, -1)] if scene.cfg.layout.back_wall else [],
            "pedestal": [(scene.pedestal.uid, -1)],
            "drawer": [(scene.drawer.uid, -1)],
            "cabinet": [(scene.cabinet.uid, -1)],
        }
        for name, obj in scene.movable.items():
            self.targets[name] = [(obj.uid, -1)]
        dyn = scene.cfg.dynamics
        self.nominal_damping = {
            "drawer": (dyn.drawer_damping, dyn.drawer_friction),
            "cabinet_door": (dyn.door_damping, dyn.door_friction),
            "faucet": (dyn.faucet_damping, dyn.faucet_friction),
        }

    def _textures(self) -> list[int]:
        if self._texture_ids is None:
            self._texture_ids = [p.loadTexture(path, physicsClientId=self.client) for path in procedural_textures()]
        return self._texture_ids

    def apply(self, sp: SceneParams) -> None:
        for name, rgb in sp.colors.items():
            for uid, link in self.targets.get(name, []):
                tex = sp.textures.get(name, -1)
                kw = {"textureUniqueId": self._textures()[tex]} if tex >= 0 else {"textureUniqueId": -1}
                p.changeVisualShape(uid, link, rgbaColor=(*rgb, 1.0), physicsClientId=self.client, **kw)
        dyn = self.scene.cfg.dynamics
        for obj in self.scene.movable.values():
            p.changeDynamics(
                obj.uid,
                -1,
                mass=obj.nominal_mass * sp.mass_scale,
                lateralFriction=dyn.object_friction * sp.friction_scale,
                physicsClientId=self.client,
            )
        p.changeDynamics(
            self.scene.desk.uid, -1, lateralFriction=dyn.desk_friction * sp.friction_scale, physicsClientId=self.client
        )
        timestep = self.scene.cfg.physics.timestep
        for name, (damping, friction) in self.nominal_damping.items():
            self.scene.articulated[name].set_damping(damping * sp.damping_scale, friction * sp.damping_scale, timestep)
