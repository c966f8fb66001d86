"""A bench folder whose files were damaged: ``bench.json`` is named with the fix, a damaged episode line is run
again (nothing else is lost)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from robolearn.cli import main
from tests.bad_inputs.conftest import BadCli

TINY = ["agents=[random]", "tasks=[open_drawer]", "variants=[train]", "workers=1", "figure=false", "progress_bar=false"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "run"
    assert main(["bench", *TINY, "trials=2", f"out={out}"]) == 0
    return out


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{not json", "damaged"),
        (b"[1, 2]", "not a mapping"),
        (b"\xff\xfe\x00", "damaged"),
        (b'{"agents": 3}', "not a"),
    ],
    ids=["not json", "a list", "not utf-8", "agents not a mapping"],
)
def test_a_damaged_bench_json_is_named_with_the_fix(
    content: bytes, needle: str, finished: Path, tmp_path: Path, bad_cli: BadCli
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "episodes.jsonl").write_bytes((finished / "episodes.jsonl").read_bytes())
    (out / "bench.json").write_bytes(content)
    bad_cli(["bench", *TINY, "trials=2", f"out={out}"], "bench.json", needle, "new out=")
    assert (out / "bench.json").read_bytes() == content  # left for the user to restore


def test_a_damaged_episode_line_is_run_again_and_the_others_kept(finished: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "bench.json").write_bytes((finished / "bench.json").read_bytes())
    good, second = (finished / "episodes.jsonl").read_text().splitlines()
    (out / "episodes.jsonl").write_bytes(good.encode() + b"\n\xff\xfe{torn\n")
    assert main(["bench", *TINY, "trials=2", f"out={out}"]) == 0
    rows = [json.loads(line) for line in (out / "episodes.jsonl").read_text(errors="replace").splitlines()[::2]]
    redone = json.loads((out / "episodes.jsonl").read_text(errors="replace").splitlines()[-1])
    assert rows[0] == json.loads(good)
    drop = ("seconds", "mean_plan_seconds")
    assert {k: v for k, v in redone.items() if k not in drop} == {
        k: v for k, v in json.loads(second).items() if k not in drop
    }
