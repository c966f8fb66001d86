"""Fixtures of the dataset tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from robolearn.data.metadata import create_dataset
from tests.robolearn.data.dataset_helpers import META


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty dataset (``META``) at ``<tmp>/ds``; test_loader.py has its own, module-wide ``root``."""
    create_dataset(tmp_path / "ds", META)
    return tmp_path / "ds"
