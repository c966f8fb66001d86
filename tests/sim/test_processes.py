"""``sim.plumbing.processes``: workers end with their parent, and the guard stops a dead parent's leftovers.

Each case runs a small parent script in its own session, kills it with SIGKILL (no clean-up code runs), and
checks that nothing of the session survives; leftovers are killed at the end of a case either way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sim.plumbing.processes import ORPHANED_EXIT, session_processes

REPO = Path(__file__).resolve().parents[2]
GONE_S = 5.0  # the mechanisms take well under a second; generous for a loaded machine


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@contextmanager
def parent(script: str) -> Iterator[tuple[subprocess.Popen[str], list[int]]]:
    """Run ``script`` (which prints the pids of the processes it started, one line) in a new session."""
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert pids, "the parent script printed no pids"
        yield proc, pids
    finally:
        for pid in session_processes(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        proc.wait()


WORKER = """
    import multiprocessing as mp, os, time
    from sim.plumbing.processes import init_worker

    def nap(_):
        time.sleep(300)

    if __name__ == "__main__":
        {setup}
        pool = mp.get_context("fork").Pool(2, initializer=init_worker, initargs=(os.getpid(),))
        pool.map_async(nap, range(2))
        time.sleep(1.5)  # the workers started and took a job each
        print(*[p.pid for p in pool._pool], flush=True)
        time.sleep(300)
"""


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "polling"])
def test_pool_workers_exit_when_their_parent_is_killed(pidfd: bool) -> None:
    setup = "" if pidfd else "del os.pidfd_open  # another OS: the watcher polls os.getppid()"
    with parent(WORKER.replace("{setup}", setup)) as (proc, workers):
        assert all(_alive(p) for p in workers)
        proc.kill()
        proc.wait()
        assert _wait(lambda: not session_processes(proc.pid), GONE_S), f"still running: {session_processes(proc.pid)}"


def test_a_worker_whose_parent_is_already_gone_exits_at_once() -> None:
    code = "from sim.plumbing.processes import exit_with_parent; exit_with_parent(1); print('still here')"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == ORPHANED_EXIT and "still here" not in proc.stdout


def test_init_worker_leaves_ctrl_c_to_the_parent() -> None:
    code = (
        "import os, signal; from sim.plumbing.processes import init_worker; init_worker(os.getppid()); "
        "os.kill(os.getpid(), signal.SIGINT); print('ignored')"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ignored", proc.stderr


CTRL_C_AT_START = """
    import multiprocessing as mp, os, signal
    from sim.plumbing.processes import ctrl_c_blocked, init_worker

    if __name__ == "__main__":
        # Ctrl-C as a terminal's command gets it: a suite started in the background by a shell without job
        # control inherits SIGINT ignored, and so would the workers
        signal.signal(signal.SIGINT, signal.default_int_handler)
        ctx = mp.get_context("spawn")
        {start}
        first = list(pool._pool)
        for worker in first:  # Ctrl-C while the workers are still starting (importing, unpickling)
            os.kill(worker.pid, signal.SIGINT)
        print(pool.map(abs, [-1, -2, -3]), flush=True)
        print(sum(w.is_alive() for w in first), flush=True)  # the pool replaces a worker that died
        pool.close()
        pool.join()
"""


@pytest.mark.parametrize("blocked", [True, False], ids=["blocked", "unblocked"])
def test_workers_started_with_ctrl_c_blocked_ignore_a_ctrl_c_at_start(blocked: bool) -> None:
    """The race behind a traceback on Ctrl-C: a spawned worker hit before ``init_worker`` ran. Started inside
    ``ctrl_c_blocked()`` the workers hold the signal, drop it and do their work; started outside, they die of
    it (the pool replaces them; the contrast shows the case really sends the signal early enough)."""
    start = "pool = ctx.Pool(2, initializer=init_worker, initargs=(os.getpid(),))"
    if blocked:
        start = f"with ctrl_c_blocked(ctx):\n            {start}"
    script = CTRL_C_AT_START.replace("{start}", start)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0 and proc.stdout.split("\n")[0] == "[1, 2, 3]", proc.stderr
    survivors = int(proc.stdout.split("\n")[1])
    if blocked:
        assert survivors == 2
        assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr, proc.stderr
    else:
        assert survivors == 0


GUARDED = """
    import subprocess, sys, time
    from sim.plumbing.processes import reap_orphans

    with reap_orphans():
        # what a library might start: a process with a child of its own, neither tied to this one
        shell = subprocess.Popen(["sh", "-c", "sleep 300 & echo $!; sleep 300"], stdout=subprocess.PIPE, text=True)
        grandchild = int(shell.stdout.readline())
        time.sleep(0.6)  # the guard has seen them
        print(shell.pid, grandchild, flush=True)
        {then}
"""


def test_the_guard_stops_a_killed_parents_descendants() -> None:
    with parent(GUARDED.replace("{then}", "time.sleep(300)")) as (proc, started):
        assert all(_alive(p) for p in started)
        proc.kill()
        proc.wait()
        assert _wait(lambda: not session_processes(proc.pid), GONE_S), f"still running: {session_processes(proc.pid)}"


def test_the_guard_kills_nothing_when_the_block_ends() -> None:
    """Leaving the block normally stops the guard; what the block left running is the caller's business."""
    with parent(GUARDED.replace("{then}", "pass") + "    time.sleep(300)\n") as (proc, started):
        time.sleep(1.0)  # the block has ended and the guard with it
        assert all(_alive(p) for p in started)
        guards = [p for p in session_processes(proc.pid) if b"processes.py" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert not guards
