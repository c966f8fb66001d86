"""Render one labelled clip of an actor (or the robot) doing a behaviour: ``render_clip(request, seed)``.

The attempt runs with physics only, recording every body's state at each control step; then only the
``num_frames`` frames evenly spaced over the whole attempt (lead-in, pauses and lead-out included) are rendered,
by restoring those states. The clip reports the outcome MEASURED from the object states, a progress curve (the
fraction of the intended change done at each frame) and its Something-Something label as its own camera sees it
(``sim.tasks.templates``). Deterministic in (request, seed): every world is fresh, every draw comes from the seed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pybullet as p

from sim.actors.bodies import ActorLook, build_actor
from sim.actors.catalogue import ACTORS, BEHAVIOURS, OUTCOMES, Behaviour, check_behaviour, check_outcome
from sim.actors.config import ActorConfig
from sim.actors.scripts import ExpertView, Script, draw_plan, intended_change, measure, moved
from sim.config import DeskEnvConfig
from sim.envs.desk import DeskEnv
from sim.observations import Camera, Lighting
from sim.scenes.desk import DeskScene, ObjectStates
from sim.state import read_bodies, write_bodies
from sim.tasks.desk import PlacementError, get_task
from sim.tasks.templates import ClipLabel, camera_axes, label_clip
from sim.variants import VARIANTS
from sim.video_camera import CameraDraw
from sim.video_randomization import (
    apply_video_scene,
    draw_twin,
    place_twin,
    render_frame,
    sample_video_scene,
    video_env_config,
)
from sim.video_randomization_config import VideoRandomizationConfig

# Independent random streams of one clip (seeded as (seed, stream)): a change in one never shifts the others.
_SCENE, _INIT, _LOOK, _PLAN, _ACTOR, _TWIN = range(6)
INIT_ATTEMPTS = 10  # initial states tried before a layout counts as too cramped for the task
ROBOT_MAX_STEPS = 40  # env steps a robot clip may take
ROBOT_TAIL = (2, 5)  # env steps the robot clip goes on after the expert is done (drawn)


@dataclass(frozen=True)
class ClipRequest:
    """What to render (see ``sim.actors.catalogue`` for the names)."""

    actor: str
    behaviour: str
    outcome: str = "done"
    num_frames: int = 20
    image_size: int = 64
    variant: str = "train"  # robot clips: a sim.variants name
    randomize: bool = True  # actor clips: sim.video_randomization; robot clips: the env's own randomization

    def check(self) -> None:
        """One-line ValueErrors for bad fields."""
        check_behaviour(self.behaviour, self.actor)
        check_outcome(self.outcome)
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; choose one of: {', '.join(VARIANTS)}")
        if ACTORS[self.actor].kind != "robot" and self.variant != "train":
            raise ValueError(
                f"variant={self.variant!r} is for robot clips; actor clips are randomized (and never show held-out variants)"
            )
        if not 2 <= self.num_frames <= 1000:
            raise ValueError(f"num_frames={self.num_frames} is out of range; use 2-1000")
        if not 16 <= self.image_size <= 1024:
            raise ValueError(f"image_size={self.image_size} is out of range; use 16-1024")


@dataclass
class RenderedClip:
    """A rendered clip and what happened in it (see ``render_clip``)."""

    frames: np.ndarray  # uint8 (num_frames, S, S, 3)
    object_states: np.ndarray  # float32 (num_frames, K): ObjectStates.vector() at those frames
    object_state_names: list[str]
    progress: np.ndarray  # float32 (num_frames,) in [0, 1]
    template: str
    placeholders: list[str]
    task: str | None
    outcome: str  # measured
    actor: str
    behaviour: str
    variant: str
    seed: int
    info: dict[str, Any] = field(default_factory=dict)


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), stream])


def _camera_from_config(
    cfg: DeskEnvConfig, eye_offset: Any = 0.0, target_offset: Any = 0.0, fov: float = 0.0
) -> CameraDraw:
    c = cfg.cameras[0]
    return CameraDraw(
        eye=tuple(float(v) for v in np.asarray(c.eye) + eye_offset),  # type: ignore[arg-type]
        target=tuple(float(v) for v in np.asarray(c.target) + target_offset),  # type: ignore[arg-type]
        up=(float(c.up[0]), float(c.up[1]), float(c.up[2])),
        fov=float(c.fov + fov),
        near=c.near,
        far=c.far,
    )


def _hide_robot(scene: DeskScene, client: int) -> None:
    """Make the Panda and its pedestal invisible and intangible (actor clips show no robot); the scene itself is
    built exactly as the robot's."""
    for uid in (scene.arm.uid, scene.pedestal.uid):
        for link in range(-1, p.getNumJoints(uid, physicsClientId=client)):
            p.setCollisionFilterGroupMask(uid, link, 0, 0, physicsClientId=client)
            p.changeVisualShape(uid, link, rgbaColor=(1, 1, 1, 0), physicsClientId=client)
    # fold the arm out of the way (it is invisible, but keep its links far from everything)
    scene.arm.reset_tcp(scene.arm.base_pos + np.array([0.25, 0.0, 0.45]))


def _select(n_steps: int, num_frames: int) -> np.ndarray:
    """Indices (num_frames,) of recorded steps evenly spaced over [0, n_steps - 1]."""
    return np.round(np.linspace(0, n_steps - 1, num_frames)).astype(int)


def _label(
    b: Behaviour,
    outcome: str,
    cam: CameraDraw,
    init: ObjectStates,
    end: ObjectStates,
    intended_xy: Any,
    cfg: DeskEnvConfig,
) -> ClipLabel:
    kw: dict[str, Any] = {}
    if b.kind == "push":
        kw["displacement_xy"] = end.mugs[b.object][:2] - init.mugs[b.object][:2]
        kw["intended_xy"] = intended_xy
    if b.kind == "turn":
        kw["turn"] = end.faucet - init.faucet
        kw["intended_turn"] = 1.0 if b.direction == "left" else -1.0
    if b.kind == "push_halfway":
        kw["completed_close"] = init.drawer - end.drawer >= cfg.thresholds.drawer
    return label_clip(b.kind, b.object, outcome, cam, **kw)


def render_clip(
    request: ClipRequest,
    seed: int,
    actor_cfg: ActorConfig | None = None,
    scene_cfg: VideoRandomizationConfig | None = None,
) -> RenderedClip:
    """Render ``request`` deterministically from ``seed`` (see the module docstring); ``scene_cfg``: the scene
    randomization of randomized actor clips (None: its defaults).

    Raises:
        ValueError: one line, for a bad request (unknown actor / behaviour / outcome, a behaviour the actor cannot do).
    """
    request.check()
    acfg = actor_cfg or ActorConfig()
    if ACTORS[request.actor].kind == "robot":
        return _robot_clip(request, seed, acfg)
    b = BEHAVIOURS[request.behaviour]
    base = DeskEnvConfig(task=b.init_task, width=request.image_size, height=request.image_size)
    vp = None
    if request.randomize:
        scfg = scene_cfg or VideoRandomizationConfig()
        vp = sample_video_scene(scfg, _rng(seed, _SCENE), base)
        vp.twin = draw_twin(scfg, _rng(seed, _TWIN), base.layout, vp.layout, b.object)
        cfg = video_env_config(base, vp)
        cam = vp.camera
    else:
        cfg = base
        cam = _camera_from_config(cfg)
    client = p.connect(p.DIRECT)
    try:
        return _actor_clip(request, seed, acfg, b, cfg, cam, vp, client)
    finally:
        p.disconnect(client)


def _actor_clip(
    request: ClipRequest,
    seed: int,
    acfg: ActorConfig,
    b: Behaviour,
    cfg: DeskEnvConfig,
    cam: CameraDraw,
    vp: Any,
    client: int,
) -> RenderedClip:
    scene = DeskScene(client, cfg)
    _hide_robot(scene, client)
    extra: list[int] = []
    copies: dict[str, int] = {}
    if vp is not None:
        copies = place_twin(scene, client, vp)
        extra = apply_video_scene(scene, client, vp, copies)
    init_rng = _rng(seed, _INIT)
    task = get_task(b.init_task)
    for _ in range(INIT_ATTEMPTS):
        try:
            task.sample_initial_state(scene, init_rng)
            break
        except PlacementError:
            continue
    _hide_robot(scene, client)
    scene.step_physics(cfg.physics.substeps)  # settle
    H = cfg.layout.desk_height
    plan_rng, actor_rng = _rng(seed, _PLAN), _rng(seed, _ACTOR)
    look = ActorLook.sample(_rng(seed, _LOOK))
    start = np.array([actor_rng.uniform(0.22, 0.38), actor_rng.uniform(-0.2, 0.2), H + actor_rng.uniform(0.22, 0.32)])
    actor = build_actor(
        request.actor,
        client,
        actor_rng,
        look,
        H,
        start,
        acfg.floating_force,
        acfg.arm_force,
        acfg.tremor_amplitude,
        float(actor_rng.uniform(*acfg.tremor_frequency)),
        float(_object_xy(scene, b.object)[1]),
    )
    plan = draw_plan(acfg, plan_rng, request.outcome, request.actor, H)
    dt = acfg.control_substeps * cfg.physics.timestep
    right_fwd = _camera_forward(cam)
    script = Script(b, plan, scene, actor, right_fwd, acfg, dt)
    init = script.init
    intended = intended_change(b, script.task, plan, cfg.thresholds)
    uids = list(scene.bodies) + list(copies.values()) + list(actor.uids)  # a twin's copy can be bumped
    states, vectors, prog = [], [], []
    max_steps = int(acfg.max_duration / dt)
    t = 0.0
    for _ in range(max_steps):
        now = scene.object_states()
        states.append(read_bodies(client, uids))
        vectors.append(now.vector())
        prog.append(script.task_progress(now))
        cmd = script.step(t)
        if cmd is None:
            break
        actor.command(cmd[0], cmd[1], t)
        scene.step_physics(acfg.control_substeps)
        t += dt
    end = scene.object_states()
    final_progress = script.task_progress(end)
    if b.kind == "press":  # the button springs back: a press is judged at its deepest
        final_progress = max(final_progress, max(prog))
    touched = script.touched_target
    outcome = measure(b, request.outcome, final_progress, intended, moved(end, init), touched)
    intended_xy = script.task.world_direction(scene) if b.kind == "push" and script.task is not None else None  # type: ignore[attr-defined]
    label = _label(b, outcome, cam, init, end, intended_xy, cfg)
    idx = _select(len(states), request.num_frames)
    frames = np.empty((request.num_frames, request.image_size, request.image_size, 3), np.uint8)
    n = len(states)
    for k, i in enumerate(idx):
        write_bodies(client, uids, *states[i])
        frames[k] = _render(client, cfg, cam, vp, i / max(n - 1, 1), request.image_size)
    progress = np.clip(np.asarray(prog, float)[idx] / intended, 0.0, 1.0).astype(np.float32)
    if b.kind == "touch":
        progress = (
            np.zeros(request.num_frames, np.float32)
            if outcome != "done"
            else np.linspace(0, 1, request.num_frames, dtype=np.float32)
        )
    info = {
        "plan": plan.as_dict(),
        "look": look.as_dict(),
        "attempted_outcome": request.outcome,
        "duration_s": float(n * dt),
        "control_steps": n,
        "frame_steps": idx.tolist(),
        "final_progress": float(final_progress),
        "intended_change": float(intended),
        "touched_target": bool(touched),
        "camera": cam.as_dict(),
        "scene": vp.as_dict() if vp is not None else None,
        "distractors": len(extra),
        "randomized": request.randomize,
    }
    return RenderedClip(
        frames=frames,
        object_states=np.asarray(vectors, np.float32)[idx],
        object_state_names=init.names(),
        progress=progress,
        template=label.template,
        placeholders=list(label.placeholders),
        task=label.task,
        outcome=outcome,
        actor=request.actor,
        behaviour=request.behaviour,
        variant=request.variant,
        seed=int(seed),
        info=info,
    )


def _object_xy(scene: DeskScene, obj: str) -> np.ndarray:
    """World xy (2,) of a scene object's base (m)."""
    uid = _target_uid(scene, obj)
    return np.asarray(p.getBasePositionAndOrientation(uid, physicsClientId=scene.client)[0][:2])


def _camera_forward(cam: CameraDraw) -> np.ndarray:

    return camera_axes(cam)[1]


def _render(client: int, cfg: DeskEnvConfig, cam: CameraDraw, vp: Any, t: float, size: int) -> np.ndarray:
    if vp is not None:
        return render_frame(client, vp, t, size)

    c = Camera(dataclasses.replace(cfg.cameras[0], eye=cam.eye, target=cam.target, up=cam.up, fov=cam.fov), size, size)
    rgb, _, _ = c.render(client, Lighting(), False)
    return rgb[:, ::-1].copy() if cam.mirrored else rgb


# ------------------------------------------------------------------------------------------------- the robot
def _robot_clip(request: ClipRequest, seed: int, acfg: ActorConfig) -> RenderedClip:
    """The Panda's scripted expert in a ``DeskEnv`` of the requested variant; partial attempts stop the expert
    early, failed ones slip off or miss, pretending shifts the motion above the contact path, none idles."""

    b = BEHAVIOURS[request.behaviour]
    env = DeskEnv(task=request.behaviour, variant=request.variant, width=request.image_size, height=request.image_size)
    try:
        env.reset(seed=int(seed))
        plan = draw_plan(acfg, _rng(seed, _PLAN), request.outcome, "panda", env.cfg.layout.desk_height)
        tail = int(_rng(seed, _ACTOR).integers(*ROBOT_TAIL))
        scene, task = env.scene, env.task
        init = env.initial_object_states
        assert init is not None
        thr = task.threshold(env.cfg.thresholds)
        view = ExpertView(scene, None)  # type: ignore[arg-type]
        view.arm = scene.arm  # type: ignore[assignment]  # the real arm, unless shifted below
        if request.outcome == "pretending" or (request.outcome == "failed" and plan.failure == "miss"):
            offset = np.array([0.0, 0.0, acfg.pretend_clearance + (0.09 if b.object.endswith("_mug") else 0.0)])
            view.arm = _ShiftedArm(scene.arm, offset)  # type: ignore[assignment]
        expert = env.make_expert()
        states, vectors, prog = [], [], []
        stop_at: int | None = None
        contact = 0
        for step in range(ROBOT_MAX_STEPS):
            now = scene.object_states()
            states.append(scene.get_state())
            vectors.append(now.vector())
            prog.append(task.progress(now, init))
            if p.getContactPoints(scene.arm.uid, _target_uid(scene, b.object), physicsClientId=env.client):
                contact += 1
            phase = getattr(expert, "phase", "act")
            if stop_at is None:
                o = request.outcome
                if (
                    phase == "done"
                    or o == "none"
                    or (
                        phase == "act"
                        and (
                            (o == "partial" and prog[-1] >= plan.partial_fraction * thr)
                            or (o == "failed" and plan.failure == "slip" and contact >= plan.slip_steps)
                        )
                    )
                ):
                    stop_at = step
            if stop_at is not None and step - stop_at >= tail:
                break
            if stop_at is None:
                action = expert.act(view, init).astype(np.float32)  # type: ignore[arg-type]
            else:  # rise off the object and wait
                action = np.array([0.0, 0.0, 0.5 if step - stop_at < 2 else 0.0, 1.0], np.float32)
            env.step(action)
        end = scene.object_states()
        final = task.progress(end, init)
        if b.kind == "press":
            final = max(final, max(prog))
        outcome = measure(b, request.outcome, final, thr, moved(end, init), contact > 0)
        return _measured_robot_clip(
            env,
            b,
            outcome,
            (states, vectors, prog),
            final,
            (request.behaviour, request.variant, int(seed), request.num_frames, request.image_size),
            {
                "plan": plan.as_dict(),
                "attempted_outcome": request.outcome,
                "randomized": request.randomize,
            },
        )
    finally:
        env.close()


def robot_clip_from_actions(
    task: str,
    seed: int,
    actions: np.ndarray,
    num_frames: int = 20,
    image_size: int = 64,
    variant: str = "train",
    attempted: str = "done",
) -> RenderedClip:
    """The Panda executing ``actions`` from the desk env's reset with ``seed`` (e.g. a planner's plan), as a labelled
    clip: ``num_frames`` frames evenly spaced over the reset frame and the frame after each action, the outcome and
    Something-Something label MEASURED from what happened (``attempted`` is what the actions were meant to do: a
    planner attempts ``done``), exactly as the collected robot clips are labelled.

    Args:
        task: the desk task the actions attempted (the env's initial states and the behaviour measured).
        seed: the env's reset seed.
        actions: float32 (T, 4) env actions, T ≥ 1.
        num_frames, image_size, variant: as ``ClipRequest``.

    Raises:
        ValueError: an unknown task or variant, or actions that are not (T ≥ 1, 4) (one line).
    """
    ClipRequest("panda", task, attempted, num_frames, image_size, variant).check()
    acts = np.asarray(actions, np.float32)
    b = BEHAVIOURS[task]
    env = DeskEnv(task=task, variant=variant, width=image_size, height=image_size)
    try:
        width = int(np.prod(env.action_space.shape or (0,)))
        if acts.ndim != 2 or acts.shape[0] < 1 or acts.shape[1] != width:
            raise ValueError(f"actions must be (T >= 1, {width}), got shape {acts.shape}")
        env.reset(seed=int(seed))
        scene, task_obj = env.scene, env.task
        init = env.initial_object_states
        assert init is not None
        thr = task_obj.threshold(env.cfg.thresholds)
        states, vectors, prog = [scene.get_state()], [init.vector()], [task_obj.progress(init, init)]
        contact = 0
        for action in acts:
            env.step(action)
            now = scene.object_states()
            states.append(scene.get_state())
            vectors.append(now.vector())
            prog.append(task_obj.progress(now, init))
            contact += bool(p.getContactPoints(scene.arm.uid, _target_uid(scene, b.object), physicsClientId=env.client))
        end = scene.object_states()
        final = max(prog) if b.kind == "press" else prog[-1]
        outcome = measure(b, attempted, final, thr, moved(end, init), contact > 0)
        return _measured_robot_clip(
            env,
            b,
            outcome,
            (states, vectors, prog),
            final,
            (task, variant, int(seed), num_frames, image_size),
            {"attempted_outcome": attempted, "actions": "given"},
        )
    finally:
        env.close()


def _measured_robot_clip(
    env: DeskEnv,
    b: Behaviour,
    outcome: str,
    recorded: tuple[list[Any], list[np.ndarray], list[float]],
    final: float,
    what: tuple[str, str, int, int, int],
    info: dict[str, Any],
) -> RenderedClip:
    """The robot clip of an attempt recorded in ``env``: its label as its camera sees it, and ``num_frames`` frames
    evenly spaced over the recorded steps, rendered by restoring their states.

    Args:
        recorded: the scene's state, object-state vector and task progress at each recorded step.
        final: the attempt's final progress (m or rad); ``what``: (behaviour, variant, seed, num_frames, image_size).
        info: the clip's details (the camera, steps and final progress are added).
    """
    states, vectors, prog = recorded
    behaviour, variant, seed, num_frames, image_size = what
    scene, task = env.scene, env.task
    init = env.initial_object_states
    assert init is not None  # reset() sets it
    end = scene.object_states()
    sp = env.scene_params
    cam = _camera_from_config(env.cfg, sp.camera_eye_offset, sp.camera_target_offset, sp.camera_fov_offset)
    intended_xy = task.world_direction(scene) if b.kind == "push" else None  # type: ignore[attr-defined]
    label = _label(b, outcome, cam, init, end, intended_xy, env.cfg)
    idx = _select(len(states), num_frames)
    frames = np.empty((num_frames, image_size, image_size, 3), np.uint8)
    for k, i in enumerate(idx):
        scene.set_state(states[i])
        frames[k], _, _ = env.cameras[0].render(env.client, sp.light, False)
    thr = task.threshold(env.cfg.thresholds)
    return RenderedClip(
        frames=frames,
        object_states=np.asarray(vectors, np.float32)[idx],
        object_state_names=init.names(),
        progress=np.clip(np.asarray(prog)[idx] / thr, 0, 1).astype(np.float32),
        template=label.template,
        placeholders=list(label.placeholders),
        task=label.task,
        outcome=outcome,
        actor="panda",
        behaviour=behaviour,
        variant=variant,
        seed=seed,
        info={
            **info,
            "env_steps": len(states),
            "frame_steps": idx.tolist(),
            "final_progress": float(final),
            "camera": cam.as_dict(),
        },
    )


class _ShiftedArm:
    """The Panda as an expert sees it when its motion is shifted by ``offset`` (a pretended or missed attempt)."""

    def __init__(self, arm: Any, offset: np.ndarray) -> None:
        self.arm, self.offset = arm, offset

    def tcp_pose(self) -> tuple[np.ndarray, np.ndarray]:
        tcp, vel = self.arm.tcp_pose()
        return tcp - self.offset, vel


def _target_uid(scene: DeskScene, o: str) -> int:
    if o in scene.mugs:
        return scene.mugs[o].uid
    return {
        "drawer": scene.drawer.uid,
        "cabinet_door": scene.cabinet.uid,
        "faucet": scene.faucet.uid,
        "button": scene.button.uid,
    }[o]


__all__ = ["OUTCOMES", "ClipRequest", "RenderedClip", "render_clip", "robot_clip_from_actions"]
