"""Fixtures shared across the test packages (``tests/`` mirrors ``sim``, ``rewards``, ``planners``, ``robolearn``).

- ``one_torch_thread``: tiny models on one intra-op thread (their ops are too small to split, and on a busy
  2-core machine OpenMP threads waiting for each other made learning tests 10-30x slower). A module opts in
  with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
- ``collect_dataset``: collect a small desk dataset with ``robolearn collect`` overrides, once per session
  for each distinct set of overrides.

Tests that train or plan carry the ``slow`` marker (``pytest -m "not slow"`` runs the rest in about a minute).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

CollectDataset = Callable[[Sequence[str]], Path]


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Run the module's torch code on one intra-op thread, restoring the thread count afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def collect_dataset(tmp_path_factory: pytest.TempPathFactory) -> CollectDataset:
    """``collect(overrides) -> dataset folder``: ``robolearn collect`` run in this process, cached per overrides."""
    from robolearn.config import compose_config
    from robolearn.data.collect import CollectSettings, run_collect

    made: dict[tuple[str, ...], Path] = {}

    def collect(overrides: Sequence[str]) -> Path:
        key = tuple(overrides)
        if key not in made:
            out = tmp_path_factory.mktemp("collected") / "ds"
            run_collect(CollectSettings.from_config(compose_config("collect", [f"out={out}", *key])), echo=False)
            made[key] = out
        return made[key]

    return collect
