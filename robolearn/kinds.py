"""The registry of environment kinds: what each ``kind:`` of ``conf/env/*.yaml`` is, and what runs it.

Every env config declares its kind (``kind: desk`` in ``conf/env/desk.yaml``, and ``KIND`` on its config
class); everything that depends on the kind is looked up here rather than guessed from which keys a config
has. An entry names, as ``module:attribute`` import paths so that this module stays light (no pybullet, no
torch: it imports only ``sim.registration``'s gym ids), the config dataclass, the env class, the gym id datasets
record as ``env_id``, the tasks, a validation hook, and the hooks of the ``robolearn`` verbs that behave
differently per kind.

The registry lives in ``robolearn`` (not ``sim``) because its hooks are the verbs': ``sim`` imports nothing
of the other packages, and registers its env classes with Gymnasium in its own ``sim.registration``.

Adding a kind is one entry in ``KINDS`` (and the files it names): see ``EnvKind`` and docs/architecture.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - this module stays light (no pybullet)
    from robolearn.config import EnvConfig
    from sim.counter_config import CounterEnvConfig
    from sim.envs.counter import CounterEnv
    from sim.envs.desk import DeskEnv
    from sim.envs.home import HomeEnv
    from sim.home_config import HomeEnvConfig

from sim.registration import COUNTER_ENV_ID, DESK_ENV_ID, HOME_ENV_ID, HOME_TASK_IDS

__all__ = [
    "KINDS",
    "EnvKind",
    "KindError",
    "PlanSupport",
    "check_home",
    "get_kind",
    "kind_of",
    "load",
]


class KindError(ValueError):
    """An env kind or env id that is not in the registry; the message is one line listing the valid ones."""


@dataclass(frozen=True)
class PlanSupport:
    """How ``robolearn plan`` (visual MPC on the arm) runs in a kind.

    ``oracle_refused``: why ``dynamics_model=oracle`` (the simulator as dynamics) cannot plan here, or None
    where it can. ``home_env``: the import path of ``f(env_cfg) -> env`` that builds the home an
    ``episode_start=home`` episode starts in (drive, dock, then plan the arm), or None where there is none.
    """

    oracle_refused: str | None = None
    home_env: str | None = None


@dataclass(frozen=True)
class EnvKind:
    """One environment kind. Import paths are ``module:attribute`` strings, loaded on use (``load``).

    Attributes:
        name: the ``kind:`` value of its env configs (and its config class's ``KIND``).
        config: the env config dataclass, built from the env node minus ``kind``.
        env: the env class, built as ``Env(config=cfg)``.
        env_id: the gym id (registered by ``sim.registration``); datasets store it as ``meta["env_id"]``.
        tasks: the mapping task name -> task of this kind.
        task_ids: extra gym ids that fix a task (id -> task name), registered with the same env class.
        check: ``f(cfg)`` raising ``ValueError`` (one line, naming the key) for what the dataclass cannot check
            itself (e.g. that a named home loads), or None.
        rollout: ``f(settings, echo=...) -> list[dict]``, how ``robolearn rollout`` runs episodes here.
        bench: the settings class of ``robolearn bench`` here (``from_config(cfg)``, consumed by ``run_bench``;
            its per-kind options are a subclass of ``robolearn.bench.run.BenchOptions`` that generates
            ``conf/bench/<name>.yaml``), or None where there is no bench.
        plan: how ``robolearn plan`` runs here, or None where it cannot (no arm to plan).
        collect: whether ``robolearn collect`` records datasets here (the env has the exploration API:
            ``make_expert``, ``expert_action``, ``reach_targets``, ``reach_point``, ``tcp_position``).
    """

    name: str
    config: str
    env: str
    env_id: str
    tasks: str
    task_ids: Mapping[str, str] = field(default_factory=dict)
    check: str | None = None
    rollout: str = "robolearn.rollout:run_arm_rollout"
    bench: str | None = None
    plan: PlanSupport | None = None
    collect: bool = False

    def supports(self, verb: str) -> bool:
        """Whether ``robolearn VERB`` runs in this kind (rollout runs everywhere)."""
        supported = {
            "rollout": True,
            "collect": self.collect,
            "bench": self.bench is not None,
            "plan": self.plan is not None,
        }
        return supported.get(verb, False)


def check_home(cfg: HomeEnvConfig | CounterEnvConfig) -> None:
    """Validation hook of the kinds in homes: ``cfg.home`` names a loadable home, so a bad name or floor-plan
    file fails when the config is built, not in a worker at the first reset.

    Raises:
        ValueError: ``env.home: <why>``.
    """
    if cfg.home == "generated":  # every generated home has a kitchen with its counter, and doors
        return
    from sim.homes.catalogue import resolve_floorplan  # deferred: keeps this module light
    from sim.tasks.catalogue import check_home_hosts  # deferred: as above

    try:
        plan = resolve_floorplan(cfg.home)
    except ValueError as e:  # FloorPlanError
        raise ValueError(f"env.home: {' '.join(str(e).split())}") from None
    if cfg.KIND == "home":
        check_home_hosts(cfg.task, plan, cfg.home)
    else:  # the counter env docks at the home's kitchen counter: it needs what open_drawer needs
        check_home_hosts("open_drawer", plan, cfg.home, who="the counter env (it docks at the counter)")


#: every env kind, by name; ``kind:`` in an env config must be one of these
KINDS: Mapping[str, EnvKind] = MappingProxyType(
    {
        k.name: k
        for k in (
            EnvKind(
                name="desk",
                config="sim.config:DeskEnvConfig",
                env="sim.envs.desk:DeskEnv",
                env_id=DESK_ENV_ID,
                tasks="sim.tasks.desk:DESK_TASKS",
                bench="robolearn.bench.run:BenchSettings",
                plan=PlanSupport(),
                collect=True,
            ),
            EnvKind(
                name="home",
                config="sim.home_config:HomeEnvConfig",
                env="sim.envs.home:HomeEnv",
                env_id=HOME_ENV_ID,
                tasks="sim.tasks.navigation:HOME_TASKS",
                task_ids=HOME_TASK_IDS,
                check="robolearn.kinds:check_home",
                rollout="robolearn.home_rollout:run_home_rollout",
                bench="robolearn.bench.home:HomeBenchSettings",
            ),
            EnvKind(
                name="counter",
                config="sim.counter_config:CounterEnvConfig",
                env="sim.envs.counter:CounterEnv",
                env_id=COUNTER_ENV_ID,
                tasks="sim.tasks.counter:COUNTER_TASKS",
                check="robolearn.kinds:check_home",
                plan=PlanSupport(
                    oracle_refused=(
                        "restoring a home rebuilds its world (~0.1 s per candidate), far too slow for the "
                        "simulator as dynamics; give dynamics_model=a video model trained on "
                        "`robolearn collect env=counter` data"
                    ),
                    home_env="robolearn.plan:make_home_env",
                ),
                collect=True,
            ),
        )
    }
)


def get_kind(name: object) -> EnvKind:
    """The registry entry of kind ``name``.

    Raises:
        KindError: a one-line message naming the value and listing the kinds.
    """
    if not isinstance(name, str) or name not in KINDS:
        what = "no env kind" if name is None else f"unknown env kind {name!r}"
        raise KindError(f"{what}: env.kind must be one of {', '.join(KINDS)} (the first key of conf/env/*.yaml)")
    return KINDS[name]


def kind_of(cfg: EnvConfig | DeskEnv | HomeEnv | CounterEnv) -> EnvKind:
    """The kind of an env config object (its class's ``KIND``) or of an env (its ``cfg``'s)."""
    cls = type(getattr(cfg, "cfg", cfg))
    return get_kind(getattr(cls, "KIND", None))


def load(path: str) -> Any:
    """The object a ``module:attribute`` import path names (imports the module)."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)
