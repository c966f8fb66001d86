"""The home environments: robots, sensors, tasks, metrics, determinism and the baseline agent."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pybullet as p
import pytest

import sim
from planners.navigation import InteractiveNavAgent
from sim.home_config import LocalMapConfig
from sim.lidar import FREE, OCCUPIED, UNKNOWN, local_occupancy
from sim.scenes.home import ClutterSpec, EpisodeLayout
from sim.tasks.nav_metrics import EffortTracker, episode_metrics, spl
from sim.tasks.navigation import HomeEpisode

SMALL = dict(width=32, height=32)


def make(**kw) -> sim.envs.home.HomeEnv:
    kw = {"home": "studio", **SMALL, **kw}
    return gym.make(sim.HOME_ENV_ID, **kw).unwrapped


def drive(env, action, steps):
    for _ in range(steps):
        obs, _r, _term, _trunc, info = env.step(np.asarray(action, np.float32))
    return obs, info


def empty_room_episode(env, start, goal, clutter=(), door_angles=None):
    """An episode in the studio with a given start, goal and clutter (replayed through reset options)."""
    plan, maps = env.plan_and_maps("studio")
    from sim.homes.geodesic import distance_field

    fld = distance_field(maps.robot_free, maps.grid.world_to_cell(goal))
    L = float(fld[maps.grid.world_to_cell(start[:2])] * maps.grid.resolution)
    layout = EpisodeLayout(door_angles if door_angles is not None else [d.angle for d in plan.doors], list(clutter))
    return HomeEpisode(np.asarray(start, float), np.asarray(goal, float), L, "go to the goal point", layout, fld)


def test_same_seed_same_episode_and_observations_in_generated_homes():
    a, b = make(home="generated", task="interactive_nav"), make(home="generated", task="interactive_nav")
    rng = np.random.default_rng(0)
    acts = rng.uniform(-1, 1, (15, 2)).astype(np.float32)

    def run(env, seed):
        obs, info = env.reset(seed=seed)
        out = [obs]
        for act in acts:
            out.append(env.step(act)[0])
        return info["home"], out

    ha, ra = run(a, 5)
    b.reset(seed=11)  # a used env gives the same episode as a fresh one
    hb, rb = run(b, 5)
    assert ha == hb and ha.startswith("generated:")
    for oa, ob in zip(ra, rb):
        for k in oa:
            np.testing.assert_array_equal(oa[k], ob[k], err_msg=k)
    assert run(a, 6)[0] != ha or not np.array_equal(run(a, 6)[1][0]["rgb"], ra[0]["rgb"])


def test_train_and_test_splits_use_disjoint_homes():
    train, test = make(home="generated", num_homes=5), make(home="generated", split="test", num_homes=5)
    homes_train = {train.reset(seed=s)[1]["home"] for s in range(6)}
    homes_test = {test.reset(seed=s)[1]["home"] for s in range(6)}
    assert homes_train and homes_test and not homes_train & homes_test
    assert all(int(h.split(":")[1]) < 5 for h in homes_train)


def test_base_drives_at_its_speed_and_turns_without_side_slip():
    env = make()
    env.reset(seed=0, options={"episode": empty_room_episode(env, (4.0, 2.0, 0.0), (6.0, 2.0))})
    _, info = drive(env, (1.0, 0.0), 20)  # 2 s at 0.5 m/s
    x, y, th = env.robot_pose()
    assert x == pytest.approx(5.0, abs=0.05) and y == pytest.approx(2.0, abs=0.01)
    drive(env, (0.0, 0.0), 1)  # stop
    x, y, th = env.robot_pose()
    drive(env, (0.0, 1.0), 10)  # 1 s at 1.5 rad/s
    x2, y2, th2 = env.robot_pose()
    assert th2 - th == pytest.approx(1.5, abs=0.05)
    assert np.hypot(x2 - x, y2 - y) < 0.01  # turning in place does not move the base
    assert info["path_length"] == pytest.approx(1.0, abs=0.06)


def test_base_pushes_a_carton_but_not_an_unmovable_obstacle():
    env = make()
    clutter = [ClutterSpec("carton", (4.8, 2.0), 0.0, 2.0), ClutterSpec("unmovable", (4.8, 1.0), 0.0, 200.0)]
    env.reset(seed=0, options={"episode": empty_room_episode(env, (4.0, 2.0, 0.0), (6.0, 2.0), clutter)})
    start = env.scene.clutter_positions()
    drive(env, (1.0, 0.0), 25)
    moved = env.scene.clutter_positions() - start
    assert moved[0, 0] > 0.5  # the carton was pushed half a metre and more
    env.reset(seed=0, options={"episode": empty_room_episode(env, (4.8, 0.4, np.pi / 2), (4.8, 3.0), clutter)})
    start = env.scene.clutter_positions()
    drive(env, (1.0, 0.0), 25)
    assert np.linalg.norm(env.scene.clutter_positions()[1] - start[1]) < 0.02  # the crate stays
    assert env.robot_pose()[1] < 1.0 - 0.2 - 0.15  # and stops the base in front of it


def test_base_pushes_a_closed_door_open_and_effort_counts_it():
    env = make(task="interactive_nav")
    ep = empty_room_episode(env, (2.0, 2.0, 0.0), (4.5, 2.0), door_angles=[0.0])
    env.reset(seed=0, options={"episode": ep})
    assert abs(env.scene.doors[0].state()) < 1e-6
    infos = []
    for _ in range(80):
        _, _, term, _, info = env.step(np.array([0.8, 0.0], np.float32))
        infos.append(info)
        if term:
            break
    # Pushed off-centre, the panel swings wide (it once jammed at 30° against the wall end).
    assert abs(env.scene.doors[0].state()) > 1.0
    assert info["success"] and env.robot_pose()[0] > 4.0  # through the doorway and at the goal
    assert 0 < info["kinematic_disturbance"] < 1  # the moving door counts as disturbance
    assert 0 < info["effort_efficiency"] < 1
    midway = next(i for i in infos if i["kinematic_disturbance"] > 0)
    assert midway["effort_efficiency"] == 0.0 and not midway["success"]  # not at the goal yet: no effort credit


def test_lidar_measures_the_distance_to_a_wall_and_builds_a_local_map():
    env = make(obs_keys=["scan", "local_map"], lidar={"noise_std": 0.0})
    # Facing the kitchen's west wall (inner face at x = 0.05) from x = 1.0, y = 2.0.
    obs, _ = env.reset(seed=0, options={"episode": empty_room_episode(env, (1.0, 2.0, np.pi), (2.0, 2.0))})
    mid = np.argmin(np.abs(env.lidar.angles))
    assert obs["scan"][mid] == pytest.approx(1.0 - 0.05, abs=0.02)
    grid = obs["local_map"]
    n, res = env.cfg.local_map.size, env.cfg.local_map.extent / env.cfg.local_map.size
    assert grid[n // 2 - int(0.5 / res), n // 2] == FREE  # 0.5 m ahead is free
    assert grid[int(np.floor(n / 2 - obs["scan"][mid] / res)), n // 2] == OCCUPIED  # the wall
    assert grid[n - 2, n // 2] == UNKNOWN  # straight behind: outside the 240° field of view


def test_local_occupancy_grid_geometry():
    cfg = LocalMapConfig(size=20, extent=2.0)
    angles = np.array([0.0, np.pi / 2])
    grid = local_occupancy(np.array([0.5, 5.0], np.float32), angles, 5.0, cfg)
    assert grid[10 - 5, 10] == OCCUPIED  # a hit 0.5 m ahead, 5 cells up
    assert grid[10 - 3, 10] == FREE
    assert grid[10, 0] == FREE and (grid[:, :10] == OCCUPIED).sum() == 0  # a max-range ray to the left marks no hit


def test_metrics_are_gated_by_success_and_safe_at_zero_length():
    assert spl(True, 0.0, 0.0) == 1.0 and spl(False, 3.0, 3.0) == 0.0
    assert spl(True, 4.0, 8.0) == pytest.approx(0.5)
    t = EffortTracker(30.0, np.array([2.0]))
    t.reset(np.zeros(2), np.zeros((1, 3)))
    t.update(np.array([1.0, 0.0]), np.array([[1.0, 0.0, 0.0]]))  # the robot and a 2 kg box both moved 1 m
    kin, dyn, eff = t.effort()
    assert kin == pytest.approx(0.5) and dyn == pytest.approx(30 / 32)
    m = episode_metrics(True, 1.0, t)
    assert m["ins"] == pytest.approx(0.5 * 1.0 + 0.5 * eff)
    assert episode_metrics(False, 1.0, t)["ins"] == 0.0 and episode_metrics(False, 1.0, t)["effort_efficiency"] == 0.0
    idle = EffortTracker(30.0, np.zeros(0))
    idle.reset(np.zeros(2), np.zeros((0, 3)))
    assert idle.effort() == (1.0, 1.0, 1.0)  # nothing moved: no 0/0


def test_interactive_nav_lines_the_shortest_path_with_clutter_and_keeps_it_solvable():
    env = make(home="generated", task="interactive_nav", obs_keys=["goal"])
    for seed in range(4):
        _, info = env.reset(seed=seed)
        ep = env.episode
        on_path = [c for c in ep.layout.clutter if _dist_to_path(env, ep, c.xy) <= env.cfg.nav.clutter_offset + 0.05]
        assert len(on_path) >= 0.5 * np.floor((info["shortest_path"] - 1.2) / env.cfg.nav.clutter_spacing)
        assert np.isfinite(info["shortest_path"]) and info["shortest_path"] >= env.cfg.nav.min_geodesic - 0.05


def _dist_to_path(env, ep, xy):
    pts = np.array([env.maps.grid.cell_to_world(c) for c in ep.path_cells])
    return float(np.min(np.linalg.norm(pts - np.asarray(xy), axis=1)))


def test_room_nav_succeeds_inside_the_named_room():
    env = make(task="room_nav")
    _obs, info = env.reset(seed=0, options={"room_type": "kitchen"})
    assert info["instruction"] == "go to the kitchen"
    kitchen = env.plan.room("kitchen")
    env.scene.robot.reset_pose(*kitchen.center, 0.0)
    _, _, term, _, info = env.step(np.zeros(2, np.float32))
    assert term and info["success"]


def test_mobile_manipulator_moves_its_tool_and_the_drawer_task_checks_the_drawer():
    env = make(task="open_drawer")
    assert env.action_space.shape == (6,)
    obs, info = env.reset(seed=0)
    assert info["instruction"] == "open the kitchen drawer" and obs["proprio"].shape == (16,)
    before = env.scene.robot.tcp_in_mount()
    drive(env, (0, 0, 1.0, 0, 0, -1), 4)  # 4 steps forward, at most 5 cm each (the motors lag ~25%)
    after = env.scene.robot.tcp_in_mount()
    assert 0.12 < after[0] - before[0] <= 0.2 and abs(after[1] - before[1]) < 0.01
    assert not info["success"]
    env.scene.counters[0].drawer.set_state(0.1)
    _, _, term, _, info = env.step(np.zeros(6, np.float32))
    assert term and info["success"]


def test_set_state_replays_bit_identically_in_any_env():
    env = make(home="generated", task="interactive_nav", obs_keys=["rgb", "scan"], lidar={"noise_std": 0.0})
    env.reset(seed=2)
    drive(env, (1.0, 0.3), 5)
    state = env.get_state()
    acts = [np.array([1.0, -0.2], np.float32)] * 8
    original = [env.step(a)[0] for a in acts]

    def replay(e):
        e.set_state(state)
        return [e.step(a)[0] for a in acts]

    env.reset(seed=7)  # another home in between
    first = replay(env)
    other = make(home="generated", task="interactive_nav", obs_keys=["rgb", "scan"], lidar={"noise_std": 0.0})
    second = replay(other)  # a different instance
    for oa, ob in zip(first, second):
        for k in oa:
            np.testing.assert_array_equal(oa[k], ob[k], err_msg=k)
    # The original run kept Bullet's contact caches, which no state vector holds: it agrees with the
    # replays to contact-level noise (well under a millimetre of range), not bit for bit.
    for oa, ob in zip(original, first):
        np.testing.assert_allclose(oa["scan"], ob["scan"], atol=1e-3)


def test_bad_configuration_names_the_problem():
    with pytest.raises(ValueError, match="unknown home task"):
        make(task="fly")
    with pytest.raises(ValueError, match="needs the arm"):
        make(task="open_door", robot="base")
    with pytest.raises(ValueError, match="named home|does not exist"):
        make(home="castle")
    with pytest.raises(ValueError, match="must have 2 values"):
        env = make()
        env.reset(seed=0)
        env.step(np.zeros(3, np.float32))


def run_agent(env, agent, seed: int) -> dict:
    """One episode of ``agent`` in ``env`` from ``seed``; the last info."""
    obs, info = env.reset(seed=seed)
    agent.reset(env)
    for _ in range(env.cfg.max_episode_steps):
        obs, _, term, trunc, info = env.step(agent.act(obs))
        if term or trunc:
            break
    return info


@pytest.mark.slow
def test_baseline_agent_reaches_goals_through_clutter_and_doors():
    env = gym.make(sim.HOME_ENV_ID, task="interactive_nav", split="test", obs_keys=["scan"], **SMALL).unwrapped
    agent = InteractiveNavAgent()
    successes = 0
    for seed in range(3):
        info = run_agent(env, agent, seed)
        successes += info["success"]
        if info["success"]:
            assert 0 < info["spl"] <= 1 and 0 < info["ins"] <= 1
    assert successes >= 2


def test_door_panel_geometry_matches_the_simulated_doors():
    from sim.homes.geometry import door_panel

    env = make(home="generated", task="interactive_nav", obs_keys=["goal"])
    env.reset(seed=3)
    for spec, door in zip(env.plan.doors, env.scene.doors):
        for angle in (0.0, 0.7, -1.2):
            door.set_state(angle)
            tip = door.link_world_position("door", (0.0, -door.geom.width, 0.0))[:2]
            # the model's panel runs from the doorway end; the simulated one is inset by a few cm
            assert np.linalg.norm(door_panel(env.plan, spec, angle)[1] - tip) < 0.08


def test_episodes_keep_the_start_and_objects_off_door_panels_and_crates_out_of_door_swings():
    from sim.homes.furnishings import UNMOVABLE
    from sim.homes.geometry import door_hinge_end, door_panel, segment_distance

    env = make(home="generated", task="interactive_nav", obs_keys=["goal"])
    crate = float(np.hypot(*UNMOVABLE.half_extents[:2]))
    crates = 0
    for seed in range(8):
        env.reset(seed=seed)
        ep, plan = env.episode, env.plan
        panels = [door_panel(plan, d, a) for d, a in zip(plan.doors, ep.layout.door_angles)]
        assert all(segment_distance(ep.start[:2], seg) > env.cfg.base.radius for seg in panels)
        for c in ep.layout.clutter:
            assert all(segment_distance(np.asarray(c.xy), seg) > 0.15 for seg in panels), (seed, c)
            if c.kind == "unmovable":
                crates += 1
                for d in plan.doors:
                    assert np.linalg.norm(np.asarray(c.xy) - door_hinge_end(plan, d)[0]) >= d.width + crate
    assert crates > 0  # the check above ran on some


def _studio_agent(env, start, goal, clutter=(), door_angles=None):
    env.reset(seed=0, options={"episode": empty_room_episode(env, start, goal, clutter, door_angles)})
    agent = InteractiveNavAgent()
    agent.reset(env)
    return agent


def test_agent_remembers_what_the_scan_sees_and_forgets_what_moved():
    env = make(task="interactive_nav", obs_keys=["scan"])
    agent = _studio_agent(env, (1.0, 2.0, 0.0), (2.6, 2.0), [ClutterSpec("carton", (2.0, 2.0), 0.0, 2.0)])
    obs, _ = env.step(np.zeros(2, np.float32))[:2]
    agent.observe(env.robot_pose(), obs["scan"])
    g = agent.grid

    def near(xy: tuple[float, float]) -> bool:
        i, j = g.world_to_cell(xy)
        return bool(agent.seen[max(i - 4, 0) : i + 5, j - 4 : j + 5].any())

    assert near((1.85, 2.0))  # the carton's near face
    assert not agent.seen[agent.mapped].any()  # walls are the map's, not remembered obstacles
    p.resetBasePositionAndOrientation(
        env.scene.clutter[0].uid, (5.5, 1.0, 0.15), (0, 0, 0, 1), physicsClientId=env.client
    )
    obs = env.step(np.zeros(2, np.float32))[0]
    agent.observe(env.robot_pose(), obs["scan"])
    assert not near((1.85, 2.0))  # the rays now pass where it stood


def test_agent_goes_around_a_carton_when_the_detour_is_short():
    env = make(task="interactive_nav", obs_keys=["scan"])
    agent = _studio_agent(env, (3.7, 2.0, 0.0), (5.9, 2.0), [ClutterSpec("carton", (4.7, 2.0), 0.0, 2.0)])
    start = env.scene.clutter_positions()
    obs, info = env.step(np.zeros(2, np.float32))[0], {}
    for _ in range(150):
        obs, _, term, trunc, info = env.step(agent.act(obs))
        if term or trunc:
            break
    assert info["success"]
    assert np.linalg.norm(env.scene.clutter_positions()[0, :2] - start[0, :2]) < 0.05  # never pushed it
    assert info["effort_efficiency"] > 0.95


def test_agent_crosses_a_closed_door_square_on_the_latch_side():
    from sim.homes.geometry import door_hinge_end

    env = make(task="interactive_nav", obs_keys=["scan"])
    agent = _studio_agent(env, (1.5, 1.0, 0.0), (4.6, 2.4), door_angles=[0.0])
    obs = env.step(np.zeros(2, np.float32))[0]
    agent.act(obs)
    end, along = door_hinge_end(env.plan, env.plan.doors[0])
    centre = end + along * env.plan.doors[0].width / 2
    crossing = [q for q in agent.path if abs(q[0] - centre[0]) < 0.7 and abs(q[1] - centre[1]) < 0.5]
    assert len(crossing) == 3  # before, in and after the doorway
    assert all(abs((q - centre) @ along - agent.cfg.door_latch_offset) < 1e-6 for q in crossing)  # latch side
    assert np.ptp([q[1] for q in crossing]) < 1e-6  # one line square to the wall
    info = {}
    for _ in range(200):
        obs, _, term, trunc, info = env.step(agent.act(obs))
        if term or trunc:
            break
    assert info["success"] and abs(env.scene.doors[0].state()) > 1.0


def test_head_camera_draws_the_next_room_only_when_its_doorway_is_in_view():
    env = make(obs_keys=["rgb"])
    env.reset(seed=0)
    scene, half = env.scene, env._half_hfov
    both, kitchen = {"kitchen", "living_room"}, {"kitchen"}
    assert scene.rooms_seen_from((1.5, 2.0)) == both  # without a heading: every door neighbour
    assert scene.rooms_seen_from((1.5, 2.0), 0.0, half) == both  # facing the doorway (east)
    assert scene.rooms_seen_from((1.5, 2.0), np.pi, half) == kitchen  # facing away from it
    assert scene.rooms_seen_from((1.5, 2.0), np.pi / 2, half) == kitchen  # facing the north wall
    assert scene.rooms_seen_from((2.7, 2.0), np.pi, half) == both  # standing in the doorway: always
    # the env culls by the robot's pose: turned away from the doorway, the living room is not drawn
    env.scene.robot.reset_pose(1.5, 2.0, np.pi)
    env.aim_camera()
    assert env.scene.visible_rooms == kitchen
    env.scene.robot.reset_pose(1.5, 2.0, 0.0)
    env.aim_camera()
    assert env.scene.visible_rooms == both


@pytest.mark.slow
@pytest.mark.parametrize("task", ["open_drawer", "open_door"])
def test_mobile_manipulation_baselines_open_the_drawer_and_the_door(task):
    from planners.mobile_manipulation import make_home_agent

    env = gym.make(sim.HOME_ENV_ID, task=task, split="test", obs_keys=["scan"], **SMALL).unwrapped
    successes = 0
    for seed in range(3):
        agent = make_home_agent(task)
        info = run_agent(env, agent, seed)
        successes += info["success"]
        if info["success"] and task == "open_drawer":
            assert env.scene.counters[0].drawer.state() >= env.cfg.nav.drawer_open_threshold
            assert agent.docked and agent.motion.phase in ("move", "done")  # opened by the arm, after docking
    assert successes >= 2
