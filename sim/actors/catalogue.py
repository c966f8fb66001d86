"""Names of the actors, behaviours and outcomes of the rendered "human" videos (issue 23), apart from the bodies.

Plain data, standard library only: a config validates ``actor=`` / ``behaviour=`` against these without loading
PyBullet. The bodies are built in ``sim.actors.bodies``, the controllers are in ``sim.actors.scripts`` and a clip
is rendered by ``sim.actors.clips.render_clip``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.tasks.catalogue import DESK_TASK_DESCRIPTIONS, MUGS


@dataclass(frozen=True)
class ActorSpec:
    """One demonstrator: what it looks like and how it moves (documentation and capabilities).

    ``kind`` is ``floating`` (a free body pulled by a force-limited constraint), ``arm`` (a fixed-base chain of
    revolute joints driven by motors through inverse kinematics) or ``robot`` (the Panda in a ``DeskEnv``).
    ``grasps``: the actor can pick a mug up (``lift_*`` behaviours).
    """

    name: str
    look: str
    motion: str
    kind: str
    grasps: bool = True


ACTORS: dict[str, ActorSpec] = {
    "hand": ActorSpec(
        "hand",
        "a floating skin-toned palm with four fingers and a thumb hanging down (fingers splay open, close to grip)",
        "quick, direct reaches with a slight wobble of the palm",
        "floating",
    ),
    "stick": ActorSpec(
        "stick",
        "a thin rod with a handle, held tilted 20-45 degrees from vertical; no fingers",
        "fast, straight strokes; hooks handles and pushes with its tip; cannot grasp",
        "floating",
        grasps=False,
    ),
    "gripper": ActorSpec(
        "gripper",
        "a floating round-bodied two-finger gripper with cylindrical pads, fingers across the Panda's",
        "slow, steady moves with a twist about its vertical axis",
        "floating",
    ),
    "planar_arm": ActorSpec(
        "planar_arm",
        "a boxy 4-joint arm (base yaw + three pitch joints in one plane) on a column at the desk's back edge, "
        "suction-cup tip",
        "joint-space motion through its own closed-form inverse kinematics; lifts by suction",
        "arm",
    ),
    "human_arm": ActorSpec(
        "human_arm",
        "a person's torso and head behind the desk, capsule upper arm and forearm in a sleeve, a hand with fingers",
        "shoulder, elbow and wrist driven by PyBullet inverse kinematics; curved reaches, physiological tremor",
        "arm",
    ),
    "panda": ActorSpec(
        "panda", "the robot (Franka Panda built from primitives)", "its scripted task experts", "robot", grasps=False
    ),
}
#: the actor kept out of training videos (generalisation to a new demonstrator): the only one moved in joint space
#: by closed-form IK, boxy, with a suction cup and a column at the desk's edge, and the one that did every desk task
#: in every measured seed (docs: the done-rate table)
HELDOUT_ACTOR = "planar_arm"
#: the non-robot actors
NON_ROBOT_ACTORS: tuple[str, ...] = tuple(a for a, s in ACTORS.items() if s.kind != "robot")

#: attempted outcomes a clip can be asked for ("none" is LOReL's "do nothing": the actor moves about, touches nothing)
OUTCOMES: tuple[str, ...] = ("done", "partial", "failed", "pretending", "none")
#: what a clip reports: the outcome measured from the object states (``none``: nothing was attempted)
MEASURED_OUTCOMES: tuple[str, ...] = ("done", "partial", "failed", "pretending", "none")


@dataclass(frozen=True)
class Behaviour:
    """A thing an actor can be scripted to do.

    Attributes:
        name: e.g. ``open_drawer`` (a desk task) or ``lift_white_mug``.
        kind: ``open``, ``close``, ``turn``, ``press``, ``push`` (a mug), ``push_halfway`` (the drawer part of the
            way in), ``touch`` or ``lift``.
        object: the scene object (``drawer``, ``cabinet_door``, ``faucet``, ``button``, ``white_mug``, ``black_mug``).
        direction: for ``push``: ``up``/``down``/``left``/``right`` (the desk task's world direction) or
            ``towards_camera``/``away_from_camera`` (along the clip's own camera, on the desk); for ``turn``:
            ``left``/``right``.
        task: the desk task whose scripted expert does it (and whose initial state it starts from), if any.
        init_task: the desk task whose initial-state distribution the clip starts from.
    """

    name: str
    kind: str
    object: str
    direction: str | None
    task: str | None
    init_task: str


def _desk_behaviours() -> dict[str, Behaviour]:
    kinds = {"open": "open", "close": "close", "turn": "turn", "press": "press", "move": "push"}
    return {
        name: Behaviour(name, kinds[d.change], d.object, d.direction, name, name)
        for name, d in DESK_TASK_DESCRIPTIONS.items()
    }


BEHAVIOURS: dict[str, Behaviour] = {
    **_desk_behaviours(),
    **{
        f"move_{mug}_{d}": Behaviour(f"move_{mug}_{d}", "push", mug, d, None, f"move_{mug}_down")
        for mug in MUGS
        for d in ("towards_camera", "away_from_camera")
    },
    "push_drawer_halfway": Behaviour("push_drawer_halfway", "push_halfway", "drawer", None, None, "close_drawer"),
    **{
        f"touch_{o}": Behaviour(f"touch_{o}", "touch", o, None, None, init)
        for o, init in (
            ("drawer", "open_drawer"),
            ("cabinet_door", "open_cabinet"),
            ("faucet", "push_button"),
            ("white_mug", "move_white_mug_left"),
            ("black_mug", "move_black_mug_right"),
        )
    },
    **{f"lift_{mug}": Behaviour(f"lift_{mug}", "lift", mug, None, None, f"move_{mug}_left") for mug in MUGS},
}
#: behaviours with no desk task (the robot has no task for them)
EXTRA_BEHAVIOURS: tuple[str, ...] = tuple(b for b, s in BEHAVIOURS.items() if s.task is None)


def check_actor(name: str) -> ActorSpec:
    """The spec of actor ``name``; unknown names raise a one-line ValueError listing the choices."""
    try:
        return ACTORS[name]
    except KeyError:
        raise ValueError(f"unknown actor {name!r}; choose one of: {', '.join(ACTORS)}") from None


def check_behaviour(name: str, actor: str | None = None) -> Behaviour:
    """The behaviour ``name`` (and that ``actor`` can do it); a one-line ValueError otherwise."""
    try:
        b = BEHAVIOURS[name]
    except KeyError:
        raise ValueError(f"unknown behaviour {name!r}; choose one of: {', '.join(BEHAVIOURS)}") from None
    if actor is not None:
        spec = check_actor(actor)
        if b.kind == "lift" and not spec.grasps:
            raise ValueError(f"actor {actor!r} cannot grasp, so it cannot do {name!r}; use another actor or behaviour")
        if spec.kind == "robot" and b.task is None:
            raise ValueError(f"the robot (actor 'panda') does desk tasks only, not {name!r}; use a non-robot actor")
    return b


def can_do(actor: str, behaviour: str) -> bool:
    """Whether ``actor`` can do ``behaviour`` (false for an unknown name too; ``check_behaviour`` says why not)."""
    try:
        check_behaviour(behaviour, actor)
    except ValueError:
        return False
    return True


def check_outcome(name: str) -> str:
    """``name`` if it is an attempted outcome; a one-line ValueError otherwise."""
    if name not in OUTCOMES:
        raise ValueError(f"unknown outcome {name!r}; choose one of: {', '.join(OUTCOMES)}")
    return name
