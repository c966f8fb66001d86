"""The task interface: what to change, how it starts, how success is judged, and an expert.

A task is stateless apart from its definition; per-episode data (the object states at reset)
is passed in, so that an environment state can be saved and restored exactly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim.tasks.catalogue import TaskDescription as TaskDescription  # re-exported: defined with the task names

if TYPE_CHECKING:  # pragma: no cover
    from sim.config import SuccessThresholds
    from sim.scenes.desk import DeskScene, ObjectStates


class Expert(ABC):
    """A scripted closed-loop policy that reads the simulator state (not pixels)."""

    def reset(self) -> None:
        """Forget any per-episode memory (phase of a motion)."""

    @abstractmethod
    def act(self, scene: DeskScene, init: ObjectStates) -> np.ndarray:
        """The next action (4,) in [-1, 1]: (Δx, Δy, Δz, gripper)."""


class Task(ABC):
    """One instruction the robot can be given in the desk scene."""

    name: str
    description: TaskDescription
    #: a short horizon within which the expert reliably succeeds (env steps)
    expert_horizon: int = 20

    @abstractmethod
    def sample_initial_state(self, scene: DeskScene, rng: np.random.Generator) -> None:
        """Teleport the task's objects to a random start from the task's initial-state distribution."""

    @abstractmethod
    def progress(self, now: ObjectStates, init: ObjectStates) -> float:
        """Signed amount of the instructed change since reset (m or rad); positive = toward success."""

    @abstractmethod
    def threshold(self, th: SuccessThresholds) -> float:
        """How much progress counts as success (m or rad)."""

    @abstractmethod
    def interaction_point(self, scene: DeskScene) -> np.ndarray:
        """Where the gripper has to be to make progress (world, m); used by the dense reward."""

    @abstractmethod
    def make_expert(self) -> Expert:
        """A fresh scripted expert for this task."""

    def succeeded(self, now: ObjectStates, init: ObjectStates, th: SuccessThresholds) -> bool:
        return self.progress(now, init) >= self.threshold(th)

    def dense_reward(self, scene: DeskScene, now: ObjectStates, init: ObjectStates, th: SuccessThresholds) -> float:
        """Oracle shaped reward for planning ablations, roughly in [-1, 1.5].

        ``clip(progress / threshold, -1, 1.5)`` plus a reaching term ``-0.5 * min(d / 0.5 m, 1)``
        where d is the distance from the tool centre point to the interaction point (dropped once
        the task is done, so finishing never costs reward).
        """
        done = float(np.clip(self.progress(now, init) / self.threshold(th), -1.0, 1.5))
        if done >= 1.0:
            return done
        d = float(np.linalg.norm(now.tcp - self.interaction_point(scene)))
        return done - 0.5 * min(d / 0.5, 1.0)


TaskFactory = Callable[[], Task]
