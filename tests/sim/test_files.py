"""sim.plumbing.files: outputs checked before the work, OS errors of writing as one-line OutputErrors, atomic files;
sim.plumbing.quiet: pybullet's banner kept off stderr."""

from __future__ import annotations

import errno
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from sim.plumbing.files import (
    OutputError,
    atomic_open,
    atomic_path,
    check_writable,
    errno_in_text,
    output_error,
    output_keys,
    write_bytes_atomic,
)


def test_check_writable_accepts_a_new_nested_output_and_creates_nothing(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "run"
    assert check_writable(out, "out", folder=True) == out
    assert check_writable(tmp_path / "x" / "clip.mp4", "video.path", suffixes=(".mp4", ".gif")).name == "clip.mp4"
    assert list(tmp_path.iterdir()) == [], "a check creates nothing (its probe file is gone)"


@pytest.mark.parametrize(
    ("make", "kwargs", "needles"),
    [
        (lambda t: t / "f.txt" / "run", {"folder": True}, ["out=", "f.txt is a file, not a folder", "choose another"]),
        (lambda t: t / "f.txt", {"folder": True}, ["is a file, not a folder"]),
        (lambda t: t, {}, ["is a folder, not a file", "output.mp4"]),
        (lambda t: t / "clip.avi", {}, ["cannot write .avi files", ".mp4 or .gif"]),
        (lambda t: Path("C:\\runs\\clip.mp4"), {}, ["looks like a Windows path", "'C:'"]),
    ],
    ids=["parent-is-a-file", "folder-is-a-file", "file-is-a-folder", "suffix", "windows-drive"],
)
def test_check_writable_refuses_in_one_line(tmp_path: Path, make, kwargs, needles) -> None:
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(OutputError) as info:
        check_writable(make(tmp_path), "out", suffixes=(".mp4", ".gif"), **kwargs)
    message = str(info.value)
    assert "\n" not in message and all(n in message for n in needles), message


def test_check_writable_names_a_flag_or_a_positional_argument(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(OutputError, match=r"^-o .*f\.txt is a file.*; choose another -o$"):
        check_writable(tmp_path / "f.txt" / "sheet.png", "-o")
    with pytest.raises(OutputError, match=r"^CSV .*; choose another CSV$"):
        check_writable(tmp_path / "f.txt" / "a.csv", "CSV")


@pytest.mark.parametrize(
    ("code", "reason", "fix"),
    [
        (errno.ENOSPC, "no space left on device", "free space on it or choose another out=..."),
        (errno.EDQUOT, "disk quota exceeded", "free space in your quota or choose another out=..."),
        (errno.EROFS, "read-only file system", "choose another out=..."),
        (errno.EACCES, "permission denied", "make the folder writable or choose another out=..."),
        (errno.EFBIG, "file too large", "raise the file-size limit (ulimit -f) or choose another out=..."),
    ],
)
def test_output_error_says_what_happened_and_the_fix(code: int, reason: str, fix: str) -> None:
    err = output_error(OSError(code, os.strerror(code)), "data/desk/shard_00003.h5", "out")
    assert str(err) == f"{reason} writing data/desk/shard_00003.h5; {fix}"
    assert err.errno == code and err.path == Path("data/desk/shard_00003.h5")


def test_output_error_points_at_the_parent_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    err = output_error(OSError(errno.ENOTDIR, "Not a directory"), tmp_path / "f.txt" / "a" / "b.json")
    assert f"{tmp_path / 'f.txt'} is a file, not a folder writing" in str(err)


def test_an_output_error_crosses_processes_and_gets_its_key() -> None:
    """A worker's error is pickled to the main process, which names the option (``output_keys``)."""
    err = pickle.loads(pickle.dumps(output_error(OSError(errno.ENOSPC, "x"), "/d/ds/episodes/ep_0000001.h5")))
    assert err.errno == errno.ENOSPC and err.path == Path("/d/ds/episodes/ep_0000001.h5")
    with pytest.raises(OutputError) as info, output_keys({"video.path": "/v.mp4", "out": "/d/ds"}, "it resumes"):
        raise err
    assert str(info.value) == (
        "no space left on device writing /d/ds/episodes/ep_0000001.h5; free space on it or choose another out=... "
        "(it resumes)"
    )
    with pytest.raises(OutputError, match=r"write it elsewhere$"), output_keys({"out": "/elsewhere"}):
        raise err  # not under any output: left as it is


def test_atomic_writers_raise_output_errors_naming_the_final_file(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    final = tmp_path / "f.txt" / "run" / "summary.json"
    with (
        pytest.raises(OutputError, match=r"f\.txt is a file, not a folder writing .*summary\.json"),
        atomic_open(final, "w") as f,
    ):
        f.write("{}")
    with pytest.raises(OutputError, match="summary.json"), atomic_path(final):
        pass
    with atomic_open(tmp_path / "rows.csv", "w", newline="") as f:
        f.write("a,b\r\n")
    assert (tmp_path / "rows.csv").read_bytes() == b"a,b\r\n"
    assert write_bytes_atomic(tmp_path / "x.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt", "rows.csv", "x.bin"], "no temporary file left"


def test_errno_in_text_reads_a_tools_message() -> None:
    assert errno_in_text("[mp4 @ 0x1] Error writing trailer: No space left on device") == errno.ENOSPC
    assert errno_in_text("Read-only file system") == errno.EROFS
    assert errno_in_text("Invalid data found when processing input") is None


def test_pybullet_prints_no_banner_once_sim_is_imported() -> None:
    code = "import sim, pybullet; import sim.envs.desk"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pybullet build time" not in proc.stderr and proc.stderr.strip() == "", proc.stderr
