"""Which desk task a free-text instruction asks for, or a helpful answer when it asks for none.

A language-conditioned reward understands the instruction itself; the task is needed only to start
the episode from that task's initial states and to judge success. ``InstructionResolver`` embeds
the instruction with the sentence encoder and compares it with reference phrasings of every task
(the canonical instruction, phrasings from both word banks of ``robolearn.data.language`` and the
free-form paraphrases): the nearest reference names the task when its cosine similarity reaches
``min_similarity``; otherwise ``UnknownInstructionError`` lists what the robot can do.

Example:
    >>> resolver = InstructionResolver()
    >>> resolver.resolve("please pull the drawer open").task
    'open_drawer'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf

from rewards.text import TextEncoder
from robolearn.config import ConfigError
from robolearn.data.language import REPHRASING_CATEGORIES, describe_category
from robolearn.paths import conf_dir
from sim.plumbing.checks import shown
from sim.tasks.desk import DESK_TASKS

__all__ = [
    "InstructionResolver",
    "Resolution",
    "UnknownInstructionError",
    "capabilities",
    "check_instruction",
    "resolve_instruction",
]

#: reference phrasings drawn per task and rephrasing category (more = finer coverage, slower start)
PHRASINGS_PER_CATEGORY = 12
#: seed of the drawn reference phrasings (fixed: the same instruction always resolves the same way)
REFERENCE_SEED = 0


class UnknownInstructionError(ValueError):
    """The instruction matches no task well enough; the message lists what the robot can do."""


@dataclass(frozen=True)
class Resolution:
    """The task an instruction was matched to, how closely, and the reference phrasing it matched.

    A task given outright (``task=close_drawer``) is a resolution too, with ``matched`` None: nothing was matched.
    """

    task: str
    similarity: float
    matched: str | None

    @property
    def by_matching(self) -> bool:
        """Whether the task was matched to the instruction (rather than given)."""
        return self.matched is not None

    def describe(self, instruction: str) -> str:
        """The line the verbs print about it: ``instruction 'x' → task t (matched 'y', similarity 0.93)``."""
        return (
            f"instruction {shown(instruction)} → task {self.task} (matched {self.matched!r}, "
            f"similarity {self.similarity:.2f})"
        )


def capabilities(tasks: Sequence[str] | None = None) -> list[str]:
    """The canonical instructions of ``tasks`` (default: every desk task), e.g. "open the drawer"."""
    names = list(tasks) if tasks is not None else list(DESK_TASKS)
    return [DESK_TASKS[t].description.instruction() for t in names]


def _reference_phrasings(tasks: Sequence[str]) -> list[tuple[str, str]]:
    """(phrasing, task) pairs: canonical, word-bank phrasings of every category, and free-form ones."""

    rng = np.random.default_rng(REFERENCE_SEED)
    pairs: list[tuple[str, str]] = []
    for task in tasks:
        desc = DESK_TASKS[task].description
        label = (desc.object, desc.change, desc.direction)
        pairs.append((desc.instruction(), task))
        for category in REPHRASING_CATEGORIES:
            pairs += [(describe_category(label, category, rng), task) for _ in range(PHRASINGS_PER_CATEGORY)]
    freeform = OmegaConf.to_container(OmegaConf.load(Path(conf_dir()) / "instructions" / "freeform.yaml"))
    if isinstance(freeform, Mapping):
        pairs += [(str(text), str(task)) for text, task in freeform.items() if task in tasks]
    return sorted(set(pairs))


def check_instruction(text: object, capable: Sequence[str] | None = None) -> str:
    """``text`` stripped, if it is an instruction at all (a non-empty sentence).

    Args:
        text: what the user said (``instruction=``, or the words of ``robolearn demo``).
        capable: the tasks the answer lists as what the robot can do (default: every desk task).

    Raises:
        UnknownInstructionError: one line: what to say, and what the robot can do.
    """
    if text is not None and not isinstance(text, str):
        raise UnknownInstructionError(
            f"the instruction {shown(text)} is not a sentence: say what to do, e.g. instruction='open the drawer'. "
            "The robot can: " + "; ".join(capabilities(capable)) + "."
        )
    if text is None or not text.strip():
        raise UnknownInstructionError(
            'the instruction is empty: say what to do, e.g. "open the drawer". The robot can: '
            + "; ".join(capabilities(capable))
            + "."
        )
    return text.strip()


def resolve_instruction(
    instruction: object,
    task: str = "auto",
    *,
    tasks: Sequence[str] | None = None,
    resolver: InstructionResolver | None = None,
    text_encoder: Any | None = None,
    min_similarity: float = 0.6,
    capable: Sequence[str] | None = None,
) -> Resolution:
    """The one path from an instruction to its task, shared by ``robolearn plan``, ``demo`` and ``bench``.

    Checks the text (``check_instruction``), then with ``task="auto"`` matches it to the nearest task of
    ``tasks`` (``InstructionResolver``); a task given outright is checked against ``tasks`` instead. The callers
    hand the result on (``run_plan(..., resolution=)``) rather than resolving again.

    Args:
        instruction: the instruction text.
        task: ``auto``, or the task to run (then nothing is matched).
        tasks: the tasks it may resolve to (default: every desk task).
        resolver: a resolver already built for ``tasks`` (its reference phrasings are embedded once); default:
            one built from ``text_encoder``, ``min_similarity`` and ``capable``.
        text_encoder: the sentence encoder of a new resolver (e.g. the reward model's, to load none twice).
        min_similarity: the cosine similarity a match must reach.
        capable: the tasks an answer to an unknown instruction lists as what the robot can do.

    Raises:
        UnknownInstructionError: an empty instruction, or one that matches no task (one line, with what the
            robot can do).
        ConfigError: ``task`` is neither ``auto`` nor one of ``tasks``.
    """
    text = check_instruction(instruction, capable if capable is not None else tasks)
    if task != "auto":
        if tasks is not None and task not in tasks:
            raise ConfigError(f"task={task!r} is not a task of this env; choose auto or one of {sorted(tasks)}")
        return Resolution(task, 1.0, None)
    if resolver is None:
        resolver = InstructionResolver(text_encoder, tasks=tasks, min_similarity=min_similarity, capable=capable)
    return resolver.resolve(text)


class InstructionResolver:
    """Nearest-reference matching of instructions to desk tasks with a sentence encoder.

    Args:
        text_encoder: a ``rewards.text.TextEncoder`` (default: the packaged all-MiniLM-L6-v2); pass the
            reward model's own encoder to embed nothing twice.
        tasks: the tasks to choose from (default: every desk task).
        min_similarity: the cosine similarity (−1..1) the nearest reference must reach.
        capable: the tasks the answer to an unknown instruction lists as what the robot can do
            (default: ``tasks``); e.g. the ones a set of checkpoints supports.
    """

    def __init__(
        self,
        text_encoder: Any | None = None,
        tasks: Sequence[str] | None = None,
        min_similarity: float = 0.6,
        capable: Sequence[str] | None = None,
    ):
        self.tasks = list(tasks) if tasks is not None else list(DESK_TASKS)
        unknown = [t for t in self.tasks if t not in DESK_TASKS]
        if unknown:
            raise ValueError(f"unknown desk tasks {unknown}; choose from {sorted(DESK_TASKS)}")
        if not -1.0 <= float(min_similarity) <= 1.0:
            raise ValueError(f"min_similarity must be a cosine similarity in [-1, 1], got {min_similarity!r}")
        self.min_similarity = float(min_similarity)
        self.capable = list(capable) if capable is not None else self.tasks
        unknown = [t for t in self.capable if t not in DESK_TASKS]
        if unknown:
            raise ValueError(f"unknown desk tasks {unknown} in capable; choose from {sorted(DESK_TASKS)}")
        self.encoder = text_encoder if text_encoder is not None else TextEncoder()
        pairs = _reference_phrasings(self.tasks)
        self.phrasings = [p for p, _ in pairs]
        self.labels = [t for _, t in pairs]
        with torch.inference_mode():
            self._refs = torch.nn.functional.normalize(self.encoder.encode(self.phrasings).float(), dim=-1)

    def resolve(self, instruction: str) -> Resolution:
        """The task ``instruction`` asks for.

        Raises:
            UnknownInstructionError: no reference is similar enough (the message lists the tasks).
        """
        if not isinstance(instruction, str) or not instruction.strip():
            raise UnknownInstructionError("the instruction is empty; " + self.help_text())
        with torch.inference_mode():
            q = torch.nn.functional.normalize(self.encoder.encode([instruction]).float(), dim=-1)[0]
        sims = self._refs @ q
        i = int(sims.argmax())
        if float(sims[i]) < self.min_similarity:
            closest = (
                f" (closest thing I can do: {capabilities([self.labels[i]])[0]!r}, similarity "
                f"{float(sims[i]):.2f} < {self.min_similarity})"
                if self.labels[i] in self.capable
                else ""
            )
            raise UnknownInstructionError(
                f"I don't know how to {shown(instruction.strip().rstrip('.!?'))}{closest}. " + self.help_text()
            )
        return Resolution(self.labels[i], float(sims[i]), self.phrasings[i])

    def help_text(self) -> str:
        """One line listing what the robot can be told."""
        return "The robot can: " + "; ".join(capabilities(self.capable)) + "."
