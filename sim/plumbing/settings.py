"""Config dataclasses whose every field is written once: its default, its documentation and its allowed values.

A component's settings are a dataclass; each field is declared with ``knob(default, doc, lo=..., hi=...,
choices=...)``. From that one declaration:

- ``check_knobs`` validates an instance: the type of each scalar (that of the class's default), bounds
  (inclusive, or open with ``lo_open``/``hi_open``; per number for a tuple, per end for a ``pair``) and
  choices, with one-line messages (``physics.timestep=1 is out of range; use a value in [0.0001, 0.05]``);
  a class adds its cross-field rules in ``__post_init__`` after calling it;
- ``from_mapping`` builds an instance from a (nested, partial) mapping such as a composed Hydra node,
  converting YAML numbers and lists and naming unknown keys and values of the wrong type;
- ``config_yaml`` writes the commented YAML file that users read and override in ``conf/``: each key's
  comment is its doc with its allowed values appended; a command's file also gets its Hydra ``defaults:``
  list and the keys it overrides in composed groups (``defaults=``, ``overrides=``), a config group's file
  its ``# @package`` line (``package=``), and a subclass's file may leave its base's fields to the base's
  file (``exclude=``).

A command's top-level options (``robolearn rollout episodes=2``) are checked with an empty owner and parsed with
``from_mapping(..., prefix="")``, so messages name the keys as they are typed (``episodes=0 is out of range;
use an integer ≥ 1``); a knob declared ``any_type=True`` (a path or a list of paths) is passed through for its
class to check.

The dataclasses are the single source; the files in ``conf/`` are generated from them and CI checks they are
current (``robolearn.conf_files`` holds the registry and says why: ``sim`` stays usable without Hydra).
A subclass may change a default with a plain redeclaration and keeps its base's knob (``knobs_of``); a base
shared by several configs may leave a knob's default to each of them (``knob(MISSING, ...)``), and a subclass
may reword its bases' knob docs where they mean something more specific in it (a ``KNOB_DOCS`` class
attribute); a dataclass-valued knob may rewrite the docs of its nested fields where they mean something else
(``field_docs``). A knob's ``section`` is a comment paragraph written above its key in the YAML, introducing it
and the keys after it.

Paths are knobs too: a ``pathlib.Path`` default (or ``value_type=Path``, for a ``None`` default or a tuple of
paths) is written and overridden as a string and held as a ``Path``. An optional value (``None`` default)
declares the type of its other values with ``value_type``; a knob whose default is not ``None`` but may be
set to null says so with ``nullable=True``.
A knob whose default is a mapping of free-form entries (agent specs by name, each with its own keys)
documents its keys with ``field_docs`` too, by dotted path (``*`` for every key): it is then written as a block,
a comment on every key.

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
import numbers
import re
import textwrap
from collections.abc import Collection, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from fnmatch import fnmatchcase
from pathlib import PurePath
from typing import Any, TypeVar

from sim.plumbing.checks import check_pair, shown

#: where the measured figures behind config defaults live (speed-ups, costs): a knob's doc points there
#: instead of quoting a number that a later change would leave stale
FIGURES = 'docs/benchmarks.md, "Figures behind config defaults"'

__all__ = [
    "DEFAULTS_DOC",
    "FIGURES",
    "KNOB_DOCS",
    "Knob",
    "check_knobs",
    "config_yaml",
    "from_mapping",
    "knob",
    "knob_of",
    "knobs_of",
    "revalidate",
]

T = TypeVar("T")
_META_KEY = "robolearn.knob"
#: the class attribute of a config dataclass that rewords knobs of its bases: ``{field name: doc}``
KNOB_DOCS = "KNOB_DOCS"
#: section comments are wrapped to lines of at most this many characters (key comments stay on their line)
_WIDTH = 116
#: YAML scalars that must be quoted to stay strings
_YAML_SPECIAL = re.compile(
    r"^(?:true|false|yes|no|on|off|null|~|[-+]?[\d.]+(?:e[-+]?\d+)?)$|[:#\[\]{},&*!|>'\"%@`]|^\s|\s$", re.I
)


@dataclass(frozen=True)
class Knob:
    """The declaration of one config field beside its default.

    Attributes:
        doc: what the field means, with its unit (one line; it becomes the YAML comment, or the comment
            above a section for a dataclass-valued field).
        lo, hi: inclusive bounds of a number, of each number of a tuple, or of both ends of a
            ``[low, high]`` pair (None = unbounded).
        lo_open, hi_open: the bound itself is excluded (``> 0`` rather than ``≥ 0``).
        choices: the allowed values (strings, usually), or None.
        pair: the value is a ``[low, high]`` range with ``low <= high``.
        field_docs: for a dataclass-valued field, ``(dotted field path, doc)`` pairs that replace the
            nested fields' own docs in this place (e.g. "unused here" for a shared sub-config's field). For a
            mapping-valued field (a dict default of free-form entries, e.g. agent specs by name), the docs of
            its keys at any depth, by dotted path (``lcbc``, ``lcbc.checkpoint``; a ``*`` segment stands for
            every key: ``*._target_``): the mapping is written as a block with a comment on every key, and a
            nested mapping none of whose keys has a doc stays on its key's line in flow style.
        any_type: the value's type is not that of the default (a path or a list of paths, ``all`` or a
            list of names): neither converted nor type-checked here; the class checks it.
        value_type: the type of the value (of each element of a tuple) where the default does not show it:
            an optional value's (``None`` default: ``int``, ``float``, ``str``, ``bool`` or ``Path``), a tuple
            of paths' (``Path``). A ``pathlib.Path`` value is written and overridden as a string.
        nullable: null (``None``) is allowed although the default is not (a ``None`` default always allows it).
        section: a comment paragraph written above the key in the YAML (after a blank line): what this key
            and the ones after it are about. Wrapped like a section's doc.
    """

    doc: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[Any, ...] | None = None
    pair: bool = False
    lo_open: bool = False
    hi_open: bool = False
    field_docs: tuple[tuple[str, str], ...] = ()
    any_type: bool = False
    value_type: type | None = None
    nullable: bool = False
    section: str | None = None

    def describe(self) -> str:
        """The allowed values as the YAML comment ends them: ``0.0001–0.05``, ``≥ 1``, ``> 0, ≤ 1``, ``a | b``."""
        if self.choices:
            return " | ".join(str(c) for c in self.choices)
        if self.lo is not None and self.hi is not None and not (self.lo_open or self.hi_open):
            return f"{_number(self.lo)}–{_number(self.hi)}"
        parts = []
        if self.lo is not None:
            parts.append(f"{'>' if self.lo_open else '≥'} {_number(self.lo)}")
        if self.hi is not None:
            parts.append(f"{'<' if self.hi_open else '≤'} {_number(self.hi)}")
        return ", ".join(parts)

    def interval(self) -> str:
        """The allowed numbers as error messages say them: ``in [0.0001, 0.05]``, ``in (0, 1]``, ``≥ 1``."""
        if self.lo is not None and self.hi is not None:
            return (
                f"in {'(' if self.lo_open else '['}{_number(self.lo)}, {_number(self.hi)}{')' if self.hi_open else ']'}"
            )
        return self.describe()

    def contains(self, x: float) -> bool:
        """Whether number ``x`` is within the bounds."""
        if self.lo is not None and (x <= self.lo if self.lo_open else x < self.lo):
            return False
        return not (self.hi is not None and (x >= self.hi if self.hi_open else x > self.hi))


def knob(
    default: Any,
    doc: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: Sequence[Any] | None = None,
    pair: bool = False,
    lo_open: bool = False,
    hi_open: bool = False,
    field_docs: Mapping[str, str] | None = None,
    any_type: bool = False,
    value_type: type | None = None,
    nullable: bool = False,
    section: str | None = None,
) -> Any:
    """A dataclass field with its default, documentation and allowed values, declared once.

    Mutable defaults (lists, dicts, dataclass instances) are copied for every instance. ``doc`` should
    not repeat the bounds: the YAML comment appends them. A subclass may redeclare the field with a plain
    default (``timestep: float = 1 / 60``): it keeps the base class's knob (see ``knobs_of``).
    ``dataclasses.MISSING`` declares no default: a base class shared by several configs leaves it to each
    subclass, which redeclares the field with its own plain default (the base itself is never built).
    The other arguments are ``Knob``'s attributes.
    """
    meta = {
        _META_KEY: Knob(
            doc,
            lo,
            hi,
            tuple(choices) if choices is not None else None,
            pair,
            lo_open,
            hi_open,
            tuple((field_docs or {}).items()),
            any_type,
            value_type,
            nullable,
            section,
        )
    }
    if default is MISSING:
        return field(metadata=meta)
    if isinstance(default, (list, dict, set)) or (is_dataclass(default) and not isinstance(default, type)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


def knob_of(f: dataclasses.Field[Any]) -> Knob | None:
    """The ``Knob`` of a dataclass field, or None for a field declared without ``knob``."""
    k = f.metadata.get(_META_KEY)
    return k if isinstance(k, Knob) else None


def knobs_of(cls: type) -> dict[str, Knob]:
    """The knobs of dataclass ``cls`` by field name, a subclass's plain redeclaration keeping its base's.

    A class may reword knobs of its bases with a class attribute ``KNOB_DOCS: ClassVar[Mapping[str, str]]``
    (field name -> doc) where they mean something more specific in it (``seed``: what it seeds in this
    trainer); bounds, choices and default stay as declared.

    Raises:
        TypeError: ``KNOB_DOCS`` names a field that is no knob.
    """
    out: dict[str, Knob] = {}
    declared: dict[str, dataclasses.Field[Any]] = {}  # the Field each name had so far: inherited ones recur
    for klass in reversed(cls.__mro__):
        for f in getattr(klass, "__dataclass_fields__", {}).values():
            k = knob_of(f)
            if k is not None and declared.get(f.name) is not f:
                out[f.name] = k
            declared[f.name] = f
        for name, doc in vars(klass).get(KNOB_DOCS, {}).items():
            if name not in out:
                raise TypeError(f"{klass.__name__}.{KNOB_DOCS} rewords {name!r}, which is no knob of it")
            out[name] = dataclasses.replace(out[name], doc=doc)
    return out


def _where(owner: str, name: str, value: Any) -> str:
    # An empty owner is a command's top level, whose keys users type bare (``episodes=0``).
    return f"{owner}.{name}={shown(value)}" if owner else f"{name}={shown(value)}"


def _check_type(owner: str, name: str, value: Any, kind: type) -> None:
    """A ValueError unless ``value`` is a ``kind`` (bool, int, float, str or a path)."""
    if issubclass(kind, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{_where(owner, name, value)} must be true or false")
    elif issubclass(kind, int):  # numbers.Integral: NumPy integers are integers too
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{_where(owner, name, value)} must be an integer")
    elif issubclass(kind, float):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"{_where(owner, name, value)} must be a finite number")
    elif issubclass(kind, str):
        if not isinstance(value, str):
            raise ValueError(f"{_where(owner, name, value)} must be a string")
    elif issubclass(kind, PurePath) and not isinstance(value, PurePath):
        raise ValueError(f"{_where(owner, name, value)} must be a path")


def _value_type(k: Knob, default: Any) -> type | None:
    """The declared type of a knob's values (of a tuple's elements for a path tuple), else the default's
    scalar type; None where neither says (a ``None`` default without ``value_type``, a tuple of numbers)."""
    if k.value_type is not None:
        return k.value_type
    if default is None or default is MISSING or isinstance(default, (tuple, list)) or is_dataclass(default):
        return None
    return type(default)


def _check_bounds(owner: str, name: str, value: numbers.Real, k: Knob, integer: bool | None = None) -> None:
    """The one-line out-of-range error: ``physics.timestep=1 is out of range; use a value in [0.0001, 0.05]``.

    ``integer``: whether the knob holds integers (its declared type); None = as the value is (an int or not).
    """
    if k.contains(float(value)):
        return
    if integer is None:
        integer = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    what = "an integer" if integer else "a value"
    raise ValueError(f"{_where(owner, name, value)} is out of range; use {what} {k.interval()}")


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _element_types(default: tuple[Any, ...], n: int) -> list[type]:
    """The type (int or float) of each of the ``n`` numbers of a tuple whose default is ``default``: the default's
    element's where the lengths agree, else int if every default number is an int, else float."""
    if len(default) == n:
        return [int if _is_int(d) else float for d in default]
    return [int if all(_is_int(d) for d in default) else float] * n


def _tuple_length(f: dataclasses.Field[Any]) -> int | None:
    """The fixed length a field's annotation declares (``tuple[float, float]``: 2), or None (``tuple[int, ...]``,
    or no tuple annotation)."""
    hint = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
    if not isinstance(hint, str):
        return None
    m = re.fullmatch(r"\s*tuple\[([^\[\]]*)\]\s*", hint)
    if m is None or "..." in m.group(1):
        return None
    return len([part for part in m.group(1).split(",") if part.strip()])


def _check_numbers(owner: str, name: str, value: Any, default: tuple[Any, ...], length: int | None) -> None:
    """A tuple knob whose default holds numbers: a sequence (of ``length`` numbers, where its annotation fixes
    it), each finite, and an integer where the default's is."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise ValueError(f"{_where(owner, name, value)} must be a list of numbers")
    if length is not None and len(value) != length:
        raise ValueError(f"{_where(owner, name, list(value))} must have {length} values")
    for i, (v, kind) in enumerate(zip(value, _element_types(default, len(value)))):
        if kind is int and not _is_int(v):
            raise ValueError(f"{_where(owner, f'{name}[{i}]', v)} must be an integer")
        if not _is_number(v) or not math.isfinite(v):
            raise ValueError(f"{_where(owner, f'{name}[{i}]', v)} must be a finite number")


def check_knobs(obj: Any, owner: str) -> None:
    """Check every knob of dataclass instance ``obj``: its type (that of the class's default), bounds, choices.

    Args:
        obj: the instance (usually ``self`` in ``__post_init__``).
        owner: how messages name it: ``physics`` in ``physics.timestep=1 is out of range; ...``; empty for a
            command's top-level options (``episodes=0 is out of range; ...``).

    Raises:
        ValueError: one line naming ``owner.field``, the value and what is allowed.
    """
    knobs = knobs_of(type(obj))
    declared = {f.name: f for f in fields(obj)}
    defaults = {f.name: f.default for f in declared.values()}
    for name, k in knobs.items():
        value = getattr(obj, name)
        if value is None:
            continue
        if k.choices is not None:
            if value not in k.choices:
                raise ValueError(f"{_where(owner, name, value)} is not allowed; choose from {k.describe()}")
            continue
        default = defaults.get(name, MISSING)
        kind = None if k.any_type else _value_type(k, default)
        if kind is not None and isinstance(value, tuple) and issubclass(kind, PurePath):
            for i, v in enumerate(value):
                _check_type(owner, f"{name}[{i}]", v, kind)
        elif kind is not None:
            _check_type(owner, name, value, kind)
        # a tuple of numbers: NaN, infinity, a float for an integer, a wrong length are named here, not mid-run
        numbers_default: tuple[Any, ...] = (
            default
            if not k.any_type and isinstance(default, tuple) and default and all(_is_number(d) for d in default)
            else ()
        )
        if numbers_default:
            _check_numbers(owner, name, value, numbers_default, _tuple_length(declared[name]))
        if k.lo is None and k.hi is None:
            continue
        if k.pair:
            check_pair(owner, name, value, k.lo, k.hi)
        elif isinstance(value, (tuple, list)):
            kinds: list[type | None] = (
                list(_element_types(numbers_default, len(value))) if numbers_default else [None] * len(value)
            )
            for i, (v, elem) in enumerate(zip(value, kinds)):
                _check_bounds(owner, f"{name}[{i}]", v, k, None if elem is None else elem is int)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            _check_bounds(owner, name, value, k, None if kind is None else issubclass(kind, int))


def revalidate(obj: Any) -> None:
    """Run the checks of dataclass instance ``obj`` again, nested configs first: a config changed after it was
    built (``cfg.thresholds.drawer = -0.1``) is checked like a new one where it is used (an env's constructor).

    Raises:
        ValueError: the first check that fails (one line, as when the config was built).
    """
    for f in fields(obj):
        value = getattr(obj, f.name)
        for item in value if isinstance(value, list) else [value]:
            if is_dataclass(item) and not isinstance(item, type):
                revalidate(item)
    post_init = getattr(obj, "__post_init__", None)
    if post_init is not None:
        post_init()


# ------------------------------------------------------------------------------------------ from mappings
def _path(where: str, value: Any, kind: type, nullable: bool = False) -> Any:
    """``value`` (a non-empty string or a path) as a ``kind`` path, or a ValueError naming the field."""
    if isinstance(value, PurePath) or (isinstance(value, str) and value):
        return kind(value)
    raise ValueError(f"{where}={shown(value)} must be a path{' or null' if nullable else ''}")


def _converted(owner: str, name: str, value: Any, default: Any, k: Knob | None = None) -> Any:
    """``value`` converted to the type of ``default`` (or the knob's ``value_type``), or a ValueError that
    names the field and type. Null passes where the default is null or the knob is ``nullable``."""
    where = f"{owner}.{name}" if owner else name
    nullable = default is None or (k is not None and k.nullable)
    if value is None and nullable:
        return None
    kind = k.value_type if k is not None else None
    if kind is not None and issubclass(kind, PurePath):
        if not isinstance(default, tuple):
            return _path(where, value, kind, nullable)
        if isinstance(value, (str, PurePath)):  # one path alone is a list of one
            value = [value]
        if isinstance(value, (bytes, Mapping)) or not isinstance(value, Sequence):
            raise ValueError(f"{where}={shown(value)} must be a list of paths")
        return tuple(_path(f"{where}[{i}]", v, kind) for i, v in enumerate(value))
    if kind is not None and default is None:  # an optional value of a declared type
        default = kind(0) if issubclass(kind, (bool, int, float)) else kind()
    if isinstance(default, PurePath):
        return _path(where, value, type(default), nullable)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where}={shown(value)} must be true or false")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}={shown(value)} must be a number")
        if isinstance(default, int) and not float(value).is_integer():
            raise ValueError(f"{where}={shown(value)} must be a whole number")
        return type(default)(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ValueError(f"{where}={shown(value)} must be a string")
        return value
    if isinstance(default, tuple):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValueError(f"{where}={shown(value)} must be a list")
        if default and all(_is_number(d) for d in default):
            if len(value) != len(default):
                raise ValueError(f"{where}={shown(list(value))} must have {len(default)} values")
            # each number as its default's type: an int element stays an int (a float for it must be whole)
            return tuple(_converted(owner, f"{name}[{i}]", v, d) for i, (v, d) in enumerate(zip(value, default)))
        return tuple(value)
    return value


def from_mapping(cls: type[T], data: Mapping[str, Any] | None, prefix: str | None = None, what: str = "") -> T:
    """Build dataclass ``cls`` from a (possibly nested, possibly partial) mapping.

    Missing keys keep their defaults; a nested mapping overrides only the keys it names. Unknown keys and
    values of the wrong type are ValueErrors that name the field; ranges are checked by the class.

    Args:
        cls: the dataclass.
        data: its values by field name; nested dataclasses as mappings.
        prefix: how messages name the keys: None = ``Class.key`` (a component's config), ``""`` = the bare
            key (a command's top-level options: ``episodes``), ``"video"`` = ``video.fps``; nested
            dataclasses then get ``prefix.field``.
        what: how the unknown-key message names the options (``unknown rollout option(s) [...]``); default:
            the prefix, else the class's name.
    """
    data = dict(data or {})
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(known))
    if unknown:
        label = what or prefix or cls.__name__
        raise ValueError(f"unknown {label} option(s) {unknown}; valid options are {sorted(known)}")
    knobs = knobs_of(cls)
    owner = cls.__name__ if prefix is None else prefix
    defaults = cls()
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        current = getattr(defaults, name)
        if is_dataclass(current) and not isinstance(current, type):
            if isinstance(value, type(current)):
                kwargs[name] = value
            elif isinstance(value, Mapping):
                # A partial mapping overrides this field's own default (which may differ from its class's).
                inner = None if prefix is None else (f"{prefix}.{name}" if prefix else name)
                kwargs[name] = from_mapping(type(current), {**dataclasses.asdict(current), **value}, inner)
            else:
                where = f"{owner}.{name}" if owner else name
                raise ValueError(f"{where} must be a mapping of {type(current).__name__} options, got {shown(value)}")
        elif isinstance(current, list) and current and is_dataclass(current[0]):
            item_cls = type(current[0])
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
                raise ValueError(f"{name} must be a list of {item_cls.__name__} mappings, got {shown(value)}")
            kwargs[name] = [
                v
                if isinstance(v, item_cls)
                else from_mapping(item_cls, v, None if prefix is None else f"{owner}.{name}")
                for v in value
            ]
        elif name in knobs and knobs[name].any_type:
            kwargs[name] = tuple(value) if isinstance(value, list) else value  # checked by the class
        else:
            kwargs[name] = _converted(owner, name, value, current, knobs.get(name))
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
    if isinstance(value, PurePath):
        return _scalar(str(value))
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a YAML scalar")


def _comment(doc: str, k: Knob | None, value: Any = None) -> str:
    """The end-of-line comment of a key: its doc with the allowed values appended.

    A doc ending in a unit's parenthesis takes them inside it (``(s)`` -> ``(s, 0.0001–0.05)``); bounds on
    each number of a list follow as ``; each 0–0.2``; a doc that already names every choice is left as it is.
    """
    allowed = k.describe() if k is not None else ""
    if k is not None and k.choices and all(str(c) in doc for c in k.choices):
        allowed = ""
    if allowed and k is not None and not k.pair and isinstance(value, (tuple, list)):
        doc = f"{doc}; each {allowed}"
    elif allowed and doc.endswith(")") and "(" in doc:
        inside = doc[doc.rindex("(") + 1 : -1]
        unit = re.split(r"[,;]", inside)[0]
        if unit and len(unit) <= 16 and not re.search(r"[\s']", unit):
            doc = f"{doc[:-1]}, {allowed})"
        else:
            doc = f"{doc}; {allowed}"
    elif allowed:
        doc = f"{doc} ({allowed})" if doc else allowed
    return f"  # {doc}" if doc else ""


def _section(doc: str, indent: str) -> list[str]:
    """A section's comment lines, wrapped (a section's doc may be a paragraph)."""
    width = max(_WIDTH - len(indent) - 2, 40)
    return [f"{indent}# {line}" for line in textwrap.wrap(doc, width, break_on_hyphens=False)]


def _nested_docs(prefix: str, docs: Mapping[str, str], k: Knob | None) -> dict[str, str]:
    """Doc overrides for the fields of the dataclass-valued field ``prefix``: the field's own ``field_docs``,
    then those given from further out (which win: the outermost place knows best what is unused)."""
    out = dict(k.field_docs) if k is not None else {}
    out.update({key[len(prefix) + 1 :]: v for key, v in docs.items() if key.startswith(prefix + ".")})
    return out


def _key_doc(key: str, docs: Mapping[str, str]) -> str:
    """The doc of mapping key ``key`` among ``docs`` (paths relative to the mapping): its own, else a ``*`` one's."""
    if key in docs:
        return docs[key]
    return next((d for p, d in docs.items() if "." not in p and fnmatchcase(key, p)), "")


def _key_docs(key: str, docs: Mapping[str, str]) -> dict[str, str]:
    """The docs of the keys under mapping key ``key`` (``key.sub`` -> ``sub``): those given for every key
    (``*.sub``) first, then its own (which win)."""
    out: dict[str, str] = {}
    for own in (False, True):
        for path, doc in docs.items():
            head, dot, rest = path.partition(".")
            if dot and (head == key if own else head != key and fnmatchcase(key, head)):
                out[rest] = doc
    return out


def _mapping_lines(mapping: Mapping[Any, Any], indent: str, docs: Mapping[str, str]) -> list[str]:
    """A documented mapping's keys, one per line with its doc (see ``Knob.field_docs``)."""
    out: list[str] = []
    for key, value in mapping.items():
        doc, inner = _key_doc(str(key), docs), _key_docs(str(key), docs)
        if isinstance(value, Mapping) and value and inner:
            out.append(f"{indent}{_scalar(str(key))}:{_comment(doc, None)}")
            out += _mapping_lines(value, indent + "  ", inner)
        else:
            out.append(f"{indent}{_scalar(str(key))}: {_scalar(value)}{_comment(doc, None)}")
    return out


def _lines(obj: Any, indent: str, docs: Mapping[str, str], exclude: Collection[str] = ()) -> list[str]:
    out: list[str] = []
    knobs = knobs_of(type(obj))
    for f in fields(obj):
        if f.name in exclude:
            continue
        value = getattr(obj, f.name)
        k = knobs.get(f.name)
        doc = docs.get(f.name, k.doc if k is not None else "")
        if k is not None and k.section is not None:
            out += ["", *_section(k.section, indent)]
        inner = _nested_docs(f.name, docs, k)
        if is_dataclass(value) or (isinstance(value, Mapping) and value and inner):
            if indent:  # a nested section: its doc on its key's line, as any key's
                out.append(f"{indent}{f.name}:{_comment(doc, None)}")
            else:
                out += ["", *_section(doc, indent), f"{f.name}:"]
            if is_dataclass(value):
                out += _lines(value, indent + "  ", inner)
            else:
                out += _mapping_lines(value, indent + "  ", inner)
        elif isinstance(value, list) and value and all(is_dataclass(v) for v in value):
            out += [*_section(doc, indent), f"{indent}{f.name}:"]
            for item in value:
                item_lines = [line for line in _lines(item, indent + "    ", inner) if line]
                item_lines[0] = f"{indent}  - {item_lines[0].lstrip()}"
                out += item_lines
        else:
            out.append(f"{indent}{f.name}: {_scalar(value)}{_comment(doc, k, value)}")
    return out


#: the comment above a generated Hydra ``defaults:`` list
DEFAULTS_DOC = "Config groups composed into this job; later entries override earlier ones."


def config_yaml(
    config: Any,
    header: str = "",
    first: Mapping[str, tuple[Any, str]] | None = None,
    defaults: Sequence[tuple[str, str]] = (),
    overrides: Mapping[str, tuple[str, Sequence[tuple[str, Any, str]]]] | None = None,
    *,
    package: str = "",
    exclude: Collection[str] = (),
) -> str:
    """The commented YAML of dataclass instance ``config`` (usually its defaults).

    Top-level dataclass-valued fields become sections after a blank line, with their doc as the comment
    above (wrapped); deeper ones keep their doc on their key's line. A knob's ``section`` is written above its
    key the same way (a blank line, then the wrapped paragraph), at any depth.

    Args:
        config: the dataclass instance whose values are written.
        header: comment lines put at the top (without ``#``; blank lines kept).
        first: extra top-level keys written before the fields, ``name -> (value, doc)`` (e.g. an env
            config's declared ``kind``, or Hydra's ``_target_``).
        defaults: a command's Hydra ``defaults:`` list, ``(entry, doc)`` pairs such as ``("env: desk",
            "environment config group")``, written first (a command's file composes config groups).
        overrides: sections written last that override keys of composed groups, ``group -> (section doc,
            [(key, value, doc), ...])`` (e.g. collect's ``env.obs_keys``): values of another config than
            ``config``, so they are given here, once, by the file's registry entry.
        package: a config group file's Hydra package (``_global_``: its keys land at the top level of the
            composed config), written as the first line, ``# @package _global_`` (Hydra reads it only there).
        exclude: fields not written (a base class's fields, which the base's own file holds).

    Returns:
        The file's text, ending with a newline.
    """
    out = [f"# @package {package}"] if package else []
    out += [f"# {line}".rstrip() for line in header.strip("\n").splitlines()] if header else []
    if out:
        out.append("")
    if defaults:
        out += [*_section(DEFAULTS_DOC, ""), "defaults:"]
        out += [f"  - {entry}{_comment(doc, None)}" for entry, doc in defaults]
        out.append("")
    for name, (value, doc) in (first or {}).items():
        out.append(f"{name}: {_scalar(value)}  # {doc}")
    out += _lines(config, "", {}, exclude)
    for group, (doc, keys) in (overrides or {}).items():
        out += ["", *_section(doc, ""), f"{group}:"]
        out += [f"  {key}: {_scalar(value)}{_comment(doc, None)}" for key, value, doc in keys]
    text = "\n".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip("\n") + "\n"
