"""Issue 22: seconds from ``kill -9`` of a parallel verb until the last of its processes is gone.

Runs each verb with two workers in its own session (``robolearn bench`` over local processes, ``robolearn
collect``, ``robolearn train dynamics`` with two DataLoader workers, ``robolearn bench ray_address=local``),
waits until the workers are busy, SIGKILLs the verb and times how long its descendants (workers, the
multiprocessing resource tracker, Ray's processes) keep running, up to ``--limit`` seconds; whatever is
left then is listed and killed. Target: every verb's processes gone within a few seconds.

    python benchmarks/orphans.py                      # all verbs, once each
    python benchmarks/orphans.py --verbs bench collect --repeats 3 --limit 120

Settings are the defaults except where noted (``collect``: 64×64 images, chunks of 25 episodes, as shipped),
so the numbers show what a user's run leaves behind.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sim.plumbing.processes import session_processes

VERBS = ("bench", "collect", "train", "bench_ray")
START_S = 180.0  # how long a verb may take to get its workers busy


def session(sid: int) -> dict[int, str]:
    """The live (not zombie) processes of session ``sid``: pid → command line."""
    found = {}
    for pid in session_processes(sid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                found[pid] = f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:100]
        except OSError:  # it ended meanwhile
            continue
    return found


def lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def cases(tmp: Path) -> dict[str, tuple[list[str], int, Callable[[], bool]]]:
    """verb → (arguments, processes besides the verb once busy, a check that work is under way)."""
    bench = ["bench", "agents=[random]", "tasks=[open_drawer]", "variants=[train]", "trials=5000", "workers=2"]
    bench += ["figure=false", "progress_bar=false"]
    data = tmp / "tiny"  # for train: 8 short episodes at 32×32, collected in this process's child
    if not data.exists():
        subprocess.run(
            [sys.executable, "-m", "robolearn.cli", "collect", f"out={data}", "episodes=8", "workers=1"]
            + ["env.width=32", "env.height=32", "env.max_episode_steps=8", "progress_bar=false"],
            check=True,
            capture_output=True,
        )
    train = ["train", "dynamics", f"data={data}", f"out={tmp / 'train'}", "num_workers=2", "steps=1000000"]
    train += ["batch_size=2", "horizon=3", "val_clips=2", "eval_every=1000000", "checkpoint_every=1000000"]
    train += ["dynamics.image_size=32", "progress_bar=false"]
    return {
        "bench": ([*bench, f"out={tmp / 'bench'}"], 3, lambda: lines(tmp / "bench" / "episodes.jsonl") >= 1),
        "collect": (
            ["collect", f"out={tmp / 'collect'}", "episodes=100000", "workers=2", "progress_bar=false"],
            3,
            lambda: any((tmp / "collect" / "episodes").glob("ep_*.h5")),
        ),
        "train": (train, 2, lambda: (tmp / "train" / "tb").exists()),
        "bench_ray": (
            [*bench, "ray_address=local", f"out={tmp / 'bench_ray'}"],
            8,
            lambda: lines(tmp / "bench_ray" / "episodes.jsonl") >= 1,
        ),
    }


def measure(argv: list[str], workers: int, busy: Callable[[], bool], limit: float) -> tuple[float | None, int, str]:
    """(seconds until the last descendant is gone or None past ``limit``, processes at the kill, survivors)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "robolearn.cli", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_S
        while not (len(session(proc.pid)) > workers and busy()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{' '.join(argv[:2])}: the verb ended or never got busy (exit {proc.poll()})")
            time.sleep(0.1)
        at_kill = len(session(proc.pid)) - 1
        proc.kill()
        killed = time.monotonic()
        proc.wait()
        while session(proc.pid):
            if time.monotonic() - killed > limit:
                left = session(proc.pid)
                return None, at_kill, "; ".join(f"{pid} {cmd}" for pid, cmd in left.items())
            time.sleep(0.05)
        return time.monotonic() - killed, at_kill, ""
    finally:
        for pid in session(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        proc.wait()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verbs", nargs="+", choices=VERBS, default=list(VERBS))
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--limit", type=float, default=90.0, help="give up waiting after this many seconds")
    args = ap.parse_args(argv)
    if "bench_ray" in args.verbs:
        try:
            import ray  # noqa: F401  (only whether it is installed)
        except ImportError:
            print("bench_ray: Ray is not installed; skipped")
            args.verbs.remove("bench_ray")
    print("| verb | processes at the kill | seconds until the last is gone | still running at the limit |")
    print("| --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="orphans-") as tmp:
        for verb in args.verbs:
            for _ in range(args.repeats):
                for sub in Path(tmp).iterdir():  # a fresh output folder each time (the dataset for train stays)
                    if sub.name != "tiny":
                        subprocess.run(["rm", "-rf", str(sub)], check=True)
                argv_, workers, busy = cases(Path(tmp))[verb]
                seconds, at_kill, left = measure(argv_, workers, busy, args.limit)
                shown = f"{seconds:.2f}" if seconds is not None else f"> {args.limit:.0f}"
                print(f"| {verb} | {at_kill} | {shown} | {left or '—'} |", flush=True)


if __name__ == "__main__":
    main()
