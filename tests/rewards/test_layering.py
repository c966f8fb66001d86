"""Layering: ``planners`` and ``robolearn.bench`` import ``rewards`` only for reward models, never for plumbing.

The checkpoint protocol, atomic files and config checks live in ``sim.plumbing`` (the root of the chain
``sim`` → ``rewards`` → ``planners`` → ``robolearn``). A module that reaches them through ``rewards`` (the
old ``rewards.checkpoint``, the LOReL reward's ``rewards.lorel.checkpoint``, or a plumbing name re-exported
by a ``rewards`` module) ties itself to the reward package for infrastructure. The sources are read with
``ast``, not imported: the test is instant and also sees imports inside functions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: the code that must not use rewards for plumbing
CHECKED = (*sorted((REPO / "planners").rglob("*.py")), *sorted((REPO / "robolearn" / "bench").glob("*.py")))
#: modules of the reward package that are checkpoint machinery, not reward models
FORBIDDEN_MODULES = ("rewards.checkpoint", "rewards.lorel.checkpoint", "rewards.fields")
FIX = (
    "import the protocol from sim.plumbing (sim.plumbing.checkpoints: CheckpointError, CheckpointKind, "
    "save_kind / read_kind / load_kind, peek_format; sim.plumbing.files: atomic_open, write_json_atomic; "
    "sim.plumbing.checks: the config checks); import rewards only for a reward model itself"
)


def _public_names(path: Path) -> set[str]:
    """The ``__all__`` of a module, read from its source."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            and isinstance(node.value, (ast.List, ast.Tuple))
        ):
            return {str(elt.value) for elt in node.value.elts if isinstance(elt, ast.Constant)}
    return set()


PLUMBING_NAMES = set().union(*(_public_names(p) for p in (REPO / "sim" / "plumbing").glob("*.py")))


def _violations(source: str) -> Iterator[tuple[int, str]]:
    """(line, what) for every import in ``source`` that takes plumbing through the ``rewards`` package."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(FORBIDDEN_MODULES):
                    yield node.lineno, f"import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            module = node.module
            if module != "rewards" and not module.startswith("rewards."):
                continue
            for alias in node.names:
                full = f"{module}.{alias.name}"
                if module.startswith(FORBIDDEN_MODULES) or full in FORBIDDEN_MODULES:
                    yield node.lineno, f"from {module} import {alias.name}"
                elif alias.name in PLUMBING_NAMES:
                    yield node.lineno, f"from {module} import {alias.name} (a sim.plumbing name)"


def test_the_scanner_flags_plumbing_taken_through_rewards() -> None:
    bad = (
        "from rewards.checkpoint import CheckpointError\n"
        "import rewards.lorel.checkpoint\n"
        "def f():\n    from rewards.lorel import CheckpointKind\n"
        "from rewards.lorel import checkpoint\n"
    )
    assert sorted(line for line, _ in _violations(bad)) == [1, 2, 4, 5]
    good = "from rewards.lorel import LorelReward\nfrom rewards.text import TextEncoder\nfrom sim.plumbing.checkpoints import CheckpointError\n"
    assert list(_violations(good)) == []
    assert {"CheckpointError", "CheckpointKind", "atomic_open", "check_int"} <= PLUMBING_NAMES


def test_planners_and_bench_do_not_import_rewards_for_plumbing() -> None:
    assert any(p.name == "checkpoint.py" for p in CHECKED) and any(p.parent.name == "bench" for p in CHECKED)
    found = [
        f"{path.relative_to(REPO)}:{line}: {what}"
        for path in CHECKED
        for line, what in _violations(path.read_text(encoding="utf-8"))
    ]
    assert not found, (
        "planners/ and robolearn/bench/ take checkpoint or config plumbing through the rewards package:\n  "
        + "\n  ".join(found)
        + f"\nFix: {FIX}"
    )
