"""A fingerprint of robolearn's observable behaviour, to prove that a refactor changed nothing.

Runs the user-facing commands on fixed seeds with the shipped checkpoints and hashes what they
produce, then writes one JSON file; run it before and after a change and compare the two:

    python benchmarks/behaviour_fingerprint.py --out before.json            # on the old code
    python benchmarks/behaviour_fingerprint.py --out after.json --compare before.json

What it covers (every part through the CLI, so it survives changes to the Python API):

- ``robolearn bench``: each desk agent (random, LCBC, VMPC with goal-image and LOReL rewards on the
  learned video model; the LOReL reward and the oracle reward on oracle dynamics) on each of LOReL's six
  tasks, a few seeds, training layout: every episode's success, progress, final reward and plan value
  (``--oracle-seeds 0`` skips the oracle agents, which cost ~40 s per episode);
- ``robolearn bench env=home``: the homes' baseline agents on their tasks;
- ``robolearn collect`` on the desk and at the counter: every array and attribute of the HDF5 shards and
  the dataset metadata (minus the command line, creation time and package versions);
- ``robolearn rollout env=home`` and ``robolearn demo "open the drawer"``: what they print (minus timings).

Floats are compared exactly: "unchanged" means bit-identical.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sim.tasks.catalogue import LOREL_TASKS

#: episode fields that measure the machine, not the behaviour
TIMING_FIELDS = ("seconds", "mean_plan_seconds")
#: metadata fields that change with every run or install
VOLATILE_META = ("command", "created", "versions", "package_versions", "host", "duration_seconds")
DESK_AGENTS = ("random", "lcbc", "vmpc_goal_image", "vmpc_lorel")
ORACLE_AGENTS = ("vmpc_lorel_oracle", "vmpc_oracle")
TASKS = LOREL_TASKS  # LOReL's six tasks


def run(cmd: list[str], cwd: Path) -> str:
    """Run a robolearn command, returning its stdout + stderr; a failure stops the fingerprint."""
    print("$", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc.stdout + proc.stderr


def bench_rows(out: Path) -> list[dict[str, Any]]:
    """The bench's episodes, sorted, without their timings."""
    rows = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines() if line.strip()]
    rows = [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in rows]
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def _attrs(obj: h5py.HLObject) -> dict[str, str]:
    return {k: repr(np.asarray(v).tolist()) for k, v in sorted(obj.attrs.items())}


def dataset_digest(root: Path) -> dict[str, Any]:
    """sha256 of every HDF5 array and attribute under ``root``, and its metadata without volatile fields."""
    digest: dict[str, Any] = {}
    for path in sorted(glob.glob(str(root / "**" / "*.h5"), recursive=True)):
        rel = os.path.relpath(path, root)
        with h5py.File(path, "r") as f:
            digest[f"{rel}:/"] = _attrs(f)

            def visit(name: str, obj: h5py.HLObject, rel: str = rel) -> None:
                entry: dict[str, Any] = {"attrs": _attrs(obj)}
                if isinstance(obj, h5py.Dataset):
                    data = np.asarray(obj[()])
                    entry["dtype"] = str(data.dtype)
                    entry["shape"] = list(data.shape)
                    # Object arrays (variable-length strings) hold pointers: hash their values instead.
                    raw = repr(data.tolist()).encode() if data.dtype == object else np.ascontiguousarray(data).tobytes()
                    entry["sha256"] = hashlib.sha256(raw).hexdigest()
                digest[f"{rel}:{name}"] = entry

            f.visititems(visit)
    meta = json.loads((root / "meta.json").read_text())
    digest["meta.json"] = {k: v for k, v in meta.items() if k not in VOLATILE_META}
    return digest


def printed(text: str, work: Path) -> list[str]:
    """Printed lines without timings, progress bars, library banners and the temporary folder's name."""
    keep = []
    for line in text.replace(str(work), "<work>").splitlines():
        if "pybullet build time" in line or "it/s]" in line or "ep/s" in line or not line.strip():
            continue
        keep.append(re.sub(r"\d+(\.\d+)? ?s\b( per plan)?", "<t>", line))
    return keep


def fingerprint(seeds: int, oracle_seeds: int, home_trials: int, work: Path) -> dict[str, Any]:
    rl = [sys.executable, "-m", "robolearn.cli"]
    common = ["variants=[train]", "workers=2", "figure=false", "progress_bar=false"]
    fp: dict[str, Any] = {}
    t0 = time.time()
    run(
        rl
        + [
            "bench",
            f"agents=[{','.join(DESK_AGENTS)}]",
            f"tasks=[{','.join(TASKS)}]",
            f"trials={seeds}",
            f"out={work / 'bench'}",
            *common,
        ],
        work,
    )
    fp["bench_desk"] = bench_rows(work / "bench")
    if oracle_seeds:
        run(
            rl
            + [
                "bench",
                f"agents=[{','.join(ORACLE_AGENTS)}]",
                f"tasks=[{','.join(TASKS)}]",
                f"trials={oracle_seeds}",
                f"out={work / 'bench_oracle'}",
                *common,
            ],
            work,
        )
        fp["bench_desk_oracle"] = bench_rows(work / "bench_oracle")
    run(
        rl
        + [
            "bench",
            "env=home",
            f"trials={home_trials}",
            f"out={work / 'bench_home'}",
            "workers=2",
            "figure=false",
            "progress_bar=false",
        ],
        work,
    )
    fp["bench_home"] = bench_rows(work / "bench_home")
    run(rl + ["collect", f"out={work / 'desk'}", "episodes=12", "workers=1", "progress_bar=false"], work)
    fp["collect_desk"] = dataset_digest(work / "desk")
    run(
        rl + ["collect", "env=counter", f"out={work / 'counter'}", "episodes=6", "workers=1", "progress_bar=false"],
        work,
    )
    fp["collect_counter"] = dataset_digest(work / "counter")
    fp["rollout_home"] = printed(
        run(
            rl
            + [
                "rollout",
                "env=home",
                "env.task=interactive_nav",
                "episodes=2",
                "video.path=null",
                "progress_bar=false",
            ],
            work,
        ),
        work,
    )
    fp["demo"] = printed(run(rl + ["demo", "open the drawer", f"video.path={work / 'demo.mp4'}"], work), work)
    print(f"fingerprint took {time.time() - t0:.0f} s", flush=True)
    return fp


def differences(old: Any, new: Any, path: str = "") -> list[str]:
    """Readable lines for every place where two fingerprints differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = [f"{path}.{k}: only in the old one" for k in old if k not in new]
        out += [f"{path}.{k}: only in the new one" for k in new if k not in old]
        for k in old:
            if k in new:
                out += differences(old[k], new[k], f"{path}.{k}")
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in differences(a, b, f"{path}[{i}]")]
    return [] if old == new else [f"{path}: {old!r} != {new!r}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="fingerprint JSON to write")
    parser.add_argument("--compare", type=Path, help="an earlier fingerprint; exit 1 if anything differs")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per desk agent and task")
    parser.add_argument("--oracle-seeds", type=int, default=1, help="seeds per oracle agent and task (0: skip)")
    parser.add_argument("--home-trials", type=int, default=2, help="episodes per home task")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fingerprint-") as tmp:
        fp = fingerprint(args.seeds, args.oracle_seeds, args.home_trials, Path(tmp))
    args.out.write_text(json.dumps(fp, indent=1, sort_keys=True))
    n = len(fp["bench_desk"]) + len(fp.get("bench_desk_oracle", [])) + len(fp["bench_home"])
    print(
        f"wrote {args.out}: {n} bench episodes, {len(fp['collect_desk']) + len(fp['collect_counter'])} dataset entries"
    )
    if args.compare:
        diffs = differences(json.loads(args.compare.read_text()), fp)
        print(f"compared with {args.compare}: {'IDENTICAL' if not diffs else f'{len(diffs)} differences'}")
        for line in diffs[:50]:
            print("  ", line)
        sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
