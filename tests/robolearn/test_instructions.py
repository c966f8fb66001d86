"""robolearn.instructions and robolearn.instruction_parse: instructions resolve to the task they ask for, or to a
question when they leave it open, or to "I don't know how" when they ask for nothing the robot can do."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from robolearn.config import ConfigError
from robolearn.instruction_parse import Lexicon, parse_instruction, words
from robolearn.instructions import AmbiguousInstructionError, InstructionResolver, UnknownInstructionError

PHRASINGS = Path(__file__).resolve().parents[2] / "benchmarks" / "instructions"


@pytest.fixture(scope="module")
def resolver() -> InstructionResolver:
    return InstructionResolver()


@pytest.mark.parametrize(
    "instruction, task",
    [
        # the three the nearest-neighbour matcher got wrong (issue 26): direction, colour, open/close
        ("move the pale cup down", "move_white_mug_down"),
        ("push the light mug up", "move_white_mug_up"),
        ("slide the compartment shut", "close_drawer"),
        ("please pull the drawer open", "open_drawer"),
        ("shut the drawer", "close_drawer"),
        ("turn the faucet to the left", "turn_faucet_left"),
        ("Move the black mug right!", "move_black_mug_right"),
        # places: toward / away from something at the camera's or the robot's side
        ("nudge the ivory cup toward the camera", "move_white_mug_down"),
        ("push the dark mug away from the viewer", "move_black_mug_up"),
        ("scoot the charcoal mug nearer the robot arm", "move_black_mug_up"),
        ("bring the white mug closer", "move_white_mug_down"),
        ("rotate the tap anticlockwise", "turn_faucet_left"),
        ("spin the spigot clockwise", "turn_faucet_right"),
        # what things are like now is not what to do; negation denies the action, not the object
        ("the drawer is open, shut it", "close_drawer"),
        ("the cabinet door is still closed so please open it", "open_cabinet"),
        ("make sure the drawer is fully shut", "close_drawer"),
        ("i bumped my knee on the open drawer, push it closed", "close_drawer"),
        ("don't close the cabinet, open it", "open_cabinet"),
        ("don't move the white mug right, move it left", "move_white_mug_left"),
        ("not the white mug, the black one: slide it left", "move_black_mug_left"),
        ("the black mug is too far to the right, move it left", "move_black_mug_left"),
        # typos of slot words; an object word in a verb's place is a verb
        ("mvoe the balck mug donw", "move_black_mug_down"),
        ("opne the drawr", "open_drawer"),
        ("tap the button please", "push_button"),
        ("could you switch the tap to the right", "turn_faucet_right"),
        ("give the red button a push", "push_button"),
        # several objects named: the one the other words fit
        ("open the drawer under the tap", "open_drawer"),
    ],
)
def test_resolves_the_task_asked_for(resolver: InstructionResolver, instruction: str, task: str) -> None:
    got = resolver.resolve(instruction)
    assert got.task == task
    assert got.matched and -1.0 <= got.similarity <= 1.0 and got.reading


@pytest.mark.parametrize(
    "instruction, candidates",
    [
        ("move the mug to the left", {"move_white_mug_left", "move_black_mug_left"}),
        ("turn the faucet", {"turn_faucet_left", "turn_faucet_right"}),
        ("open it", {"open_drawer", "open_cabinet"}),
        ("toggle the drawer", {"open_drawer", "close_drawer"}),
        ("nudge the black mug sideways", {"move_black_mug_left", "move_black_mug_right"}),
        ("slide the white mug forward", {"move_white_mug_up", "move_white_mug_down"}),
        ("move the white mug up and to the left", {"move_white_mug_up", "move_white_mug_left"}),
    ],
)
def test_asks_which_when_the_instruction_leaves_it_open(
    resolver: InstructionResolver, instruction: str, candidates: set[str]
) -> None:
    with pytest.raises(AmbiguousInstructionError, match="could mean .*say which") as e:
        resolver.resolve(instruction)
    assert set(e.value.candidates) == candidates


@pytest.mark.parametrize(
    "instruction",
    [
        "bake a chocolate cake",
        "press the blue button",  # the button is red
        "move the green mug left",
        "close the fridge door",  # a door, but not the cabinet's
        "pick up the red block and put it in the drawer",
        "open the window",
    ],
)
def test_refuses_what_the_robot_cannot_do(resolver: InstructionResolver, instruction: str) -> None:
    with pytest.raises(UnknownInstructionError, match="The robot can: .*open the drawer") as e:
        resolver.resolve(instruction)
    assert not isinstance(e.value, AmbiguousInstructionError)


def test_restricted_tasks_answer_with_the_closest_it_can_do(resolver: InstructionResolver) -> None:
    only = InstructionResolver(resolver.encoder, tasks=["open_drawer", "close_drawer"])
    assert only.resolve("shove the drawer back in").task == "close_drawer"
    with pytest.raises(UnknownInstructionError, match="closest thing I can do: 'move the white mug left'"):
        only.resolve("slide the white cup leftward")


@pytest.mark.parametrize("name", ["dev", "dev2"])
def test_development_phrasings_resolve_right(resolver: InstructionResolver, name: str) -> None:
    """The hand-written development sets (benchmarks/instructions/): ≥ 97% right, and never a wrong task (what
    is not right is a question); no ambiguous one guessed but the one the set's writer and the issue disagree on."""
    main = yaml.safe_load((PHRASINGS / f"{name}.yaml").read_text())
    extra = yaml.safe_load((PHRASINGS / f"{name}_extra.yaml").read_text())
    wrong, unanswered = [], []
    for text, task in main.items():
        try:
            got = resolver.resolve(text).task
        except UnknownInstructionError:
            unanswered.append(text)
            continue
        if got != task:
            wrong.append((text, task, got))
    assert not wrong
    assert len(unanswered) <= 0.03 * len(main), unanswered
    guessed = []
    for text in extra["ambiguous"]:
        try:
            guessed.append((text, resolver.resolve(text).task))
        except AmbiguousInstructionError:
            pass
        except UnknownInstructionError:
            pass
    # "close the compartment": the word banks call the drawer a compartment, the set's writer thought it open
    assert guessed in ([], [("close the compartment", "close_drawer")])
    for text in extra["unrelated"]:
        with pytest.raises(UnknownInstructionError):
            resolver.resolve(text)


def test_words_split_like_a_reader() -> None:
    assert words("The tap's lever -- turn it LEFT-hand!") == [
        "the",
        "tap",
        "lever",
        ",",
        "turn",
        "it",
        "left",
        "hand",
        "!",
    ]
    assert words("don't push") == ["don't", "push"]


def test_typos_are_read_but_real_words_are_not() -> None:
    lexicon = Lexicon.load()
    real = frozenset({"lift", "the", "white", "mug"})
    slots = parse_instruction("lift the white mug rigth", lexicon, real)
    assert slots.directions == ("right",) and slots.corrected == (("rigth", "right"),)
    # "lift" is one letter from "left", but a real word: no direction is read from it
    assert parse_instruction("lift the white mug", lexicon, real).directions == ()
    # without a vocabulary it would be corrected: the vocabulary is what keeps it
    assert parse_instruction("lift the white mug", lexicon).directions == ("left",)


def _write_lexicon(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "conf" / "instructions" / "lexicon.yaml").read_text())
    change(raw)
    path = tmp_path / "lexicon.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_phrase_in_two_lists_is_refused(tmp_path: Path) -> None:
    path = _write_lexicon(tmp_path, lambda raw: raw["directions"]["up"].append("left"))
    with pytest.raises(ConfigError, match="'left' is listed as direction/left and as direction/up; keep it in one"):
        Lexicon.load(path)


def test_a_lexicon_without_a_list_says_which(tmp_path: Path) -> None:
    path = _write_lexicon(tmp_path, lambda raw: raw.pop("negations"))
    with pytest.raises(ConfigError, match=r"lacks \['negations'\]"):
        Lexicon.load(path)
    with pytest.raises(ConfigError, match="cannot read the instruction lexicon"):
        Lexicon.load(tmp_path / "missing.yaml")
