"""Validation of config values with one-line errors, plain-dict round trips, config and state-dict comparisons.

Every check raises a ``ValueError`` that names the field, the bad value and what is allowed, in one of
two styles:

- the ``owner``-style checks of config dataclasses (``check_int``, ``check_number``, ...):
  ``"Owner.field must be ..., got ..."``;
- the simulator's range checks (``check_range``, ``check_pair``): ``"owner.field=value is out of range; use
  a value in [lo, hi]"`` (the style of ``sim.plumbing.settings.check_knobs``, which checks every knob).

Example:
    >>> @dataclass
    ... class MyConfig(PlainConfig):
    ...     width: int = 8
    ...     def __post_init__(self) -> None:
    ...         check_int(self, "width", self.width, 1)
    >>> MyConfig.from_dict(MyConfig(width=4).to_dict())
    MyConfig(width=4)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

__all__ = [
    "PlainConfig",
    "check_action",
    "check_bool",
    "check_choice",
    "check_env_modes",
    "check_image_size",
    "check_int",
    "check_number",
    "check_obs_keys",
    "check_pair",
    "check_range",
    "config_differences",
    "int_tuple",
    "shorten",
    "shown",
    "state_dict_problems",
]

C = TypeVar("C", bound="PlainConfig")

#: the most characters of a user's value (an instruction, a path, an override) that a message quotes
SHOWN_CHARS = 80


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` as a message quotes it: whole when short, else its start and end around "…" and its length.

    Every message that echoes what a user typed or named (an instruction, a path, a value) goes through this
    (or ``shown``), so a 10,000-character instruction gives a one-line error, not a page.

    Example:
        >>> shorten("a" * 10_000, 20)
        'aaaaaaaaaaaa…aaaaaaa (10000 characters)'
    """
    text = str(text)
    if len(text) <= limit:
        return text
    head = max(1, (limit * 3) // 5)
    tail = max(1, limit - head - 1)
    return f"{text[:head]}…{text[-tail:]} ({len(text)} characters)"


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` shortened as ``shorten`` does (a string keeps its quotes around the shortened text)."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        short = shorten(value, limit)
        quoted, _, count = short.rpartition(" (")
        return f"{quoted!r} ({count}"
    return shorten(repr(value), limit)


def _owner(owner: Any) -> str:
    """The class name used in messages: ``owner`` may be an instance, a class or a name."""
    if isinstance(owner, str):
        return owner
    return owner.__name__ if isinstance(owner, type) else type(owner).__name__


def int_tuple(owner: Any, name: str, value: Any, minimum: int) -> tuple[int, ...]:
    """``value`` as a non-empty tuple of ints ≥ ``minimum`` (lists from YAML/OmegaConf accepted)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        try:  # OmegaConf ListConfig is a Sequence; anything else iterable is accepted too
            value = list(value)
        except TypeError:
            raise ValueError(f"{_owner(owner)}.{name} must be a list of integers ≥ {minimum}, got {value!r}") from None
    out = tuple(value)
    if not out or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in out):
        raise ValueError(f"{_owner(owner)}.{name} must be a non-empty list of integers ≥ {minimum}, got {list(out)!r}")
    return out


def check_int(owner: Any, name: str, value: Any, minimum: int) -> None:
    """An integer (not a bool) ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{_owner(owner)}.{name} must be an integer ≥ {minimum}, got {value!r}")


def check_number(
    owner: Any, name: str, value: Any, lo: float, hi: float = math.inf, lo_open: bool = False, hi_open: bool = False
) -> float:
    """A finite number in the interval [lo, hi] (bounds excluded with ``*_open``), returned as a float."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if ok:
        ok = (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi)
    if not ok:
        interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open or hi == math.inf else ']'}"
        raise ValueError(f"{_owner(owner)}.{name} must be a number in {interval}, got {value!r}")
    return float(value)


def check_choice(owner: Any, name: str, value: Any, allowed: Sequence[str]) -> None:
    """One of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{_owner(owner)}.{name} must be one of {' | '.join(allowed)}, got {value!r}")


def check_bool(owner: Any, name: str, value: Any) -> None:
    """``True`` or ``False`` (not 0/1, not "yes")."""
    if not isinstance(value, bool):
        raise ValueError(f"{_owner(owner)}.{name} must be true or false, got {value!r}")


class PlainConfig:
    """Mixin of config dataclasses: ``to_dict`` / ``from_dict`` with plain lists for tuples."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tuples as lists), e.g. for checkpoints and logs."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[C], data: Mapping[str, Any]) -> C:
        """Inverse of ``to_dict``; unknown keys are an error (naming them), missing keys take defaults."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} field(s) {unknown}; known: {sorted(names)}")
        return cls(**dict(data))


def config_differences(a: Any, b: Any, ignore: Sequence[str] = ()) -> list[str]:
    """Fields where dataclasses ``a`` and ``b`` differ, as ``name: a_value != b_value`` lines."""
    return [
        f"{f.name}: {getattr(a, f.name)!r} != {getattr(b, f.name)!r}"
        for f in dataclasses.fields(a)
        if f.name not in ignore and getattr(a, f.name) != getattr(b, f.name)
    ]


def state_dict_problems(
    own: Mapping[str, Any], state: Mapping[str, Any], optional_prefix: str | None = None, limit: int = 8
) -> list[str]:
    """Missing/unexpected keys and shape mismatches of ``state`` against a model's ``own`` state dict.

    Keys of ``own`` starting with ``optional_prefix`` may be missing from ``state``. At most ``limit``
    lines per kind of problem (then a count).
    """
    from torch import Tensor  # here, not at the top: the config checks above are used without torch

    missing = [k for k in own if k not in state and not (optional_prefix and k.startswith(optional_prefix))]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state and isinstance(state[k], Tensor) and state[k].shape != own[k].shape
    ]
    out: list[str] = []
    for label, items in (("shape mismatch", shapes), ("missing", missing), ("unexpected", unexpected)):
        out += [f"{label}: {item}" for item in items[:limit]]
        if len(items) > limit:
            out.append(f"{label}: ... and {len(items) - limit} more")
    return out


def check_range(owner: str, name: str, value: float, lo: float | None = None, hi: float | None = None) -> None:
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = f"[{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"
        raise ValueError(f"{owner}.{name}={value!r} is out of range; use a value in {bounds}")


def check_pair(owner: str, name: str, pair: Sequence[float], lo: float | None = None, hi: float | None = None) -> None:
    if len(pair) != 2 or pair[0] > pair[1]:
        raise ValueError(f"{owner}.{name}={list(pair)!r} must be a [low, high] pair with low <= high")
    for v in pair:
        check_range(owner, name, v, lo, hi)


def check_obs_keys(keys: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    """``keys`` as a tuple, or a ValueError listing the unknown ones and the choices."""
    keys = tuple(keys)
    if not keys:
        raise ValueError(f"obs_keys=[] names no observation; choose at least one of {list(allowed)}")
    unknown = [k for k in keys if k not in allowed]
    if unknown:
        raise ValueError(f"unknown observation key(s) {unknown}; choose from {list(allowed)}")
    return keys


def check_image_size(width: Any, height: Any) -> None:
    """Image sides must be integers in [16, 1024] pixels."""
    for name, v in (("width", width), ("height", height)):
        if not isinstance(v, int) or not 16 <= v <= 1024:
            raise ValueError(f"{name}={v!r} is out of range; image {name} must be an integer in [16, 1024]")


def check_env_modes(
    reward_type: str, reward_types: Sequence[str], render_mode: str | None, render_modes: Sequence[str]
) -> None:
    """An env's ``reward_type`` and ``render_mode`` arguments, or a ValueError listing the choices."""
    if reward_type not in reward_types:
        raise ValueError(f"unknown reward_type {reward_type!r}; choose from {list(reward_types)}")
    if render_mode is not None and render_mode not in render_modes:
        raise ValueError(f"unsupported render_mode {render_mode!r}; choose from {list(render_modes)}")


def check_action(action: Any, shape: tuple[int, ...] | None, names: str) -> Any:
    """An env's ``step`` argument as a float64 array of exactly the action space's ``shape``, all finite.

    A (2, 2) array for a (4,) space is not flattened, nor a scalar broadcast: a wrong shape is a caller's mistake
    (a batch, a transposed plan) that would otherwise run silently as other actions.

    Args:
        action: what ``step`` was given.
        shape: the action space's shape, e.g. ``(4,)``.
        names: what the numbers are, for the message: ``(dx, dy, dz, gripper)``.

    Raises:
        ValueError: one line naming the expected shape and what was given.
    """
    import numpy as np  # here: the config checks above are used without NumPy

    shape = tuple(shape or ())

    try:
        a = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"action must be an array of shape {shape} {names} of numbers, got {action!r:.80}") from None
    if a.shape != shape:
        what = (
            f"{shape[0]} values {names} (shape {tuple(shape)})" if len(shape) == 1 else f"shape {tuple(shape)} {names}"
        )
        raise ValueError(f"action must have {what}, got shape {a.shape}; step takes one action at a time")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"action {names} contains NaN or infinity: {a.tolist()}; give finite numbers")
    return a
