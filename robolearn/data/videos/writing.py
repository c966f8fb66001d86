"""Writing a clip dataset in parallel, resumably: what ``robolearn collect videos`` and ``robolearn data import``
share, on the machinery of every collection (``robolearn.data.parallel``).

A ``ClipJob`` (an ``EpisodeJob`` whose episodes are clips) makes clip ``i`` as a pure function of ``i`` (and its own
settings), so clips can be made in any order, by any number of workers, and a rerun makes only the ones the folder
lacks. Finished clips are packed into shards at the end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from robolearn.data.parallel import EpisodeJob, WriteOptions, open_dataset, write_episodes
from robolearn.ray_session import RAY_LOCAL

__all__ = ["RAY_LOCAL", "ClipJob", "WriteOptions", "write_clips"]

#: makes the clips of one dataset (``episode(i)``: clip ``i``, ``robolearn.data.videos.clip.clip_episode``)
ClipJob = EpisodeJob


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
    done = open_dataset(opts.out, meta, resume_keys)
    todo = [i for i in range(opts.total) if i not in done]
    written = write_episodes(
        job, todo, opts, "clip", lambda made, seconds: {"clips_per_s": f"{made / max(seconds, 1e-9):.1f}"}
    )
    made, elapsed = written.made, written.seconds
    return {
        "out": str(opts.out),
        "total": opts.total,
        "held": written.held,
        "resumed_from": opts.total - len(todo),
        "made": made,
        "seconds": elapsed,
        "clips_per_s": made / elapsed if made and elapsed > 0 else 0.0,
    }
