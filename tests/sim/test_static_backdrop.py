"""``sim.backdrop.StaticBackdrop``: the desk's frames with the static scene drawn once are the frames of drawing
everything every time, bit for bit, and the backdrop is really reused (drawn once per episode, not per frame)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.backdrop import StaticBackdrop
from sim.envs.desk import DeskEnv

KEYS = ("rgb", "depth", "segmentation", "proprio")


def episode_frames(env: DeskEnv, seed: int, steps: int) -> list[dict[str, np.ndarray]]:
    """Observations of a reset and ``steps`` random actions, then render() and a step after set_state()."""
    out = [env.reset(seed=seed)[0]]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        out.append(env.step(rng.uniform(-1, 1, 4))[0])
    out.append({"render": env.render()})
    state = env.get_state()
    env.step(np.ones(4))
    env.set_state(state)
    out.append(env.step(-np.ones(4))[0])
    return out


@pytest.mark.parametrize("variant", ["train", "new_colors", "new_viewpoint", "new_arrangement"])
def test_frames_over_the_backdrop_are_bit_identical_to_drawing_everything(variant: str) -> None:
    fast = DeskEnv(obs_keys=KEYS, variant=variant, render_mode="rgb_array")
    full = DeskEnv(obs_keys=KEYS, variant=variant, render_mode="rgb_array", static_backdrop=False)
    try:
        for seed in (0, 1):
            a, b = episode_frames(fast, seed, 12), episode_frames(full, seed, 12)
            assert len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                assert x.keys() == y.keys()
                for k in x:
                    assert x[k].dtype == y[k].dtype
                    np.testing.assert_array_equal(x[k], y[k], err_msg=f"{variant} seed {seed}: {k}")
        # the arm moved in front of the desk: the frames were not all one still picture
        assert not np.array_equal(a[0]["rgb"], a[12]["rgb"])
    finally:
        fast.close()
        full.close()


def test_the_backdrop_is_drawn_once_per_episode_not_per_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    captures = []
    original = StaticBackdrop._capture

    def counting(self: StaticBackdrop, *args: object) -> None:
        captures.append(1)
        original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(StaticBackdrop, "_capture", counting)
    env = DeskEnv(obs_keys=("rgb",))
    try:
        for seed in range(2):
            env.reset(seed=seed)
            for _ in range(10):
                env.step(np.zeros(4))
        assert len(captures) == 2
    finally:
        env.close()


def test_a_moved_camera_redraws_the_backdrop_by_itself() -> None:
    env = DeskEnv(obs_keys=("rgb",))
    ref = DeskEnv(obs_keys=("rgb",), static_backdrop=False)
    try:
        for e in (env, ref):
            e.reset(seed=3)
        first = env.step(np.zeros(4))[0]["rgb"]
        np.testing.assert_array_equal(first, ref.step(np.zeros(4))[0]["rgb"])
        for e in (env, ref):
            cam = e.cameras[0]
            cam.set_pose(np.asarray(cam.eye) + (0.05, 0.1, 0.0), cam.target, cam.fov + 5)
        moved = env.step(np.zeros(4))[0]["rgb"]
        np.testing.assert_array_equal(moved, ref.step(np.zeros(4))[0]["rgb"])
        assert (moved != first).any(-1).mean() > 0.1  # the view really changed, desk and all
    finally:
        env.close()
        ref.close()


def test_hiding_and_showing_shapes_leaves_a_full_frame_unchanged() -> None:
    """The colours written back are the ones drawn: a full frame after many backdrop frames is the same as one
    from an env that never used a backdrop."""
    env = DeskEnv(obs_keys=("rgb",), render_mode="rgb_array")
    ref = DeskEnv(obs_keys=("rgb",), render_mode="rgb_array", static_backdrop=False)
    try:
        for e in (env, ref):
            e.reset(seed=5)
            for _ in range(5):
                e.step(np.full(4, 0.5))
        env._backdrops = []  # draw everything, as the reference does
        np.testing.assert_array_equal(env.render(), ref.render())
    finally:
        env.close()
        ref.close()


@pytest.mark.parametrize("task", ["open_drawer", "open_cabinet", "turn_faucet_left", "push_button"])
def test_parked_furniture_leaves_the_backdrop_when_the_arm_moves_it(task: str) -> None:
    """The expert moves the furniture: frames stay bit-identical, and the backdrop is redrawn once for it."""
    fast = DeskEnv(task=task, obs_keys=KEYS)
    full = DeskEnv(task=task, obs_keys=KEYS, static_backdrop=False)
    try:
        for seed in (0, 1):
            obs = [e.reset(seed=seed)[0] for e in (fast, full)]
            experts = [e.make_expert() for e in (fast, full)]
            for _ in range(fast.task.expert_horizon):
                for k in KEYS:
                    np.testing.assert_array_equal(obs[0][k], obs[1][k], err_msg=f"{task} seed {seed}: {k}")
                obs = [e.step(e.expert_action(x))[0] for e, x in zip((fast, full), experts, strict=True)]
            assert fast._info(fast.scene.object_states())["success"]  # the furniture really moved
            assert not fast._backdrops[0]._parked.keys() >= set(fast.scene.parked_bodies)  # and left the backdrop
    finally:
        fast.close()
        full.close()
