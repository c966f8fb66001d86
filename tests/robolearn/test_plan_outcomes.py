"""``record_plans``: each replanning's chosen plan is kept with what it really does from the state it was made in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from planners.vmpc import PlanRecord
from robolearn.data.collect import AnnotationSettings
from robolearn.data.labels import label_to_task
from robolearn.data.reader import DatasetReader
from robolearn.data.recorder import EpisodeRecorder
from robolearn.plan_outcomes import MAX_PLANS, PlanOutcomes
from sim.config import DeskEnvConfig
from sim.envs.desk import DeskEnv

SEED, STEPS, SIZE = 3, 16, 32
CONFIG = DeskEnvConfig(
    task="open_drawer", obs_keys=("rgb", "proprio"), width=SIZE, height=SIZE, max_episode_steps=STEPS
)


def _plan(actions: np.ndarray, step: int) -> PlanRecord:
    return PlanRecord(step, actions.astype(np.float32), 0.9, None, 0.1, 100)


def test_each_plan_is_kept_with_what_it_really_did(tmp_path: Path) -> None:
    expert_env = DeskEnv(config=CONFIG)  # the plan that opens the drawer: the scripted expert's actions from reset
    expert_env.reset(seed=SEED)
    expert = expert_env.make_expert()
    opening = []
    for _ in range(STEPS):
        opening.append(expert_env.expert_action(expert))
        expert_obs, *_, info = expert_env.step(opening[-1])
    expert_env.close()
    assert info["success"], "the expert opens the drawer within the episode"

    env = DeskEnv(config=CONFIG)  # the executed episode: the arm holds still, nothing happens
    recorder = EpisodeRecorder(keep_env_states=True)
    obs, _ = env.reset(seed=SEED)
    recorder.start(env, obs)
    still = np.zeros(4, np.float32)
    for _ in range(STEPS):
        obs, *_ = env.step(still)
        recorder.step(env, obs, still)
    plans = [_plan(np.stack(opening), 0), _plan(np.zeros((STEPS, 4)), 6), _plan(np.stack(opening), STEPS)]
    outcomes = PlanOutcomes(tmp_path / "plans", AnnotationSettings())
    files = outcomes.write(env, recorder, plans, "open_drawer", SEED)
    outcomes.close()
    assert len(files) == 2  # the plan made at the last step had nothing left to execute

    reader = DatasetReader(tmp_path / "plans")
    first, second = (reader.episode(i) for i in sorted(reader.indices()))
    base = SEED * len(reader.meta["tasks"]) + list(reader.meta["tasks"]).index("open_drawer")
    assert (first.index, second.index) == (base * MAX_PLANS, base * MAX_PLANS + 1)
    # the plan made at step 0 is the whole episode: it opened the drawer, as its hindsight labels say
    np.testing.assert_array_equal(first.actions, np.stack(opening))
    assert "open_drawer" in {label_to_task(label) for label in first.labels}
    np.testing.assert_array_equal(first.obs["rgb"][0], recorder.frames["rgb"][0])
    np.testing.assert_array_equal(first.obs["rgb"][-1], expert_obs["rgb"])  # replayed exactly from the reset state
    # the plan made at step 6: the real episode's first 6 steps, then the plan to the episode's end
    assert second.actions.shape == (STEPS, 4) and not second.actions.any()
    np.testing.assert_array_equal(second.obs["rgb"][:7], np.stack(recorder.frames["rgb"][:7]))
    assert "open_drawer" not in {label_to_task(label) for label in second.labels}
    # the plan's frames are what the env really shows from that state: the copy was restored exactly
    np.testing.assert_array_equal(second.obs["rgb"][-1], recorder.frames["rgb"][-1])
    env.close()


def test_plans_need_the_env_states_of_the_episode(tmp_path: Path) -> None:
    env = DeskEnv(config=CONFIG)
    recorder = EpisodeRecorder()  # without keep_env_states: no state to continue a plan from
    obs, _ = env.reset(seed=SEED)
    recorder.start(env, obs)
    obs, *_ = env.step(np.zeros(4, np.float32))
    recorder.step(env, obs, np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="keep_env_states=True"):
        PlanOutcomes(tmp_path, AnnotationSettings()).write(
            env, recorder, [_plan(np.zeros((2, 4)), 0)], "open_drawer", 0
        )
    env.close()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["record={d}/rec", "record_plans={d}/rec/"], "record and record_plans are the same folder"),
        (["record_plans={d}/file.txt"], "record_plans=.* is a file; give a dataset folder"),
    ],
)
def test_record_plans_folder_is_checked_before_planning(tmp_path: Path, overrides: list[str], message: str) -> None:
    from robolearn.config import ConfigError, compose_config
    from robolearn.plan import PlanSettings

    (tmp_path / "file.txt").write_text("not a dataset")
    with pytest.raises(ConfigError, match=message):
        PlanSettings.from_config(
            compose_config(
                "plan", ["objective=oracle", "dynamics_model=oracle", *(o.format(d=tmp_path) for o in overrides)]
            )
        )
