"""Where robolearn finds its files: the one place that resolves the Hydra config directory."""

from __future__ import annotations

import os
from pathlib import Path

#: environment variable that points robolearn at another config directory (e.g. a copy to edit)
CONF_DIR_ENV = "ROBOLEARN_CONF_DIR"
#: a file every config directory has; used to tell a real config directory from a stray folder
CONF_MARKER = Path("env") / "desk.yaml"

_PACKAGE_DIR = Path(__file__).resolve().parent


def conf_dir() -> Path:
    """The directory holding the Hydra configs (``rollout.yaml``, ``env/desk.yaml``, ...).

    Looked up in this order:
      1. ``$ROBOLEARN_CONF_DIR`` when set (an error if it is not a config directory, so a typo
         is not silently replaced by the defaults);
      2. ``robolearn/conf`` inside the package: a symlink to ``../conf`` in a source checkout, a
         real directory in an installed wheel;
      3. ``conf/`` at the root of the source tree, for checkouts where the symlink did not
         survive (e.g. git with ``core.symlinks=false``).

    Raises:
        FileNotFoundError: no candidate holds the configs.
    """
    override = os.environ.get(CONF_DIR_ENV)
    if override:
        path = Path(override).expanduser().resolve()
        if not (path / CONF_MARKER).is_file():
            raise FileNotFoundError(
                f"${CONF_DIR_ENV}={override!r} is not a robolearn config directory (no {CONF_MARKER.as_posix()} in it)"
            )
        return path
    candidates = [_PACKAGE_DIR / "conf", _PACKAGE_DIR.parent / "conf"]
    for path in candidates:
        if (path / CONF_MARKER).is_file():
            return path.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"robolearn's config directory was not found (tried {tried}); reinstall robolearn or set ${CONF_DIR_ENV}"
    )


#: the checkpoints that ship inside the package (``robolearn demo``'s default models; see its README.md)
SHIPPED_DIR = _PACKAGE_DIR / "checkpoints"
#: the shipped DVD video reward: what `objective=dvd` and `collect planner-clips` use when no checkpoint is given
SHIPPED_DVD = SHIPPED_DIR / "dvd_reward.pt"


def shipped_checkpoint(name: str) -> str:
    """The path of the shipped checkpoint ``name`` (e.g. ``lorel_reward.pt``), for ``${shipped:NAME}`` in configs.

    The path is returned whether or not the file exists, so configs compose anywhere; whoever loads
    it reports a missing file with its own fix.

    Raises:
        ValueError: ``name`` is not a plain file name.
    """
    if not isinstance(name, str) or not name or Path(name).name != name:
        raise ValueError(f"${{shipped:{name}}}: give a file name from {SHIPPED_DIR}, e.g. ${{shipped:lorel_reward.pt}}")
    return str(SHIPPED_DIR / name)
