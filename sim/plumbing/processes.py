"""Child processes that end with their parent, however the parent ends (Ctrl-C, ``kill``, ``kill -9``, a crash).

A parent that is killed with SIGKILL (or by the out-of-memory killer) runs no clean-up code, so its worker
processes must notice by themselves. Two mechanisms, one for the processes robolearn starts and one for
those a library starts on its behalf:

- ``exit_with_parent(parent)``, called first thing in a worker (a pool's ``initializer``, a ``DataLoader``'s
  ``worker_init_fn``): a daemon thread blocks on a handle of the parent process (a Linux pidfd, which
  becomes readable when the parent ends; elsewhere it polls ``os.getppid()``) and ends the worker with
  ``os._exit`` when the parent is gone. ``init_worker(parent)`` does that and leaves Ctrl-C to the parent
  (the terminal sends SIGINT to the whole process group: the parent stops its pool, the workers print no
  tracebacks). With the workers gone, multiprocessing's resource tracker reads the end of its pipe and
  exits too. A worker hit by Ctrl-C before its initializer runs (still importing) would print a traceback,
  so workers are started inside ``ctrl_c_blocked()``: they inherit SIGINT blocked from their first
  instruction, and ``init_worker`` swaps the block for "ignore".
- ``reap_orphans()``, a context manager around code that starts processes robolearn does not control (a
  local Ray instance): a small guard process (this file run as a script, standard library only) remembers
  this process's descendants and, if this process dies without leaving the block, stops those still
  running (SIGTERM, then SIGKILL after a second).

Why not ``prctl(PR_SET_PDEATHSIG)``: Linux sends that signal when the *thread* that forked the child ends,
not the process; ``multiprocessing.Pool`` starts replacement workers from its worker-handler thread and
``concurrent.futures`` (Python ≥ 3.12 with ``max_tasks_per_child``) from its manager thread, so the signal
would kill live workers of a running pool. A pidfd or ``getppid`` watches the process itself.

Example:
    >>> import concurrent.futures as cf, multiprocessing as mp, os
    >>> pool = cf.ProcessPoolExecutor(  # doctest: +SKIP
    ...     2, mp_context=mp.get_context("spawn"), initializer=init_worker, initargs=(os.getpid(),))
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing import resource_tracker
from multiprocessing.context import BaseContext
from types import TracebackType

__all__ = [
    "ORPHANED_EXIT",
    "ctrl_c_blocked",
    "exit_with_parent",
    "init_worker",
    "reap_orphans",
    "session_processes",
]

#: exit status of a worker that ended itself because its parent died (128 + SIGHUP, "the controlling process
#: went away"; nobody but the reaping init process sees it)
ORPHANED_EXIT = 129
#: seconds between two checks of the parent where no pidfd is available
POLL_S = 0.25
#: seconds between two snapshots of the descendants in ``reap_orphans``' guard (one reads ``/proc``: ≈ 2 ms
#: for 100 processes)
SNAPSHOT_S = 0.5
#: seconds the guard gives orphans to end after SIGTERM before it sends SIGKILL
GRACE_S = 1.0
_STOP = b"stop\n"

_watching: int | None = None  # the pid of the process whose watcher thread runs (a fork copies the flag)


def exit_with_parent(parent: int | None = None) -> None:
    """End this process (``os._exit(ORPHANED_EXIT)``) as soon as its parent process ends, however it ends.

    Call it first thing in a worker. ``parent``: the parent's pid as the parent saw it (``os.getpid()`` when
    the pool is made), so that a parent that died before the worker got here is noticed too; None takes
    ``os.getppid()`` now (for workers whose maker cannot pass it, e.g. a ``DataLoader``'s). Idempotent per
    process.
    """
    global _watching
    if _watching == os.getpid():
        return
    parent = os.getppid() if parent is None else parent
    if os.getppid() != parent:  # the parent is already gone: this process was handed to a reaper
        os._exit(ORPHANED_EXIT)
    handle: int | None
    try:
        handle = os.pidfd_open(parent)  # Linux ≥ 5.3: readable once the process has ended
    except (AttributeError, OSError):  # another OS, an older kernel or a seccomp filter: poll instead
        handle = None
    if os.getppid() != parent:  # it died between the two checks (its pid may already be someone else's)
        os._exit(ORPHANED_EXIT)
    threading.Thread(target=_watch, args=(parent, handle), name="exit-with-parent", daemon=True).start()
    _watching = os.getpid()


def _watch(parent: int, handle: int | None) -> None:
    if handle is not None:
        select.select([handle], [], [])
    else:
        while os.getppid() == parent:
            time.sleep(POLL_S)
    os._exit(ORPHANED_EXIT)


def init_worker(parent: int | None = None) -> None:
    """Pool ``initializer`` (``initargs=(os.getpid(),)``): Ctrl-C is the parent's to handle (it stops the pool;
    a worker interrupted mid-job would print a traceback, or look to the parent like a crash), and the worker
    exits when the parent dies (``exit_with_parent(parent)``). A connection the parent drops as it stops
    (multiprocessing's resource sharer, which hands a ``DataLoader``'s tensors over, reports one with
    ``sys.excepthook`` from its own thread) ends quietly: the parent reports why it stopped."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # a Ctrl-C held by ``ctrl_c_blocked`` is dropped
    sys.excepthook = _quiet_dropped_connections(sys.excepthook)
    exit_with_parent(parent)


@contextmanager
def ctrl_c_blocked(context: BaseContext | None = None) -> Iterator[None]:
    """Start worker processes inside this block: SIGINT is blocked in the calling thread while it runs.

    A process forked or spawned here inherits the block (a signal mask survives ``fork`` and ``exec``), and so
    does a thread started here (a ``multiprocessing.Pool``'s worker handler, which starts replacement workers),
    so a Ctrl-C that reaches a worker while it is still importing, before ``init_worker`` ignores SIGINT, waits
    instead of printing a ``KeyboardInterrupt`` traceback. A Ctrl-C that reaches this process during the block
    is delivered when it ends (``KeyboardInterrupt`` then). Where there are no signal masks (Windows), the block
    changes nothing.

    ``context``: the ``multiprocessing`` context the workers start with (None: the default one). With
    ``spawn`` or ``forkserver``, multiprocessing's resource tracker is started before the block: it starts
    itself with the same trick and unblocks SIGINT afterwards, which would end the block early.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    method = (context or multiprocessing.get_context()).get_start_method()
    if method in ("spawn", "forkserver"):
        resource_tracker.ensure_running()
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _quiet_dropped_connections(
    report: Callable[[type[BaseException], BaseException, TracebackType | None], object],
) -> Callable[[type[BaseException], BaseException, TracebackType | None], None]:
    """``report`` (an excepthook) except for connections the parent dropped (``ConnectionError``, ``EOFError``)."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if not issubclass(kind, (ConnectionError, EOFError)):
            report(kind, value, tb)

    return hook


# ------------------------------------------------------------------ the guard of processes others start
@contextmanager
def reap_orphans() -> Iterator[None]:
    """While the block runs, a guard process stops this process's descendants if this process dies.

    For processes started by a library that does not tie them to this one (a local Ray instance's agents
    outlive a SIGKILLed driver by a minute). Leaving the block normally, or by an exception, stops the guard
    and kills nothing: the code in the block cleans up after itself then. Without ``/proc`` (not Linux) the
    block runs unguarded.
    """
    guard = _start_guard()
    if guard is None:
        yield
        return
    try:
        yield
    finally:
        try:
            assert guard.stdin is not None  # stdin=PIPE
            guard.stdin.write(_STOP)
            guard.stdin.close()
            guard.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):  # the guard is gone already, or stuck: end it
            guard.kill()
            guard.wait()


def _start_guard() -> subprocess.Popen[bytes] | None:
    """The guard of this process (this file run as a script), or None where there can be none."""
    if not os.path.isdir("/proc/self/task"):  # not Linux: no process table to read
        return None
    try:
        # stdout and stderr: nothing of the guard reaches the terminal (not even a Ctrl-C while it starts)
        return subprocess.Popen(
            [sys.executable, "-I", "-S", os.path.abspath(__file__), str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:  # no interpreter to start (an embedded Python): the guard is a safety net, run without it
        return None


def _fields(pid: int) -> list[bytes] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state, parent, group, session, ...) of a live
    process; None for a gone or zombie one."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()  # after the command name, which may hold spaces
    except (OSError, IndexError):
        return None
    return None if not fields or fields[0] == b"Z" else fields


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time in clock ticks) of a live process; None for a gone or zombie one."""
    fields = _fields(pid)
    return None if fields is None else (int(fields[1]), int(fields[19]))


def session_processes(sid: int) -> list[int]:
    """The live (not zombie) processes of session ``sid`` (Linux ``/proc``): what a verb started in a session of
    its own left running (the orphan checks of the tests and of ``benchmarks/orphans.py``)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _fields(int(name))
            if fields is not None and int(fields[3]) == sid:
                found.append(int(name))
    return found


def _descendants(roots: set[int]) -> dict[int, int]:
    """The live descendants of ``roots`` (not the roots): pid → start time."""
    children: dict[int, list[tuple[int, int]]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = _stat(int(name))
            if stat is not None:
                children.setdefault(stat[0], []).append((int(name), stat[1]))
    found: dict[int, int] = {}
    todo = list(roots)
    while todo:
        for pid, start in children.get(todo.pop(), []):
            if pid not in found:
                found[pid] = start
                todo.append(pid)
    return found


def _alive(processes: dict[int, int]) -> dict[int, int]:
    """Those of ``processes`` (pid → start time) still running: the same pid with the same start time."""
    live = {}
    for pid, start in processes.items():
        stat = _stat(pid)
        if stat is not None and stat[1] == start:
            live[pid] = start
    return live


def _guard(parent: int) -> int:
    """The guard's loop: snapshot ``parent``'s descendants until it says stop (0) or dies (stop them, 1)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent handles it
    me = os.getpid()
    known: dict[int, int] = {}
    listening = True  # to stdin, where the parent writes "stop"
    while os.getppid() == parent:
        # Keep every descendant ever seen while it runs: a dying parent's children are reparented one by one,
        # and a child started with PR_SET_PDEATHSIG (Ray's raylet) dies as soon as the thread that started it
        # exits, handing its own children to init while this guard still sees its parent alive.
        known = _alive(known)
        known.update({pid: start for pid, start in _descendants({parent}).items() if pid != me})
        if not listening:
            time.sleep(SNAPSHOT_S)
        elif select.select([sys.stdin.buffer], [], [], SNAPSHOT_S)[0]:
            said = os.read(sys.stdin.fileno(), len(_STOP))
            if said.startswith(_STOP[:4]):
                return 0
            listening = bool(said)  # end of file: the parent closed it (or is exiting); watch its pid only
    # The parent died: its descendants (now orphans), and what they started since the last snapshot.
    orphans = _alive(known)
    orphans.update({pid: start for pid, start in _descendants(set(orphans)).items() if pid != me})
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _alive(orphans):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + GRACE_S
        while _alive(orphans) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _alive(orphans):
            break
    return 1


if __name__ == "__main__":  # the guard of ``reap_orphans``: python -I -S processes.py PARENT_PID
    sys.exit(_guard(int(sys.argv[1])))
