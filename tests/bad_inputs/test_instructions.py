"""Bad instructions and the messages that echo them: several instructions, Hydra's special characters, very long
text, values that are no sentence, instruction files; and suggestions composed with the user's own choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from robolearn.cli import main
from tests.bad_inputs.conftest import BadCli

LONG = "open the drawer " * 625  # 10,000 characters
#: the most characters an error line may have when it echoes a 10,000-character value
SHORT_LINE = 1200


def composed(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """The ``instruction:`` line of ``robolearn ARGV --cfg`` (the composed config)."""
    capsys.readouterr()
    assert main([*argv, "--cfg"]) == 0
    return next(line for line in capsys.readouterr().out.splitlines() if line.startswith("instruction:"))


# ---------------------------------------------------------------------------------------------- demo
def test_demo_refuses_two_quoted_instructions(bad_cli: BadCli) -> None:
    bad_cli(
        ["demo", "open the drawer", "close the drawer"], "one instruction", "'open the drawer'", "'close the drawer'"
    )


def test_demo_refuses_words_and_instruction_both(bad_cli: BadCli) -> None:
    bad_cli(["demo", "open the drawer", "instruction=close the drawer"], "given twice", "give it once")


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["open", "the", "drawer"], "instruction: open the drawer"),  # unquoted words are joined
        (["set drawer=open"], "instruction: set drawer=open"),  # words with '=' are no override
        (["it's open, close it"], "instruction: it's open, close it"),
        (["open the drawer", "seed=3"], "instruction: open the drawer"),
    ],
    ids=["words", "equals", "quote-and-comma", "with-override"],
)
def test_demo_keeps_the_instruction_verbatim(capsys: pytest.CaptureFixture[str], argv: list[str], line: str) -> None:
    assert composed(capsys, ["demo", *argv]) == line


def test_demo_shortens_a_long_pair_of_instructions(bad_cli: BadCli) -> None:
    answer = bad_cli(["demo", LONG, LONG], "one instruction", "characters")
    assert len(answer.message) < SHORT_LINE


@pytest.mark.slow  # loads the shipped reward's sentence encoder to match the instruction
def test_demo_shortens_a_long_instruction_it_does_not_know(bad_cli: BadCli) -> None:
    answer = bad_cli(["demo", "x" * 10_000], "I don't know how to", "(10000 characters)", "The robot can")
    assert len(answer.message) < SHORT_LINE


# ---------------------------------------------------------------------------------------------- plan
@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("set drawer=open", "instruction: set drawer=open"),
        ("it's open, close it", "instruction: it's open, close it"),
        ('say "open"', 'instruction: say "open"'),
        ("open the drawer", "instruction: open the drawer"),
    ],
    ids=["equals", "quote-and-comma", "double-quotes", "plain"],
)
def test_plan_reads_free_text_instructions(capsys: pytest.CaptureFixture[str], value: str, line: str) -> None:
    assert composed(capsys, ["plan", f"instruction={value}"]) == line


@pytest.mark.parametrize(
    ("value", "needles"),
    [("42", ("instruction 42 is not a sentence", "The robot can")), ("''", ("the instruction is empty",))],
    ids=["number", "empty"],
)
def test_plan_refuses_an_instruction_that_is_no_sentence(bad_cli: BadCli, value: str, needles: tuple[str, ...]) -> None:
    bad_cli(["plan", "objective=oracle", f"instruction={value}"], *needles)


def test_an_unreadable_override_names_itself_and_how_to_quote(bad_cli: BadCli) -> None:
    bad_cli(["rollout", "video.path=a b=c.gif"], "cannot read the override 'video.path=a b=c.gif'", "video.path='...'")


def test_a_long_unreadable_override_is_shortened(bad_cli: BadCli) -> None:
    answer = bad_cli(["rollout", f"video.path={'a' * 10_000}("], "cannot read the override", "characters")
    assert len(answer.message) < SHORT_LINE


def test_a_value_with_too_many_digits(bad_cli: BadCli) -> None:
    answer = bad_cli(["rollout", f"episodes={'9' * 5000}"], "cannot read the override 'episodes=", "digits")
    assert len(answer.message) < SHORT_LINE


def test_a_long_wrong_value_is_shortened(bad_cli: BadCli) -> None:
    answer = bad_cli(["rollout", f"episodes={'9' * 5000}x"], "episodes=", "(5001 characters)", "must be a number")
    assert len(answer.message) < SHORT_LINE


# ---------------------------------------------------------------------------------------------- suggestions
def test_bench_in_an_env_without_a_bench_says_so_first(bad_cli: BadCli) -> None:
    bad_cli(["bench", "env=counter", "trials=1"], "does not run in env=counter", "env=desk or env=home")


def test_plan_in_an_env_without_plans_says_so_first(bad_cli: BadCli) -> None:
    bad_cli(["plan", "env=home", "agent.horizon=3"], "does not run in env=home")


def test_a_suggestion_is_composed_with_the_users_group_choices(bad_cli: BadCli) -> None:
    answer = bad_cli(["plan", "env=counter", "trials=1"], "unknown config key 'trials' (with env=counter)")
    assert "did you mean trials" not in answer.message


def test_a_suggestion_never_repeats_the_key(bad_cli: BadCli) -> None:
    bad_cli(["bench", "trials2=1"], "unknown config key 'trials2'", "did you mean trials?")


# ---------------------------------------------------------------------------------------------- instruction files
@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("'': open_drawer\n", ("the entry ''", "must map an instruction")),
        ("open the drawer: 5\n", ("the entry 'open the drawer': 5",)),
        (f"? {'x' * 10_000}\n: [open_drawer]\n", ("the entry 'xxx", "(10000 characters)")),  # a YAML long key
        ("open it: dance\n", ("names unknown tasks ['dance']",)),
        ("- open the drawer\n", ("must be a mapping instruction → task",)),
    ],
    ids=["empty-instruction", "task-number", "long-instruction", "unknown-task", "a-list"],
)
def test_bench_instruction_files(bad_cli: BadCli, tmp_path: Path, text: str, needles: tuple[str, ...]) -> None:
    path = tmp_path / "phrasings.yaml"
    path.write_text(text)
    answer = bad_cli(
        ["bench", "agents=[random]", "trials=1", f"out={tmp_path / 'b'}", f"instruction_file={path}"], *needles
    )
    assert len(answer.message) < SHORT_LINE


@pytest.mark.slow  # runs a (random) bench episode
def test_bench_runs_instructions_hydra_cannot_parse(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "phrasings.yaml"
    path.write_text('"set drawer=open, it\'s shut": open_drawer\n')
    argv = ["bench", "agents=[random]", "tasks=[open_drawer]", "variants=[train]", "trials=1", "workers=1"]
    assert main([*argv, "figure=false", "progress_bar=false", f"out={tmp_path / 'b'}", f"instruction_file={path}"]) == 0
    assert "set drawer=open, it's shut" in (tmp_path / "b" / "episodes.jsonl").read_text()


def test_eval_instruction_file_of_another_format(bad_cli: BadCli, tmp_path: Path) -> None:
    from robolearn.paths import SHIPPED_DIR

    path = tmp_path / "phrasings.txt"
    path.write_text("push the drawer shut: close_drawer\n")
    answer = bad_cli(
        ["eval", f"checkpoint={SHIPPED_DIR / 'lorel_reward.pt'}", f"instructions={path}"],
        "phrasings.txt",
        "use a .yaml, .yml or .json file",
    )
    assert "not valid" not in answer.message  # not "is not valid TXT: ... use a .yaml" (a swallowed ConfigError)
