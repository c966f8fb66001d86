"""The video scenes' randomization: held-out values never drawn, deterministic, consistent camera geometry."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pybullet as p
import pytest

from sim.config import DeskEnvConfig
from sim.palette import HELDOUT_PALETTE, palette_distance, palette_distances
from sim.plumbing.settings import from_mapping
from sim.scenes.desk import DeskScene
from sim.variants import VARIANTS
from sim.video_camera import CameraDraw, look_at, perspective, pose_at
from sim.video_randomization import (
    TEXTURE_DARKEST,
    TEXTURED,
    VideoRandomizationConfig,
    VideoSceneParams,
    apply_video_scene,
    camera_for_frame,
    draw_twin,
    footprints,
    heldout_arrangement_violations,
    layout_problem,
    near_heldout_palette,
    near_heldout_viewpoint,
    place_twin,
    project_points,
    render_frame,
    sample_video_scene,
    twin_layout,
    video_env_config,
    video_textures,
)

BASE = DeskEnvConfig()
CFG = VideoRandomizationConfig()
DRAWS = 2000


@pytest.fixture(scope="module")
def draws() -> list[VideoSceneParams]:
    rng = np.random.default_rng(2023)
    return [sample_video_scene(CFG, rng, BASE) for _ in range(DRAWS)]


@pytest.fixture()
def client():
    c = p.connect(p.DIRECT)
    yield c
    p.disconnect(c)


def _heldout_view() -> tuple[np.ndarray, np.ndarray]:
    cam, v = BASE.cameras[0], VARIANTS["new_viewpoint"]
    return np.add(cam.eye, v.camera_eye_offset), np.add(cam.target, v.camera_target_offset)


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


# ---------------------------------------------------------------------------------------------- the checks
def test_the_heldout_checks_catch_the_heldout_values():
    """The exclusion tests are not vacuous: each held-out value itself is caught."""
    for rgb in HELDOUT_PALETTE.values():
        assert near_heldout_palette(rgb, CFG.palette_margin)
        assert near_heldout_palette(np.add(rgb, 0.1), CFG.palette_margin)
    # a texture darkens a colour: a bright colour whose shade is a held-out one is caught when textured only
    bright = np.asarray(HELDOUT_PALETTE["desk"]) / TEXTURE_DARKEST
    assert not near_heldout_palette(bright, CFG.palette_margin) and near_heldout_palette(
        bright, CFG.palette_margin, TEXTURE_DARKEST
    )
    eye, target = _heldout_view()
    assert near_heldout_viewpoint(CameraDraw(eye=tuple(eye), target=tuple(target)), BASE, CFG)
    far = target + 1.6 * (eye - target)  # a zoom from further along the held-out ray
    assert "direction" in str(near_heldout_viewpoint(CameraDraw(eye=tuple(far), target=tuple(target)), BASE, CFG))
    robot = BASE.cameras[0]
    assert near_heldout_viewpoint(CameraDraw(eye=robot.eye, target=robot.target), BASE, CFG) is None
    assert near_heldout_viewpoint(CameraDraw(eye=robot.eye, target=robot.target, mirrored=True), BASE, CFG)
    lay = asdict(BASE.layout)
    assert heldout_arrangement_violations(lay, CFG.arrangement_margin) == []
    mirrored = {k: (v[0], -v[1]) for k, v in lay.items() if k.endswith("_center") and k != "desk_center"}
    assert sorted(heldout_arrangement_violations(mirrored, CFG.arrangement_margin)) == sorted(mirrored)
    # a flipped faucet and button are allowed where asked, the swapped drawer and cabinet never
    small = ("faucet_center", "button_center")  # what small_piece_flip_probability flips
    assert heldout_arrangement_violations(mirrored, CFG.arrangement_margin, True) == [
        "drawer_center",
        "cabinet_center",
    ]
    flipped = {**lay, **{k: mirrored[k] for k in small}}
    assert heldout_arrangement_violations(flipped, CFG.arrangement_margin, True) == []
    on_the_line = {**flipped, "faucet_center": (lay["faucet_center"][0], 0.01)}
    assert heldout_arrangement_violations(on_the_line, CFG.arrangement_margin, True) == ["faucet_center"]
    assert layout_problem(lay, BASE.layout, CFG.furniture_clearance) is None
    crowded = {**lay, "button_center": (0.55, -0.10)}  # in the mugs' region
    assert layout_problem(crowded, BASE.layout, 0.0) == "button overlaps mugs"


def test_palette_distance_is_exact_over_shades():
    rng = np.random.default_rng(0)
    palette = np.array(list(HELDOUT_PALETTE.values()))
    for _ in range(50):
        rgb, darkest = rng.uniform(0, 1, 3), rng.uniform(0.3, 1.0)
        shades = np.linspace(darkest, 1.0, 4001)[:, None, None] * rgb
        brute = np.abs(shades - palette[None]).max(axis=2).min()
        assert palette_distance(rgb, darkest) == pytest.approx(brute, abs=1e-4)
        assert palette_distances(np.array([rgb, rgb]), np.array([darkest, 1.0]))[0] == palette_distance(rgb, darkest)


# -------------------------------------------------------------------------------------------- the draws
def test_no_heldout_palette_viewpoint_or_arrangement_in_many_draws(draws):
    eye_h, target_h = _heldout_view()
    dir_h = eye_h - target_h
    colors = [
        (rgb, TEXTURE_DARKEST if vp.textures.get(name, -1) >= 0 else 1.0)
        for vp in draws
        for name, rgb in vp.colors.items()
    ]
    colors += [(d["rgb"], 1.0) for vp in draws for d in vp.distractors]
    rgb, darkest = np.array([c[0] for c in colors]), np.array([c[1] for c in colors])
    assert palette_distances(rgb, darkest).min() >= CFG.palette_margin
    for i, vp in enumerate(draws):
        assert heldout_arrangement_violations(vp.layout, CFG.arrangement_margin) == []
        if i < 200:  # (sampling validated every draw this way already)
            cfg = video_env_config(BASE, vp)  # validated by DeskEnvConfig
            assert cfg.variant == "train" and not VARIANTS[cfg.variant].mirror_furniture
        cam = vp.camera
        assert not cam.mirrored  # off by default: a mirrored frame shows the held-out arrangement
        for t in (0.0, 0.3, 0.7, 1.0):  # the shaken camera too
            eye, _, _ = pose_at(cam, t)
            assert np.linalg.norm(eye - eye_h) >= CFG.viewpoint_margin
            assert _angle(eye - target_h, dir_h) >= CFG.viewpoint_margin_angle
        rects = footprints(vp.layout)
        for d in vp.distractors:  # clear of the furniture and the mugs' region
            x, y = d["xy"]
            for r in rects.values():
                assert not (r[0] < x < r[1] and r[2] < y < r[3])
    # the draws are really spread (not a fixed scene that trivially passes)
    fovs = np.array([vp.camera.fov for vp in draws])
    lo, hi = CFG.camera_fov
    assert fovs.min() < lo + 0.1 * (hi - lo) and fovs.max() > hi - 0.1 * (hi - lo)
    assert len({vp.layout["desk_half_size"] for vp in draws}) == DRAWS
    assert max(len(vp.distractors) for vp in draws) == CFG.num_distractors[1]
    textured = np.mean([vp.textures[name] >= 0 for vp in draws for name in TEXTURED])
    assert abs(textured - CFG.texture_probability) < 0.03
    assert all(vp.textures[name] == -1 for vp in draws for name in vp.textures if name not in TEXTURED)


def test_mirrored_draws_stay_away_from_the_robot_view_and_new_viewpoint():
    cfg = VideoRandomizationConfig(mirror_probability=1.0)
    rng = np.random.default_rng(5)
    eye_h, _ = _heldout_view()
    flip = np.array([1.0, -1.0, 1.0])
    for _ in range(200):
        cam = sample_video_scene(cfg, rng, BASE).camera
        assert cam.mirrored
        reflected = np.asarray(cam.eye) * flip
        assert np.linalg.norm(reflected - np.asarray(BASE.cameras[0].eye)) >= cfg.viewpoint_margin
        assert np.linalg.norm(reflected - eye_h) >= cfg.viewpoint_margin


def test_same_seed_same_params_and_json_round_trip():
    a = sample_video_scene(CFG, np.random.default_rng(11), BASE)
    b = sample_video_scene(CFG, np.random.default_rng(11), BASE)
    c = sample_video_scene(CFG, np.random.default_rng(12), BASE)
    assert json.dumps(a.as_dict()) == json.dumps(b.as_dict()) != json.dumps(c.as_dict())
    back = VideoSceneParams.from_dict(json.loads(json.dumps(a.as_dict())))
    assert back.as_dict() == a.as_dict()


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"camera_fov": (80.0, 35.0)}, "camera_fov"),
        ({"camera_fov": (1.0, 50.0)}, "camera_fov"),
        ({"palette_margin": -0.1}, "palette_margin"),
        ({"num_distractors": (0, 40)}, "num_distractors"),
        ({"mirror_probability": 2.0}, "mirror_probability"),
    ],
)
def test_bad_settings_give_one_line_errors(overrides, says):
    with pytest.raises(ValueError) as e:
        from_mapping(VideoRandomizationConfig, overrides)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_unmeetable_ranges_give_one_line_errors():
    with pytest.raises(ValueError, match="no usable layout") as e:  # furniture always across the centre line
        sample_video_scene(
            VideoRandomizationConfig(arrangement_margin=0.45, max_redraws=20), np.random.default_rng(0), BASE
        )
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="no usable camera"):  # a 5° view cannot hold the whole desk
        sample_video_scene(
            VideoRandomizationConfig(camera_fov=(5.0, 6.0), max_redraws=20), np.random.default_rng(0), BASE
        )


# ------------------------------------------------------------------------------------------------ camera
def test_matrices_are_pybullets():
    eye, target, up = (1.4, 0.2, 1.5), (0.4, 0.0, 0.8), (0.1, 0.0, 1.0)
    assert np.allclose(
        look_at(np.array(eye), np.array(target), np.array(up)).T.ravel(),
        p.computeViewMatrix(eye, target, up),
        atol=1e-6,
    )
    assert np.allclose(
        perspective(50.0, 1.3, 0.05, 4.0).T.ravel(), p.computeProjectionMatrixFOV(50.0, 1.3, 0.05, 4.0), atol=1e-6
    )


def test_hand_held_shake_is_smooth_and_bounded():
    cam = sample_video_scene(CFG, np.random.default_rng(3), BASE).camera
    cam.shake_rotation, cam.shake_translation = CFG.shake_rotation, CFG.shake_translation
    ts = np.linspace(0.0, 1.0, 201)
    eyes = np.array([pose_at(cam, t)[0] for t in ts])
    views = [camera_for_frame(cam, t, 64, 64)[0] for t in (0.0, 0.5)]
    assert views[0] != views[1]
    offsets = np.linalg.norm(eyes - np.asarray(cam.eye), axis=1)
    assert offsets.max() <= np.sqrt(3) * cam.shake_translation + 1e-12 and offsets.max() > 0.1 * cam.shake_translation
    steps = np.linalg.norm(np.diff(eyes, axis=0), axis=1)
    assert steps.max() < 0.2 * offsets.max()  # smooth: no jumps between neighbouring frames
    tripod = CameraDraw(eye=cam.eye, target=cam.target, up=cam.up, fov=cam.fov)
    assert camera_for_frame(tripod, 0.0, 64, 64) == camera_for_frame(tripod, 1.0, 64, 64)


def _red_centroid(img: np.ndarray) -> np.ndarray:
    mask = (img[..., 0] > 150) & (img[..., 1] < 60) & (img[..., 2] < 60)
    ys, xs = np.nonzero(mask)
    assert len(xs) > 5
    return np.array([(xs.mean() + 0.5) / img.shape[1], (ys.mean() + 0.5) / img.shape[0]])


def test_project_points_agrees_with_render_frame_and_mirroring_flips_u(client):
    point = np.array([0.55, 0.25, 0.85])
    vis = p.createVisualShape(p.GEOM_SPHERE, radius=0.025, rgbaColor=(1, 0, 0, 1), physicsClientId=client)
    p.createMultiBody(0.0, -1, vis, point, physicsClientId=client)
    cam = CameraDraw(eye=(1.3, -0.3, 1.4), target=(0.4, 0.0, 0.8), fov=50.0, shake_rotation=1.0, shake_translation=0.01)
    cam.shake_freqs = [[1.0, 2.0]] * 6
    cam.shake_phases = [[0.3, 1.1]] * 6
    vp = VideoSceneParams(camera=cam)
    size = 128
    uv, depth = project_points(vp, 0.4, point[None])
    assert depth[0] > 0
    assert np.abs(_red_centroid(render_frame(client, vp, 0.4, size)) - uv[0]).max() < 1.5 / size
    cam.mirrored = True
    uv_m, depth_m = project_points(vp, 0.4, point[None])
    assert uv_m[0, 0] == pytest.approx(1.0 - uv[0, 0]) and uv_m[0, 1] == pytest.approx(uv[0, 1])
    assert depth_m[0] == pytest.approx(depth[0])
    assert np.abs(_red_centroid(render_frame(client, vp, 0.4, size)) - uv_m[0]).max() < 1.5 / size
    # a point moving along +y moves right in the image unmirrored (the camera is on the far side), left mirrored
    moved, _ = project_points(vp, 0.4, np.array([point, point + [0.0, 0.1, 0.0]]))
    assert moved[1, 0] < moved[0, 0]


# --------------------------------------------------------------------------------------------- rendering
def _scene_frame(client: int, vp: VideoSceneParams, size: int = 64) -> tuple[np.ndarray, list[int]]:
    p.resetSimulation(physicsClientId=client)
    scene = DeskScene(client, video_env_config(BASE, vp))
    uids = apply_video_scene(scene, client, vp)
    return render_frame(client, vp, 0.5, size), uids


def test_render_is_deterministic_and_differs_across_draws(client):
    rng = np.random.default_rng(8)
    vps = [sample_video_scene(CFG, rng, BASE) for _ in range(3)]
    frames = []
    for vp in vps:
        first, uids = _scene_frame(client, vp)
        again, _ = _scene_frame(client, vp)
        assert first.shape == (64, 64, 3) and first.dtype == np.uint8
        assert np.array_equal(first, again)
        assert len(uids) == len(vp.distractors)
        frames.append(first.astype(float))
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.abs(frames[i] - frames[j]).mean() > 20.0  # grey levels: whole scenes differ, not a few pixels


def test_apply_refuses_a_scene_built_without_the_video_layout(client):
    vp = sample_video_scene(CFG, np.random.default_rng(4), BASE)
    scene = DeskScene(client, BASE)
    with pytest.raises(ValueError, match="video_env_config"):
        apply_video_scene(scene, client, vp)


def test_textures_are_grey_and_span_their_shades():
    import imageio.v3 as iio

    paths = video_textures()
    assert len(set(paths)) == len(paths) == 12
    for path in paths:
        img = iio.imread(path).astype(float) / 255.0
        assert np.array_equal(img[..., 0], img[..., 1]) and np.array_equal(img[..., 0], img[..., 2])
        assert img.min() >= TEXTURE_DARKEST - 1 / 255 and img.max() <= 1.0


# ------------------------------------------------------------------------------------------------ twin desks
def test_twin_draws_never_show_the_heldout_swap_and_follow_the_clips_object(draws):
    twins = VideoRandomizationConfig(twin_probability=0.7)
    rng = np.random.default_rng(5)
    state = np.random.default_rng(5).bit_generator.state
    assert draw_twin(CFG, rng, BASE.layout, draws[0].layout, "drawer") == ""  # probability 0 ...
    assert rng.bit_generator.state == state  # ... draws nothing: clips rendered before twins stay as they were
    kinds: dict[str, list[str]] = {"drawer": [], "cabinet_door": [], "white_mug": []}
    for vp in draws[:300]:
        for uses, got in kinds.items():
            kind = draw_twin(twins, rng, BASE.layout, vp.layout, uses)
            got.append(kind)
            if kind:
                assert layout_problem(twin_layout(vp.layout), BASE.layout, twins.furniture_clearance) is None
    assert set(kinds["drawer"]) == {"", "drawer"} and set(kinds["cabinet_door"]) == {"", "cabinet"}
    assert set(kinds["white_mug"]) == {"", "drawer", "cabinet"}
    share = np.mean([k != "" for k in kinds["white_mug"]])
    assert 0.45 < share <= 0.75  # about 0.7, less the twin desks that do not fit a drawn layout


@pytest.mark.parametrize("kind", ["drawer", "cabinet"])
def test_a_twin_desk_moves_the_piece_copies_it_and_hides_the_other(client, kind):
    vp = sample_video_scene(CFG, np.random.default_rng(11), BASE)
    vp.twin = kind
    scene = DeskScene(client, video_env_config(BASE, vp))
    copies = place_twin(scene, client, vp)
    apply_video_scene(scene, client, vp, copies)
    moved, hidden = (scene.drawer, scene.cabinet) if kind == "drawer" else (scene.cabinet, scene.drawer)
    (copy_uid,) = copies.values()

    def base(uid: int) -> np.ndarray:
        return np.asarray(p.getBasePositionAndOrientation(uid, physicsClientId=client)[0])

    # the acted-on piece on the other's side, its copy on its own side, the other piece far below the floor
    side = 1.0 if kind == "drawer" else -1.0
    assert side * base(moved.uid)[1] > 0.05 and side * base(copy_uid)[1] < -0.05
    assert base(hidden.uid)[2] < -5.0

    # the copy looks like the piece: same colours, link by link
    def colours(uid: int) -> list[tuple[int, tuple[float, ...]]]:
        return [(d[1], tuple(np.round(d[7], 4))) for d in p.getVisualShapeData(uid, physicsClientId=client)]

    assert colours(copy_uid) == colours(moved.uid)
    # the moved piece still works where it now stands, and the copy does not move with it
    moved.set_state(0.05 if kind == "drawer" else 0.8)
    copy_joint = p.getJointState(copy_uid, 0, physicsClientId=client)[0]
    assert moved.state() > 0.04 and copy_joint == 0.0
    frame = render_frame(client, vp, 0.5, 64)
    assert frame.std() > 10.0  # something is in view


def test_flipped_faucets_and_buttons_never_bring_the_heldout_arrangement():
    cfg = VideoRandomizationConfig(small_piece_flip_probability=0.5)
    rng = np.random.default_rng(17)
    vps = [sample_video_scene(cfg, rng, BASE) for _ in range(300)]
    faucet_y = np.array([vp.layout["faucet_center"][1] for vp in vps])
    button_y = np.array([vp.layout["button_center"][1] for vp in vps])
    assert 0.3 < np.mean(faucet_y < 0) < 0.7 and 0.3 < np.mean(button_y > 0) < 0.7  # both sides, about half
    assert np.abs(faucet_y).min() >= cfg.arrangement_margin and np.abs(button_y).min() >= cfg.arrangement_margin
    for vp in vps:
        assert vp.layout["drawer_center"][1] <= -cfg.arrangement_margin  # the pieces that make new_arrangement
        assert vp.layout["cabinet_center"][1] >= cfg.arrangement_margin
        assert layout_problem(vp.layout, BASE.layout, cfg.furniture_clearance) is None
