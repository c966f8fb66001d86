"""The shipped named homes and one string that picks any home: a name, a file, or ``generated:<seed>``.

Named homes are YAML floor plans in ``sim/homes/named/`` (package data), each with a comment at the
top describing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sim.homes.floorplan import FloorPlan, FloorPlanError, load_floorplan

if TYPE_CHECKING:  # pragma: no cover
    from sim.homes.generator import GeneratorConfig

NAMED_DIR = Path(__file__).resolve().parent / "named"
#: the shipped homes, smallest first
NAMED_HOMES: tuple[str, ...] = ("studio", "apartment", "family_house")
GENERATED_PREFIX = "generated:"
PLAN_SUFFIXES = (".yaml", ".yml", ".json")


def named_floorplan(name: str) -> FloorPlan:
    """Load one of ``NAMED_HOMES`` (a fresh, validated plan each call)."""
    if name not in NAMED_HOMES:
        raise FloorPlanError(f"unknown named home {name!r}; choose from {list(NAMED_HOMES)}")
    return load_floorplan(NAMED_DIR / f"{name}.yaml")


def _options() -> str:
    return (
        f"a named home {list(NAMED_HOMES)}, a path to a {'/'.join(PLAN_SUFFIXES)} floor plan, "
        f"or '{GENERATED_PREFIX}<seed>' (e.g. '{GENERATED_PREFIX}17')"
    )


def generated_seed(spec: str) -> int | None:
    """The seed of ``generated:<seed>`` (an integer ≥ 0), or None when ``spec`` names no generated home.

    Raises:
        FloorPlanError: the seed is not a whole number ≥ 0 (the message says how to write one).
    """
    if not spec.startswith(GENERATED_PREFIX):
        return None
    seed_text = spec[len(GENERATED_PREFIX) :]
    try:
        seed = int(seed_text)
    except ValueError:
        raise FloorPlanError(
            f"floor plan {spec!r}: the seed {seed_text!r} is not an integer; write e.g. '{GENERATED_PREFIX}17'"
        ) from None
    if seed < 0:
        raise FloorPlanError(
            f"floor plan {spec!r}: the seed {seed} is negative; write a seed ≥ 0, e.g. '{GENERATED_PREFIX}17'"
        )
    return seed


def check_home_name(spec: object, pool: str | None = None) -> str:
    """``spec`` as a home selector's syntax allows (what ``resolve_floorplan`` reads, without reading a file):
    a named home, ``generated:<seed ≥ 0>``, a path ending in a floor-plan suffix, or ``pool`` (e.g. ``generated``,
    the envs' seeded pool). Returns it stripped.

    Raises:
        FloorPlanError: none of these (the message lists the options).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise FloorPlanError(f"floor plan {spec!r} is not a name; use {_options()}" + (f", or {pool}" if pool else ""))
    spec = spec.strip()
    if spec == pool or spec in NAMED_HOMES or generated_seed(spec) is not None:
        return spec
    if Path(spec).suffix.lower() in PLAN_SUFFIXES:
        return spec
    raise FloorPlanError(f"unknown floor plan {spec!r}; use {_options()}" + (f", or {pool}" if pool else ""))


def resolve_floorplan(spec: str, generator_cfg: GeneratorConfig | None = None) -> FloorPlan:
    """The floor plan that ``spec`` names.

    Args:
        spec: a named home (``studio``), a path to a ``.yaml``/``.yml``/``.json`` floor plan, or
            ``generated:<seed>`` for ``generate_floorplan(seed, generator_cfg)``.
        generator_cfg: the generator's config for ``generated:<seed>`` (default: ``GeneratorConfig()``).

    Raises:
        FloorPlanError: ``spec`` is none of these (the message lists the options), or the file or
            the seed is bad.
    """
    spec = check_home_name(spec)
    if spec in NAMED_HOMES:
        return named_floorplan(spec)
    seed = generated_seed(spec)
    if seed is not None:
        from sim.homes.generator import GeneratorConfig, generate_floorplan  # local: networkx is only needed here

        return generate_floorplan(seed, generator_cfg or GeneratorConfig())
    return load_floorplan(spec)
