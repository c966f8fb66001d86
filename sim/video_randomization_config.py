"""Settings of the scene randomization of the "human" videos (``sim.video_randomization``).

Light on purpose (no PyBullet, no NumPy): the collect-videos command's config embeds it, and building or
validating a config never loads the simulator (tests/sim/test_light_imports.py). Every range here is far
wider than the robot's training randomization (``sim.config.RandomizationConfig``); what the held-out variants
show (``sim.variants``: ``new_colors``, ``new_viewpoint``, ``new_arrangement``) is excluded by the margins below.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.plumbing.settings import check_knobs, knob

#: the env's colour jitter (sim.config.RandomizationConfig.color_jitter's default, m per RGB channel): the
#: palette margin's doc says why it should stay above it
ENV_COLOR_JITTER = 0.15


@dataclass(frozen=True)
class VideoRandomizationConfig:
    """Ranges of every factor a video scene draws; each ``[low, high]`` pair is uniform unless said otherwise."""

    # ------------------------------------------------------------------------------------------- colours
    color_saturation: tuple[float, float] = knob(
        (0.0, 0.9),
        "[low, high] HSV saturation of every recoloured surface (hue is drawn over the whole circle; unitless)",
        lo=0.0,
        hi=1.0,
        pair=True,
        section="Colours, textures and lighting.",
    )
    color_value: tuple[float, float] = knob(
        (0.25, 1.0),
        "[low, high] HSV value (brightness) of every recoloured surface (unitless)",
        lo=0.0,
        hi=1.0,
        pair=True,
    )
    white_mug_value: tuple[float, float] = knob(
        (0.8, 1.0),
        "[low, high] grey level of the white mug (it keeps its name: tasks say 'white mug')",
        lo=0.0,
        hi=1.0,
        pair=True,
    )
    black_mug_value: tuple[float, float] = knob(
        (0.0, 0.2), "[low, high] grey level of the black mug", lo=0.0, hi=1.0, pair=True
    )
    mug_tint: float = knob(0.06, "largest HSV saturation of the mugs' tint (unitless; 0 = pure grey)", lo=0.0, hi=0.3)
    palette_margin: float = knob(
        ENV_COLOR_JITTER,
        "no surface colour (nor any shade a texture gives it) comes within this many units per RGB channel (0–1 scale, "
        f"L∞) of any colour of the held-out palette (sim.palette.HELDOUT_PALETTE); at or above the env's "
        f"colour jitter ({ENV_COLOR_JITTER}), no colour the new_colors variant can draw appears (a larger margin "
        "excludes much more: at 0.2 about half of all colours)",
        lo=0.0,
        hi=0.5,
    )
    texture_probability: float = knob(
        0.5, "chance that a surface gets a procedural texture (probability)", lo=0.0, hi=1.0
    )
    light_azimuth: tuple[float, float] = knob(
        (-180.0, 180.0), "[low, high] light azimuth (degrees)", lo=-360.0, hi=360.0, pair=True
    )
    light_elevation: tuple[float, float] = knob(
        (10.0, 90.0),
        "[low, high] light elevation above the horizon (degrees; training: 30–80)",
        lo=0.0,
        hi=90.0,
        pair=True,
    )
    light_ambient: tuple[float, float] = knob(
        (0.2, 0.9), "[low, high] ambient light coefficient (unitless; training: 0.4–0.8)", lo=0.0, hi=1.0, pair=True
    )
    light_diffuse: tuple[float, float] = knob(
        (0.1, 0.9), "[low, high] diffuse light coefficient (unitless; training: 0.3–0.7)", lo=0.0, hi=1.0, pair=True
    )
    light_specular: tuple[float, float] = knob(
        (0.0, 0.3), "[low, high] specular light coefficient (unitless; training: 0.05)", lo=0.0, hi=1.0, pair=True
    )

    # -------------------------------------------------------------------------------------------- camera
    camera_azimuth: tuple[float, float] = knob(
        (-40.0, 40.0),
        "[low, high] camera azimuth about the vertical through its target (degrees; 0 = the far side of the desk, "
        "where the robot's camera is; positive toward +y)",
        lo=-180.0,
        hi=180.0,
        pair=True,
        section="Camera: a pose around the desk's far side, a field of view, hand-held shake, mirroring.",
    )
    camera_elevation: tuple[float, float] = knob(
        (20.0, 55.0),
        "[low, high] camera elevation above its target's horizon (degrees; the robot's: 33)",
        lo=1.0,
        hi=89.0,
        pair=True,
    )
    camera_distance: tuple[float, float] = knob(
        (0.95, 1.6), "[low, high] camera distance from its target (m; the robot's: 1.25)", lo=0.2, hi=5.0, pair=True
    )
    camera_fov: tuple[float, float] = knob(
        (42.0, 68.0), "[low, high] vertical field of view (degrees; the robot's: 55)", lo=5.0, hi=150.0, pair=True
    )
    camera_roll: tuple[float, float] = knob(
        (-8.0, 8.0), "[low, high] tilt of the image about the viewing axis (degrees)", lo=-45.0, hi=45.0, pair=True
    )
    target_offset: tuple[float, float, float] = knob(
        (0.10, 0.12, 0.06),
        "largest |shift| of the look-at point from the robot camera's, per world axis x, y, z (m)",
        lo=0.0,
        hi=0.5,
    )
    in_view_margin: float = knob(
        0.04,
        "every piece of furniture and the mugs' region stay at least this far inside the image border "
        "(fraction of the image; a draw that crops one is redrawn)",
        lo=-0.5,
        hi=0.4,
    )
    shake_rotation: float = knob(
        1.5,
        "largest hand-held shake of the viewing direction about each camera axis (degrees; 0 = tripod)",
        lo=0.0,
        hi=10.0,
    )
    shake_translation: float = knob(
        0.015, "largest hand-held shake of the camera position along each camera axis (m)", lo=0.0, hi=0.2
    )
    shake_components: int = knob(
        3, "sinusoids summed per shake axis (count; each with a drawn frequency and phase)", lo=1, hi=8
    )
    shake_frequency: tuple[float, float] = knob(
        (0.3, 2.5), "[low, high] frequency of each shake sinusoid (cycles per clip)", lo=0.0, hi=20.0, pair=True
    )
    mirror_probability: float = knob(
        0.0,
        "chance that a video is mirrored left-right (as a web video may be). Off by default: a mirrored frame "
        "shows the drawer and cabinet swapped and the faucet and button mirrored, i.e. the held-out "
        "new_arrangement in image space (mirrored draws near the robot's camera or new_viewpoint are redrawn "
        "even when on)",
        lo=0.0,
        hi=1.0,
    )
    viewpoint_margin: float = knob(
        0.2,
        "no camera position (shake included) comes within this distance of the new_viewpoint variant's (m)",
        lo=0.0,
        hi=2.0,
    )
    viewpoint_margin_angle: float = knob(
        8.0,
        "no camera looks from within this angle of new_viewpoint's direction, seen from its look-at point "
        "(degrees; a zoom from further along that ray would show the same picture)",
        lo=0.0,
        hi=90.0,
    )

    # -------------------------------------------------------------------------------------------- layout
    desk_half_size_x: tuple[float, float] = knob(
        (0.34, 0.46),
        "[low, high] half depth of the desk top, robot to far side (m; training: 0.38)",
        lo=0.2,
        hi=1.5,
        pair=True,
        section="Layout: desk size and furniture positions, always in the training arrangement.",
    )
    desk_half_size_y: tuple[float, float] = knob(
        (0.48, 0.68), "[low, high] half width of the desk top (m; training: 0.55)", lo=0.2, hi=1.5, pair=True
    )
    desk_height: tuple[float, float] = knob(
        (0.70, 0.80), "[low, high] height of the desk top (m; training: 0.75)", lo=0.3, hi=1.5, pair=True
    )
    furniture_shift: float = knob(
        0.04,
        "largest |shift| per axis of the drawer, cabinet, faucet and button from their training places (m; the "
        "drawer and cabinet also follow the desk's width)",
        lo=0.0,
        hi=0.3,
    )
    mug_region_shift: float = knob(
        0.03, "largest |shift| per axis of the region where the mugs start (m)", lo=0.0, hi=0.3
    )
    arrangement_margin: float = knob(
        0.05,
        "the drawer and the button stay at least this far on the −y side of the desk's centre line, the cabinet "
        "and the faucet on the +y side (m; a flipped faucet or button this far on the other side): the training "
        "arrangement, never the held-out new_arrangement",
        lo=0.0,
        hi=0.5,
    )
    small_piece_flip_probability: float = knob(
        0.0,
        "chance that the faucet, and independently the button, stands at its mirrored place across the desk's centre "
        "line (y → −y; probability): the held-out new_arrangement mirrors them too, but also swaps the drawer and the "
        "cabinet, which stay on their training sides, so a flipped faucet or button alone never shows it",
        lo=0.0,
        hi=1.0,
    )
    twin_probability: float = knob(
        0.0,
        "chance that a clip's desk has two drawers or two cabinets instead of one of each (probability): the piece "
        "the clip acts on (a drawer, or a cabinet; either for clips that use neither) takes the other piece's place, "
        "an unmoving copy of it stands in its own place, and the other piece is left out. Seen from the camera the "
        "two carcasses look alike, so without twins only the side of the desk tells a drawer from a cabinet. A twin "
        "desk shows a drawer on the +y side or a cabinet on the −y side, never both (the held-out new_arrangement "
        "has a cabinet on −y and a drawer on +y); a twin that does not fit the drawn layout is skipped",
        lo=0.0,
        hi=1.0,
    )
    furniture_clearance: float = knob(
        0.0, "free space kept between pieces of furniture, and between them and the mugs' region (m)", lo=0.0, hi=0.2
    )
    back_wall_probability: float = knob(
        0.3, "chance that the wall behind the robot is drawn (probability; it costs render time)", lo=0.0, hi=1.0
    )

    # ---------------------------------------------------------------------------------------- distractors
    num_distractors: tuple[int, int] = knob(
        (0, 4),
        "[low, high] number of distractor objects (boxes, cylinders, spheres) on the desk (count, uniform)",
        lo=0,
        hi=12,
        pair=True,
        section="Distractors: static low-poly objects on free parts of the desk.",
    )
    distractor_size: tuple[float, float] = knob(
        (0.015, 0.05),
        "[low, high] half size of a distractor (m; radius of spheres and cylinders)",
        lo=0.005,
        hi=0.2,
        pair=True,
    )
    distractor_clearance: float = knob(
        0.04,
        "free space between a distractor and the furniture (its drawer travel and door swing included) (m)",
        lo=0.0,
        hi=0.3,
    )
    distractor_mug_clearance: float = knob(
        0.10,
        "free space between a distractor and the mugs' start region (m): room for the mugs' pushes",
        lo=0.0,
        hi=0.5,
    )
    distractor_collision: bool = knob(
        False,
        "distractors collide (static obstacles); off, they are drawn only, so they never change what an actor's "
        "script achieves",
    )
    max_redraws: int = knob(500, "draws tried per factor before giving up with an error (count)", lo=1, hi=100_000)

    def __post_init__(self) -> None:
        check_knobs(self, "scene")  # the option group of `robolearn collect videos`
