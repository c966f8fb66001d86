"""Multi-room homes: the floor-plan format, its wall geometry and maps, the generator and the named homes.

Fast (a few seconds), deterministic and CPU-only: no PyBullet scene is built here.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from sim.homes.catalogue import NAMED_DIR, NAMED_HOMES, named_floorplan, resolve_floorplan
from sim.homes.floorplan import FloorPlan, FloorPlanError, floorplan_from_dict, load_floorplan, save_floorplan
from sim.homes.furnishings import CATALOG
from sim.homes.generator import GeneratorConfig, generate_floorplan
from sim.homes.geometry import (
    box_corners,
    convex_overlap,
    footprint_corners,
    furniture_footprint,
    points_in_convex_polygon,
    wall_boxes,
)
from sim.homes.maps import GridMap, room_map, traversability_map

ROBOT_RADIUS = GeneratorConfig().robot_radius


def two_rooms(**extra) -> dict:
    """A hand-made L-shaped home: a 4 x 3 m kitchen west of a 5 x 5 m living room, one door between."""
    data = {
        "name": "two_rooms",
        "rooms": [
            {"name": "kitchen", "type": "kitchen", "min": [0.0, 0.0], "max": [4.0, 3.0]},
            {"name": "living_room", "type": "living_room", "min": [4.0, 0.0], "max": [9.0, 5.0]},
        ],
        "doors": [{"rooms": ["kitchen", "living_room"], "center": [4.0, 1.5], "width": 0.9}],
        "furniture": [
            {"kind": "counter", "room": "kitchen", "pos": [1.0, 0.45], "yaw": math.pi / 2},
            {"kind": "sofa", "room": "living_room", "pos": [6.5, 4.4], "yaw": -math.pi / 2},
        ],
    }
    data.update(extra)
    return data


def covered(boxes, xy) -> bool:
    return any(b.contains(xy) for b in boxes)


# ------------------------------------------------------------------------------- home soundness
def assert_sound(plan: FloorPlan) -> None:
    """What every buildable home must satisfy: valid, disjoint rooms, furniture clear of walls and of
    each other, and one connected free space for a disc robot that reaches every room."""
    plan.validate()
    for i, a in enumerate(plan.rooms):
        for b in plan.rooms[i + 1 :]:
            overlap = np.minimum(a.max, b.max) - np.maximum(a.min, b.min)
            assert not np.all(overlap > 1e-6), f"{plan.name}: rooms {a.name} and {b.name} overlap"
    feet = [furniture_footprint(f) for f in plan.furniture]
    walls = [box_corners(w) for w in wall_boxes(plan)]
    for f, foot in zip(plan.furniture, feet):
        room = plan.room(f.room)
        assert np.all(foot >= np.asarray(room.min) - 1e-6) and np.all(foot <= np.asarray(room.max) + 1e-6), (
            f"{plan.name}: {f.kind} sticks out of {f.room}"
        )
        for w in walls:
            assert not convex_overlap(foot, w), f"{plan.name}: {f.kind} in {f.room} overlaps a wall"
    for i in range(len(feet)):
        for j in range(i + 1, len(feet)):
            assert not convex_overlap(feet[i], feet[j]), (
                f"{plan.name}: {plan.furniture[i].kind} and {plan.furniture[j].kind} overlap"
            )
    grid = traversability_map(plan).inflated(ROBOT_RADIUS)
    labels, _ = ndimage.label(grid.free)
    rooms = room_map(plan, grid)
    reached = set()
    for k, room in enumerate(plan.rooms):
        cell_labels = labels[(rooms == k) & grid.free]
        assert cell_labels.size, f"{plan.name}: no free cell in {room.name} for a robot of radius {ROBOT_RADIUS}"
        reached |= set(np.unique(cell_labels).tolist())
    assert len(reached) == 1, f"{plan.name}: rooms fall into {len(reached)} separate free regions"


# -------------------------------------------------------------------------------------- generator
@pytest.fixture(scope="module")
def generated() -> dict[tuple[int, int | None], FloorPlan]:
    """Homes keyed by (seed, requested rooms): 20 default draws and two seeds per room count 2..8."""
    homes = {(s, None): generate_floorplan(s) for s in range(20)}
    homes.update({(s, n): generate_floorplan(s, num_rooms=n) for n in range(2, 9) for s in (0, 1)})
    return homes


def test_generator_is_deterministic_per_seed():
    a, b = generate_floorplan(7), generate_floorplan(7)
    assert a.to_dict() == b.to_dict()
    assert a.name == "generated_7"
    assert generate_floorplan(8).to_dict() != a.to_dict()


def test_extra_doors_add_loops_to_the_same_layout():
    more = fewer = 0
    for seed in range(8):
        none = generate_floorplan(seed, GeneratorConfig(extra_door_probability=0.0))
        every = generate_floorplan(seed, GeneratorConfig(extra_door_probability=1.0))
        assert none.rooms == every.rooms, "the loop-door coin flips must not change the layout"
        tree = {d.rooms for d in none.doors}
        assert len(tree) == len(none.rooms) - 1, "without extra doors the doors form a spanning tree"
        assert tree <= {d.rooms for d in every.doors}
        more += len(every.doors)
        fewer += len(none.doors)
    assert more > fewer


def test_room_counts_follow_the_config(generated):
    counts = [len(p.rooms) for (s, n), p in generated.items() if n is None]
    assert all(2 <= c <= 8 for c in counts)
    assert len(set(counts)) >= 4, f"20 seeds should spread over the range, got {sorted(counts)}"
    for n in range(2, 9):
        for s in (0, 1):
            assert len(generated[(s, n)].rooms) == n
    narrow = GeneratorConfig(num_rooms=(3, 4))
    assert {len(generate_floorplan(s, narrow).rooms) for s in range(8)} <= {3, 4}


def test_room_types_and_sizes(generated):
    cfg = GeneratorConfig()
    for plan in generated.values():
        types = [r.type for r in plan.rooms]
        assert types.count("kitchen") == 1 and types.count("living_room") == 1, plan.name
        assert ("corridor" in types) == (len(types) >= 5), plan.name
        for r in plan.rooms:
            side = cfg.corridor_width if r.type == "corridor" else cfg.room_side
            assert side[0] - 1e-6 <= min(r.size) and (r.type == "corridor" or max(r.size) <= side[1] + 1e-6), (
                f"{plan.name}: {r.name} is {r.size}"
            )
        baths = [r.area for r in plan.rooms if r.type == "bathroom"]
        others = [r.area for r in plan.rooms if r.type not in ("bathroom", "corridor")]
        assert not baths or max(baths) <= min(others) + 1e-6, f"{plan.name}: bathrooms must be the smallest rooms"
        living = plan.rooms_of_type("living_room")[0].area
        assert living >= max(others) - 1e-6, f"{plan.name}: the living room must be the largest room"


def test_home_areas(generated):
    for s in (0, 1):
        assert 25.0 <= sum(r.area for r in generated[(s, 2)].rooms) <= 35.0
        assert 80.0 <= sum(r.area for r in generated[(s, 8)].rooms) <= 120.0
    for s in range(2, 12):  # a few more at the ends of the range, where the limits bite
        assert 25.0 <= sum(r.area for r in generate_floorplan(s, num_rooms=2).rooms) <= 35.0
        assert 80.0 <= sum(r.area for r in generate_floorplan(s, num_rooms=8).rooms) <= 120.0


def test_generated_homes_are_sound(generated):
    for plan in generated.values():
        assert_sound(plan)
        kitchen = plan.rooms_of_type("kitchen")[0]
        assert any(f.kind == "counter" and f.room == kitchen.name for f in plan.furniture), plan.name
        assert all(abs(d.angle) == pytest.approx(1.4) and d.swing == "both" for d in plan.doors)
        for d in plan.doors:  # open doors stand into the deeper room, where they leave the most room to pass
            k = 0 if plan.door_axis(d) == "y" else 1
            low, high = sorted((plan.room(r) for r in d.rooms), key=lambda r: r.center[k])
            deeper_is_low = low.size[k] >= high.size[k]
            assert (d.angle > 0) == deeper_is_low, f"{plan.name}: door {d.rooms} opens into the shallower room"


def test_furniture_backs_onto_a_wall_and_keeps_doors_clear(generated):
    cfg = GeneratorConfig()
    for plan in generated.values():
        t = plan.wall_thickness
        for f in plan.furniture:
            room = plan.room(f.room)
            depth = CATALOG[f.kind].half_size[0]
            # the back of the piece (+x at yaw 0) is wall_gap from the wall face, on a room edge
            back = np.asarray(f.pos) + (depth + cfg.wall_gap + t / 2) * np.array([math.cos(f.yaw), math.sin(f.yaw)])
            on_edge = (np.isclose(back, room.min, atol=1e-6) | np.isclose(back, room.max, atol=1e-6)).any()
            assert on_edge, f"{plan.name}: {f.kind} in {f.room} does not stand with its back to a wall"
        for d in plan.doors:
            axis = plan.door_axis(d)
            half = (d.width / 2, cfg.furniture_clearance) if axis == "x" else (cfg.furniture_clearance, d.width / 2)
            zone = footprint_corners(half, d.center, 0.0)
            for f in plan.furniture:
                assert not convex_overlap(zone, furniture_footprint(f)), f"{plan.name}: {f.kind} blocks a door"


def test_doors_connect_all_rooms(generated):
    for plan in generated.values():
        seen, todo = set(), [plan.rooms[0].name]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo += [b for d in plan.doors for a, b in (d.rooms, d.rooms[::-1]) if a == name]
        assert seen == {r.name for r in plan.rooms}, plan.name


def test_generator_errors():
    with pytest.raises(ValueError, match="num_rooms"):
        GeneratorConfig(num_rooms=(1, 3))
    with pytest.raises(ValueError, match="num_rooms"):
        GeneratorConfig(num_rooms=(5, 9))
    with pytest.raises(ValueError, match="room_side"):
        GeneratorConfig(room_side=(1.2, 5.0))  # too short for a door and its margins
    with pytest.raises(ValueError, match="extra_door_probability"):
        GeneratorConfig(extra_door_probability=1.5)
    with pytest.raises(ValueError, match="num_rooms"):
        generate_floorplan(0, num_rooms=9)
    # rooms of at most 3 x 3 m cannot make 40 m² each
    impossible = GeneratorConfig(room_side=(2.6, 3.0), area_per_room=(40.0, 41.0), max_attempts=3, layout_draws=5)
    with pytest.raises(RuntimeError, match="seed 5"):
        generate_floorplan(5, impossible)


# -------------------------------------------------------------------------------------- wall boxes
def test_wall_boxes_open_the_doorway_and_close_the_rest():
    plan = floorplan_from_dict(two_rooms())
    boxes = wall_boxes(plan)
    t = plan.wall_thickness
    assert not covered(boxes, (4.0, 1.5)), "the doorway must be open"
    for y in (1.5 - 0.44, 1.5 + 0.44):
        assert not covered(boxes, (4.0, y))
    # the rest of the shared wall (x = 4, y in [0, 3]) is wall, and so is the living room's west wall above
    for y in np.r_[np.linspace(0.0, 1.04, 6), np.linspace(1.96, 5.0, 12)]:
        assert covered(boxes, (4.0, y)), f"shared wall open at y={y:.2f}"
    # outer walls enclose the home: points along every outer edge, corners included, lie in a wall
    outline = [
        ((0, 0), (9, 0)),
        ((9, 0), (9, 5)),
        ((4, 5), (9, 5)),
        ((4, 3), (4, 5)),
        ((0, 3), (4, 3)),
        ((0, 0), (0, 3)),
    ]
    for a, b in outline:
        for s in np.linspace(0, 1, 25):
            p = (1 - s) * np.asarray(a, float) + s * np.asarray(b, float)
            assert covered(boxes, p), f"outer wall open at {p}"
    for corner in ((-t / 2 + 1e-3, -t / 2 + 1e-3), (9 + t / 2 - 1e-3, 5 + t / 2 - 1e-3)):
        assert covered(boxes, corner), "corners must close"
    assert all(min(b.half_extents) == pytest.approx(t / 2) for b in boxes)


def test_shared_edges_give_one_wall():
    no_door = floorplan_from_dict(two_rooms(doors=[]))
    # six lines (y=0, y=3, y=5, x=0, x=4, x=9), each one box: the shared x=4 edge is not doubled
    assert len(wall_boxes(no_door)) == 6
    with_door = wall_boxes(floorplan_from_dict(two_rooms()))
    assert len(with_door) == 7  # the door splits the x=4 wall in two
    assert wall_boxes(floorplan_from_dict(two_rooms())) == with_door  # deterministic order
    areas = sum(4 * b.half_extents[0] * b.half_extents[1] for b in wall_boxes(no_door))
    # total wall length: outline 28 m + the 3 m shared edge, plus t/2 at both ends of each of 6 runs
    assert areas == pytest.approx((28 + 3 + 6 * 0.1) * 0.1)


def test_footprint_corners():
    c = footprint_corners((0.5, 0.2), (1.0, 2.0), math.pi / 2)
    assert c.shape == (4, 2)
    np.testing.assert_allclose(c.min(0), [0.8, 1.5], atol=1e-9)
    np.testing.assert_allclose(c.max(0), [1.2, 2.5], atol=1e-9)
    inside = points_in_convex_polygon(np.array([[1.0, 2.0], [1.1, 2.4], [1.3, 2.0]]), c)
    assert inside.tolist() == [True, True, False]


# ------------------------------------------------------------------------------------------- maps
def test_traversability_map_cells():
    plan = floorplan_from_dict(two_rooms())
    grid = traversability_map(plan)
    assert grid.occupied.dtype == bool and grid.shape == grid.occupied.shape

    def occ(xy) -> bool:
        return bool(grid.occupied[grid.world_to_cell(xy)])

    assert not occ((4.0, 1.5)), "door centre must be free"
    assert not occ((2.0, 1.5)) and not occ((6.5, 2.5)), "room interiors are free"
    assert occ((2.0, 0.0)) and occ((9.0, 2.5)) and occ((4.0, 0.5)), "walls are occupied"
    assert occ((1.0, 0.45)) and occ((6.5, 4.4)), "furniture is occupied"
    assert occ((2.0, 4.0)), "outside the L-shaped home is occupied"
    assert grid.occupied[0, 0] and grid.occupied[-1, -1], "the margin is outside"
    bare = traversability_map(plan, furniture=False)
    assert not bare.occupied[bare.world_to_cell((1.0, 0.45))]
    rooms = room_map(plan, grid)
    assert rooms.dtype == np.int16 and rooms.shape == grid.shape
    assert rooms[grid.world_to_cell((2.0, 1.5))] == 0 and rooms[grid.world_to_cell((6.5, 2.5))] == 1
    assert rooms[grid.world_to_cell((2.0, 4.0))] == -1


def test_grid_coordinates_round_trip():
    grid = GridMap(np.zeros((40, 60), dtype=bool), origin=(-1.0, 2.0), resolution=0.05)
    rng = np.random.default_rng(0)
    pts = rng.uniform([-1.0, 2.0], [2.0, 4.0], size=(100, 2))
    cells = grid.world_to_cells(pts)
    assert cells.shape == (100, 2)
    for p, c in zip(pts, cells):
        assert tuple(c) == grid.world_to_cell(p)
        assert grid.in_bounds(c)
        assert np.all(np.abs(grid.cell_to_world(c) - p) <= grid.resolution / 2 + 1e-12)
        assert grid.world_to_cell(grid.cell_to_world(c)) == tuple(c)
    # row = y, column = x
    assert grid.world_to_cell((-1.0 + 0.12, 2.0 + 0.31)) == (6, 2)
    assert not grid.in_bounds((40, 0)) and not grid.in_bounds((0, -1))


def test_inflation_grows_occupancy():
    plan = floorplan_from_dict(two_rooms())
    grid = traversability_map(plan)
    fat = grid.inflated(ROBOT_RADIUS)
    assert fat.occupied.sum() > grid.occupied.sum()
    assert np.all(fat.occupied[grid.occupied]), "inflation never frees a cell"
    assert np.array_equal(grid.inflated(0.0).occupied, grid.occupied)
    assert not fat.occupied[fat.world_to_cell((4.0, 1.5))], "a 0.9 m doorway still passes a 0.3 m robot"
    assert fat.occupied[fat.world_to_cell((2.0, 0.25))], "0.25 m from a wall is too close"
    assert not fat.occupied[fat.world_to_cell((2.0, 0.45))]
    # the map's edge counts as occupied: an all-free map inflates from its border
    empty = GridMap(np.zeros((20, 20), dtype=bool), (0.0, 0.0), 0.1).inflated(0.15)
    assert empty.occupied[0].all() and not empty.occupied[10, 10]


def test_rasterization_is_fast():
    # a 12 x 10 m home of six rooms with furniture
    rooms = [
        {"name": f"r{i}{j}", "type": "bedroom", "min": [4.0 * i, 5.0 * j], "max": [4.0 * i + 4, 5.0 * j + 5]}
        for i in range(3)
        for j in range(2)
    ]
    doors = [
        {"rooms": ["r00", "r10"], "center": [4.0, 2.5]},
        {"rooms": ["r10", "r20"], "center": [8.0, 2.5]},
        {"rooms": ["r00", "r01"], "center": [2.0, 5.0]},
        {"rooms": ["r10", "r11"], "center": [6.0, 5.0]},
        {"rooms": ["r20", "r21"], "center": [10.0, 5.0]},
    ]
    # each bed against the wall away from its room's doors
    furniture = [
        {
            "kind": "bed",
            "room": r["name"],
            "yaw": math.pi,
            "pos": [r["min"][0] + 2.0, r["min"][1] + (1.0 if r["min"][1] == 0 else 4.0)],
        }
        for r in rooms
    ]
    plan = floorplan_from_dict({"name": "big", "rooms": rooms, "doors": doors, "furniture": furniture})
    traversability_map(plan)  # warm up imports and caches
    best = min(_timed(lambda: traversability_map(plan)) for _ in range(5))
    assert best < 0.05, f"rasterizing a 12 x 10 m home took {best * 1e3:.1f} ms (limit 50 ms)"


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# ------------------------------------------------------------------------------------ named homes
def test_named_homes_load_and_are_sound():
    assert sorted(NAMED_HOMES) == sorted(p.stem for p in NAMED_DIR.glob("*.yaml")), (
        "every named home ships as sim/homes/named/<name>.yaml"
    )
    for name in NAMED_HOMES:
        text = (NAMED_DIR / f"{name}.yaml").read_text()
        assert text.startswith(f"# {name}:"), f"{name}.yaml must open with a comment describing it"
        plan = named_floorplan(name)
        assert plan.name == name
        assert_sound(plan)
        assert any(f.kind == "counter" for f in plan.furniture)
    assert sorted(r.type for r in named_floorplan("studio").rooms) == ["kitchen", "living_room"]
    apartment = named_floorplan("apartment")
    assert 4 <= len(apartment.rooms) <= 5 and apartment.rooms_of_type("corridor")
    assert any(d.angle == 0.0 for d in apartment.doors), "some apartment doors start closed"
    assert any(d.swing in ("a", "b") for d in apartment.doors), "the apartment has a one-way door"
    assert 7 <= len(named_floorplan("family_house").rooms) <= 8
    with pytest.raises(FloorPlanError, match="studio"):
        named_floorplan("castle")


def test_resolve_floorplan(tmp_path: Path):
    assert resolve_floorplan("apartment").to_dict() == named_floorplan("apartment").to_dict()
    assert resolve_floorplan("generated:17").to_dict() == generate_floorplan(17).to_dict()
    plan = floorplan_from_dict(two_rooms())
    for suffix in (".yaml", ".yml", ".json"):
        path = tmp_path / f"home{suffix}"
        save_floorplan(plan, path)
        assert resolve_floorplan(str(path)).to_dict() == plan.to_dict()
    with pytest.raises(FloorPlanError) as err:
        resolve_floorplan("castle")
    for option in ("studio", "generated:", ".yaml"):
        assert option in str(err.value)
    with pytest.raises(FloorPlanError, match="not an integer"):
        resolve_floorplan("generated:seventeen")
    with pytest.raises(FloorPlanError, match="does not exist"):
        resolve_floorplan(str(tmp_path / "missing.yaml"))


# ------------------------------------------------------------------------------------- the format
@pytest.mark.parametrize(
    "change, message",
    [
        (
            {
                "rooms": [
                    {"name": "kitchen", "type": "kitchen", "min": [0.0, 0.0], "max": [4.0, 3.0]},
                    {"name": "living_room", "type": "living_room", "min": [3.0, 0.0], "max": [9.0, 5.0]},
                ],
                "doors": [],
            },
            "overlap",
        ),
        (
            {
                "rooms": [
                    {"name": "kitchen", "type": "kitchen", "min": [0.0, 0.0], "max": [4.0, 3.0]},
                    {"name": "living_room", "type": "living_room", "min": [5.0, 0.0], "max": [9.0, 5.0]},
                ],
                "furniture": [],
            },
            "share no wall",
        ),
        ({"furniture": [{"kind": "piano", "room": "kitchen", "pos": [1.0, 1.0]}]}, "piano"),
        ({"garden": True}, "unknown floor-plan keys"),
        (
            {"rooms": [{"name": "kitchen", "type": "kitchen", "min": [0, 0], "max": [4, 3], "colour": "red"}]},
            "unknown keys",
        ),
        ({"doors": [{"rooms": ["kitchen", "living_room"], "center": [4.0, 2.8]}]}, "does not fit"),
        ({"doors": [{"rooms": ["kitchen", "living_room"], "center": [1.0, 1.5]}]}, "not on the wall shared"),
        (
            {"doors": [{"rooms": ["kitchen", "living_room"], "center": [4.0, 1.5], "width": "wide"}]},
            "door width must be a number",
        ),
        ({"wall_height": 0.2}, "wall_height"),
        ({"wall_thickness": "thick"}, "wall_thickness must be a number"),
        (
            {
                "furniture": [
                    {"kind": "sofa", "room": "living_room", "pos": [6.5, 4.4], "yaw": -math.pi / 2},
                    {"kind": "armchair", "room": "living_room", "pos": [6.6, 4.3]},
                ]
            },
            "overlap; move one",
        ),
        (
            {"furniture": [{"kind": "counter", "room": "kitchen", "pos": [1.0, 0.2], "yaw": math.pi / 2}]},
            "reaches into the walls",
        ),
        ({"furniture": [{"kind": "armchair", "room": "kitchen", "pos": [3.5, 1.5]}]}, "blocks the door"),
    ],
)
def test_floorplan_errors_name_the_problem(change, message):
    with pytest.raises(FloorPlanError, match=message):
        floorplan_from_dict(two_rooms(**change))


def test_save_load_round_trip(tmp_path: Path):
    for plan in (floorplan_from_dict(two_rooms()), generate_floorplan(3, num_rooms=6), named_floorplan("apartment")):
        for suffix in (".yaml", ".json"):
            path = tmp_path / f"{plan.name}{suffix}"
            save_floorplan(plan, path)
            back = load_floorplan(path)
            assert back.to_dict() == plan.to_dict()
            assert [type(x) for x in back.rooms[0].min] == [float, float]
