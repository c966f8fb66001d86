"""Outputs that cannot be written, and messages that must not be cut: the bad-input battery's output cases.

Every verb checks its outputs (``out=``, ``video.path=``, ``results=``, ``record=``, ``data show -o``,
``export-annotations``'s CSV) before any model loads or episode runs, and an OS error while writing (a full disk,
a read-only file system, a parent that is a file) is one line naming the file, the option and the fix, exit code 2,
with the finished work kept and nothing half-written left.

A full or read-only disk is a small tmpfs the case mounts in its own user and mount namespace (we may run as root,
for whom ``chmod`` makes nothing unwritable): ``unshare --user --map-root-user --mount``. Where namespaces or mounts
are not permitted those cases are skipped, with the reason.
"""

from __future__ import annotations

import errno
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from robolearn.data.reader import DatasetReader
from sim.plumbing.files import OutputError, output_error
from tests.bad_inputs.conftest import BadApi, BadCli, BadProcess, one_line
from tests.conftest import CollectDataset

#: a tiny collection: 1-2 s in this process
TINY = ["episodes=2", "workers=1", "progress_bar=false"]
#: episodes of the full-disk collections: the 80 kB disk holds the first, not the second (an episode is ~36 kB, and
#: HDF5's in-memory file is created with 64 kB)
FULL_DISK = "80k"
SHOWN = "sheet.png"


# ------------------------------------------------------------------------------------------------ file systems
def _unshare(script: str) -> list[str]:
    """A command prefix running ``script`` (then ``exec "$@"``: the command) as root of a new user and mount
    namespace, where it may mount file systems that only the command sees."""
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", f'{script} && exec "$@"', "sh"]


@pytest.fixture(scope="module")
def namespaces(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Skip (with the reason) unless this machine lets a test mount a tmpfs in its own namespace."""
    if shutil.which("unshare") is None:
        pytest.skip("no `unshare` command: cannot mount a small or read-only file system for the test")
    mnt = tmp_path_factory.mktemp("probe")
    proc = subprocess.run(
        _unshare(f"mount -t tmpfs -o size=16k tmpfs {shlex.quote(str(mnt))}") + ["true"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"user/mount namespaces not permitted here ({proc.stderr.strip() or proc.returncode})")


def full_disk(mnt: Path, size: str = FULL_DISK) -> list[str]:
    """``prefix=`` for ``bad_process``: ``mnt`` is a tmpfs of ``size`` (a disk that fills up)."""
    return _unshare(f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(mnt))}")


def read_only(mnt: Path, *files: Path) -> list[str]:
    """``prefix=`` for ``bad_process``: ``mnt`` is a read-only tmpfs holding copies of ``files``."""
    q = shlex.quote(str(mnt))
    copies = "".join(f" && cp {shlex.quote(str(f))} {q}/" for f in files)
    return _unshare(f"mount -t tmpfs -o size=64m tmpfs {q}{copies} && mount -o remount,ro {q}")


@pytest.fixture
def mnt(tmp_path: Path, namespaces: None) -> Path:
    """An empty folder the case mounts its file system on (the mount is only seen by the command)."""
    folder = tmp_path / "mnt"
    folder.mkdir()
    return folder


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    """A plain file, given where a folder (or a file's parent) is expected."""
    path = tmp_path / "notes.txt"
    path.write_text("not a folder\n")
    return path


@pytest.fixture(scope="module")
def dataset(collect_dataset: CollectDataset) -> Path:
    return collect_dataset(TINY)


SHIPPED = Path(__file__).resolve().parents[2] / "robolearn" / "checkpoints"
DEMO_FAST = ["optimizer.population=8", "optimizer.iterations=1", "agent.horizon=2"]


# ------------------------------------------------------------------------------------------------ full disk
def test_collect_into_a_full_disk_names_the_episode_and_keeps_what_is_done(
    bad_process: BadProcess, mnt: Path, tmp_path: Path
) -> None:
    out = mnt / "ds"
    listing = tmp_path / "listing.txt"
    script = f'mount -t tmpfs -o size={FULL_DISK} tmpfs {mnt} && {{ "$@"; rc=$?; find {mnt} -type f > {listing}; exit $rc; }}'
    prefix = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh"]
    bad_process(
        ["collect", f"out={out}", "episodes=4", "workers=1", "progress_bar=false"],
        "no space left on device writing",
        str(out / "episodes" / "ep_0000001.h5"),
        "out=",
        "rerun the same command to resume",
        prefix=prefix,
    )
    files = sorted(Path(p).name for p in listing.read_text().split())
    assert files == ["ep_0000000.h5", "meta.json"], f"finished episode kept, nothing partial left: {files}"


def test_collect_past_the_file_size_limit_says_which_limit(bad_process: BadProcess, tmp_path: Path) -> None:
    """``ulimit -f`` (EFBIG; Python ignores SIGXFSZ): a limit, not a full disk, so the fix differs."""
    out = tmp_path / "ds"
    bad_process(
        ["collect", f"out={out}", *TINY],
        "file too large writing",
        str(out / "episodes" / "ep_0000000.h5"),
        "raise the file-size limit (ulimit -f) or choose another out=",
        prefix=["sh", "-c", 'ulimit -f 100 && exec "$@"', "sh"],
    )


@pytest.mark.slow  # two spawned workers: ~6 s
def test_collect_with_two_workers_into_a_full_disk_reports_it_once(bad_process: BadProcess, mnt: Path) -> None:
    out = mnt / "ds"
    answer = bad_process(
        ["collect", f"out={out}", "episodes=4", "workers=2", "chunk_episodes=1", "progress_bar=false"],
        "no space left on device writing",
        str(out / "episodes" / "ep_"),
        "out=",
        prefix=full_disk(mnt),
    )
    assert "Traceback" not in answer.message


@pytest.mark.slow
def test_collect_resumed_after_freeing_space_gives_the_same_dataset(
    mnt: Path, tmp_path: Path, collect_dataset: CollectDataset
) -> None:
    """A collection stopped by a full disk, rerun once there is space, gives the dataset an uninterrupted run does."""
    settings = ["episodes=4", "workers=1", "progress_bar=false", "storage.episodes_per_shard=3"]
    reference = collect_dataset(settings)
    out, copy = mnt / "ds", tmp_path / "resumed"
    cli = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "robolearn.cli", "collect", f"out={out}", *settings])
    script = (
        f"mount -t tmpfs -o size={FULL_DISK} tmpfs {mnt} && {{ {cli}; echo first=$? >&2; }}"
        f" && mount -o remount,size=8m {mnt} && {cli} >/dev/null && cp -r {out} {copy}"
    )
    proc = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    first, code = proc.stderr.strip().rsplit("\n", 1)
    assert code == "first=2" and "no space left on device" in one_line(first, "the first run")
    assert sorted(p.name for p in copy.glob("shard_*.h5")) == ["shard_00000.h5", "shard_00001.h5"]
    for shard in ("shard_00000.h5", "shard_00001.h5"):
        assert (copy / shard).read_bytes() == (reference / shard).read_bytes(), f"{shard} differs"
    a, b = DatasetReader(copy), DatasetReader(reference)
    assert a.indices() == b.indices() == [0, 1, 2, 3]
    for i in a.indices():
        assert np.array_equal(a.frames(i, "rgb", slice(None)), b.frames(i, "rgb", slice(None)))


@pytest.mark.slow
def test_train_onto_a_full_disk_names_the_checkpoint(bad_process: BadProcess, mnt: Path, dataset: Path) -> None:
    bad_process(
        [
            "train",
            f"data={dataset}",
            f"out={mnt / 'run'}",
            "steps=2",
            "batch_size=4",
            "num_workers=0",
            "eval_every=1",
            "val_items=4",
            "max_episodes=2",
            "progress_bar=false",
        ],
        "no space left on device writing",
        str(mnt / "run"),
        ".pt",
        "out=",
        "resume from out/last.pt",
        prefix=full_disk(mnt, "64k"),
        timeout=300,
    )


@pytest.mark.parametrize("video", ["clip.mp4", pytest.param("clip.gif", marks=pytest.mark.slow)])
def test_rollout_video_onto_a_full_disk_is_not_published(bad_process: BadProcess, mnt: Path, video: str) -> None:
    """MP4: ffmpeg fails writing its trailer, which imageio ignores (a truncated video and exit 0 before)."""
    bad_process(
        ["rollout", f"video.path={mnt / video}", "episodes=1", "progress_bar=false"],
        "no space left on device writing",
        str(mnt / video),
        "video.path=",
        prefix=full_disk(mnt, "16k"),
    )


@pytest.mark.slow
def test_bench_onto_a_full_disk_names_the_results_and_keeps_the_episodes(bad_process: BadProcess, mnt: Path) -> None:
    bad_process(
        [
            "bench",
            "agents=[random]",
            "tasks=[open_drawer]",
            "variants=[train]",
            "trials=1",
            "workers=1",
            f"out={mnt / 'bench'}",
            "progress_bar=false",
            "figure=false",
        ],
        "no space left on device writing",
        str(mnt / "bench"),
        "out=",
        "episodes.jsonl",
        prefix=full_disk(mnt, "8k"),
    )


def test_data_show_onto_a_full_disk(bad_process: BadProcess, mnt: Path, dataset: Path) -> None:
    bad_process(
        ["data", "show", str(dataset), "-o", str(mnt / SHOWN)],
        "no space left on device writing",
        str(mnt / SHOWN),
        "-o",
        prefix=full_disk(mnt, "4k"),
    )


def test_export_annotations_onto_a_full_disk(bad_process: BadProcess, mnt: Path, dataset: Path, tmp_path: Path) -> None:
    filler = tmp_path / "filler.bin"
    filler.write_bytes(b"\0" * 4096)  # fills the one-page disk, so the (small) CSV does not fit
    prefix = _unshare(f"mount -t tmpfs -o size=4k tmpfs {mnt} && cp {filler} {mnt}/")
    bad_process(
        ["data", "export-annotations", str(dataset), str(mnt / "notes.csv")],
        "no space left on device writing",
        str(mnt / "notes.csv"),
        "CSV",
        prefix=prefix,
    )


# ------------------------------------------------------------------------------------------------ read-only
READ_ONLY_CASES: dict[str, Callable[[Path, Path], tuple[list[str], str]]] = {
    # verb: (mnt, dataset) -> (argv, the option the message names)
    "collect": lambda m, d: (["collect", f"out={m / 'ds'}", *TINY], "out="),
    "train": lambda m, d: (["train", f"data={d}", f"out={m / 'run'}"], "out="),
    "train-dynamics": lambda m, d: (["train", "dynamics", f"data={d}", f"out={m / 'run'}"], "out="),
    "rollout": lambda m, d: (["rollout", f"video.path={m / 'clip.mp4'}"], "video.path="),
    "bench": lambda m, d: (["bench", "agents=[random]", f"out={m / 'bench'}"], "out="),
    "eval": lambda m, d: (
        ["eval", f"checkpoint={SHIPPED / 'video_model.pt'}", f"data={d}", f"out={m / 'report'}"],
        "out=",
    ),
    "plan-record": lambda m, d: (
        ["plan", "objective=oracle", "dynamics_model=oracle", f"record={m / 'planned'}"],
        "record=",
    ),
    "plan-results": lambda m, d: (
        ["plan", "objective=oracle", "dynamics_model=oracle", f"results={m / 'plan.json'}"],
        "results=",
    ),
    "demo": lambda m, d: (["demo", "open the drawer", f"video.path={m / 'demo.mp4'}"], "video.path="),
    "data-show": lambda m, d: (["data", "show", str(d), "-o", str(m / SHOWN)], "-o"),
    "export-annotations": lambda m, d: (["data", "export-annotations", str(d), str(m / "a.csv")], "CSV"),
}


#: the cases whose command takes over ~5 s to start (torch, the planner): slow
SLOW_TO_START = {"train", "train-dynamics", "bench", "eval", "plan-record", "plan-results", "demo"}


@pytest.mark.parametrize(
    "verb", [pytest.param(v, marks=pytest.mark.slow) if v in SLOW_TO_START else v for v in READ_ONLY_CASES]
)
def test_a_read_only_output_is_refused_before_the_work(
    bad_process: BadProcess, mnt: Path, dataset: Path, verb: str
) -> None:
    argv, key = READ_ONLY_CASES[verb](mnt, dataset)
    bad_process(argv, "read-only file system", str(mnt), key, "choose another", prefix=read_only(mnt), timeout=60)


def test_eval_next_to_a_read_only_checkpoint_says_to_give_out(
    bad_process: BadProcess, mnt: Path, dataset: Path
) -> None:
    """out=null writes the report next to the checkpoint: on a read-only install that fails after minutes before."""
    bad_process(
        ["eval", f"checkpoint={mnt / 'video_model.pt'}", f"data={dataset}"],
        "read-only file system",
        f"out={mnt}",
        "choose another out=",
        prefix=read_only(mnt, SHIPPED / "video_model.pt"),
    )


def test_import_annotations_into_a_read_only_dataset(
    bad_process: BadProcess, mnt: Path, dataset: Path, tmp_path: Path
) -> None:
    csv = tmp_path / "human.csv"
    csv.write_text("episode,text\n0,open the drawer\n")
    q = shlex.quote(str(mnt))
    prefix = _unshare(f"mount -t tmpfs -o size=8m tmpfs {q} && cp -r {dataset}/. {q}/ && mount -o remount,ro {q}")
    bad_process(["data", "import-annotations", str(mnt), str(csv)], "read-only file system", str(mnt), prefix=prefix)


# ------------------------------------------------------------------------------------------------ ill-formed paths
def test_collect_out_is_a_file(bad_cli: BadCli, a_file: Path) -> None:
    bad_cli(["collect", f"out={a_file}", *TINY], f"out={a_file}", "is a file, not a folder", "choose another out=")


@pytest.mark.parametrize(
    "verb",
    [
        ["collect", *TINY],
        ["train"],
        ["train", "policy"],
        ["bench", "agents=[random]"],
        ["eval", f"checkpoint={SHIPPED / 'lorel_reward.pt'}"],
    ],
    ids=["collect", "train", "train-policy", "bench", "eval"],
)
def test_an_out_folder_under_a_file_is_refused(bad_cli: BadCli, a_file: Path, verb: Sequence[str]) -> None:
    bad_cli([*verb, f"out={a_file / 'sub'}"], "out=", f"{a_file} is a file, not a folder", "choose another out=")


@pytest.mark.parametrize(
    "argv",
    [
        ["rollout", "episodes=1"],
        ["plan", "objective=oracle", "dynamics_model=oracle"],
        ["demo", "open the drawer"],
    ],
    ids=["rollout", "plan", "demo"],
)
def test_a_video_under_a_file_is_refused(bad_cli: BadCli, a_file: Path, argv: Sequence[str]) -> None:
    bad_cli([*argv, f"video.path={a_file / 'clip.mp4'}"], "video.path=", f"{a_file} is a file", "choose another")


def test_a_video_path_that_is_a_folder(bad_cli: BadCli, tmp_path: Path) -> None:
    folder = tmp_path / "clips.mp4"
    folder.mkdir()
    bad_cli(["rollout", f"video.path={folder}"], "video.path=", "is a folder, not a file", "clips.mp4/output.mp4")


def test_a_windows_drive_path_on_posix(bad_cli: BadCli) -> None:
    bad_cli(["rollout", "video.path=Z:\\videos\\clip.mp4"], "video.path=Z:", "Windows path", "'Z:'", "clip.mp4")


def test_plan_results_that_is_a_folder(bad_cli: BadCli, tmp_path: Path) -> None:
    bad_cli(
        ["plan", "objective=oracle", "dynamics_model=oracle", f"results={tmp_path}"],
        f"results={tmp_path}",
        "is a folder, not a file",
    )


def test_plan_record_under_a_file(bad_cli: BadCli, a_file: Path) -> None:
    bad_cli(
        ["plan", "objective=oracle", "dynamics_model=oracle", f"record={a_file / 'planned'}"],
        "record=",
        "is a file, not a folder",
        "choose another record=",
    )


@pytest.mark.parametrize(("out", "needle"), [("sheet.avi", "cannot write .avi files"), ("sheet", "without a suffix")])
def test_data_show_refuses_what_it_cannot_write(
    bad_cli: BadCli, dataset: Path, tmp_path: Path, out: str, needle: str
) -> None:
    bad_cli(["data", "show", str(dataset), "-o", str(tmp_path / out)], "-o", needle, ".png, .mp4 or .gif")


def test_data_show_into_a_folder(bad_cli: BadCli, dataset: Path, tmp_path: Path) -> None:
    bad_cli(["data", "show", str(dataset), "-o", str(tmp_path)], "-o", "is a folder, not a file", "output.png")


def test_export_annotations_under_a_file(bad_cli: BadCli, dataset: Path, a_file: Path) -> None:
    bad_cli(
        ["data", "export-annotations", str(dataset), str(a_file / "a.csv")],
        "CSV",
        f"{a_file} is a file",
        "choose another CSV",
    )


# ------------------------------------------------------------------------------------------------ cut messages
def test_collect_resume_mismatch_names_every_key_and_the_fix(
    bad_cli: BadCli, collect_dataset: CollectDataset, tmp_path: Path
) -> None:
    """The message used to be cut to its first line: "...differ from the existing dataset's meta.json:"."""
    existing = collect_dataset(TINY)
    copy = tmp_path / "ds"
    shutil.copytree(existing, copy)
    bad_cli(
        ["collect", f"out={copy}", *TINY, "seed=5", "env.width=32"],
        "2 differences",
        "seed: the existing dataset has 0, this run has 5",
        "env.width: the existing dataset has 64, this run has 32",
        "use a new out= folder",
    )


def test_a_job_error_is_joined_not_cut(bad_api: BadApi) -> None:
    """The bench executor reported only the first line of a failed job's error."""
    from robolearn.bench.executor import ExecutorSettings, JobsFailed, run_jobs

    bad_api(
        lambda: list(run_jobs(_fails_in_two_lines, [1], ExecutorSettings(max_retries=0))),
        JobsFailed,
        "the first line",
        "the second line, with the fix",
    )


def _fails_in_two_lines(job: int) -> int:
    raise ValueError("the first line\nthe second line, with the fix")


def _disk_full(job: int) -> int:
    raise output_error(OSError(errno.ENOSPC, "No space left on device"), f"/data/planned/ep_{job:07d}.h5")


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_a_job_that_cannot_write_stops_the_run_once_not_retried(bad_api: BadApi, workers: int) -> None:
    """Retrying cannot free space: the first job's error stops the run, once (not after 3 attempts of every job,
    buried in a JobsFailed summary)."""
    from robolearn.bench.executor import ExecutorSettings, run_jobs

    settings = ExecutorSettings(workers=workers, max_retries=2)
    bad_api(lambda: list(run_jobs(_disk_full, [0, 1, 2], settings)), OutputError, "no space left on device writing")


def test_an_unreadable_instruction_file_quotes_the_whole_parser_message(bad_api: BadApi, tmp_path: Path) -> None:
    from robolearn.config import ConfigError
    from robolearn.training.eval_reward import load_instruction_file

    path = tmp_path / "mine.yaml"
    path.write_text("open it: [open_drawer\nclose it: close_drawer\n")
    bad_api(
        lambda: load_instruction_file(path),
        ConfigError,
        "mine.yaml",
        "could not be parsed",
        "expected ',' or ']'",
        "line 2",
    )


def test_a_checkpoint_config_mismatch_is_one_line_with_the_fix(bad_api: BadApi, tmp_path: Path) -> None:
    from planners.video import VideoConfig, VideoModel, load_checkpoint, save_checkpoint
    from sim.plumbing.checkpoints import CheckpointError

    small = dict(image_size=32, encoder_channels=(8, 16), latent_channels=16, transition_hidden=32, action_embed=16)
    path = save_checkpoint(tmp_path / "a.pt", VideoModel(VideoConfig(**small)))
    other = VideoModel(VideoConfig(**{**small, "latent_channels": 24, "transition_hidden": 16}))
    bad_api(
        lambda: load_checkpoint(path, model=other),
        CheckpointError,
        "latent_channels: 16 != 24",
        "transition_hidden: 32 != 16",
        "build the model from the checkpoint",
    )


def test_an_unavailable_text_model_lists_every_fix_on_one_line(bad_api: BadApi) -> None:
    from rewards.text import TextModelUnavailableError, _unavailable

    def load() -> None:
        raise _unavailable("org/model", "org/model", OSError("cannot reach the hub\nretry later"))

    bad_api(load, TextModelUnavailableError, "cannot reach the hub retry later", "(1) use the packaged default", "(2)")
