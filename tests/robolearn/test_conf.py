"""The Hydra configs in conf/: those generated from the config dataclasses are current, and every key is documented."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path, PurePath
from typing import Any

import pytest
import yaml

from robolearn import conf_files
from robolearn.conf_files import GENERATED, render
from robolearn.config import compose_config, env_config
from robolearn.paths import CONF_DIR_ENV, conf_dir
from sim.config import DeskEnvConfig

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "conf"
YAML_FILES = sorted(CONF.rglob("*.yaml"))
# A mapping key at the start of a line, optionally as the first key of a list item ("- name: front").
KEY_LINE = re.compile(r"^\s*(?:-\s+)?[A-Za-z_][\w]*\s*:")


def _mismatches(value: Any, default: Any, path: str, skip: tuple[str, ...] = ()) -> list[str]:
    """Differences between a YAML value and a dataclass default, as readable lines (empty = equal); the fields in
    ``skip`` are not compared (a base class's, written by the base's own file)."""
    if dataclasses.is_dataclass(default):
        if not isinstance(value, dict):
            return [f"{path}: expected a mapping, got {value!r}"]
        names = [f.name for f in dataclasses.fields(default) if f.name not in skip]
        out = [f"{path}.{k}: missing from the YAML (default {getattr(default, k)!r})" for k in names if k not in value]
        out += [f"{path}.{k}: in the YAML but not a field of {type(default).__name__}" for k in value if k not in names]
        for k in names:
            if k in value:
                out += _mismatches(value[k], getattr(default, k), f"{path}.{k}")
        return out
    if isinstance(default, PurePath):  # paths are written as strings
        return [] if isinstance(value, str) and Path(value) == default else [f"{path}: YAML {value!r} != {default!r}"]
    if isinstance(default, (list, tuple)):
        if not isinstance(value, list) or len(value) != len(default):
            return [f"{path}: YAML {value!r} != default {list(default)!r}"]
        pairs = enumerate(zip(value, default, strict=True))
        return [m for i, (v, d) in pairs for m in _mismatches(v, d, f"{path}[{i}]")]
    # bool == int in Python (True == 1), so compare the bool-ness too.
    if value != default or isinstance(value, bool) != isinstance(default, bool):
        return [f"{path}: YAML {value!r} != default {default!r}"]
    return []


@pytest.mark.parametrize("path", sorted(GENERATED))
def test_generated_conf_files_are_current(path: str) -> None:
    """The CI check that conf/'s generated files match their dataclasses (defaults, docs, allowed values)."""
    assert (CONF / path).read_text(encoding="utf-8") == render(path), (
        f"conf/{path} is not current with {GENERATED[path].factory}; regenerate it with "
        "`python -m robolearn.conf_files --write` (and commit the result)"
    )


def test_generated_conf_files_load_to_the_defaults() -> None:
    """What the generated text says is what the dataclass holds (no formatting loses a value)."""
    for path, entry in GENERATED.items():
        data = yaml.safe_load(render(path))
        for key in [*entry.first, *entry.overrides]:  # keys of other configs than the dataclass
            data.pop(key)
        data.pop("kind", None)
        if entry.defaults:  # a command's file: its Hydra defaults list, as its registry entry gives it
            assert data.pop("defaults") == [yaml.safe_load(d) for d, _ in entry.defaults]
        assert not _mismatches(data, entry.config_class()(), path, entry.base_fields())


@pytest.mark.parametrize("name", ["desk", "home", "counter"])
def test_an_env_config_declares_its_kind_first(name: str) -> None:
    """conf/env/<name>.yaml's first key is ``kind``, the declared ``KIND`` of its config class (the factory
    removes it: it is no dataclass field, so it never reaches a dataset's meta.json)."""
    cls = GENERATED[f"env/{name}.yaml"].config_class()
    keys = [line for line in (CONF / "env" / f"{name}.yaml").read_text().splitlines() if line and line[0] != "#"]
    assert keys[0] == f"kind: {name}  # {conf_files.KIND_DOC}"
    assert name == cls.KIND


def test_conf_files_check_command_lists_stale_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert conf_files.main(["--write", "--conf", str(tmp_path)]) == 0
    assert conf_files.main(["--check", "--conf", str(tmp_path)]) == 0
    (tmp_path / "env" / "desk.yaml").write_text("task: open_drawer\n")
    assert conf_files.main(["--check", "--conf", str(tmp_path)]) == 1
    assert "conf/env/desk.yaml is not current; run: python -m robolearn.conf_files --write" in capsys.readouterr().err


def test_composed_env_config_equals_the_dataclass_defaults() -> None:
    cfg = env_config(compose_config("rollout").env)  # the node's `kind` picks the class and is not a field
    assert type(cfg) is DeskEnvConfig and cfg == DeskEnvConfig()
    assert "kind" not in dataclasses.asdict(cfg)


def test_composed_home_and_agent_configs_equal_the_dataclass_defaults() -> None:
    from planners.mobile_manipulation_config import ManipulationAgentConfig
    from planners.navigation_config import NavAgentConfig
    from robolearn.config import manipulation_agent_config, nav_agent_config
    from sim.counter_config import CounterEnvConfig
    from sim.home_config import HomeEnvConfig

    home = compose_config("rollout", ["env=home"])
    assert env_config(home.env) == HomeEnvConfig()
    assert nav_agent_config(home.nav_agent) == NavAgentConfig()
    assert manipulation_agent_config(home.manipulation_agent) == ManipulationAgentConfig()
    assert env_config(compose_config("rollout", ["env=counter"]).env) == CounterEnvConfig()


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


def test_a_config_group_file_starts_with_its_package_line() -> None:
    """Hydra reads ``# @package`` only before the first other line of a file: conf/bench/<kind>.yaml's keys land at
    the top level of the composed config."""
    for path, entry in GENERATED.items():
        if entry.package:
            assert (CONF / path).read_text().startswith(f"# @package {entry.package}\n"), path
    assert compose_config("bench", ["trials=3"]).trials == 3


@pytest.mark.parametrize(
    ("env", "factory", "groups"),
    [
        ("desk", "robolearn.bench.run:DeskBenchOptions", ("env",)),
        ("home", "robolearn.bench.home:HomeBenchOptions", ("env", "nav_agent", "manipulation_agent")),
    ],
)
def test_composed_bench_options_equal_the_dataclass_defaults(env: str, factory: str, groups: tuple) -> None:
    """conf/bench.yaml (the options every bench has) and conf/bench/<kind>.yaml compose to the kind's options
    dataclass's defaults (its agent specs' ``${shipped:...}`` and ``${nav_agent}`` resolved alike)."""
    from omegaconf import OmegaConf

    from sim.plumbing.settings import from_mapping

    cls = GENERATED[f"bench/{env}.yaml"].config_class()
    assert f"{cls.__module__}:{cls.__name__}" == factory
    data = OmegaConf.to_container(compose_config("bench", [f"env={env}"]), resolve=True)
    assert isinstance(data, dict)
    expected = cls()
    specs = OmegaConf.create({**{g: data[g] for g in groups}, "agent_specs": expected.agent_specs})
    expected = dataclasses.replace(expected, agent_specs=OmegaConf.to_container(specs, resolve=True)["agent_specs"])
    assert from_mapping(cls, {k: v for k, v in data.items() if k not in groups}, prefix="") == expected


@pytest.mark.parametrize(
    ("verb", "factory", "groups"),
    [
        ("rollout", "robolearn.rollout:RolloutOptions", ("env", "nav_agent", "manipulation_agent")),
        ("collect", "robolearn.data.collect:CollectOptions", ("env",)),
        ("plan", "robolearn.plan:PlanOptions", ("env", "optimizer")),
    ],
)
def test_composed_command_options_equal_the_dataclass_defaults(verb: str, factory: str, groups: tuple) -> None:
    """A command's composed keys, besides its groups', are its options dataclass's defaults."""
    from omegaconf import OmegaConf

    from sim.plumbing.settings import from_mapping

    cls = GENERATED[f"{verb}.yaml"].config_class()
    assert f"{cls.__module__}:{cls.__name__}" == factory
    data = OmegaConf.to_container(compose_config(verb), resolve=True)
    assert isinstance(data, dict)
    expected = cls()
    if verb == "rollout":  # the default path interpolates the default task and policy
        assert expected.video.path == "outputs/rollout/${env.task}-${policy}.mp4"
        expected.video.path = "outputs/rollout/open_drawer-expert.mp4"
    assert from_mapping(cls, {k: v for k, v in data.items() if k not in groups}, prefix="") == expected
