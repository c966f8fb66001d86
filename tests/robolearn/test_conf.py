"""The Hydra configs in conf/: in sync with the simulator's dataclasses, and documented key by key."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from robolearn.config import compose_config, env_config
from robolearn.paths import CONF_DIR_ENV, conf_dir
from sim.config import DeskEnvConfig

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "conf"
YAML_FILES = sorted(CONF.rglob("*.yaml"))
# A mapping key at the start of a line, optionally as the first key of a list item ("- name: front").
KEY_LINE = re.compile(r"^\s*(?:-\s+)?[A-Za-z_][\w]*\s*:")


def _mismatches(value: Any, default: Any, path: str) -> list[str]:
    """Differences between a YAML value and a dataclass default, as readable lines (empty = equal)."""
    if dataclasses.is_dataclass(default):
        if not isinstance(value, dict):
            return [f"{path}: expected a mapping, got {value!r}"]
        names = [f.name for f in dataclasses.fields(default)]
        out = [f"{path}.{k}: missing from the YAML (default {getattr(default, k)!r})" for k in names if k not in value]
        out += [f"{path}.{k}: in the YAML but not a field of {type(default).__name__}" for k in value if k not in names]
        for k in names:
            if k in value:
                out += _mismatches(value[k], getattr(default, k), f"{path}.{k}")
        return out
    if isinstance(default, (list, tuple)):
        if not isinstance(value, list) or len(value) != len(default):
            return [f"{path}: YAML {value!r} != default {list(default)!r}"]
        pairs = enumerate(zip(value, default, strict=True))
        return [m for i, (v, d) in pairs for m in _mismatches(v, d, f"{path}[{i}]")]
    # bool == int in Python (True == 1), so compare the bool-ness too.
    if value != default or isinstance(value, bool) != isinstance(default, bool):
        return [f"{path}: YAML {value!r} != default {default!r}"]
    return []


def _env_yaml(name: str, cls: type) -> dict[str, Any]:
    """conf/env/<name>.yaml without its ``kind``, which must be the first key and the class's declared ``KIND``
    (the factory removes it: it is no dataclass field, so it never reaches a dataset's meta.json)."""
    data = yaml.safe_load((CONF / "env" / f"{name}.yaml").read_text())
    assert next(iter(data)) == "kind", f"conf/env/{name}.yaml: `kind` must be the first key"
    assert data.pop("kind") == cls.KIND == name  # type: ignore[attr-defined]
    return data


def test_env_yaml_mirrors_every_dataclass_field_and_default() -> None:
    data = _env_yaml("desk", DeskEnvConfig)
    problems = _mismatches(data, DeskEnvConfig(), "env")
    assert not problems, "conf/env/desk.yaml is out of sync with sim.config.DeskEnvConfig:\n" + "\n".join(problems)


def test_composed_env_config_equals_the_dataclass_defaults() -> None:
    cfg = env_config(compose_config("rollout").env)  # the node's `kind` picks the class and is not a field
    assert type(cfg) is DeskEnvConfig and cfg == DeskEnvConfig()
    assert "kind" not in dataclasses.asdict(cfg)


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(CONF)))
def test_every_key_has_a_comment(path: Path) -> None:
    lines = path.read_text().splitlines()
    undocumented = []
    for i, line in enumerate(lines):
        if not KEY_LINE.match(line):
            continue
        above = lines[i - 1].strip() if i else ""
        if "#" not in line and not above.startswith("#"):
            undocumented.append(f"{path.name}:{i + 1}: {line.strip()}")
    assert not undocumented, "keys without a comment (same line or the line above):\n" + "\n".join(undocumented)


def test_conf_files_exist() -> None:
    assert (CONF / "rollout.yaml").is_file() and (CONF / "env" / "desk.yaml").is_file()


def test_conf_dir_is_the_repo_conf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONF_DIR_ENV, raising=False)
    assert conf_dir() == CONF.resolve()


def test_conf_dir_override_must_be_a_config_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CONF_DIR_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=CONF_DIR_ENV):
        conf_dir()


def test_counter_env_yaml_mirrors_the_counter_dataclass() -> None:
    from sim.counter_config import CounterEnvConfig

    data = _env_yaml("counter", CounterEnvConfig)
    problems = _mismatches(data, CounterEnvConfig(), "env")
    assert not problems, "conf/env/counter.yaml is out of sync with sim.counter_config.CounterEnvConfig:\n" + "\n".join(
        problems
    )


def test_home_env_yaml_mirrors_the_home_dataclass() -> None:
    from sim.home_config import HomeEnvConfig

    data = _env_yaml("home", HomeEnvConfig)
    problems = _mismatches(data, HomeEnvConfig(), "env")
    assert not problems, "conf/env/home.yaml is out of sync with sim.home_config.HomeEnvConfig:\n" + "\n".join(problems)


def test_nav_agent_yaml_mirrors_the_agent_dataclass() -> None:
    from planners.navigation import NavAgentConfig

    data = yaml.safe_load((CONF / "nav_agent" / "default.yaml").read_text())
    problems = _mismatches(data, NavAgentConfig(), "nav_agent")
    assert not problems, "conf/nav_agent/default.yaml is out of sync with NavAgentConfig:\n" + "\n".join(problems)


def test_manipulation_agent_yaml_mirrors_the_agent_dataclass() -> None:
    from planners.mobile_manipulation import ManipulationAgentConfig

    data = yaml.safe_load((CONF / "manipulation_agent" / "default.yaml").read_text())
    problems = _mismatches(data, ManipulationAgentConfig(), "manipulation_agent")
    assert not problems, "conf/manipulation_agent/default.yaml is out of sync:\n" + "\n".join(problems)
