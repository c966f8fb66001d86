"""Writing a clip dataset in parallel, resumably: what ``robolearn collect videos`` and ``robolearn data import``
share.

A ``ClipJob`` makes clip ``i`` as a pure function of ``i`` (and its own settings), so clips can be made in any
order, by any number of workers, and a rerun makes only the ones the folder lacks (``DatasetWriter.done_indices``).
Local worker processes (spawned: no inherited PyBullet or HDF5 state; they exit with their parent,
``sim.plumbing.processes``) write each finished clip straight to the dataset (atomically); Ray actors return
clips to the driver, which writes them. Finished clips are packed into shards at the end.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import nullcontext
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
from sim.plumbing.processes import init_worker, reap_orphans

__all__ = ["RAY_LOCAL", "ClipJob", "WriteOptions", "write_clips"]

RAY_LOCAL = "local"  # ray_address value that starts a local Ray instance


class ClipJob(Protocol):
    """Makes the clips of one dataset; pickled to every worker."""

    def setup(self) -> None:
        """Prepare this process (open a simulator, ...); called once per worker before its first clip."""

    def clip(self, index: int) -> Episode:
        """Clip ``index`` as an Episode (``robolearn.data.videos.clip.clip_episode``)."""
        ...


@dataclass(frozen=True)
class WriteOptions:
    """Where and how clips are made (the execution knobs of the commands' settings)."""

    out: Path
    total: int
    workers: int = 1
    chunk_clips: int = 25
    ray_address: str | None = None
    progress_bar: bool = True
    compression_level: int = 4
    episodes_per_shard: int = 1000
    desc: str = "clips"


_WORKER: dict[str, Any] = {}


def _init_worker(job: ClipJob, out: Path, level: int, parent: int | None = None) -> None:
    if parent is not None:
        init_worker(parent)
    job.setup()
    _WORKER.update(job=job, writer=DatasetWriter(out, compression_level=level))


def _write_chunk(indices: Sequence[int]) -> int:
    job, writer = _WORKER["job"], _WORKER["writer"]
    for i in indices:
        writer.write_episode(job.clip(i))
    return len(indices)


def _run_local(job: ClipJob, opts: WriteOptions, chunks: list[list[int]]) -> Iterator[int]:
    if opts.workers == 1 or len(chunks) == 1:
        _init_worker(job, opts.out, opts.compression_level)
        try:
            for chunk in chunks:
                yield _write_chunk(chunk)
        finally:
            _WORKER.clear()
        return
    ctx = mp.get_context("spawn")
    n = min(opts.workers, len(chunks))
    with ctx.Pool(n, initializer=_init_worker, initargs=(job, opts.out, opts.compression_level, os.getpid())) as pool:
        yield from pool.imap_unordered(_write_chunk, chunks)


def _run_ray(job: ClipJob, opts: WriteOptions, chunks: list[list[int]]) -> Iterator[int]:
    try:
        import ray  # optional dependency (robolearn[ray])
    except ImportError:
        from robolearn.config import ConfigError  # lazy: hydra

        raise ConfigError(
            "ray_address is set but Ray is not installed; pip install -c constraints.txt 'robolearn[ray]'"
        ) from None
    with reap_orphans() if opts.ray_address == RAY_LOCAL and not ray.is_initialized() else nullcontext():
        yield from _run_ray_actors(ray, job, opts, chunks)


def _run_ray_actors(ray: Any, job: ClipJob, opts: WriteOptions, chunks: list[list[int]]) -> Iterator[int]:
    if opts.ray_address == RAY_LOCAL:
        ray.init(num_cpus=opts.workers, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    else:
        ray.init(address=opts.ray_address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    writer = DatasetWriter(opts.out, compression_level=opts.compression_level)

    @ray.remote(num_cpus=1, max_restarts=3, max_task_retries=3)
    class Maker:
        def __init__(self, j: ClipJob) -> None:
            self.job = j
            j.setup()

        def make(self, indices: list[int]) -> list[Episode]:
            return [self.job.clip(i) for i in indices]

    local = opts.ray_address == RAY_LOCAL
    n_actors = max(1, min(opts.workers if local else int(ray.cluster_resources().get("CPU", 1)), len(chunks)))
    actors = [Maker.remote(job) for _ in range(n_actors)]  # type: ignore[attr-defined]
    pending: dict[Any, tuple[int, list[int]]] = {}
    queue = list(chunks)
    try:
        for a in range(n_actors):
            if queue:
                chunk = queue.pop(0)
                pending[actors[a].make.remote(chunk)] = (a, chunk)
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            actor, chunk = pending.pop(ready[0])
            for episode in ray.get(ready[0]):
                writer.write_episode(episode)
            yield len(chunk)
            if queue:
                nxt = queue.pop(0)
                pending[actors[actor].make.remote(nxt)] = (actor, nxt)
    finally:
        ray.shutdown()


def write_clips(
    job: ClipJob, opts: WriteOptions, meta: Mapping[str, Any], resume_keys: Sequence[str]
) -> dict[str, Any]:
    """Make clips ``0 .. opts.total - 1`` of the dataset at ``opts.out`` (those it lacks), then pack them.

    Args:
        job: makes clip ``i``.
        opts: where, how many, with how many workers.
        meta: the dataset's meta.json (with ``"content": "clips"``); a resumed run must agree on ``resume_keys``.
        resume_keys: meta keys that change what clip ``i`` is.

    Returns:
        A summary: out, total, held, resumed_from, made, seconds, clips_per_s.

    Raises:
        DatasetError: the folder holds a dataset made with other settings, or a damaged one.
    """
    resuming = (opts.out / META_FILE).is_file()
    create_dataset(opts.out, meta, resume_keys=resume_keys)
    if resuming:  # the clips it holds are skipped: check, cheaply, that they are there and readable
        with DatasetReader(opts.out) as reader:
            check_dataset(reader)
    writer = DatasetWriter(opts.out, compression_level=opts.compression_level)
    done = writer.done_indices()
    todo = [i for i in range(opts.total) if i not in done]
    chunks = [todo[k : k + opts.chunk_clips] for k in range(0, len(todo), opts.chunk_clips)]
    start = time.perf_counter()
    made = 0
    bar = tqdm(
        total=opts.total,
        initial=opts.total - len(todo),
        unit="clip",
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
                bar.set_postfix(clips_per_s=f"{made / max(time.perf_counter() - start, 1e-9):.1f}")
        elapsed = time.perf_counter() - start
        writer.pack(opts.episodes_per_shard)
    except BaseException:
        with contextlib.suppress(OSError):  # the error being raised says more than a failing cleanup
            writer.clean_tmp()
        raise
    return {
        "out": str(opts.out),
        "total": opts.total,
        "held": len(writer.done_indices()),
        "resumed_from": opts.total - len(todo),
        "made": made,
        "seconds": elapsed,
        "clips_per_s": made / elapsed if made and elapsed > 0 else 0.0,
    }
