"""One collected episode in memory: what the collector produces and the writer stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

Label = tuple[str, str, "str | None"]  # (object, change, direction), e.g. ("white_mug", "move", "up")


@dataclass
class Episode:
    """A finished episode; shapes follow ``robolearn.data.schema``.

    Attributes:
        index: episode index in its dataset (its seed is ``dataset seed + index``).
        seed: the seed the episode was generated with.
        task: the task whose initial-state distribution started the episode.
        exploration: how actions were chosen (e.g. "uniform", "correlated", "expert_mix").
        obs: modality → array with T+1 frames (uint8 rgb (T+1, H, W, 3), float16 depth, ...).
        actions: float32 (T, 4), as applied.
        expert: bool (T,), True where the action came from the scripted expert.
        states: float64 (T+1, S), ``SimState.flat()``.
        object_states: float32 (T+1, K), ``ObjectStates.vector()``.
        labels: hindsight structured labels of the whole episode (first vs last frame).
        instructions: hindsight descriptions in training phrasings.
        heldout_instructions: descriptions in phrasings that training never sees.
        scene_params: the randomization draw, JSON-serializable.
        clip: what a video clip shows (``robolearn.data.videos.clip``: template, actor, outcome, ...), stored as
            the JSON attribute ``clip``; None (not stored) for an interaction episode.
    """

    index: int
    seed: int
    task: str
    exploration: str
    obs: dict[str, np.ndarray]
    actions: np.ndarray
    expert: np.ndarray
    states: np.ndarray
    object_states: np.ndarray
    labels: list[Label] = field(default_factory=list)
    instructions: list[str] = field(default_factory=list)
    heldout_instructions: list[str] = field(default_factory=list)
    scene_params: dict[str, Any] = field(default_factory=dict)
    clip: dict[str, Any] | None = None

    @property
    def length(self) -> int:
        """Number of actions T."""
        return int(self.actions.shape[0])
