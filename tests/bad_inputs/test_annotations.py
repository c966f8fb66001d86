"""``robolearn data show`` and the annotation round trip given bad files and choices: one line naming the file,
line or value, and the dataset left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bad_inputs.conftest import BadCli
from tests.conftest import CollectDataset

TINY = ["episodes=3", "env.width=32", "env.height=32", "env.max_episode_steps=4", "workers=1", "progress_bar=false"]


@pytest.fixture(scope="module")
def tiny(collect_dataset: CollectDataset) -> Path:
    return collect_dataset(TINY)


CSV_CASES: list[tuple[str, bytes, tuple[str, ...]]] = [
    ("unknown episode", b"episode,text\n999,hello\n", ("999", "not in")),
    ("no header", b"nope\n", ("missing column 'episode'",)),
    ("not utf-8", b"\xff\xfe\x00bad", ("not valid UTF-8", "save the file as UTF-8")),
    ("id not an integer", b"episode,text\nabc,hello\n", ("line 2", "'abc'", "not an integer")),
    ("empty text", b"episode,text\n0,\n", ("line 2", "empty text", "episode 0")),
]


@pytest.mark.parametrize(("name", "content", "needles"), CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_a_bad_annotations_csv_is_refused_and_the_dataset_untouched(
    name: str, content: bytes, needles: tuple[str, ...], tiny: Path, tmp_path: Path, bad_cli: BadCli
) -> None:
    before = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in tiny.iterdir())
    csv = tmp_path / "descriptions.csv"
    csv.write_bytes(content)
    bad_cli(["data", "import-annotations", str(tiny), str(csv)], str(csv), *needles)
    assert sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in tiny.iterdir()) == before


def test_a_missing_or_folder_annotations_file_is_named(tiny: Path, tmp_path: Path, bad_cli: BadCli) -> None:
    bad_cli(["data", "import-annotations", str(tiny), str(tmp_path / "none.csv")], "none.csv", "does not exist")
    bad_cli(["data", "import-annotations", str(tiny), str(tmp_path)], str(tmp_path), "folder")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["-e", "99"], ("[99]", "holds 3 episodes", "0–2")),
        (["-e", "-1"], ("-1",)),
        (["-m", "smell"], ("'smell'", "rgb")),
        (["-o", "sheet.txt"], ("sheet.txt", ".mp4", ".gif")),
    ],
    ids=["episode out of range", "negative episode", "unknown modality", "unknown output type"],
)
def test_data_show_names_the_bad_choice(
    args: list[str],
    needles: tuple[str, ...],
    tiny: Path,
    tmp_path: Path,
    bad_cli: BadCli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative -o lands here, never in the repository
    bad_cli(["data", "show", str(tiny), *args], *needles)
    assert not list(tmp_path.iterdir())  # nothing written
