"""The bad-input battery's checks: every bad input gets one clear line, never a traceback or a wrong result.

Each case runs a verb (in this process, through ``robolearn.cli.main``, or in a child process where the case
needs one: a killed parent, a full disk) or calls the Python API, and asserts

- the documented exit code (2 for a usage error: a bad value, file or path), and
- exactly one non-empty line on stderr (``robolearn VERB: error: ...``), no traceback, naming what is wrong
  (the key, file or value: the ``needles``) and, where one exists, the fix.

``ROBOLEARN_BATTERY_LOG=FILE`` appends every case's id, exit code and message to ``FILE`` as JSON lines;
``python benchmarks/bad_inputs.py`` runs the battery that way and prints the table the issue note lists.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from robolearn.cli import EXIT_USAGE, main

#: the environment variable naming the JSON-lines file that records every case's answer
LOG_ENV = "ROBOLEARN_BATTERY_LOG"
#: what a traceback or a library's internal error looks like on stderr
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s+File \"", re.M)


@dataclass(frozen=True)
class Answer:
    """What a bad input got: the exit code and the one error line (stderr's only non-empty line)."""

    code: int
    message: str


def _record(case: str, kind: str, code: int | None, message: str) -> None:
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"case": case, "kind": kind, "code": code, "message": message}) + "\n")


def one_line(stderr: str, what: str) -> str:
    """stderr's only non-empty line; fails the test on a traceback or on several lines."""
    assert not TRACEBACK.search(stderr), f"{what}: a traceback instead of a one-line error:\n{stderr}"
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"{what}: expected one error line, got {len(lines)}:\n{stderr}"
    return lines[0]


def check_needles(message: str, needles: Sequence[str], what: str) -> None:
    """Each needle (the offending key, file or value, or the fix) appears in the message."""
    missing = [n for n in needles if n not in message]
    assert not missing, f"{what}: the message does not name {missing}:\n{message}"


BadCli = Callable[..., Answer]
BadApi = Callable[..., str]
BadProcess = Callable[..., Answer]


@pytest.fixture
def bad_cli(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> BadCli:
    """``bad_cli(argv, *needles, code=2) -> Answer``: run ``robolearn ARGV`` in this process and assert its answer."""

    def run(argv: Sequence[str], *needles: str, code: int = EXIT_USAGE) -> Answer:
        capsys.readouterr()  # drop what earlier steps of the test printed
        got = main(list(argv))
        err = capsys.readouterr().err
        what = f"robolearn {' '.join(argv)}"
        message = one_line(err, what)
        _record(request.node.nodeid, "cli", got, message)
        assert got == code, f"{what}: exit code {got}, expected {code}; stderr: {message}"
        check_needles(message, needles, what)
        return Answer(got, message)

    return run


@pytest.fixture
def bad_api(request: pytest.FixtureRequest) -> BadApi:
    """``bad_api(call, error_type, *needles) -> message``: call the Python API and assert the one-line error."""

    def run(call: Callable[[], object], error: type[BaseException], *needles: str) -> str:
        with pytest.raises(error) as info:
            call()
        message = str(info.value)
        _record(request.node.nodeid, "api", None, f"{type(info.value).__name__}: {message}")
        assert "\n" not in message.strip(), f"expected a one-line message, got:\n{message}"
        check_needles(message, needles, request.node.nodeid)
        return message

    return run


@pytest.fixture
def bad_process(request: pytest.FixtureRequest) -> BadProcess:
    """``bad_process(argv, *needles, code=2, cwd=None, env=None, prefix=(), timeout=120) -> Answer``: run
    ``[*prefix, python, -m, robolearn.cli, *argv]`` in a child process (for cases that need one: a full disk in
    a mount namespace, a killed parent) and assert its answer as ``bad_cli`` does."""

    def run(
        argv: Sequence[str],
        *needles: str,
        code: int = EXIT_USAGE,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        prefix: Sequence[str] = (),
        timeout: float = 120,
    ) -> Answer:
        cmd = [*prefix, sys.executable, "-m", "robolearn.cli", *argv]
        proc = subprocess.run(
            cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
        )
        what = " ".join(cmd)
        message = one_line(proc.stderr, what)
        _record(request.node.nodeid, "process", proc.returncode, message)
        assert proc.returncode == code, f"{what}: exit code {proc.returncode}, expected {code}; stderr: {message}"
        check_needles(message, needles, what)
        return Answer(proc.returncode, message)

    return run
