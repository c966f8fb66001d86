"""Config dataclasses whose every field is written once: its default, its documentation and its allowed values.

A component's settings are a dataclass; each field is declared with ``knob(default, doc, lo=..., hi=...,
choices=...)``. From that one declaration:

- ``check_knobs`` validates an instance (types are converted and checked by ``from_mapping``, ranges and
  choices here), with the one-line messages of ``sim.plumbing.checks``; a class adds its cross-field rules
  in ``__post_init__`` after calling it;
- ``from_mapping`` builds an instance from a (nested, partial) mapping such as a composed Hydra node,
  naming unknown keys and values of the wrong type;
- ``config_yaml`` writes the commented YAML file that users read and override in ``conf/`` (the files are
  generated from the dataclasses and CI checks that they are current, so a default or its documentation
  is never written twice).

Example:
    >>> @dataclass
    ... class Physics:
    ...     '''Physics stepping.'''
    ...     timestep: float = knob(0.01, "physics time step (s)", lo=1e-4, hi=0.05)
    ...     def __post_init__(self) -> None:
    ...         check_knobs(self, "physics")
    >>> print(config_yaml(Physics()), end="")
    timestep: 0.01  # physics time step (s, 0.0001–0.05)
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, TypeVar

from sim.plumbing.checks import check_pair, check_range

__all__ = ["Knob", "check_knobs", "config_yaml", "from_mapping", "knob", "knob_of"]

T = TypeVar("T")
_META_KEY = "robolearn.knob"
#: YAML scalars that must be quoted to stay strings
_YAML_SPECIAL = re.compile(
    r"^(?:true|false|yes|no|on|off|null|~|[-+]?[\d.]+(?:e[-+]?\d+)?)$|[:#\[\]{},&*!|>'\"%@`]|^\s|\s$", re.I
)


@dataclass(frozen=True)
class Knob:
    """The declaration of one config field beside its default.

    Attributes:
        doc: what the field means, with its unit (one line; it becomes the YAML comment).
        lo, hi: inclusive bounds of a number, or of both ends of a ``[low, high]`` pair (None = unbounded).
        choices: the allowed values (strings, usually), or None.
        pair: the value is a ``[low, high]`` range with ``low <= high``.
    """

    doc: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[Any, ...] | None = None
    pair: bool = False

    def describe(self) -> str:
        """The allowed values as the YAML comment ends them: ``0.0001–0.05``, ``≥ 1``, ``a | b``."""
        if self.choices:
            return " | ".join(str(c) for c in self.choices)
        if self.lo is not None and self.hi is not None:
            return f"{_number(self.lo)}–{_number(self.hi)}"
        if self.lo is not None:
            return f"≥ {_number(self.lo)}"
        if self.hi is not None:
            return f"≤ {_number(self.hi)}"
        return ""


def knob(
    default: Any,
    doc: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: Sequence[Any] | None = None,
    pair: bool = False,
) -> Any:
    """A dataclass field with its default, documentation and allowed values, declared once.

    Mutable defaults (lists, dicts, dataclass instances) are copied for every instance.
    """
    meta = {_META_KEY: Knob(doc, lo, hi, tuple(choices) if choices is not None else None, pair)}
    if isinstance(default, (list, dict, set)) or (is_dataclass(default) and not isinstance(default, type)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


def knob_of(f: dataclasses.Field[Any]) -> Knob | None:
    """The ``Knob`` of a dataclass field, or None for a field declared without ``knob``."""
    k = f.metadata.get(_META_KEY)
    return k if isinstance(k, Knob) else None


def check_knobs(obj: Any, owner: str) -> None:
    """Check every knob of dataclass instance ``obj`` against its bounds and choices.

    Raises:
        ValueError: one line naming ``owner.field``, the value and what is allowed.
    """
    for f in fields(obj):
        k = knob_of(f)
        if k is None:
            continue
        value = getattr(obj, f.name)
        if value is None:
            continue
        if k.choices is not None and value not in k.choices:
            raise ValueError(
                f"{owner}.{f.name}={value!r} is not allowed; choose from {' | '.join(map(str, k.choices))}"
            )
        if k.pair:
            check_pair(owner, f.name, value, k.lo, k.hi)
        elif (k.lo is not None or k.hi is not None) and isinstance(value, (int, float)):
            check_range(owner, f.name, value, k.lo, k.hi)


# ------------------------------------------------------------------------------------------ from mappings
def _converted(owner: str, name: str, value: Any, default: Any) -> Any:
    """``value`` converted to the type of ``default``, or a ValueError that names the field and type."""
    where = f"{owner}.{name}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where}={value!r} must be true or false")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}={value!r} must be a number")
        if isinstance(default, int) and not float(value).is_integer():
            raise ValueError(f"{where}={value!r} must be a whole number")
        return type(default)(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ValueError(f"{where}={value!r} must be a string")
        return value
    if isinstance(default, tuple):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValueError(f"{where}={value!r} must be a list")
        if default and all(isinstance(d, (int, float)) for d in default):
            if len(value) != len(default):
                raise ValueError(f"{where}={list(value)!r} must have {len(default)} values")
            return tuple(_converted(owner, f"{name}[{i}]", v, float(default[0])) for i, v in enumerate(value))
        return tuple(value)
    return value


def from_mapping(cls: type[T], data: Mapping[str, Any] | None) -> T:
    """Build dataclass ``cls`` from a (possibly nested, possibly partial) mapping.

    Missing keys keep their defaults; a nested mapping overrides only the keys it names. Unknown keys and
    values of the wrong type are ValueErrors that name the field; ranges are checked by the class.
    """
    data = dict(data or {})
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"unknown {cls.__name__} option(s) {unknown}; valid options are {sorted(known)}")
    defaults = cls()
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        current = getattr(defaults, name)
        if is_dataclass(current):
            if isinstance(value, type(current)):
                kwargs[name] = value
            elif isinstance(value, Mapping):
                # A partial mapping overrides this field's own default (which may differ from its class's).
                kwargs[name] = from_mapping(type(current), {**dataclasses.asdict(current), **value})
            else:
                raise ValueError(
                    f"{cls.__name__}.{name} must be a mapping of {type(current).__name__} options, got {value!r}"
                )
        elif isinstance(current, list) and current and is_dataclass(current[0]):
            item_cls = type(current[0])
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
                raise ValueError(f"{name} must be a list of {item_cls.__name__} mappings, got {value!r}")
            kwargs[name] = [v if isinstance(v, item_cls) else from_mapping(item_cls, v) for v in value]
        else:
            kwargs[name] = _converted(cls.__name__, name, value, current)
    return cls(**kwargs)


# ------------------------------------------------------------------------------------------------- YAML
def _number(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x)) if not math.isinf(x) else str(x)
    return repr(x)


def _scalar(value: Any) -> str:
    """``value`` as a YAML flow scalar or flow list."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if not value or _YAML_SPECIAL.search(value) else value
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a YAML scalar")


def _comment(k: Knob | None) -> str:
    if k is None:
        return ""
    allowed = k.describe()
    doc = k.doc
    if allowed and doc.endswith(")"):  # "(s)" + "0.0001–0.05" -> "(s, 0.0001–0.05)"
        doc = f"{doc[:-1]}, {allowed})"
    elif allowed:
        doc = f"{doc} ({allowed})"
    return f"  # {doc}" if doc else ""


def _lines(obj: Any, indent: str) -> list[str]:
    out: list[str] = []
    for f in fields(obj):
        value = getattr(obj, f.name)
        k = knob_of(f)
        if is_dataclass(value):
            out.append("")
            if k is not None and k.doc:
                out.append(f"{indent}# {k.doc}")
            out.append(f"{indent}{f.name}:")
            out += _lines(value, indent + "  ")
        elif isinstance(value, list) and value and all(is_dataclass(v) for v in value):
            if k is not None and k.doc:
                out.append(f"{indent}# {k.doc}")
            out.append(f"{indent}{f.name}:")
            for item in value:
                item_lines = [line for line in _lines(item, indent + "    ") if line]
                item_lines[0] = f"{indent}  - {item_lines[0].lstrip()}"
                out += item_lines
        else:
            out.append(f"{indent}{f.name}: {_scalar(value)}{_comment(k)}")
    return out


def config_yaml(config: Any, header: str = "", first: Mapping[str, tuple[Any, str]] | None = None) -> str:
    """The commented YAML of dataclass instance ``config`` (usually its defaults).

    Args:
        config: the dataclass instance whose values are written.
        header: comment lines put at the top (without ``#``; blank lines kept).
        first: extra top-level keys written before the fields, ``name -> (value, doc)`` (e.g. an env
            config's declared ``kind``, or Hydra's ``_target_``).

    Returns:
        The file's text, ending with a newline.
    """
    out = [f"# {line}".rstrip() for line in header.strip("\n").splitlines()] if header else []
    for name, (value, doc) in (first or {}).items():
        out.append(f"{name}: {_scalar(value)}  # {doc}")
    out += _lines(config, "")
    text = "\n".join(out).replace("\n\n\n", "\n\n")
    return text.strip("\n") + "\n"
