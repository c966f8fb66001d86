"""The simulator-speed regression guard (``benchmarks/sim_speed.py --guard``, issue 24): its verdict logic and its
reference file; the timing itself runs in ``.ci/run`` as a benchmark, never as a timed test."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sim_speed() -> ModuleType:
    """``benchmarks/sim_speed.py``, loaded from its path (benchmarks is not a package)."""
    spec = importlib.util.spec_from_file_location("sim_speed", REPO / "benchmarks" / "sim_speed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sim_speed"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_the_recorded_reference_is_readable_and_allows_twenty_percent(sim_speed: ModuleType) -> None:
    ref = sim_speed.GuardReference.load()
    assert ref.ratio > 1.0 and ref.tolerance == pytest.approx(0.2)
    assert "sim_speed.py" in ref.command and ref.measured


def test_the_verdict_fails_only_below_the_tolerated_floor(sim_speed: ModuleType) -> None:
    ref = sim_speed.GuardReference(ratio=10.0, tolerance=0.2, measured="2026-12-06", command="python x.py")
    assert sim_speed.guard_verdict(8.0, ref)[0]
    assert sim_speed.guard_verdict(12.5, ref)[0]
    ok, line = sim_speed.guard_verdict(7.9, ref)
    assert not ok
    assert "7.9×" in line and "10.0×" in line and "--profile" in line and "sim_speed_reference.json" in line


def test_a_malformed_reference_names_the_file(sim_speed: ModuleType, tmp_path: Path) -> None:
    bad = tmp_path / "ref.json"
    bad.write_text(json.dumps({"ratio": 9.9}))
    with pytest.raises(ValueError, match=r"ref\.json.*tolerance"):
        sim_speed.GuardReference.load(bad)
    bad.write_text(json.dumps({"ratio": 9.9, "tolerance": 1.5, "measured": "d", "command": "c"}))
    with pytest.raises(ValueError, match=r"ref\.json: .*tolerance in \[0, 1\)"):
        sim_speed.GuardReference.load(bad)


@pytest.mark.parametrize(("ratio", "code"), [(9.5, 0), (5.0, 1)])
def test_guard_mode_exits_nonzero_when_the_ratio_regresses(
    sim_speed: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ratio: float, code: int
) -> None:
    ref = sim_speed.GuardReference(ratio=10.0, tolerance=0.2, measured="2026-12-06", command="python x.py")
    monkeypatch.setattr(sim_speed.GuardReference, "load", classmethod(lambda cls, path=None: ref))
    monkeypatch.setattr(sim_speed, "run_guard", lambda log, rounds=3: ratio)
    assert sim_speed.main(["--guard"]) == code
    assert ("FAILED" in capsys.readouterr().out) == (code == 1)
