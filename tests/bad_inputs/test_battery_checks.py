"""The battery's own checks catch what they must: a traceback, several lines, a message that names nothing."""

from __future__ import annotations

import pytest

from tests.bad_inputs.conftest import BadCli, check_needles, one_line


def test_a_traceback_or_several_lines_fail_the_one_line_check() -> None:
    with pytest.raises(AssertionError, match="traceback"):
        one_line('Traceback (most recent call last):\n  File "x.py", line 1\nValueError: x\n', "case")
    with pytest.raises(AssertionError, match="one error line"):
        one_line("robolearn x: error: a\nrobolearn x: error: b\n", "case")
    assert one_line("\nrobolearn x: error: a\n\n", "case") == "robolearn x: error: a"


def test_a_message_must_name_the_offending_key() -> None:
    with pytest.raises(AssertionError, match="does not name"):
        check_needles("robolearn rollout: error: bad value", ["episodes"], "case")


def test_an_unknown_verb_is_one_line_naming_it(bad_cli: BadCli) -> None:
    bad_cli(["rollouts"], "'rollouts'", "rollout")
