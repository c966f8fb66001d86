"""The task catalogue is the one list of tasks: the task classes follow it and the configs check against it."""

from __future__ import annotations

import pytest

from sim.config import DeskEnvConfig
from sim.counter_config import CounterEnvConfig
from sim.home_config import HomeEnvConfig
from sim.tasks.catalogue import COUNTER_TASK_DESCRIPTIONS, DESK_TASK_DESCRIPTIONS, HOME_TASK_INFO, LOREL_TASKS
from sim.tasks.counter import COUNTER_TASKS, get_counter_task
from sim.tasks.desk import DESK_TASKS, get_task
from sim.tasks.navigation import HOME_TASKS, get_home_task


def test_task_classes_follow_the_catalogue() -> None:
    """Every catalogued task has a class instance of the same name and description, in the same order."""
    assert list(DESK_TASKS) == list(DESK_TASK_DESCRIPTIONS)
    assert all(t.name == n and t.description == DESK_TASK_DESCRIPTIONS[n] for n, t in DESK_TASKS.items())
    assert set(LOREL_TASKS) <= set(DESK_TASKS)
    assert list(COUNTER_TASKS) == list(COUNTER_TASK_DESCRIPTIONS) == ["open_drawer", "close_drawer"]
    assert all(t.name == n and t.description == COUNTER_TASK_DESCRIPTIONS[n] for n, t in COUNTER_TASKS.items())
    assert list(HOME_TASKS) == list(HOME_TASK_INFO)
    assert {n: t.needs_arm for n, t in HOME_TASKS.items()} == {n: i.needs_arm for n, i in HOME_TASK_INFO.items()}
    assert [n for n, t in HOME_TASKS.items() if t.needs_arm] == ["open_door", "open_drawer"]


@pytest.mark.parametrize(
    ("lookup", "config"),
    [
        (get_task, lambda name: DeskEnvConfig(task=name)),
        (get_home_task, lambda name: HomeEnvConfig(task=name)),
        (get_counter_task, lambda name: CounterEnvConfig(task=name)),
    ],
)
def test_config_rejects_unknown_tasks_as_the_lookup_does(lookup, config) -> None:
    """A config names an unknown task with the same message as the task lookup of its scene."""
    with pytest.raises(ValueError) as from_lookup:
        lookup("fly_away")
    with pytest.raises(ValueError) as from_config:
        config("fly_away")
    assert str(from_config.value) == str(from_lookup.value)
    assert "unknown" in str(from_lookup.value) and "fly_away" in str(from_lookup.value)
