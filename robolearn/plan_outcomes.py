"""What a planner's plans really do: every replanning's chosen plan, executed to the episode's end in a copy of the env.

A visual-MPC planner is fooled by the predictions it likes best: it chooses a plan whose predicted last frame the
reward rates done, executes its first steps, and replans. The executed episode (``record=``) shows the reward what
the executed actions did, but never what the plans it believed in would have done. ``record_plans=FOLDER`` keeps
those: for each replanning of an episode, the real episode up to that step followed by the whole chosen plan (to its
end, or to the episode's if that comes first, as ``agent.clip_to_episode`` scores it), rolled out in a copy of the env
restored to that step's state (``EnvState``: exact). Each is an episode in ``robolearn collect``'s format, hindsight-labelled by what really
happened, so the reward can be fine-tuned on the video model's prediction of exactly the frames it was fooled by,
labelled with their real outcome:

    robolearn train extra_data=[FOLDER] predicted_frames.video_checkpoint=VIDEO.pt negatives.attempted=0.2 ...

A planned episode of T steps with a replanning every k steps keeps ⌈T / k⌉ plan episodes (10 for the desk's
defaults), at the cost of their env steps (no planning).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from planners.vmpc import MAX_HORIZON, PlanRecord
from robolearn.data.recorder import EpisodeRecorder, PlannedEpisodeWriter

if TYPE_CHECKING:  # pragma: no cover - importing sim loads pybullet
    from robolearn.data.collect import AnnotationSettings

__all__ = ["MAX_PLANS", "PlanOutcomes"]

#: plans kept per planned episode (index slots): at most one per env step
MAX_PLANS = MAX_HORIZON


class PlanOutcomes:
    """Writes, for a finished planned episode, one episode per plan (see the module docstring) to ``root``.

    The episode must have been recorded with ``EpisodeRecorder(keep_env_states=True)``.
    """

    def __init__(self, root: Path, annotation: AnnotationSettings):
        self.writer = PlannedEpisodeWriter(Path(root), annotation, plans_per_episode=MAX_PLANS)
        self._twin: Any = None  # a copy of the planned env (same config), reset once; restored per plan

    def _twin_of(self, env: Any, seed: int) -> Any:
        e = env.unwrapped
        if self._twin is None or self._twin.cfg != e.cfg:
            if self._twin is not None:
                self._twin.close()
            self._twin = type(e)(config=e.cfg)
            self._twin.reset(seed=seed)  # builds the world; every plan then restores an exact state
        return self._twin

    def write(
        self, env: Any, recorder: EpisodeRecorder, plans: Sequence[PlanRecord], task: str, seed: int
    ) -> list[Path]:
        """Roll each plan out from the state it was made in and write it; returns the files (in plan order).

        Args:
            env: the env the episode was planned in (its config is copied, its state untouched).
            recorder: the episode, recorded with ``keep_env_states=True``.
            plans: the episode's plans (``EpisodeRecord.plans``): step made at, actions (H, A).
            task, seed: the planned task and the episode's reset seed (the episodes' identity).
        """
        if not recorder.keep_env_states or len(recorder.env_states) != len(recorder.states):
            raise ValueError("PlanOutcomes needs the episode recorded with EpisodeRecorder(keep_env_states=True)")
        if len(plans) > MAX_PLANS:
            raise ValueError(f"{len(plans)} plans in one episode; at most {MAX_PLANS} are kept")
        steps = len(recorder.actions)
        twin = self._twin_of(env, seed)
        files = []
        for k, plan in enumerate(plans):
            t = int(plan.step)
            if t >= steps:  # a plan made at the last step has nothing left to execute
                continue
            outcome = recorder.prefix(t)
            twin.set_state(recorder.env_states[t])
            for action in np.asarray(plan.actions, np.float32)[: steps - t]:
                obs, *_ = twin.step(action)
                outcome.step(twin, obs, action)
            files.append(self.writer.write(twin, outcome, task, seed, plan=k))
        return files

    def close(self) -> None:
        if self._twin is not None:
            self._twin.close()
            self._twin = None
