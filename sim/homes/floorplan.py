"""The floor-plan format: rooms, doors between them and furniture, as plain data.

A floor plan is what a user writes to describe a home (YAML or JSON, same keys), what the
generator produces from a seed, and what ``HomeScene`` builds. Everything is axis-aligned in
the world frame: x to the east, y to the north, metres; yaw in radians, counter-clockwise from +x.

Example (YAML)::

    name: two_rooms
    rooms:
      - {name: kitchen, type: kitchen, min: [0.0, 0.0], max: [4.0, 3.0]}
      - {name: living_room, type: living_room, min: [4.0, 0.0], max: [9.0, 5.0]}
    doors:
      - {rooms: [kitchen, living_room], center: [4.0, 1.5], width: 0.9, angle: 0.0}
    furniture:
      - {kind: counter, room: kitchen, pos: [1.0, 0.45], yaw: 1.5708}
      - {kind: sofa, room: living_room, pos: [6.5, 4.4], yaw: -1.5708}

Rooms are rectangles that may touch but never overlap; a door sits on the wall two rooms share
(its centre on their common edge) and the doorway is cut out of that wall. A door's ``angle`` is
its initial opening (rad, 0 = closed); ``swing`` says which way it opens (``both``: a double-acting
door that a robot can push open from either side, ``a`` or ``b``: only into the first or the second
room of ``rooms``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.plumbing.files import atomic_path

#: room types the generator uses and the furniture rules know; user plans may use any of these
ROOM_TYPES = ("kitchen", "living_room", "bedroom", "bathroom", "corridor")
DOOR_SWINGS = ("both", "a", "b")
#: how close (m) a door centre must be to the shared edge of its two rooms
EDGE_TOLERANCE = 1e-3
PLACEMENT_TOLERANCE = 0.01  # m furniture may overlap a wall, a doorway's keep-clear zone or another piece (rounding)
DOORWAY_KEEP_CLEAR = 0.3  # m in front of a doorway (each side) that furniture must leave free
WALL_HEIGHT_RANGE = (1.0, 5.0)  # m
WALL_THICKNESS_RANGE = (0.02, 0.5)  # m


class FloorPlanError(ValueError):
    """A floor plan that cannot be built; the message names the offending entry and the fix."""


@dataclass(frozen=True)
class Room:
    """An axis-aligned rectangular room: ``min`` and ``max`` are its (x, y) corners (m, inner faces)."""

    name: str
    type: str
    min: tuple[float, float]
    max: tuple[float, float]

    @property
    def center(self) -> np.ndarray:
        return (np.asarray(self.min) + np.asarray(self.max)) / 2

    @property
    def size(self) -> np.ndarray:
        return np.asarray(self.max) - np.asarray(self.min)

    @property
    def area(self) -> float:
        return float(np.prod(self.size))

    def contains(self, xy: Sequence[float] | np.ndarray, margin: float = 0.0) -> bool:
        """Whether the point (x, y) lies inside the room shrunk by ``margin`` m on every side."""
        return bool(
            self.min[0] + margin <= xy[0] <= self.max[0] - margin
            and self.min[1] + margin <= xy[1] <= self.max[1] - margin
        )


@dataclass(frozen=True)
class DoorSpec:
    """A hinged door in the wall shared by two rooms.

    Attributes:
        rooms: the two room names; the door's centre lies on their common edge.
        center: (x, y) of the doorway's centre on the wall line (m).
        width: doorway width (m); the door panel fills it.
        angle: initial opening (rad); 0 = closed. Tasks may override it per episode.
        swing: ``both`` (double-acting), ``a`` (opens into ``rooms[0]``) or ``b`` (into ``rooms[1]``).
    """

    rooms: tuple[str, str]
    center: tuple[float, float]
    width: float = 0.9
    angle: float = 0.0
    swing: str = "both"


@dataclass(frozen=True)
class FurnitureSpec:
    """A piece of furniture: a catalogue ``kind`` (``sim.homes.furnishings.CATALOG``) placed in a room.

    ``pos`` is the (x, y) centre of its footprint (m) and ``yaw`` turns it (rad); at yaw 0 its front
    faces −x (where a robot stands to use it, as the desk faces the arm).
    """

    kind: str
    room: str
    pos: tuple[float, float]
    yaw: float = 0.0


@dataclass
class FloorPlan:
    """A home: rooms, the doors that connect them and the furniture in them."""

    name: str
    rooms: list[Room]
    doors: list[DoorSpec] = field(default_factory=list)
    furniture: list[FurnitureSpec] = field(default_factory=list)
    wall_height: float = 2.4  # m
    wall_thickness: float = 0.1  # m; walls are centred on room edges

    def room(self, name: str) -> Room:
        for r in self.rooms:
            if r.name == name:
                return r
        raise KeyError(f"home {self.name!r} has no room {name!r}; its rooms are {[r.name for r in self.rooms]}")

    def rooms_of_type(self, room_type: str) -> list[Room]:
        return [r for r in self.rooms if r.type == room_type]

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) (x, y) corners of the whole home including its outer walls (m)."""
        lo = np.min([r.min for r in self.rooms], axis=0) - self.wall_thickness
        hi = np.max([r.max for r in self.rooms], axis=0) + self.wall_thickness
        return lo, hi

    def door_axis(self, door: DoorSpec) -> str:
        """``x`` when the door's wall runs along x (a horizontal edge), ``y`` when along y."""
        a, b = self.room(door.rooms[0]), self.room(door.rooms[1])
        for lo_hi in ((a.max[0], b.min[0]), (a.min[0], b.max[0])):
            if abs(lo_hi[0] - lo_hi[1]) < EDGE_TOLERANCE and abs(door.center[0] - lo_hi[0]) < EDGE_TOLERANCE:
                return "y"
        return "x"

    # -------------------------------------------------------------- validation
    def validate(self) -> FloorPlan:
        """Check the plan; raise ``FloorPlanError`` naming the problem. Returns self."""
        from sim.homes.furnishings import CATALOG  # local: furnishings loads PyBullet; configs load floor plans

        if not self.rooms:
            raise FloorPlanError(f"home {self.name!r} has no rooms; list at least one under 'rooms'")
        for key, (lo, hi) in (("wall_height", WALL_HEIGHT_RANGE), ("wall_thickness", WALL_THICKNESS_RANGE)):
            if not lo <= getattr(self, key) <= hi:
                raise FloorPlanError(f"{key}={getattr(self, key)} m must be in [{lo}, {hi}]")
        names = [r.name for r in self.rooms]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise FloorPlanError(f"home {self.name!r}: room names must be unique, repeated: {dup}")
        for r in self.rooms:
            if r.type not in ROOM_TYPES:
                raise FloorPlanError(f"room {r.name!r} has unknown type {r.type!r}; use one of {list(ROOM_TYPES)}")
            if np.any(r.size < 1.0):
                raise FloorPlanError(
                    f"room {r.name!r} is {r.size[0]:.2f} x {r.size[1]:.2f} m; rooms must be at "
                    f"least 1 m on each side (min < max on both axes)"
                )
        for i, a in enumerate(self.rooms):
            for b in self.rooms[i + 1 :]:
                overlap = np.minimum(a.max, b.max) - np.maximum(a.min, b.min)
                if np.all(overlap > EDGE_TOLERANCE):
                    raise FloorPlanError(f"rooms {a.name!r} and {b.name!r} overlap; rooms may share an edge only")
        for d in self.doors:
            for rn in d.rooms:
                if rn not in names:
                    raise FloorPlanError(f"door at {list(d.center)} names unknown room {rn!r}; rooms are {names}")
            if d.swing not in DOOR_SWINGS:
                raise FloorPlanError(f"door at {list(d.center)}: swing {d.swing!r} must be one of {list(DOOR_SWINGS)}")
            if not 0.5 <= d.width <= 2.0:
                raise FloorPlanError(f"door at {list(d.center)}: width {d.width} m must be in [0.5, 2.0]")
            edge = self.shared_edge(d.rooms[0], d.rooms[1])
            if edge[0] is None:
                raise FloorPlanError(
                    f"rooms {d.rooms[0]!r} and {d.rooms[1]!r} share no wall, so a door cannot "
                    f"connect them; move the door or the rooms"
                )
            lo, hi = edge
            axis = self.door_axis(d)
            k, line = self._shared_line(d.rooms[0], d.rooms[1])
            if abs(d.center[k] - line) > EDGE_TOLERANCE:
                raise FloorPlanError(
                    f"door at {list(d.center)} is not on the wall shared by {d.rooms[0]!r} and "
                    f"{d.rooms[1]!r} ({'xy'[k]} = {line:.2f}); put its centre on that line"
                )
            along = d.center[0] if axis == "x" else d.center[1]
            if along - d.width / 2 < lo - EDGE_TOLERANCE or along + d.width / 2 > hi + EDGE_TOLERANCE:
                raise FloorPlanError(
                    f"door at {list(d.center)} (width {d.width} m) does not fit on the wall shared "
                    f"by {d.rooms[0]!r} and {d.rooms[1]!r}, which spans [{lo:.2f}, {hi:.2f}] m"
                )
        for f in self.furniture:
            if f.kind not in CATALOG:
                raise FloorPlanError(f"furniture kind {f.kind!r} is unknown; use one of {sorted(CATALOG)}")
            if f.room not in names:
                raise FloorPlanError(f"{f.kind} at {list(f.pos)} names unknown room {f.room!r}; rooms are {names}")
            if not self.room(f.room).contains(f.pos):
                raise FloorPlanError(f"{f.kind} at {list(f.pos)} is outside its room {f.room!r}")
        self._check_furniture_placement()
        return self

    def _check_furniture_placement(self) -> None:
        """Furniture stays inside its room's walls, off the doorways, and off other furniture."""
        from sim.homes.geometry import (  # local: geometry imports this module
            box_corners,
            convex_overlap,
            doorway_box,
            furniture_footprint,
        )

        prints = [furniture_footprint(f) for f in self.furniture]
        half_wall = self.wall_thickness / 2
        for f, corners in zip(self.furniture, prints):
            room = self.room(f.room)
            lo = np.asarray(room.min) + half_wall - PLACEMENT_TOLERANCE
            hi = np.asarray(room.max) - half_wall + PLACEMENT_TOLERANCE
            if np.any(corners < lo) or np.any(corners > hi):
                raise FloorPlanError(
                    f"{f.kind} at {list(f.pos)} (yaw {f.yaw:.2f}) reaches into the walls of "
                    f"{f.room!r}; move it inward or turn it"
                )
            for d in self.doors:
                if f.room in d.rooms:
                    box = doorway_box(self, d)
                    # grown across the wall only: pieces may stand beside a doorway, not in front of it
                    thin = int(np.argmin(box.half_extents))
                    reach = np.asarray(box.half_extents, float)
                    reach[thin] += DOORWAY_KEEP_CLEAR
                    if convex_overlap(corners, box_corners(type(box)(box.center, tuple(reach))), PLACEMENT_TOLERANCE):
                        raise FloorPlanError(
                            f"{f.kind} at {list(f.pos)} blocks the door at {list(d.center)}; keep "
                            f"{DOORWAY_KEEP_CLEAR} m in front of doorways clear"
                        )
        for i, a in enumerate(self.furniture):
            for j in range(i + 1, len(self.furniture)):
                if convex_overlap(prints[i], prints[j], PLACEMENT_TOLERANCE):
                    b = self.furniture[j]
                    raise FloorPlanError(f"{a.kind} at {list(a.pos)} and {b.kind} at {list(b.pos)} overlap; move one")

    def _shared_line(self, a_name: str, b_name: str) -> tuple[int, float]:
        """(k, c): the wall two touching rooms share is the line where coordinate k (0 = x, 1 = y) equals c."""
        a, b = self.room(a_name), self.room(b_name)
        for k in (0, 1):
            for c_a, c_b in ((a.max[k], b.min[k]), (a.min[k], b.max[k])):
                if abs(c_a - c_b) < EDGE_TOLERANCE:
                    lo, hi = max(a.min[1 - k], b.min[1 - k]), min(a.max[1 - k], b.max[1 - k])
                    if hi - lo > EDGE_TOLERANCE:
                        return k, float(c_a)
        raise FloorPlanError(f"rooms {a_name!r} and {b_name!r} share no wall")

    def shared_edge(self, a_name: str, b_name: str) -> tuple[float, float] | tuple[None, None]:
        """The interval (lo, hi) along the wall two rooms share (m), or (None, None)."""
        a, b = self.room(a_name), self.room(b_name)
        for axis in (0, 1):
            other = 1 - axis
            if abs(a.max[axis] - b.min[axis]) < EDGE_TOLERANCE or abs(a.min[axis] - b.max[axis]) < EDGE_TOLERANCE:
                lo, hi = max(a.min[other], b.min[other]), min(a.max[other], b.max[other])
                if hi - lo > EDGE_TOLERANCE:
                    return lo, hi
        return None, None

    # -------------------------------------------------------------------- I/O
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for r in d["rooms"]:
            r["min"], r["max"] = list(r["min"]), list(r["max"])
        for x in d["doors"]:
            x["rooms"], x["center"] = list(x["rooms"]), list(x["center"])
        for x in d["furniture"]:
            x["pos"] = list(x["pos"])
        return d


def _number(value: Any, where: str) -> float:
    """``value`` as a float, or a ``FloorPlanError`` naming the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FloorPlanError(f"{where} must be a number, got {value!r}")
    return float(value)


def _pair(value: Any, where: str) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise FloorPlanError(f"{where} must be a pair [x, y] of numbers, got {value!r}")
    try:
        return float(value[0]), float(value[1])
    except (TypeError, ValueError) as exc:
        raise FloorPlanError(f"{where} must be a pair [x, y] of numbers, got {value!r}") from exc


def _entries(data: Mapping[str, Any], key: str, allowed: set[str], required: set[str]) -> list[dict[str, Any]]:
    items = data.get(key, []) or []
    if not isinstance(items, list):
        raise FloorPlanError(f"'{key}' must be a list, got {type(items).__name__}")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise FloorPlanError(f"{key}[{i}] must be a mapping, got {item!r}")
        unknown = sorted(set(item) - allowed)
        missing = sorted(required - set(item))
        if unknown or missing:
            raise FloorPlanError(
                f"{key}[{i}]: unknown keys {unknown}, missing keys {missing}; allowed keys are {sorted(allowed)}"
            )
        out.append(dict(item))
    return out


def floorplan_from_dict(data: Mapping[str, Any]) -> FloorPlan:
    """Build and validate a ``FloorPlan`` from the mapping of a YAML/JSON file."""
    if not isinstance(data, Mapping):
        raise FloorPlanError(f"a floor plan must be a mapping with 'rooms', got {type(data).__name__}")
    unknown = sorted(set(data) - {"name", "rooms", "doors", "furniture", "wall_height", "wall_thickness"})
    if unknown:
        raise FloorPlanError(
            f"unknown floor-plan keys {unknown}; allowed: name, rooms, doors, furniture, wall_height, wall_thickness"
        )
    rooms = [
        Room(
            str(r["name"]),
            str(r["type"]),
            _pair(r["min"], f"room {r['name']!r} min"),
            _pair(r["max"], f"room {r['name']!r} max"),
        )
        for r in _entries(data, "rooms", {"name", "type", "min", "max"}, {"name", "type", "min", "max"})
    ]
    doors = []
    for d in _entries(data, "doors", {"rooms", "center", "width", "angle", "swing"}, {"rooms", "center"}):
        if not isinstance(d["rooms"], Sequence) or isinstance(d["rooms"], str) or len(d["rooms"]) != 2:
            raise FloorPlanError(f"door 'rooms' must name two rooms, got {d['rooms']!r}")
        doors.append(
            DoorSpec(
                (str(d["rooms"][0]), str(d["rooms"][1])),
                _pair(d["center"], "door center"),
                _number(d.get("width", 0.9), "door width"),
                _number(d.get("angle", 0.0), "door angle"),
                str(d.get("swing", "both")),
            )
        )
    furniture = [
        FurnitureSpec(
            str(f["kind"]),
            str(f["room"]),
            _pair(f["pos"], f"{f['kind']} pos"),
            _number(f.get("yaw", 0.0), f"{f['kind']} yaw"),
        )
        for f in _entries(data, "furniture", {"kind", "room", "pos", "yaw"}, {"kind", "room", "pos"})
    ]
    plan = FloorPlan(
        str(data.get("name", "home")),
        rooms,
        doors,
        furniture,
        _number(data.get("wall_height", 2.4), "wall_height"),
        _number(data.get("wall_thickness", 0.1), "wall_thickness"),
    )
    return plan.validate()


def load_floorplan(path: str | os.PathLike) -> FloorPlan:
    """Read a floor plan from a ``.yaml``/``.yml`` or ``.json`` file (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise FloorPlanError(
            f"floor-plan file {str(path)!r} does not exist; give the path of a .yaml or .json file, or a named home"
        )
    text = path.read_text()
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            import yaml  # local: JSON plans do without PyYAML's import

            data = yaml.safe_load(text)
    except Exception as exc:
        raise FloorPlanError(f"cannot parse floor plan {str(path)!r}: {exc}") from exc
    return floorplan_from_dict(data)


def save_floorplan(plan: FloorPlan, path: str | os.PathLike) -> None:
    """Write ``plan`` as YAML or JSON (by suffix), atomically."""
    path = Path(path)
    data = plan.to_dict()
    if path.suffix == ".json":
        text = json.dumps(data, indent=1)
    else:
        import yaml  # local: JSON plans do without PyYAML's import

        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
    with atomic_path(path) as tmp:  # a full disk or a read-only folder: an OutputError naming path
        tmp.write_text(text)
