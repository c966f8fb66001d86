"""robolearn: teach simulated robots from cheap supervision.

The ``robolearn`` package is the user-facing layer on top of the simulator (``sim``), the
reward models (``rewards``) and the planners (``planners``): Hydra configs (``conf/``) and the
``robolearn VERB [overrides...]`` command line (``robolearn.cli``). It is kept light to import:
the simulator is only loaded when a verb runs.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("robolearn")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
