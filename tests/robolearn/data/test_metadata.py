"""robolearn.data.metadata: meta.json, foreign and newer folders, resume checks (create_dataset, check_compatible)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from robolearn.data.metadata import DatasetError, check_compatible, create_dataset, read_meta
from robolearn.data.reader import DatasetReader
from robolearn.data.schema import FORMAT_NAME, FORMAT_VERSION, META_FILE
from robolearn.data.writer import DatasetWriter
from tests.robolearn.data.dataset_helpers import (
    META,
    write_all,
)


def test_foreign_folders_and_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such dataset folder"):
        DatasetReader(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="meta.json is missing"):
        DatasetReader(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / META_FILE).write_text("{not json")
    with pytest.raises(DatasetError, match="not valid JSON"):
        DatasetReader(bad)
    (bad / META_FILE).write_text(json.dumps({"format": "something-else", "format_version": 1}))
    with pytest.raises(DatasetError, match="not a robolearn dataset"):
        DatasetReader(bad)
    (bad / META_FILE).write_text(json.dumps({"format": FORMAT_NAME, "format_version": FORMAT_VERSION + 1}))
    with pytest.raises(DatasetError, match=rf"newer robolearn \(format v{FORMAT_VERSION + 1}.*upgrade"):
        DatasetReader(bad)
    with pytest.raises(DatasetError, match="newer robolearn"):
        DatasetWriter(bad)
    with pytest.raises(DatasetError, match="newer robolearn"):
        create_dataset(bad, META)


def test_create_dataset_resume_checks(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    create_dataset(root, META)
    meta = read_meta(root)
    assert meta["format"] == FORMAT_NAME and meta["format_version"] == FORMAT_VERSION and meta["seed"] == 100
    create_dataset(root, {**META, "package_versions": {"numpy": "0"}})  # same settings: resume is fine
    assert read_meta(root) == meta  # meta.json is written once
    changed = {**META, "seed": 7, "env": {**META["env"], "width": 32}}
    with pytest.raises(DatasetError, match=r"(?s)seed: .*100.*7.*env\.width: .*16.*32.*new out=") as err:
        create_dataset(root, changed)
    assert "task" not in str(err.value)
    assert not (tmp_path / "ds" / f"{META_FILE}.tmp-{os.getpid()}").exists()
    create_dataset(root, changed, resume_keys=("obs",))  # the caller chooses what must agree
    with pytest.raises(DatasetError, match=r"seed: ") as err:
        create_dataset(root, changed, resume_keys=("seed",))
    assert "env.width" not in str(err.value)


def test_check_compatible_names_missing_and_extra_keys() -> None:
    check_compatible({"seed": 1, "obs": ("rgb",)}, {"seed": 1, "obs": ["rgb"]})  # tuples equal lists
    with pytest.raises(DatasetError, match=r"obs: the existing dataset has .*missing in this run"):
        check_compatible({"seed": 1, "obs": ["rgb"]}, {"seed": 1})
    with pytest.raises(DatasetError, match=r"versions\.numpy"):
        check_compatible({"versions": {"numpy": "1"}}, {"versions": {"numpy": "2"}}, keys=None)
    check_compatible({"versions": {"numpy": "1"}}, {"versions": {"numpy": "2"}})  # not a default key


def test_create_dataset_refuses_episode_files_without_meta(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    create_dataset(root, META)
    write_all(root, [0])
    (root / META_FILE).unlink()
    with pytest.raises(DatasetError, match=r"no meta\.json.*new out="):
        create_dataset(root, META)
