"""A killed or interrupted parallel verb leaves no process behind.

Each case starts ``robolearn VERB`` with worker processes (bench's process pool, collect's pool, the
trainer's DataLoader workers, a local Ray instance) as a child in its own session, waits until the workers
are busy, then ends the verb:

- ``kill -9`` (SIGKILL, as the out-of-memory killer does): the verb runs no clean-up code, so every
  descendant (workers, multiprocessing's resource tracker, Ray's processes) must notice by itself and be
  gone within ``GONE_S`` seconds;
- ``kill`` (SIGTERM, to the verb only) and Ctrl-C (SIGINT, to the whole process group as a terminal sends
  it): the verb stops its workers and exits with 143 or 130 and one line on stderr, no traceback.

Whatever happens, the session's processes are killed at the end of a case, so a failing case leaves
nothing running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from robolearn import cli
from robolearn.cli import EXIT_INTERRUPTED, EXIT_TERMINATED
from sim.plumbing.processes import session_processes
from tests.bad_inputs.conftest import BadCli, one_line
from tests.conftest import CollectDataset

# The cases that run a verb are slow: each starts it and its workers in fresh interpreters (≈ 5–15 s).

#: every descendant of a SIGKILLed verb must be gone this many seconds after the kill
GONE_S = 10.0
#: how long a verb may take to start its workers and get going
START_S = 120.0
#: pybullet prints this banner on stderr when it is imported (a C-level print, in every process using it)
BANNER = "pybullet build time"

TINY_ENV = ["env.width=32", "env.height=32", "progress_bar=false"]


def _describe(pids: Sequence[int]) -> str:
    lines = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            lines.append(f"{pid}: {command[:150]}")
        except OSError:
            lines.append(f"{pid}: (gone)")
    return "\n".join(lines)


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


@dataclass
class Verb:
    """A verb running in its own session: ``proc``, its stderr file, and its other processes."""

    proc: subprocess.Popen[bytes]
    stderr: Path

    def others(self) -> list[int]:
        """The session's processes other than the verb itself: workers, helpers, their children."""
        return [pid for pid in session_processes(self.proc.pid) if pid != self.proc.pid]

    def error_line(self) -> str:
        """stderr's one line, without pybullet's import banners (asserts no traceback, one line)."""
        text = self.stderr.read_text(errors="replace")
        return one_line("\n".join(x for x in text.splitlines() if BANNER not in x), f"stderr of {self.proc.args}")


def _as_from_a_terminal() -> None:
    """In the child before it runs the verb: Ctrl-C as a terminal's foreground command gets it. A suite started in
    the background by a shell without job control (``pytest &`` in a script) inherits SIGINT ignored, and Python
    then installs no ``KeyboardInterrupt`` handler: the verb would run on as if Ctrl-C were never pressed."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def running(argv: Sequence[str], tmp_path: Path) -> Iterator[Verb]:
    """``robolearn ARGV`` in a new session, with Ctrl-C's default disposition (``_as_from_a_terminal``); on the way
    out, everything left in that session is SIGKILLed."""
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "robolearn.cli", *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
            preexec_fn=_as_from_a_terminal,
        )
    try:
        yield Verb(proc, stderr)
    finally:
        for pid in session_processes(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        proc.wait()


def _busy(verb: Verb, workers: int, progress: Callable[[], bool]) -> None:
    """Wait until ``verb`` runs ``workers`` other processes and ``progress()`` holds (work is under way)."""
    _wait(lambda: verb.proc.poll() is None and len(verb.others()) >= workers and progress(), START_S, "the workers")
    assert verb.proc.poll() is None, f"the verb ended before it could be killed: {verb.error_line()}"


def _gone_after_kill(verb: Verb) -> float:
    """SIGKILL the verb; the seconds until its last descendant is gone (fails after ``GONE_S``)."""
    before = verb.others()
    verb.proc.kill()
    killed = time.monotonic()
    verb.proc.wait()
    try:
        _wait(lambda: not session_processes(verb.proc.pid), GONE_S, "the verb's processes to exit")
    except AssertionError:
        raise AssertionError(
            f"{GONE_S:.0f} s after kill -9 these processes still run:\n{_describe(session_processes(verb.proc.pid))}\n"
            f"(before the kill:\n{_describe(before)})"
        ) from None
    return time.monotonic() - killed


# --------------------------------------------------------------------------------------------- the verbs
@dataclass(frozen=True)
class Case:
    """How to run a verb long enough to kill it mid-run, and how to tell it is busy."""

    argv: Callable[[Path, CollectDataset], list[str]]
    workers: int  # processes besides the verb once it is busy
    progress: Callable[[Path], bool]


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _episodes(path: Path) -> int:
    return len(list(path.glob("ep_*.h5"))) if path.exists() else 0


def _bench(out: Path, data: CollectDataset | None = None) -> list[str]:
    return [
        "bench",
        "agents=[random]",
        "tasks=[open_drawer]",
        "variants=[train]",
        "trials=2000",
        "workers=2",
        "figure=false",
        f"out={out}",
        *TINY_ENV,
    ]


def _collect(out: Path, data: CollectDataset) -> list[str]:
    return ["collect", f"out={out}", "episodes=5000", "workers=2", "chunk_episodes=1000", *TINY_ENV]


def _train(out: Path, data: CollectDataset) -> list[str]:
    dataset = data(["episodes=8", "env.width=32", "env.height=32", "env.max_episode_steps=8", "progress_bar=false"])
    return [
        "train",
        "dynamics",
        f"data={dataset}",
        f"out={out}",
        "num_workers=2",
        "steps=1000000",
        "batch_size=2",
        "horizon=3",
        "val_clips=2",
        "eval_every=1000000",
        "checkpoint_every=1000000",
        "dynamics.image_size=32",
        "progress_bar=false",
    ]


CASES = {
    # two pool workers and multiprocessing's resource tracker; busy once episodes are appended
    "bench": Case(_bench, 3, lambda out: _lines(out / "episodes.jsonl") >= 1),
    # two pool workers and the resource tracker; busy once episodes are on disk
    "collect": Case(_collect, 3, lambda out: _episodes(out / "episodes") >= 1),
    # two DataLoader workers (forked), which start with the training loop
    "train": Case(_train, 2, lambda out: (out / "tb").exists()),
}


@pytest.fixture
def start(tmp_path: Path, collect_dataset: CollectDataset) -> Callable[[str], Iterator[Verb]]:
    """``with start(verb) as v:`` runs the verb's case and returns once its workers are busy."""

    @contextmanager
    def run(name: str) -> Iterator[Verb]:
        case = CASES[name]
        out = tmp_path / "out"
        with running(case.argv(out, collect_dataset), tmp_path) as verb:
            _busy(verb, case.workers, lambda: case.progress(out))
            yield verb

    return run  # type: ignore[return-value]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_kill_9_leaves_no_process(start, name: str) -> None:
    with start(name) as verb:
        seconds = _gone_after_kill(verb)
    assert seconds < GONE_S


@pytest.mark.slow
@pytest.mark.parametrize("name", ["collect", "train"])  # bench: its Ctrl-C case runs the same code (143 vs 130)
def test_kill_stops_the_workers_and_exits_143(start, name: str) -> None:
    """``kill PID`` (SIGTERM to the verb alone): it stops its workers, says so in one line, exits 143."""
    with start(name) as verb:
        verb.proc.send_signal(signal.SIGTERM)
        assert verb.proc.wait(timeout=30) == EXIT_TERMINATED, verb.stderr.read_text()
        _wait(lambda: not session_processes(verb.proc.pid), GONE_S, "the workers to exit after the verb")
        assert verb.error_line() == f"robolearn {name}: error: terminated"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_ctrl_c_stops_the_workers_and_exits_130(start, name: str) -> None:
    """Ctrl-C (SIGINT to the whole process group, workers included): no worker traceback, one line, 130."""
    with start(name) as verb:
        os.killpg(verb.proc.pid, signal.SIGINT)
        assert verb.proc.wait(timeout=30) == EXIT_INTERRUPTED, verb.stderr.read_text()
        _wait(lambda: not session_processes(verb.proc.pid), GONE_S, "the workers to exit after the verb")
        assert verb.error_line() == f"robolearn {name}: error: interrupted"


@pytest.mark.slow
def test_kill_9_of_a_local_ray_bench_leaves_no_process(tmp_path: Path) -> None:
    """``ray_address=local``: Ray's own processes (GCS, raylet, agents, workers) go with the driver."""
    pytest.importorskip("ray")
    out = tmp_path / "out"
    argv = [*_bench(out), "ray_address=local"]
    with running(argv, tmp_path) as verb:
        # Ray's GCS, raylet, agents, monitors, and its workers for the two CPUs; busy once episodes are done
        _busy(verb, 8, lambda: _lines(out / "episodes.jsonl") >= 1)
        seconds = _gone_after_kill(verb)
    assert seconds < GONE_S


@pytest.mark.parametrize(
    ("sig", "code", "word"),
    [(signal.SIGTERM, EXIT_TERMINATED, "terminated"), (signal.SIGINT, EXIT_INTERRUPTED, "interrupted")],
    ids=["SIGTERM", "SIGINT"],
)
def test_every_verb_ends_on_kill_as_on_ctrl_c(
    bad_cli: BadCli, monkeypatch: pytest.MonkeyPatch, sig: int, code: int, word: str
) -> None:
    """SIGTERM is handled for every verb (not only bench): the verb unwinds as on Ctrl-C; one line, 143 (130)."""

    def verb(args: list[str]) -> int:
        os.kill(os.getpid(), sig)
        time.sleep(30)  # the signal's exception ends this at once
        return 0

    monkeypatch.setitem(cli.VERBS, "rollout", cli.Verb("a verb that gets a signal", verb))
    before = signal.getsignal(signal.SIGTERM)
    # Ctrl-C as a terminal's foreground command gets it (a suite started in the background may inherit it ignored)
    interrupt = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        bad_cli(["rollout"], word, code=code)
    finally:
        signal.signal(signal.SIGINT, interrupt)
    assert signal.getsignal(signal.SIGTERM) == before  # the verb's handler is gone with it
