"""Making a dataset's episodes in parallel, resumably: what ``robolearn collect``, ``collect videos`` and ``data
import`` share.

An ``EpisodeJob`` makes episode ``i`` as a pure function of ``i`` (and its own settings), so episodes can be made in
any order, by any number of workers, on any machine, and a rerun makes only the ones the folder lacks
(``DatasetWriter.done_indices``). The indices to make are cut into chunks (the unit of progress and of retries):

- local worker processes (spawned: no inherited PyBullet or HDF5 state; they exit with their parent,
  ``sim.plumbing.processes``) write each finished episode straight to the dataset (atomically);
- Ray actors (``ray_address``, ``robolearn.ray_session``) return episodes to the driver, which writes them, so a
  cluster needs no shared file system; an actor that dies is restarted and its chunk retried.

Finished episodes are packed into shards at the end; an error on the way removes the unfinished files and keeps the
finished episodes, so a rerun resumes.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from robolearn.data.episode import Episode
from robolearn.data.metadata import create_dataset
from robolearn.data.reader import DatasetReader
from robolearn.data.schema import META_FILE
from robolearn.data.verify import check_dataset
from robolearn.data.writer import DatasetWriter
from robolearn.ray_session import RAY_LOCAL, ray_session
from sim.plumbing.processes import ctrl_c_blocked, init_worker

__all__ = ["EpisodeJob", "WriteOptions", "Written", "chunked", "open_dataset", "write_episodes"]


class EpisodeJob(Protocol):
    """Makes the episodes of one dataset; pickled to every worker."""

    def setup(self) -> None:
        """Prepare this process (open a simulator, ...); called once per worker before its first episode."""

    def episode(self, index: int) -> Episode:
        """Episode ``index`` (a pure function of ``index`` and the job's settings)."""
        ...


@dataclass(frozen=True)
class WriteOptions:
    """Where and how episodes are made: the execution knobs of a command's settings."""

    out: Path
    total: int  # the dataset holds episodes 0 .. total - 1 when done
    workers: int = 1
    chunk_size: int = 25  # episodes per work unit
    ray_address: str | None = None  # None: local processes; else ``robolearn.ray_session``'s address
    progress_bar: bool = True
    compression_level: int = 4
    episodes_per_shard: int = 1000
    desc: str = "episodes"  # the progress bar's label


@dataclass(frozen=True)
class Written:
    """What ``write_episodes`` did: episodes made, wall time (s) until the last one, episodes the dataset holds."""

    made: int
    seconds: float
    held: int


def chunked(indices: Sequence[int], size: int) -> list[list[int]]:
    """``indices`` cut into consecutive chunks of ``size`` (the last one shorter)."""
    return [list(indices[k : k + size]) for k in range(0, len(indices), size)]


def open_dataset(out: Path, meta: Mapping[str, Any], resume_keys: Sequence[str]) -> set[int]:
    """Create the dataset at ``out``, or resume it; returns the indices of the episodes it already holds.

    A resumed dataset must agree with ``meta`` on ``resume_keys``, and the episodes it holds (which a rerun skips)
    are checked, cheaply, to be there and readable.

    Raises:
        robolearn.data.metadata.DatasetError: the folder holds a dataset made with other settings, or a damaged one.
    """
    resuming = (Path(out) / META_FILE).is_file()
    create_dataset(out, meta, resume_keys=resume_keys)
    if resuming:
        with DatasetReader(out) as reader:
            check_dataset(reader)
    return DatasetWriter(out).done_indices()


def write_episodes(
    job: EpisodeJob,
    todo: Sequence[int],
    opts: WriteOptions,
    unit: str,
    rate: Callable[[int, float], Mapping[str, str]],
) -> Written:
    """Make episodes ``todo`` of the dataset at ``opts.out`` (opened by ``open_dataset``), then pack the dataset.

    Args:
        job: makes episode ``i``.
        todo: the indices to make (those the dataset lacks).
        opts: where, how many in all (the progress bar's total), with how many workers.
        unit: what the progress bar counts (``ep``, ``clip``).
        rate: (episodes made, seconds so far) → the progress bar's postfix (``{"steps_per_s": "812"}``).

    Raises:
        Whatever ``job`` raises (re-raised here, from the worker that ran it); an ``OSError`` writing the dataset.
        The unfinished files are removed first, the finished episodes are kept.
    """
    writer = DatasetWriter(opts.out, compression_level=opts.compression_level)
    chunks = chunked(todo, opts.chunk_size)
    start = time.perf_counter()
    made = 0
    bar = tqdm(
        total=opts.total,
        initial=opts.total - len(todo),
        unit=unit,
        disable=not opts.progress_bar,
        desc=opts.desc,
        dynamic_ncols=True,
    )
    runner = _run_ray if opts.ray_address else _run_local
    try:
        with bar:
            for n in runner(job, opts, chunks) if chunks else iter(()):
                made += n
                bar.update(n)
                bar.set_postfix(**rate(made, time.perf_counter() - start))
        elapsed = time.perf_counter() - start
        writer.pack(opts.episodes_per_shard)
    except BaseException:
        with contextlib.suppress(OSError):  # the error being raised says more than a failing cleanup
            writer.clean_tmp()  # the stopped workers' unfinished files (the finished episodes stay)
        raise
    return Written(made, elapsed, len(writer.done_indices()))  # held: counted, not assumed


# ------------------------------------------------------------------------------------------ local processes
_WORKER: dict[str, Any] = {}  # per worker process: the job and the writer


def _init_worker(job: EpisodeJob, out: Path, level: int, parent: int | None = None) -> None:
    """Set up a worker (or this process, ``parent=None``); a pool worker exits when its ``parent`` dies."""
    if parent is not None:
        init_worker(parent)
    job.setup()
    _WORKER.update(job=job, writer=DatasetWriter(out, compression_level=level))


def _write_chunk(indices: Sequence[int]) -> int:
    """Make and write the episodes ``indices`` in this worker; returns their count once all are on disk."""
    job, writer = _WORKER["job"], _WORKER["writer"]
    for i in indices:
        writer.write_episode(job.episode(i))
    return len(indices)


def _run_local(job: EpisodeJob, opts: WriteOptions, chunks: list[list[int]]) -> Iterator[int]:
    """Yield the number of episodes finished as each chunk completes."""
    if opts.workers == 1 or len(chunks) == 1:
        _init_worker(job, opts.out, opts.compression_level)
        try:
            for chunk in chunks:
                yield _write_chunk(chunk)
        finally:
            _WORKER.clear()
        return
    # spawn: workers start clean (no inherited PyBullet or HDF5 state).
    ctx = mp.get_context("spawn")
    n = min(opts.workers, len(chunks))
    with ctrl_c_blocked(ctx):  # the workers (and the pool's thread that replaces them) start with Ctrl-C held
        pool = ctx.Pool(n, initializer=_init_worker, initargs=(job, opts.out, opts.compression_level, os.getpid()))
    with pool:
        yield from pool.imap_unordered(_write_chunk, chunks)


# --------------------------------------------------------------------------------------------------- Ray
class _Maker:
    """A Ray actor's state: the job, set up once (``ray.remote`` makes the actor class of it)."""

    def __init__(self, job: EpisodeJob) -> None:
        self.job = job
        job.setup()

    def make(self, indices: list[int]) -> list[Episode]:
        return [self.job.episode(i) for i in indices]


def _run_ray(job: EpisodeJob, opts: WriteOptions, chunks: list[list[int]]) -> Iterator[int]:
    """Run chunks on Ray actors (one per CPU, at most one per chunk), each kept busy with the next chunk; the driver
    writes the episodes. A chunk whose actor dies is retried on the restarted actor."""
    assert opts.ray_address is not None, "_run_ray runs only with a ray_address"
    with ray_session(opts.ray_address, opts.workers) as ray:
        writer = DatasetWriter(opts.out, compression_level=opts.compression_level)
        maker = ray.remote(num_cpus=1, max_restarts=3, max_task_retries=3)(_Maker)
        cpus = opts.workers if opts.ray_address == RAY_LOCAL else int(ray.cluster_resources().get("CPU", 1))
        n_actors = max(1, min(cpus, len(chunks)))
        actors = [maker.remote(job) for _ in range(n_actors)]
        pending: dict[Any, tuple[int, list[int]]] = {}
        queue = list(chunks)
        for a in range(n_actors):
            if queue:
                chunk = queue.pop(0)
                pending[actors[a].make.remote(chunk)] = (a, chunk)
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            actor, chunk = pending.pop(ready[0])
            for episode in ray.get(ready[0]):  # Ray retries a failed task on the restarted actor
                writer.write_episode(episode)
            yield len(chunk)
            if queue:
                nxt = queue.pop(0)
                pending[actors[actor].make.remote(nxt)] = (actor, nxt)
