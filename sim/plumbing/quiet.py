"""Import pybullet without its build-time banner on stderr.

pybullet prints ``pybullet build time: <date>`` to the C-level stderr when it is imported, in every process that
imports it (the command's, and each worker's). On a command's stderr that line sits above the one-line error a
user must read, and tools that read stderr (the bad-input battery, CI logs) take it for output. ``install()``
(called when ``sim`` is imported, before any of its modules imports pybullet) adds an import hook that runs
pybullet's module initialisation with file descriptor 2 pointed at the null device; nothing else changes.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

__all__ = ["install", "stderr_to"]

#: the modules whose initialisation prints a banner
QUIET_MODULES = ("pybullet",)


class _QuietLoader(importlib.abc.Loader):
    """Wraps an extension module's loader: its initialisation (``create_module``) runs with stderr silenced."""

    def __init__(self, loader: Any):
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            with stderr_to(null):
                module: ModuleType | None = self.loader.create_module(spec)
                return module
        finally:
            os.close(null)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds the ``QUIET_MODULES`` as the other finders do, and wraps their loader in ``_QuietLoader``."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in QUIET_MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


@contextmanager
def stderr_to(fd: int) -> Iterator[None]:
    """Point file descriptor 2 (the C-level stderr, which child processes inherit) at ``fd`` inside the block:
    a C library's or a child process's messages go there instead of the terminal. Python's ``sys.stderr`` is
    flushed first."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to point elsewhere
        yield
        return
    try:
        os.dup2(fd, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def install() -> None:
    """Add the import hook (once); a module already imported is left as it is."""
    if not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
