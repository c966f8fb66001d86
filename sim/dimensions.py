"""Physical dimensions of the robot, the furniture and the objects, apart from the bodies built from them.

Plain numbers, so that the configs bound their values by what the simulated world allows (a success threshold
beyond a joint's range can never be reached; a push longer than the room beside the furniture has no start)
without loading PyBullet. The modules that build the bodies (``sim.furniture``, ``sim.objects``,
``sim.robots.panda``) and the desk tasks (``sim.tasks.desk``) take their values from here.
"""

from __future__ import annotations

# ------------------------------------------------------------------------------------------------ the arm
#: (low, high) of the Panda's 7 arm joints (rad): the real robot's, as Franka publishes them
PANDA_JOINT_LIMITS: tuple[tuple[float, float], ...] = (
    (-2.8973, 2.8973),
    (-1.7628, 1.7628),
    (-2.8973, 2.8973),
    (-3.0718, -0.0698),
    (-2.8973, 2.8973),
    (-0.0175, 3.7525),
    (-2.8973, 2.8973),
)
#: each gripper finger opens 0–4 cm: the opening between the pads is 0–8 cm
FINGER_TRAVEL = 0.04
#: m: the hand reaches this far either side of the tool centre point, along world y
HAND_HALF_SPAN = 0.10

# ------------------------------------------------------------------------------------------ the furniture
#: m: the drawer slides out at most this far (as LOReL's)
DRAWER_TRAVEL = 0.16
#: rad: the cabinet door opens from 0 to this
CABINET_DOOR_MAX_ANGLE = 1.9
#: rad: the faucet lever turns this far each way (as LOReL's)
FAUCET_MAX_ANGLE = 1.57
#: m: the button's travel
BUTTON_TRAVEL = 0.012
#: rad: a home's room door swings this far each way
ROOM_DOOR_MAX_ANGLE = 1.7
#: m: the doorways of the generated and the named homes
ROOM_DOOR_WIDTH = 0.9
#: m: half width (along y) of the desk's drawer and cabinet carcasses
FURNITURE_HALF_WIDTH = 0.12
#: what resists each desk joint's motion (kg for the drawer's slide, kg·m² about the hinge for the door and the
#: lever; PyBullet's, from the bodies' masses and shapes, tests/sim checks them): PyBullet applies joint damping
#: explicitly, so damping above inertia / (2 · timestep) overshoots in one step and the joint explodes
DESK_JOINT_INERTIA = {"drawer": 1.0, "door": 0.0035819, "faucet": 0.00070667}

# -------------------------------------------------------------------------------------------- the objects
MUG_RADIUS = 0.035  # m

# ------------------------------------------------------------------------------- the desk's mug pushes
#: m kept between the hand and any carcass
HAND_CLEARANCE = 0.01
#: m the mug expert pushes past the success threshold
MUG_OVERSHOOT = 0.03
#: m behind the mug centre where the mug expert starts (clears the mug's handle)
MUG_PUSH_BEHIND = 0.085
#: m of the mug region's far (up) side kept free for the gripper or the mug of an up/down push
MUG_PUSH_FAR_MARGIN = 0.07


def mug_push_y_limit(drawer_y: float, cabinet_y: float) -> float:
    """The largest |y| (m) the hand's reach may take during a mug push: the hand (2 × ``HAND_HALF_SPAN`` long along
    y) stays clear of the drawer and cabinet carcasses at either side of the desk."""
    inner_edge = min(abs(drawer_y), abs(cabinet_y)) - FURNITURE_HALF_WIDTH
    return inner_edge - HAND_HALF_SPAN - HAND_CLEARANCE
