"""Ray, the optional cluster runtime (``robolearn[ray]``): the one way every parallel verb connects to it.

``ray_address`` is a knob of ``robolearn collect``, ``collect videos`` and ``bench``: ``local`` starts a Ray
instance on this machine with ``workers`` CPUs, any other value (``auto``, ``ray://HOST:PORT``) joins a running
cluster. ``ray_session`` imports Ray (a one-line ``ConfigError`` saying how to install it when it is missing),
connects, and disconnects at the end of the block. A local instance started here is guarded by
``sim.plumbing.processes.reap_orphans``, since Ray's agents otherwise outlive a killed driver by a minute; a Ray
already initialised by the caller is used as it is and left running.

Light: the standard library and ``sim.plumbing.processes`` only; Ray is imported when a session opens.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sim.plumbing.processes import reap_orphans

__all__ = ["RAY_LOCAL", "RAY_MISSING", "ray_session"]

#: ``ray_address`` value that starts a Ray instance on this machine (with ``workers`` CPUs)
RAY_LOCAL = "local"
#: the error when ``ray_address`` is set and Ray cannot be imported
RAY_MISSING = "ray_address is set but Ray is not installed; pip install -c constraints.txt 'robolearn[ray]'"


@contextmanager
def ray_session(address: str, workers: int) -> Iterator[Any]:
    """The ``ray`` module, connected to ``address`` for the block.

    Args:
        address: ``RAY_LOCAL`` (start an instance here) or a cluster address (``auto``, ``ray://HOST:PORT``).
        workers: CPUs of a local instance (a cluster decides its own).

    Yields:
        The imported ``ray`` module (untyped: Ray ships no stubs).

    Raises:
        robolearn.config.ConfigError: Ray is not installed (the message says how to install it).
    """
    try:
        import ray  # optional dependency (robolearn[ray])
    except ImportError:
        from robolearn.config import ConfigError  # lazy: hydra

        raise ConfigError(RAY_MISSING) from None
    started_here = not ray.is_initialized()
    # A Ray instance started here: its processes are this one's descendants, stopped if this process dies.
    with reap_orphans() if started_here and address == RAY_LOCAL else nullcontext():
        if started_here:
            if address == RAY_LOCAL:
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
        try:
            yield ray
        finally:
            if started_here:
                ray.shutdown()
