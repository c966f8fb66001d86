"""Which desk task a free-text instruction asks for, a question when it leaves that open, or a helpful answer
when it asks for nothing the robot can do.

A language-conditioned reward understands the instruction itself; the task is needed only to start the episode
from that task's initial states and to judge success, so getting it wrong judges the episode on the wrong task.
``InstructionResolver`` reads the instruction's slots (object, mug colour, direction, open or close) from the
word lists of ``conf/instructions/lexicon.yaml`` (``robolearn.instruction_parse``), because a sentence embedding
alone confuses exactly those (nearest-neighbour matching sent "move the pale cup down" to move_white_mug_up).
The embedding (reference phrasings of every task: the canonical instruction, both word banks of
``robolearn.data.language`` and the free-form paraphrases) is used where the lists say nothing: to name an
object they have no word for, and to tell a desk request from an unrelated one (``min_similarity``). When the
slots fit several tasks, ``AmbiguousInstructionError`` names them; when none, ``UnknownInstructionError`` lists
what the robot can do. Measured on hand-written phrasings: ``benchmarks/instruction_resolution.py``.

Example:
    >>> resolver = InstructionResolver()
    >>> resolver.resolve("please pull the drawer open").task
    'open_drawer'
    >>> resolver.resolve("move the pale cup down").reading
    ['mug', 'white', 'down']
"""

from __future__ import annotations

import functools
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
from robolearn.instruction_parse import InstructionSlots, Lexicon, parse_instruction, slot_names
from robolearn.paths import conf_dir
from sim.plumbing.checks import shown
from sim.tasks.desk import DESK_TASKS

__all__ = [
    "AmbiguousInstructionError",
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


class AmbiguousInstructionError(UnknownInstructionError):
    """The instruction fits several tasks (which mug? which way?); the message names them and asks which.

    Attributes:
        candidates: the task names it could mean.
    """

    def __init__(self, message: str, candidates: Sequence[str]):
        super().__init__(message)
        self.candidates = list(candidates)


@dataclass(frozen=True)
class Resolution:
    """The task an instruction was matched to, how closely, and the reference phrasing it matched.

    A task given outright (``task=close_drawer``) is a resolution too, with ``matched`` None: nothing was matched.
    """

    task: str
    similarity: float
    matched: str | None
    #: the slots read from the instruction (object, colour, direction, open/close), for the echo line
    reading: Sequence[str] = ()

    @property
    def by_matching(self) -> bool:
        """Whether the task was matched to the instruction (rather than given)."""
        return self.matched is not None

    def describe(self, instruction: str) -> str:
        """The line the verbs print about it: ``instruction 'x' → task t (matched 'y', similarity 0.93)``."""
        read = f"read as {' '.join(self.reading)}; " if self.reading else ""
        return (
            f"instruction {shown(instruction)} → task {self.task} ({read}nearest phrasing {self.matched!r}, "
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
    min_similarity: float = 0.7,
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
    """Instructions to desk tasks: the slots read from word lists, the sentence embedding where they say nothing.

    ``resolve`` reads the instruction's slots (``robolearn.instruction_parse``: object, mug colour, direction,
    open or close) and keeps the tasks they fit. The object comes from the words that name it; when none does,
    from the sentence embedding's nearest reference phrasings (which recognise an object by a word the
    lists lack), as long as that is similar enough (``min_similarity``) and clearly one object family. A slot the
    instruction leaves open (which mug, which way) is not guessed: ``AmbiguousInstructionError`` names the tasks
    it could mean.

    Args:
        text_encoder: a ``rewards.text.TextEncoder`` (default: the packaged all-MiniLM-L6-v2); pass the
            reward model's own encoder to embed nothing twice. Its tokenizer's whole words are the real words
            the typo rule leaves alone.
        tasks: the tasks to choose from (default: every desk task).
        min_similarity: the cosine similarity (−1..1) the nearest reference must reach when no object is named.
        capable: the tasks the answer to an unknown instruction lists as what the robot can do
            (default: ``tasks``); e.g. the ones a set of checkpoints supports.
        lexicon: the word lists (default: ``conf/instructions/lexicon.yaml``).
    """

    def __init__(
        self,
        text_encoder: Any | None = None,
        tasks: Sequence[str] | None = None,
        min_similarity: float = 0.7,
        capable: Sequence[str] | None = None,
        lexicon: Lexicon | None = None,
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
        self.lexicon = lexicon if lexicon is not None else Lexicon.load()
        missing = sorted({task_slots(t).family for t in DESK_TASKS} - set(self.lexicon.objects))
        if missing:
            raise ConfigError(f"the instruction lexicon names no words for the object families {missing}; add them")
        self.encoder = text_encoder if text_encoder is not None else TextEncoder()
        tokenizer = getattr(self.encoder, "tokenizer", None)
        vocab = tokenizer.get_vocab() if tokenizer is not None and hasattr(tokenizer, "get_vocab") else {}
        self.known_words = frozenset(w for w in vocab if w.isalpha())
        # Every desk task's references are embedded (not only ``tasks``): the object family is judged over the
        # whole desk, so an instruction for a task outside ``tasks`` is recognised and answered, not bent.
        pairs = _reference_phrasings(list(DESK_TASKS))
        self.phrasings = [p for p, _ in pairs]
        self.labels = [t for _, t in pairs]
        with torch.inference_mode():
            self._refs = torch.nn.functional.normalize(self.encoder.encode(self.phrasings).float(), dim=-1)

    def nearest(self, instruction: str) -> dict[str, tuple[float, str]]:
        """Every desk task's nearest reference phrasing to ``instruction``: task → (cosine similarity, phrasing)."""
        with torch.inference_mode():
            q = torch.nn.functional.normalize(self.encoder.encode([instruction]).float(), dim=-1)[0]
        sims = (self._refs @ q).tolist()
        best: dict[str, tuple[float, str]] = {}
        for sim, task, phrasing in zip(sims, self.labels, self.phrasings):
            if task not in best or sim > best[task][0]:
                best[task] = (min(1.0, max(-1.0, float(sim))), phrasing)  # unit vectors: |cos| ≤ 1 up to rounding
        return best

    def resolve(self, instruction: str) -> Resolution:
        """The task ``instruction`` asks for.

        Raises:
            AmbiguousInstructionError: it fits several tasks (the message names them and asks which).
            UnknownInstructionError: it fits none (the message lists what the robot can do).
        """
        if not isinstance(instruction, str) or not instruction.strip():
            raise UnknownInstructionError("the instruction is empty; " + self.help_text())
        text = instruction.strip()
        near = self.nearest(text)
        slots = parse_instruction(text, self.lexicon, self.known_words)
        families = self._families(text, slots, near)
        fitting = [t for t in DESK_TASKS if task_slots(t).family in families and self._fits(task_slots(t), slots)]
        chosen = [t for t in fitting if t in self.tasks]
        if len(chosen) == 1:
            sim, matched = near[chosen[0]]
            return Resolution(chosen[0], sim, matched, slot_names(slots))
        if len(chosen) > 1:
            options = capabilities(chosen)
            raise AmbiguousInstructionError(
                f"{shown(text.rstrip('.!?'))} could mean "
                + ", ".join(repr(o) for o in options[:-1])
                + f" or {options[-1]!r}: say which, e.g. {options[0]!r}.",
                chosen,
            )
        outside = [t for t in fitting if t not in self.tasks]
        closest = f" (closest thing I can do: {capabilities(outside[:1])[0]!r})" if outside else ""
        raise UnknownInstructionError(f"I don't know how to {shown(text.rstrip('.!?'))}{closest}. " + self.help_text())

    def _families(self, text: str, slots: InstructionSlots, near: Mapping[str, tuple[float, str]]) -> list[str]:
        """The object families the instruction is about: the named one, or the embedding's clear choice."""
        with_tasks = {task_slots(t).family for t in DESK_TASKS}
        if slots.objects:
            # Several objects named ("open the drawer under the tap"): the first one the other slots fit. An
            # instruction about something no task moves ("put the block in the drawer") is about that.
            if slots.objects[0] not in with_tasks:
                return []
            fit = [f for f in slots.objects if f in with_tasks and self._family_fits(f, slots)]
            return fit[:1] if fit else list(slots.objects[:1])
        if slots.absent_part:  # "close the fridge door": a thing not on the desk
            return []
        by_family: dict[str, float] = {}
        for task, (sim, _) in near.items():
            f = task_slots(task).family
            by_family[f] = max(by_family.get(f, -1.0), sim)
        ranked = sorted((f for f in by_family if self._family_fits(f, slots)), key=lambda f: -by_family[f])
        margin = self.lexicon.unnamed_object_margin
        sure = bool(ranked) and by_family[ranked[0]] >= self.min_similarity
        if sure and (len(ranked) == 1 or by_family[ranked[0]] - by_family[ranked[1]] >= margin):
            return ranked[:1]
        if slots.pronoun and ranked and (slots.change is not None or slots.directions or slots.colours):
            # "open it": the object is one the speaker has in mind; every object the other slots fit is a candidate
            return ranked
        if not sure:
            best = max(near, key=lambda t: near[t][0])
            closest = (
                f" (closest thing I can do: {capabilities([best])[0]!r}, similarity "
                f"{near[best][0]:.2f} < {self.min_similarity})"
                if best in self.capable
                else ""
            )
            raise UnknownInstructionError(
                f"I don't know how to {shown(text.rstrip('.!?'))}{closest}. " + self.help_text()
            )
        return [f for f in ranked if by_family[ranked[0]] - by_family[f] < margin]

    def family_colours(self, family: str) -> set[str]:
        """The colours ``family``'s objects come in (the mugs: white, black; the button: red); empty = any."""
        colours = {k.colour for t in DESK_TASKS if (k := task_slots(t)).family == family and k.colour}
        return colours | ({self.lexicon.colour_of[family]} if family in self.lexicon.colour_of else set())

    def _family_fits(self, family: str, slots: InstructionSlots) -> bool:
        """Whether the slots said can apply to ``family`` (open/close to a door or drawer, a side to a mug, the
        colour to one of its objects)."""
        kinds = [task_slots(t) for t in DESK_TASKS if task_slots(t).family == family]
        if slots.change is not None and not any(k.change for k in kinds):
            return False
        colours = self.family_colours(family)
        if slots.colours and colours and slots.colours[0] not in colours:
            return False
        said = slots.directions or slots.direction_options
        return not said or any(k.direction in said for k in kinds)

    def _fits(self, task: TaskSlots, slots: InstructionSlots) -> bool:
        """Whether ``task`` is one of those the slots leave possible (a slot not said rules nothing out)."""
        colours = self.family_colours(task.family)
        if slots.colours and colours and slots.colours[0] not in ({task.colour} if task.colour else colours):
            return False
        said = slots.directions or slots.direction_options
        if task.direction is not None and said and task.direction not in said:
            return False
        return task.change is None or slots.change is None or task.change == slots.change

    def help_text(self) -> str:
        """One line listing what the robot can be told."""
        return "The robot can: " + "; ".join(capabilities(self.capable)) + "."


@dataclass(frozen=True)
class TaskSlots:
    """A desk task's slots in the words of the lexicon: family (drawer, cabinet, faucet, button, mug), colour
    (mugs), direction (mugs, faucet), change (open / close for the drawer and cabinet)."""

    family: str
    colour: str | None
    direction: str | None
    change: str | None


@functools.cache
def task_slots(task: str) -> TaskSlots:
    """The slots of desk task ``task`` (from its description: ``white_mug`` → mug, white)."""
    d = DESK_TASKS[task].description
    obj = d.object
    colour = None
    if obj.endswith("_mug"):
        colour, obj = obj.split("_")[0], "mug"
    family = {"cabinet_door": "cabinet"}.get(obj, obj)
    change = d.change if d.change in ("open", "close") else None
    return TaskSlots(family, colour, d.direction, change)
