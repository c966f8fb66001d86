"""robolearn: teach simulated robots from cheap supervision.

The ``robolearn`` package is the user-facing layer on top of the simulator (``sim``), the
reward models (``rewards``) and the planners (``planners``): Hydra configs (``conf/``) and the
``robolearn VERB [overrides...]`` command line (``robolearn.cli``). It is kept light to import:
the simulator is only loaded when a verb runs.

  - ``robolearn.cli``: one entry point per verb (rollout, collect, data, train, eval, plan, bench, demo);
  - ``robolearn.config``: composing ``conf/`` with Hydra's compose API, one-line ``ConfigError``s;
    ``robolearn.conf_files``: the ``conf/`` files generated from the config dataclasses;
  - ``robolearn.data``: datasets (``metadata``, ``writer``, ``reader``, ``files``), collection, labels,
    language, annotations, loaders;
  - ``robolearn.training``: the trainers and evaluations of rewards, video models and policies;
  - ``robolearn.bench``: the benchmark (agents × variants × tasks × seeds, local processes or Ray);
  - ``robolearn.checkpoints``: the models the demo ships with (its README says how they were made).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("robolearn")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
