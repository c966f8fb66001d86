"""Scale benchmark of issue 3: collect LOReL-sized data (50,000 episodes × 20 steps at 64×64) with the
real command, then measure its size on disk, its label distribution and loader throughput on it.

Targets: at most 60 minutes of wall time on 2 cores, at most 2.5 GB on disk (LOReL: 49 GB of
float32), at least 5,000 (s0, s_t, label) samples/s from the loader.

    python benchmarks/collect_scale.py --out /tmp/desk50k                 # the full run (~25 min)
    python benchmarks/collect_scale.py --out /tmp/desk2k --episodes 2000  # a quick look
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

TARGET_MINUTES = 60.0
TARGET_GB = 2.5
LOREL_GB = 49.0  # LOReL's 50k-episode dataset as uncompressed float32 HDF5


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="dataset folder (resumed if it exists)")
    ap.add_argument("--episodes", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = ap.parse_args(argv)

    cmd = [
        sys.executable,
        "-m",
        "robolearn.cli",
        "collect",
        f"out={args.out}",
        f"episodes={args.episodes}",
        f"workers={args.workers}",
    ]
    print("$", " ".join(cmd[2:]), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    minutes = (time.perf_counter() - start) / 60

    from robolearn.data.inspect import dataset_info

    info = dataset_info(args.out)
    gigabytes = info["disk_bytes"] / 1e9
    n = info["episodes"]
    nothing = info["labels"].get("do nothing", 0) / max(1, n)
    import loader_speed  # benchmarks/loader_speed.py, beside this file

    loader = loader_speed.main(["--root", str(args.out)])
    pair_rate = max(r["samples_per_s"] for r in loader["loaders"] if r["dataset"].startswith("Pair"))
    result = {
        "episodes": n,
        "steps": info["steps"],
        "minutes": minutes,
        "disk_gb": gigabytes,
        "bytes_per_episode": info["bytes_per_episode"],
        "do_nothing_share": nothing,
        "distinct_labels": len(info["labels"]),
        "pair_samples_per_s": pair_rate,
        "steps_per_s": info["steps"] / (minutes * 60),
    }
    print(
        f"\n{n} episodes ({info['steps']} steps) in {minutes:.1f} min ({result['steps_per_s']:.0f} steps/s; "
        f"target ≤ {TARGET_MINUTES:.0f} min: {'✓' if minutes <= TARGET_MINUTES else '✗'})"
    )
    print(
        f"disk {gigabytes:.2f} GB, {info['bytes_per_episode'] / 1e3:.1f} kB/episode (target ≤ {TARGET_GB} GB: "
        f"{'✓' if gigabytes <= TARGET_GB else '✗'}; LOReL {LOREL_GB:.0f} GB, {LOREL_GB / gigabytes:.0f}× more)"
    )
    print(
        f"loader {pair_rate:.0f} pairs/s (target ≥ 5000: {'✓' if pair_rate >= 5000 else '✗'}); "
        f"'do nothing' in {100 * nothing:.0f}% of episodes; {len(info['labels'])} distinct labels"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
