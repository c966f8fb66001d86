"""Run independent jobs serially, over local processes or over a Ray cluster, retrying the ones that fail.

Every job is a picklable value handed to a module-level function; the function must make its result
depend only on the job (seeds and thread counts inside the job), so the results are the same whatever
runs them. A job whose worker dies (a crash, an out-of-memory kill) or that raises is run again, up to
``max_retries`` more times; a job that still fails is reported in ``JobsFailed``, never dropped. A job that
cannot write its output (``sim.plumbing.files.OutputError``: a full disk...) is not retried: the error stops the
run at once, reported once, as the job raised it.

Local processes start with ``spawn`` (fresh interpreters: no forked PyBullet or torch state) and keep
at most one job in flight per worker, so when a worker dies only the jobs it could have been running
are charged an attempt. On Ray, tasks carry ``max_retries`` (worker deaths) and ``retry_exceptions``.

Workers end with this process, however it ends (``sim.plumbing.processes``): a local worker exits as soon
as its parent dies (SIGKILL included) and leaves Ctrl-C to the parent, which stops the pool; a local Ray
instance (``ray_address=local``) is guarded by ``reap_orphans``, since Ray's agents otherwise outlive a
killed driver by a minute (``robolearn.ray_session``, shared with the collections).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from robolearn.ray_session import RAY_LOCAL, ray_session
from sim.plumbing.files import OutputError
from sim.plumbing.processes import ctrl_c_blocked, init_worker
from sim.plumbing.settings import check_knobs, knob

__all__ = ["RAY_LOCAL", "ExecutorSettings", "JobsFailed", "run_jobs"]

J = TypeVar("J")
R = TypeVar("R")


@dataclass(frozen=True)
class ExecutorSettings:
    """Where jobs run. Each field is a knob (``sim.plumbing.settings``), checked with messages that name it as
    typed on the command line (``workers=0 is out of range; use an integer ≥ 1``): ``robolearn bench``'s options
    (``robolearn.bench.run.BenchOptions``, ``conf/bench.yaml``) extend this class."""

    workers: int = knob(
        1, "local processes (1 = in this process); with ray_address=local, the local Ray instance's CPUs", lo=1
    )
    ray_address: str | None = knob(
        None,
        f"null = local processes | {RAY_LOCAL} = start a Ray instance here | auto or ray://HOST:PORT = a running "
        "cluster (it then decides the parallelism)",
    )
    max_retries: int = knob(
        2,
        "extra attempts for a job (a bench episode) whose worker died or that raised; one that fails every time is "
        "reported, never dropped",
        lo=0,
    )

    def __post_init__(self) -> None:
        check_knobs(self, "")
        if self.ray_address is not None and (not isinstance(self.ray_address, str) or not self.ray_address.strip()):
            raise ValueError(f"ray_address={self.ray_address!r} must be `local`, `auto`, ray://host:port or null")


class JobsFailed(RuntimeError):
    """Some jobs failed on every attempt; ``failures`` maps each to its last error (one line)."""

    def __init__(self, failures: dict[Any, str]):
        self.failures = failures
        first = next(iter(failures.items()))
        super().__init__(f"{len(failures)} job(s) failed after every retry, e.g. {first[0]!r}: {first[1]}")


def _one_line(error: BaseException) -> str:
    """The error's type and whole message on one line (its lines joined, never cut)."""
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def run_jobs(fn: Callable[[J], R], jobs: Sequence[J], settings: ExecutorSettings) -> Iterator[tuple[J, R]]:
    """Yield ``(job, fn(job))`` as each job finishes (in completion order, not job order).

    Raises:
        JobsFailed: after every other job has finished, if some failed ``1 + max_retries`` times.
        robolearn.config.ConfigError: ``ray_address`` is set and Ray is not installed (the message says how to
            install it).
    """
    if settings.ray_address is not None:
        yield from _run_ray(fn, jobs, settings)
    elif settings.workers == 1:
        yield from _run_serial(fn, jobs, settings)
    else:
        yield from _run_processes(fn, jobs, settings)


def _run_serial(fn: Callable[[J], R], jobs: Sequence[J], settings: ExecutorSettings) -> Iterator[tuple[J, R]]:
    failures: dict[Any, str] = {}
    for job in jobs:
        for attempt in range(settings.max_retries + 1):
            try:
                result = fn(job)
            except OutputError:  # retrying cannot free space: stop, say it once
                raise
            except Exception as e:
                if attempt == settings.max_retries:
                    failures[job] = _one_line(e)
                continue
            yield job, result
            break
    if failures:
        raise JobsFailed(failures)


def _run_processes(fn: Callable[[J], R], jobs: Sequence[J], settings: ExecutorSettings) -> Iterator[tuple[J, R]]:
    queue = list(jobs)
    attempts = {i: 0 for i in range(len(queue))}
    todo = list(range(len(queue)))  # job indices not finished yet, in submission order
    failures: dict[Any, str] = {}
    ctx = mp.get_context("spawn")
    while todo:
        pool = cf.ProcessPoolExecutor(
            max_workers=settings.workers, mp_context=ctx, initializer=init_worker, initargs=(os.getpid(),)
        )
        in_flight: dict[cf.Future[R], int] = {}
        broken = False
        finished = False
        try:
            while (todo or in_flight) and not broken:
                while todo and len(in_flight) < settings.workers:  # one job per worker in flight
                    i = todo.pop(0)
                    attempts[i] += 1
                    with ctrl_c_blocked(ctx):  # submit starts a worker (spawn starts them as needed)
                        in_flight[pool.submit(fn, queue[i])] = i
                done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    i = in_flight.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool as e:
                        broken = True
                        _retry_or_fail(i, e, attempts, todo, failures, queue, settings, "its worker process died")
                        continue
                    except OutputError:  # retrying cannot free space: stop (the workers are stopped below)
                        raise
                    except Exception as e:
                        _retry_or_fail(i, e, attempts, todo, failures, queue, settings)
                        continue
                    yield queue[i], result
            if broken:  # the other jobs in flight died with the pool: charge them too, then start a new pool
                for i in in_flight.values():
                    _retry_or_fail(
                        i,
                        BrokenProcessPool("worker died"),
                        attempts,
                        todo,
                        failures,
                        queue,
                        settings,
                        "its worker process died",
                    )
                in_flight.clear()
                todo.sort()
            finished = True
        finally:
            if (
                not finished
            ):  # interrupted (Ctrl-C, SIGTERM, an error here): take the workers down, not leave them running
                for proc in list(getattr(pool, "_processes", {}).values()):
                    proc.terminate()
            pool.shutdown(wait=finished and not broken, cancel_futures=True)
    if failures:
        raise JobsFailed(failures)


def _retry_or_fail(
    i: int,
    error: BaseException,
    attempts: dict[int, int],
    todo: list[int],
    failures: dict[Any, str],
    queue: Sequence[Any],
    settings: ExecutorSettings,
    why: str | None = None,
) -> None:
    if attempts[i] <= settings.max_retries:
        todo.insert(0, i)
    else:
        failures[queue[i]] = why or _one_line(error)


def _run_ray(fn: Callable[[J], R], jobs: Sequence[J], settings: ExecutorSettings) -> Iterator[tuple[J, R]]:
    assert settings.ray_address is not None, "_run_ray runs only with a ray_address"
    with ray_session(settings.ray_address, settings.workers) as ray:
        from ray.exceptions import RayError  # optional dependency (robolearn[ray]), installed once ray imported

        # max_retries: re-run when the worker process dies; retry_exceptions: also when fn raises.
        remote = ray.remote(num_cpus=1, max_retries=settings.max_retries, retry_exceptions=True)(fn)
        failures: dict[Any, str] = {}
        pending = {remote.remote(job): job for job in jobs}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            job = pending.pop(ready[0])
            try:
                result = ray.get(ready[0])
            except RayError as e:
                cause = getattr(e, "cause", None)
                if isinstance(cause, OutputError):  # a full or read-only disk: every job would fail the same
                    raise cause from None
                failures[job] = _one_line(cause if isinstance(cause, BaseException) else e)
                continue
            yield job, result
    if failures:
        raise JobsFailed(failures)
