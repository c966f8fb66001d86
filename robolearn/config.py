"""Hydra configs: compose a job config from ``conf/`` and turn its ``env`` node into an env config of its kind.

robolearn uses Hydra's compose API rather than ``@hydra.main``: the working directory never
changes and no run directory is created, so relative paths (``video.path=out.gif``) are
relative to where the command was run, and ``robolearn.cli.main`` can be called from Python.
Every configuration problem surfaces as a ``ConfigError`` with a one-line message.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from robolearn.paths import conf_dir, shipped_checkpoint
from sim.plumbing.checks import shorten, shown

# `${shipped:lorel_reward.pt}` in a config: the path of a checkpoint shipped inside the package.
OmegaConf.register_new_resolver("shipped", shipped_checkpoint, replace=True)

if TYPE_CHECKING:  # pragma: no cover - importing sim loads pybullet; env_config imports it on use
    from typing import TypeAlias

    from planners.mobile_manipulation_config import ManipulationAgentConfig
    from planners.navigation_config import NavAgentConfig
    from robolearn.kinds import EnvKind
    from sim.config import DeskEnvConfig
    from sim.counter_config import CounterEnvConfig
    from sim.home_config import HomeEnvConfig

    #: an env config of any kind (robolearn.kinds.KINDS names their classes)
    EnvConfig: TypeAlias = DeskEnvConfig | HomeEnvConfig | CounterEnvConfig

_C = TypeVar("_C")  # the settings dataclass _sim_config builds

# Parts of Hydra/OmegaConf messages that say where the error was raised rather than what is wrong.
_NOISE_PREFIXES = ("Config search path", "provider=", "See https://", "full_key:", "object_type=")
#: the most characters of a Hydra or OmegaConf message quoted in ours (they echo the override they failed on)
MESSAGE_CHARS = 300
#: keys whose values are free text (what to do, in plain language): a value Hydra's override grammar cannot read
#: as one string ("set drawer=open", "it's open", "open it, then close it") is passed on verbatim, quoted for Hydra
FREE_TEXT_KEYS = ("instruction",)


class ConfigError(ValueError):
    """A configuration value or override is invalid; the message is one line, meant for users."""


def one_line(message: str) -> str:
    """Collapse a multi-line library message into one line without its location boilerplate."""
    lines = [line.strip() for line in str(message).splitlines()]
    return " ".join(line for line in lines if line and not line.startswith(_NOISE_PREFIXES))


def flatten_keys(node: object, prefix: str = "") -> list[str]:
    """Dotted paths of every key in a nested mapping (lists count as leaves)."""
    keys: list[str] = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            keys.append(path)
            keys.extend(flatten_keys(value, path))
    return keys


def group_overrides(overrides: Sequence[str]) -> list[str]:
    """The overrides that choose a config group option (``env=counter``: a folder of ``conf/``)."""
    groups = {p.name for p in conf_dir().iterdir() if p.is_dir()}
    return [o for o in overrides if o.partition("=")[1] and o.partition("=")[0] in groups]


def _unknown_key_message(key: str, config_name: str, overrides: Sequence[str] = ()) -> str:
    """Explain an override of a key that does not exist, suggesting the closest real keys of the config composed
    with the user's own group choices (``env=counter``: the keys there, not the default desk's)."""
    groups = group_overrides(overrides)
    try:
        base = OmegaConf.to_container(_compose(config_name, groups), resolve=False)
    except Exception:  # the suggestion is a nicety; never hide the real error behind another one
        return f"unknown config key {shown(key)}"
    chosen = f" (with {' '.join(groups)})" if groups else ""
    known = [k for k in flatten_keys(base) if k != key]
    leaf = key.rsplit(".", 1)[-1]
    # Same leaf under another node first (`task` -> `env.task`), then near-misses (`env.tsk`).
    ancestors = {key.rsplit(".", i)[0] for i in range(1, key.count(".") + 1)}  # `env` for `env.foo`
    suggestions = [k for k in known if k.rsplit(".", 1)[-1] == leaf]
    suggestions += [k for k in difflib.get_close_matches(key, known, n=3) if k not in suggestions]
    suggestions = [k for k in suggestions if k not in ancestors]
    if suggestions:
        return f"unknown config key {shown(key)}{chosen}; did you mean {' or '.join(suggestions[:3])}?"
    parent = key.rsplit(".", 1)[0] if "." in key else ""
    siblings = sorted(k.rsplit(".", 1)[-1] for k in known if (k.rsplit(".", 1)[0] if "." in k else "") == parent)
    where = f"under {parent!r}" if parent else "at the top level"
    return f"unknown config key {shown(key)}{chosen}; valid keys {where}: {', '.join(siblings)}"


def _full_key_from_message(message: str) -> str | None:
    """The ``full_key: a.b`` that OmegaConf appends to its messages (the attribute is not always set)."""
    for line in message.splitlines():
        line = line.strip()
        if line.startswith("full_key:"):
            return line.split(":", 1)[1].strip() or None
    return None


def _compose(config_name: str, overrides: Sequence[str]) -> DictConfig:
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3", job_name="robolearn"):
        return compose(config_name=config_name, overrides=list(overrides))


def compose_config(config_name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with command-line style ``overrides`` (``key=value``).

    Interpolations are resolved here, so a bad ``${...}`` is reported now and not mid-run.

    Raises:
        ConfigError: unknown key, bad override syntax, missing config group option, broken
            interpolation.
    """
    overrides = free_text_overrides(overrides)
    check_overrides(overrides)
    try:
        cfg = _compose(config_name, overrides)
        OmegaConf.to_container(cfg, resolve=True)  # reports the failing key, which resolve() does not
        OmegaConf.resolve(cfg)
    except HydraException as e:
        cause = e.__cause__
        # Hydra reports `foo=1` for a missing key as "Could not override 'foo'. To append ... use +foo".
        # Appending would only add a key nothing reads, so say that the key is unknown instead.
        if isinstance(cause, OmegaConfBaseException) and "not in struct" in str(cause):
            key = getattr(cause, "full_key", None) or str(e).split("'")[1]
            raise ConfigError(_unknown_key_message(key, config_name, overrides)) from None
        raise ConfigError(shorten(one_line(str(e)), MESSAGE_CHARS)) from None
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None) or _full_key_from_message(str(e))
        raise ConfigError(shorten(one_line(str(e)), MESSAGE_CHARS) + (f" (in {key})" if key else "")) from None
    except ValueError as e:  # Hydra's checks of a group choice (`env=3`); each override alone was readable
        raise ConfigError(
            f"cannot read the overrides {shorten(' '.join(overrides))}: {shorten(one_line(str(e)), 160)}"
        ) from None
    return cfg


def check_overrides(overrides: Sequence[str]) -> None:
    """Read each command-line override with Hydra's grammar, one at a time, so that a bad one is named.

    Hydra's parser reports only what it could not read (``no viable alternative at input '[1'``), not which
    override; this check names the override and says how overrides are written and quoted.

    Raises:
        ConfigError: an override Hydra cannot read, or one without a key (``=3``).
    """
    from hydra.core.override_parser.overrides_parser import (  # lazy: Hydra's override parser; configs stay light
        OverridesParser,
    )

    parser = OverridesParser.create()
    for text in overrides:
        key = text.partition("=")[0].lstrip("+~") or "KEY"
        hint = (
            "write options as KEY=VALUE (e.g. episodes=3, env.task=close_drawer) and quote a value that holds "
            f"spaces, '=', ',', quotes or brackets for Hydra: {key}='...'"
        )
        try:
            override = parser.parse_override(text)
        except (HydraException, ValueError) as e:  # ValueError: e.g. an integer of more than 4300 digits
            reason = one_line(str(e)).removeprefix(f"Error parsing override '{text}'").strip()
            raise ConfigError(f"cannot read the override {shown(text)} ({shorten(reason, 120)}); {hint}") from None
        if not override.key_or_group:
            raise ConfigError(f"the override {shown(text)} has no key; {hint}")


def free_text_overrides(overrides: Sequence[str]) -> list[str]:
    """``overrides`` with the value of each free-text key (``FREE_TEXT_KEYS``) quoted for Hydra when its grammar
    would not read it as one string (a parse error, or a comma making it a sweep); other values are unchanged."""
    if not any(o.partition("=")[0].lstrip("+~") in FREE_TEXT_KEYS for o in overrides):
        return list(overrides)
    from hydra.core.override_parser.overrides_parser import (  # lazy: Hydra's override parser; configs stay light
        OverridesParser,
    )

    parser = OverridesParser.create()
    out = []
    for o in overrides:
        key, sep, value = o.partition("=")
        if sep and key.lstrip("+~") in FREE_TEXT_KEYS:
            try:
                readable = not parser.parse_override(o).is_sweep_override()
            except HydraException:
                readable = False
            if not readable:
                o = f"{key}={quote_override(value)}"
        out.append(o)
    return out


def quote_override(text: str) -> str:
    """A Hydra override value that keeps ``text`` verbatim (commas, quotes, '=' and all)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def env_kind(node: object) -> EnvKind:
    """The registry entry (``robolearn.kinds``) of the kind an ``env`` node declares with its ``kind`` key.

    Raises:
        ConfigError: ``kind`` is missing or names no kind (the message lists the kinds).
    """
    from robolearn.kinds import KindError, get_kind  # lazy: gymnasium (~120 ms); configs stay light

    raw = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node
    if not isinstance(raw, Mapping):
        raise ConfigError(f"env must be a mapping of options, got {raw!r}")
    try:
        return get_kind(raw.get("kind"))
    except KindError as e:
        raise ConfigError(str(e)) from None


def env_config(node: object, kind: str | None = None) -> EnvConfig:
    """The one factory of env configs: build and validate the config an ``env`` node describes.

    The node declares its kind (``kind: desk``, the first key of ``conf/env/*.yaml``); the kind's config class
    (``robolearn.kinds``) is built from the other keys, so ``kind`` never reaches the dataclass (nor a dataset's
    meta.json). ``sim.plumbing.settings.from_mapping`` checks names, types and ranges (and the task name), and the kind's
    ``check`` hook what the dataclass cannot (a named home must load), so an invalid value fails here,
    before anything is simulated.

    Args:
        node: the ``env`` node of a composed config, or an equivalent mapping.
        kind: the kind the caller needs; a node without ``kind`` is taken to be of it, one of another kind
            is an error. None: the node must declare its kind.

    Raises:
        ConfigError: a missing or unknown kind, another kind than ``kind``, any invalid value (one line).
    """
    from robolearn.kinds import KindError, get_kind, load  # lazy: gymnasium (~120 ms); configs stay light

    raw = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node
    if not isinstance(raw, Mapping):
        raise ConfigError(f"env must be a mapping of options, got {raw!r}")
    data: dict[str, Any] = {str(k): v for k, v in raw.items()}
    declared = data.pop("kind", None)
    if kind is not None and declared is not None and declared != kind:
        raise ConfigError(f"env.kind={declared!r}, but this needs a {kind} env: give env={kind}")
    try:
        entry = get_kind(declared if declared is not None else kind)
    except KindError as e:
        raise ConfigError(str(e)) from None
    cfg = _sim_config(load(entry.config), data)
    if entry.check is not None:
        try:
            load(entry.check)(cfg)
        except ValueError as e:
            raise ConfigError(one_line(str(e))) from None
    return cfg


def require(kind: EnvKind, verb: str) -> None:
    """Fail in one line when ``robolearn VERB`` does not run in envs of ``kind``.

    Raises:
        ConfigError: naming the kind and the kinds where the verb runs.
    """
    from robolearn.kinds import KINDS  # lazy: gymnasium (~120 ms); configs stay light

    if not kind.supports(verb):
        where = [k.name for k in KINDS.values() if k.supports(verb)]
        raise ConfigError(f"`robolearn {verb}` does not run in env={kind.name}; give env={' or env='.join(where)}")


def make_env(cfg: EnvConfig) -> Any:
    """The env a config describes (its kind's env class, ``Env(config=cfg)``).

    Deferred import: this loads pybullet.
    """
    from robolearn.kinds import kind_of, load  # lazy: gymnasium (~120 ms); configs stay light

    return load(kind_of(cfg).env)(config=cfg)


def env_tasks(cfg: EnvConfig) -> dict[str, Any]:
    """The tasks (initial-state distributions, success checks) of the kind of env ``cfg`` describes."""
    from robolearn.kinds import kind_of, load  # lazy: gymnasium (~120 ms); configs stay light

    return load(kind_of(cfg).tasks)


def nav_agent_config(node: object) -> NavAgentConfig:
    """Build and validate the navigation agent's ``NavAgentConfig`` (``conf/nav_agent/default.yaml``).

    Raises:
        ConfigError: an unknown key or invalid value, named.
    """
    from planners.navigation_config import NavAgentConfig  # lazy: gymnasium (~120 ms); configs stay light

    return _sim_config(NavAgentConfig, node, "nav_agent")


def manipulation_agent_config(node: object) -> ManipulationAgentConfig:
    """Build and validate ``ManipulationAgentConfig`` (``conf/manipulation_agent/default.yaml``).

    Raises:
        ConfigError: an unknown key or invalid value, named.
    """
    from planners.mobile_manipulation_config import (  # lazy: gymnasium (~120 ms); configs stay light
        ManipulationAgentConfig,
    )

    return _sim_config(ManipulationAgentConfig, node, "manipulation_agent")


def keyed(message: str, cls: type, where: str) -> str:
    """A config's one-line ``message`` naming keys as they are typed under ``where``.

    A config's own checks name its keys from its fields on (``thresholds.drawer=-0.1``, ``cameras[front].up``):
    they become ``env.thresholds.drawer=-0.1``; a message that starts at ``where`` already is; any other gets
    ``where: `` in front.
    """
    if message.startswith((f"{where}.", f"{where}:", f"{where}[", f"{where}=", f"unknown {where} ")):
        return message
    head = re.match(r"[A-Za-z_]\w*", message)
    fields = {f.name for f in dataclasses.fields(cls)}
    if head is not None and head.group(0) in fields and message[head.end() : head.end() + 1] in (".", "[", "="):
        return f"{where}.{message}"
    return f"{where}: {message}"


def _sim_config(cls: type[_C], node: object, where: str = "env") -> _C:
    from sim.plumbing.settings import from_mapping  # lazy: gymnasium (~120 ms); stays light

    raw = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping of options, got {raw!r}")
    data: dict[str, Any] = {str(k): v for k, v in raw.items()}
    try:
        cfg = from_mapping(cls, data, prefix=where)
    except ValueError as e:
        raise ConfigError(keyed(one_line(str(e)), cls, where)) from None
    except (TypeError, AttributeError) as e:
        # Wrong value types (a string where a number belongs, a scalar where a list belongs) fail in
        # the dataclasses' checks with a TypeError/AttributeError rather than a ValueError.
        raise ConfigError(f"{where}: invalid value type ({one_line(str(e))})") from None
    return cfg


def sweep_overrides(overrides: Sequence[str]) -> list[list[str]]:
    """Expand Hydra sweep syntax (``a=1,2 b=x,y``, ``c=range(3)``) into one override list per run.

    The runs are the Cartesian product of the swept keys, in Hydra's BasicSweeper order (the last key
    varies fastest); plain overrides go into every run.

    Raises:
        ConfigError: an override Hydra cannot parse.
    """
    from hydra.core.override_parser.overrides_parser import (  # lazy: Hydra's override parser; configs stay light
        OverridesParser,
    )

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as e:
        raise ConfigError(one_line(str(e))) from None
    choices = []
    for o in parsed:
        key = o.get_key_element()
        if o.is_sweep_override():
            choices.append([f"{key}={v}" for v in o.sweep_string_iterator()])
        else:
            choices.append([f"{key}={o.get_value_element_as_str()}"])
    return [list(run) for run in itertools.product(*choices)]
