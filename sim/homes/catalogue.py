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
    options = (
        f"a named home {list(NAMED_HOMES)}, a path to a {'/'.join(PLAN_SUFFIXES)} floor plan, "
        f"or '{GENERATED_PREFIX}<seed>' (e.g. '{GENERATED_PREFIX}17')"
    )
    if not isinstance(spec, str) or not spec.strip():
        raise FloorPlanError(f"floor plan {spec!r} is not a name; use {options}")
    spec = spec.strip()
    if spec in NAMED_HOMES:
        return named_floorplan(spec)
    if spec.startswith(GENERATED_PREFIX):
        seed_text = spec[len(GENERATED_PREFIX) :]
        try:
            seed = int(seed_text)
        except ValueError:
            raise FloorPlanError(
                f"floor plan {spec!r}: the seed {seed_text!r} is not an integer; write e.g. '{GENERATED_PREFIX}17'"
            ) from None
        from sim.homes.generator import GeneratorConfig, generate_floorplan  # local: networkx is only needed here

        return generate_floorplan(seed, generator_cfg or GeneratorConfig())
    if Path(spec).suffix.lower() in PLAN_SUFFIXES:
        return load_floorplan(spec)
    raise FloorPlanError(f"unknown floor plan {spec!r}; use {options}")
