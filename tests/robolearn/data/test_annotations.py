"""Human annotation CSVs: round trip, LOReL's wide layout, atomic writes and malformed files."""

from __future__ import annotations

import os

import pytest

from robolearn.data.annotations import AnnotationFormatError, read_annotations, write_annotations
from robolearn.data.schema import ANNOTATIONS_FILE, TMP_MARKER


def write_text(path, text: str, encoding: str = "utf-8") -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_round_trip_keeps_every_text_with_csv_quoting(tmp_path):
    annotations = {
        12: ["open the drawer", "Pull the drawer out, please."],
        3: ['move the "white" mug up', "line one\nline two", "crlf\r\ninside"],
        0: ["Ünïcödé tap — turn it left ☕"],
        7: ["a, b, and c"],
    }
    path = tmp_path / ANNOTATIONS_FILE
    write_annotations(path, annotations)
    got = read_annotations(path)
    assert got == {k: annotations[k] for k in sorted(annotations)}
    assert list(got) == [0, 3, 7, 12]
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "episode,text"
    assert [p.name for p in tmp_path.iterdir()] == [ANNOTATIONS_FILE]  # no temporary file left


def test_write_strips_texts_and_skips_episodes_without_texts(tmp_path):
    path = tmp_path / "a.csv"
    write_annotations(path, {5: ["  spaced  "], 6: []})
    assert read_annotations(path) == {5: ["spaced"]}
    assert path.read_text(encoding="utf-8") == "episode,text\n5,spaced\n"


def test_write_replaces_an_existing_file_and_a_failed_write_leaves_it_intact(tmp_path):
    path = tmp_path / ANNOTATIONS_FILE
    write_annotations(path, {1: ["old"]})
    write_annotations(path, {2: ["new"]})
    assert read_annotations(path) == {2: ["new"]}
    with pytest.raises(ValueError, match="non-empty"):
        write_annotations(path, {3: ["fine"], 4: [""]})
    assert read_annotations(path) == {2: ["new"]}
    assert not [p for p in tmp_path.iterdir() if TMP_MARKER in p.name]


@pytest.mark.parametrize(
    "annotations,match",
    [
        ({-1: ["x"]}, "non-negative"),
        ({"1": ["x"]}, "non-negative"),
        ({True: ["x"]}, "non-negative"),
        ({1: "open the drawer"}, "list of strings"),
        ({1: ["   "]}, "non-empty"),
        ({1: [None]}, "non-empty"),
    ],
)
def test_write_rejects_bad_annotations(tmp_path, annotations, match):
    with pytest.raises(ValueError, match=match):
        write_annotations(tmp_path / "a.csv", annotations)
    assert not list(tmp_path.iterdir())


def test_write_into_a_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        write_annotations(tmp_path / "missing" / "a.csv", {1: ["x"]})


def test_reads_lorel_style_wide_rows(tmp_path):
    path = write_text(
        tmp_path / "labels.csv",
        ",Episode,Text1,Text2\n"
        "0,4,open the drawer,pull the drawer open\n"
        "1,9,turn the faucet left,\n"
        "2,4,shut the drawer,\n",
    )
    assert read_annotations(path) == {
        4: ["open the drawer", "pull the drawer open", "shut the drawer"],
        9: ["turn the faucet left"],
    }


def test_reading_strips_whitespace_skips_blank_lines_and_accepts_a_bom(tmp_path):
    path = write_text(
        tmp_path / "a.csv",
        "\ufeff Episode , TEXT ,annotator\n\n  2 ,  open the drawer  ,w1\n   \n2,close it,w2\n,,\n",
        encoding="utf-8",
    )
    assert read_annotations(path) == {2: ["open the drawer", "close it"]}


# ------------------------------------------------------------------------ malformed
@pytest.mark.parametrize(
    "content,line,match",
    [
        ("id,text\n1,x\n", 1, "missing column 'episode'"),
        ("episode,description\n1,x\n", 1, "missing column 'text'"),
        ("episode,text\n1,ok\nseven,x\n", 3, "'seven' is not an integer"),
        ("episode,text\n1.5,x\n", 2, "'1.5' is not an integer"),
        ("episode,text\n,x\n", 2, "'' is not an integer"),
        ("episode,text\n-3,x\n", 2, "negative"),
        ("episode,text\n1,ok\n2,\n", 3, "empty text for episode 2"),
        ('episode,text\n1,"  "\n', 2, "empty text"),
        ("episode,text1,text2\n1,,\n", 2, "empty text for episode 1"),
        ("episode,text\n1,open the drawer, then close it\n", 2, "3 cells"),
        ('episode,text\n1,"first\nsecond"\n2,\n', 4, "empty text"),  # a quoted text spans lines 2-3
        ('episode,text\n1,"unterminated\n', 2, "malformed CSV"),
    ],
)
def test_malformed_files_name_file_line_and_problem(tmp_path, content, line, match):
    path = write_text(tmp_path / "bad.csv", content)
    with pytest.raises(AnnotationFormatError, match=match) as info:
        read_annotations(path)
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}, line {line}: ")


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("episode,text\n1,open\n2,café\n".encode("latin-1"))
    with pytest.raises(AnnotationFormatError, match="not valid UTF-8") as info:
        read_annotations(path)
    assert info.value.line == 3 and str(path) in str(info.value)


def test_missing_empty_and_folder_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_annotations(tmp_path / "nope.csv")
    empty = write_text(tmp_path / "empty.csv", "\n\n")
    with pytest.raises(AnnotationFormatError, match="empty file"):
        read_annotations(empty)
    os.mkdir(tmp_path / "folder.csv")
    with pytest.raises(AnnotationFormatError, match="folder"):
        read_annotations(tmp_path / "folder.csv")
