"""The checkpoint protocol of robolearn's learned models: atomic writes, self-describing contents, and errors
that say what to do.

A checkpoint is a ``torch.save``-d dict::

    format: "robolearn.reward"   version: 1   model: "LorelReward"
    config: {...}                # the model's config as a plain dict (its ``to_dict()``)
    state_dict: {...}            # weights (a model's ``checkpoint_state_dict()`` when it has one, e.g.
                                 # without a frozen text encoder's, reloaded by name)
    optimizer: {...} | None      # optimizer.state_dict()
    step: int                    # training step
    extra: {...}                 # anything plain the trainer wants: training config, metrics, ...
    torch_version: str

It is read back with ``torch.load(weights_only=True)``, so loading never executes pickled code; hence
``extra`` may only hold dicts, lists, tuples, str, int, float, bool, None and tensors (numpy scalars
and arrays are converted on save; OmegaConf containers become dicts and lists).

A ``CheckpointKind`` names a format, its model classes and how to compare them; ``save_kind`` /
``read_kind`` / ``load_kind`` work for any kind, and each model family wraps them with its own kind:
``rewards.lorel.checkpoint`` (``format: "robolearn.reward"``), ``planners.video.checkpoint``
(``"robolearn.dynamics"``), ``planners.policy.checkpoint`` (``"robolearn.policy"``). ``peek_format`` tells
the kinds apart, even in a damaged or truncated file (``sniff_format`` reads the format string from the
file's first bytes, where ``torch.save`` puts the pickled dict's first entries), so that an error names the
kind the file is rather than the kind the caller hoped for.

Every ``CheckpointError`` message is one line that names the file and the fix; a mismatch with a model
also carries the differing config fields (``CheckpointError.differences``) for callers that phrase the fix
in their own keys (``init_from``: ``dynamics.latent_channels=32``).

This module imports torch at its top: ``sim``'s own modules never import it (the simulator does not
load torch); only the model packages (``rewards``, ``planners``) and ``robolearn`` do.

Example:
    >>> KIND = CheckpointKind("my.format", 1, {"MyNet": (MyNet, MyConfig)}, (), "my-net",
    ...                       "my.load_model(path)", lambda m, s: state_dict_problems(m.state_dict(), s))
    >>> save_kind(KIND, "runs/x/last.pt", model, optimizer, step=1000, extra={"val_loss": 0.1})
    >>> model, info = load_kind(KIND, "runs/x/last.pt")
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from sim.plumbing.checks import PlainConfig, config_differences, shown
from sim.plumbing.files import write_bytes_atomic

__all__ = [
    "MAX_REASON_CHARS",
    "CheckpointError",
    "CheckpointKind",
    "load_kind",
    "peek_format",
    "read_kind",
    "save_kind",
    "sniff_format",
    "write_atomic",
]

#: longest part of torch's own error message quoted in ours (characters)
MAX_REASON_CHARS = 160
#: bytes at the start of a file that ``sniff_format`` searches for the format string
SNIFF_BYTES = 1 << 16
# ``torch.save`` writes a zip whose first member is the pickled dict: its first entry, ``format``, pickles as
# the strings ``format`` and ``robolearn.<kind>`` a few opcode bytes apart, the second after its length
# (BINUNICODE ``X`` + 4 bytes little-endian, or SHORT_BINUNICODE ``\x8c`` + 1 byte).
_FORMAT_BYTES = re.compile(rb"format.{0,12}?(?:X(.{4})|\x8c(.))(robolearn\.)", re.S)
#: every kind declared so far, by format (``CheckpointKind`` registers itself): messages name a file's kind
KINDS: dict[str, CheckpointKind] = {}
#: how messages name robolearn's own kinds when their module is not imported (``CheckpointKind.what``)
KNOWN_KINDS = {
    "robolearn.reward": "reward",
    "robolearn.dynamics": "video-model",
    "robolearn.policy": "policy",
    "robolearn.dvd": "DVD reward",
}


class CheckpointError(ValueError):
    """A file that is not a usable robolearn checkpoint of the expected kind (or not for this model).

    Attributes:
        differences: for a checkpoint of another model config, (field, checkpoint value, model value) of each
            differing field (empty otherwise), so that a caller can say which keys to set.
    """

    def __init__(self, message: str, differences: tuple[tuple[str, Any, Any], ...] = ()):
        super().__init__(message)
        self.differences = differences


@dataclass(frozen=True)
class CheckpointKind:
    """What a family of checkpoints is: the generic save/read/load functions below take one.

    Attributes:
        format: the ``format`` string stored in (and required of) every file.
        version: the newest format version written and read.
        models: model class name → (model class, its config class: a ``PlainConfig``, for ``from_dict`` / ``to_dict``).
        runtime_fields: config fields a model may differ in from its checkpoint (they keep the model's values).
        what: how messages name the kind ("reward", "video-model").
        loader: the function that rebuilds a model from a file, named in fixes.
        problems: (model, state dict) → readable mismatch lines (missing/unexpected keys, shapes).
        made_by: the command that writes such checkpoints, named in fixes.
    """

    format: str
    version: int
    models: Mapping[str, tuple[type[nn.Module], type[PlainConfig]]]
    runtime_fields: tuple[str, ...]
    what: str
    loader: str
    problems: Callable[[Any, Mapping[str, Any]], list[str]]
    made_by: str = ""  # the command that writes such files, named in fixes (e.g. "robolearn train dynamics")

    def __post_init__(self) -> None:
        KINDS[self.format] = self


def _model_state(model: nn.Module) -> Mapping[str, Tensor]:
    state = getattr(model, "checkpoint_state_dict", None)  # e.g. without a frozen text encoder
    return state() if callable(state) else model.state_dict()


def _plain(value: Any, where: str) -> Any:
    """``value`` as types ``torch.load(weights_only=True)`` accepts, or a TypeError naming ``where``."""
    if value is None or isinstance(value, Tensor):
        return value
    for kind in (bool, str, int, float):  # exact builtins: subclasses (TorchVersion, IntEnum) are not loadable
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, Mapping):
        return {k if isinstance(k, (str, int)) else str(k): _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, tuple):  # kept a tuple: e.g. Adam's betas
        return tuple(_plain(v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(value, list) or (
        hasattr(value, "__iter__") and hasattr(value, "__len__") and not isinstance(value, (bytes, bytearray))
    ):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(
        f"checkpoint {where} is a {type(value).__name__}: only dicts, lists, str, numbers, bool, "
        "None, tensors and numpy values can be stored (convert it, e.g. to a str or dict)"
    )


def write_atomic(path: str | os.PathLike[str], payload: Mapping[str, Any]) -> Path:
    """``torch.save`` ``payload`` to ``path`` atomically (``sim.plumbing.files.write_bytes_atomic``).

    The checkpoint is serialised in memory first and then written with its space reserved: torch's writer
    reports a full disk as an internal ``RuntimeError`` ("unexpected pos 23424 vs 23376", measured), this way it
    is an ``OutputError`` naming ``path`` and the fix. The bytes are those ``torch.save`` writes to a file.

    Raises:
        sim.plumbing.files.OutputError: the file cannot be written (a full disk, a read-only folder...).
    """
    buffer = io.BytesIO()
    torch.save(dict(payload), buffer)
    return write_bytes_atomic(path, buffer.getbuffer())


def save_kind(
    kind: CheckpointKind,
    path: str | os.PathLike[str],
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    step: int = 0,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model`` (+ optimizer state, step, plain ``extra``) to ``path`` as a checkpoint of ``kind``.

    The file is written to a temporary file in the same folder, flushed to disk, then renamed over
    ``path`` (``os.replace``), so a crash leaves either the old checkpoint or the new one, never half
    a file. Parent folders are created.

    Returns:
        The checkpoint path.

    Raises:
        TypeError: ``model`` is not one of ``kind.models``, or ``extra`` holds a value that cannot be stored.
    """
    name = type(model).__name__
    if name not in kind.models:
        raise TypeError(f"save_checkpoint: unsupported model type {name}; supported: {sorted(kind.models)}")
    payload = {
        "format": kind.format,
        "version": kind.version,
        "model": name,
        "config": model.config.to_dict(),  # type: ignore[operator,union-attr]
        "state_dict": {k: v.detach().cpu() for k, v in _model_state(model).items()},
        "optimizer": _plain(optimizer.state_dict(), "optimizer") if optimizer is not None else None,
        "step": int(step),
        "extra": _plain(dict(extra or {}), "extra"),
        "torch_version": str(torch.__version__),
    }
    return write_atomic(path, payload)


def sniff_format(path: str | os.PathLike[str]) -> str | None:
    """The ``format`` string in the first bytes of a file, without loading it: a damaged or truncated checkpoint
    still tells its kind this way (None when there is none, or the file cannot be read)."""
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError:
        return None
    found = _FORMAT_BYTES.search(head)
    if found is None:
        return None
    size = int.from_bytes(found.group(1), "little") if found.group(1) is not None else found.group(2)[0]
    text = head[found.start(3) : found.start(3) + min(size, 64)]
    try:
        return text.decode() if len(text) == size else None
    except UnicodeDecodeError:
        return None


def peek_format(path: str | os.PathLike[str]) -> str | None:
    """The ``format`` field of a robolearn checkpoint file, or None when it is not one.

    A file ``torch.load`` cannot read (damaged, truncated) gives the format its first bytes name
    (``sniff_format``), so a truncated video model is still told apart from a reward.
    """
    try:
        data = torch.load(Path(path), map_location="cpu", weights_only=True)
    except Exception:  # any unreadable file: its first bytes may still name its kind
        return sniff_format(path)
    return data.get("format") if isinstance(data, dict) and isinstance(data.get("format"), str) else None


def _kind_name(fmt: str) -> str:
    """How messages name the kind of format ``fmt``: "video-model" (a kind declared so far), else the format."""
    kind = KINDS.get(fmt)
    return kind.what if kind is not None else KNOWN_KINDS.get(fmt, shown(fmt))


def _fix(kind: CheckpointKind) -> str:
    made = f" (one made by `{kind.made_by}`)" if kind.made_by else ""
    return f"give a {kind.what} checkpoint{made}"


def _torch_reason(err: BaseException) -> str:
    """torch's error, one short line: its first sentence (or the weights-only refusal's cause)."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()] or [type(err).__name__]
    # weights_only refusals bury the cause ("Unsupported global: ...") in a later line
    reason = next((ln for ln in lines if ln.startswith("WeightsUnpickler error")), lines[0])
    reason = reason.split(". ", 1)[0].rstrip(".")
    if reason == type(err).__name__:
        return reason
    return f"{type(err).__name__}: {reason[:MAX_REASON_CHARS]}"


def read_kind(kind: CheckpointKind, path: str | os.PathLike[str], map_location: Any = "cpu") -> dict[str, Any]:
    """The raw checkpoint dict, after checking it is a checkpoint of ``kind`` this code can read.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: a folder, an empty, damaged or truncated file, another kind of checkpoint, or one from
            a newer format version (one line naming the file, what it is and the fix).
    """
    path = Path(path)
    what = kind.what
    name = shown(str(path))
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.pt"))
        example = f"{path / inside[0]}" if inside else f"{path}/best.pt"
        raise CheckpointError(
            f"{name} is a folder, not a {what} checkpoint: pass the .pt file inside it (e.g. {shown(example)})"
        )
    if not path.is_file():
        raise FileNotFoundError(f"no {what} checkpoint at {name}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{name} is empty (0 bytes), not a {what} checkpoint: {_fix(kind)}")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises many types for a damaged/foreign file; all mean the same here
        reason = _torch_reason(err)
        fmt = sniff_format(path)
        if fmt == kind.format:
            raise CheckpointError(
                f"{name} is a {what} checkpoint that cannot be read: damaged, truncated or incomplete "
                f"(torch.load failed: {reason}); retrain it{f' with `{kind.made_by}`' if kind.made_by else ''} "
                "or restore a good copy"
            ) from None
        if fmt is not None:
            raise CheckpointError(
                f"{name} is not a robolearn {what} checkpoint: it is a {_kind_name(fmt)} checkpoint (format="
                f"{fmt!r}), and a damaged, truncated or incomplete one; {_fix(kind)}"
            ) from None
        raise CheckpointError(
            f"{name} is not a readable robolearn {what} checkpoint (torch.load failed: {reason}): the file "
            f"is damaged, truncated, or not a checkpoint; {_fix(kind)}"
        ) from None
    if not isinstance(data, dict) or data.get("format") != kind.format:
        if isinstance(data, dict) and isinstance(data.get("format"), str):
            found = data["format"]
            raise CheckpointError(
                f"{name} is not a robolearn {what} checkpoint: it is a {_kind_name(found)} checkpoint "
                f"(format={found!r}, expected {kind.format!r}); {_fix(kind)}"
            )
        what_found = (
            f"a dict with keys {sorted(map(str, data))[:8]}" if isinstance(data, dict) else f"a {type(data).__name__}"
        )
        hint = (
            "; it looks like a bare state_dict: load it with model.load_state_dict(torch.load(path))"
            if isinstance(data, dict) and data and all(isinstance(v, Tensor) for v in data.values())
            else f"; {_fix(kind)}"
        )
        raise CheckpointError(
            f"{name} is not a robolearn {what} checkpoint (expected format={kind.format!r}; found "
            f"{shown(what_found)}){hint}"
        )
    version = data.get("version")
    if not isinstance(version, int) or version > kind.version:
        raise CheckpointError(
            f"{name} has checkpoint format version {shown(version)}; this robolearn reads "
            f"versions ≤ {kind.version}: upgrade robolearn"
        )
    missing = [k for k in ("model", "config", "state_dict") if k not in data]
    if missing or data["model"] not in kind.models:
        raise CheckpointError(
            f"{name} is an incomplete or unknown {what} checkpoint (missing {missing}, "
            f"model {shown(data.get('model'))}; known models: {sorted(kind.models)}): {_fix(kind)}"
        )
    return data


def load_kind(
    kind: CheckpointKind, path: str | os.PathLike[str], map_location: Any = "cpu", model: nn.Module | None = None
) -> tuple[nn.Module, dict[str, Any]]:
    """Load a checkpoint of ``kind`` written by ``save_kind``.

    Args:
        kind: what the file must be.
        path: the checkpoint file.
        map_location: where tensors go (``torch.load``'s argument); the model is moved there too.
        model: load into this existing model instead of building one from the stored config. Its
            config must equal the checkpoint's, except in ``kind.runtime_fields``, which keep the
            model's values.

    Returns:
        (model, info): the model, in eval mode, and a dict with ``step``, ``optimizer`` (a state dict
        for ``optimizer.load_state_dict``, or None), ``extra``, ``config`` (plain dict), ``version``.

    Raises:
        FileNotFoundError: no file.
        CheckpointError: not a (readable) checkpoint of ``kind``, or its weights do not fit ``model`` — the
            message names the differing config fields / tensors and how to fix it.
    """
    data = read_kind(kind, path, map_location)
    model_cls, config_cls = kind.models[data["model"]]
    name = shown(str(path))
    try:
        config = config_cls.from_dict(data["config"])
    except (TypeError, ValueError, AttributeError) as err:
        message = " ".join(str(err).split())
        raise CheckpointError(
            f"{name} holds an invalid {config_cls.__name__} ({message}): the file was edited or made by "
            f"other code; {_fix(kind)}"
        ) from None
    state = data["state_dict"]
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{name} holds no weights (state_dict is a {type(state).__name__}): {_fix(kind)}")
    if model is None:
        model = model_cls(config)
        fix = "the checkpoint does not match the model code of this robolearn version (was it edited?)"
    else:
        if not isinstance(model, model_cls):
            raise CheckpointError(f"{name} holds a {data['model']}, not a {type(model).__name__}")
        differences = tuple(
            (f.name, getattr(config, f.name), getattr(model.config, f.name))
            for f in dataclasses.fields(config)  # type: ignore[arg-type]
            if f.name not in kind.runtime_fields and getattr(config, f.name) != getattr(model.config, f.name)
        )
        if differences:
            diffs = config_differences(config, model.config, ignore=kind.runtime_fields)
            raise CheckpointError(
                f"{name} was trained with a different {config_cls.__name__} than the model it is loaded into "
                f"(checkpoint != model: {'; '.join(diffs)}); build the model from the checkpoint with "
                f"{kind.loader}, or give the model's config the checkpoint's values (left of each !=)",
                differences,
            )
        fix = "rebuild the model with load_model(path)"
    problems = kind.problems(model, state)
    if problems:
        raise CheckpointError(
            f"the weights in {name} do not fit the {type(model).__name__} ({'; '.join(problems)}): {fix}"
        )
    model.load_state_dict(state)
    if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
        model.to(map_location)
    model.eval()
    info = {
        "step": int(data.get("step", 0)),
        "optimizer": data.get("optimizer"),
        "extra": data.get("extra") or {},
        "config": dict(data["config"]),
        "version": data["version"],
    }
    return model, info
