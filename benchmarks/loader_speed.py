"""Dataset storage and loader benchmark (issue 3): samples/s of the PyTorch datasets, open time, disk size.

Builds (or, with ``--root`` pointing at an existing dataset, reuses) a synthetic dataset of 64×64 RGB
episodes whose frames are real ``robolearn/Desk-v1`` renders: ``--real-episodes`` episodes with random
actions are rendered, and each of the ``--episodes`` stored episodes reuses one of them with a random
brightness offset and an optional horizontal flip. Every frame and array is compressed on its own
(one chunk each), so reusing rendered data gives the compression ratio of rendered data, without
rendering every episode. Episodes are written loose with ``DatasetWriter``
(fsync on, as collection does) and packed into shards of 1000.

Measured:

* write: ms per episode written (one process), and the pack time;
* open: ``DatasetReader(root)`` wall time (median of ``OPEN_REPEATS``; the files are in the page cache);
* disk: bytes per episode (all files / episodes), and a breakdown for the first shard: stored RGB
  chunks, other episode arrays, the shard's own tables, and the rest of the file (HDF5 object headers,
  chunk indexes, attributes, string heaps) — the per-episode overhead of HDF5 itself;
* loaders: samples/s of ``PairDataset`` (s0, s_T, label) and ``ClipDataset(k=10)`` through
  ``make_loader(batch_size=64)`` with 0 and 2 workers, after ``--warmup`` batches (worker start-up,
  first file opens) that are not timed. Epochs follow each other (persistent workers).

Usage (from the repository root)::

    python benchmarks/loader_speed.py                      # default: 5000 episodes of 20 steps
    python benchmarks/loader_speed.py --quick              # smoke run, a few seconds
    python benchmarks/loader_speed.py --root /tmp/ds --keep --json out.json
    python benchmarks/loader_speed.py --scale-check 50000  # also open a real 50-shard dataset

The 50,000-episode figures are extrapolated (linear in shards for the open time, linear in episodes
for the size) unless ``--scale-check`` builds such a dataset by copying the packed episodes (HDF5
object copy under new indices) and times opening it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

import h5py
import torch

from robolearn.data.episode import Episode
from robolearn.data.files import FILE_KIND_SHARD, INDEX_DATASET, INDEX_DTYPE, LIBVER
from robolearn.data.loader import ClipDataset, PairDataset, make_loader
from robolearn.data.metadata import create_dataset
from robolearn.data.reader import DatasetReader
from robolearn.data.schema import FORMAT_NAME, FORMAT_VERSION, META_FILE, SHARD_GLOB, shard_file
from robolearn.data.writer import DatasetWriter

ENV_ID = "robolearn/Desk-v1"
SIZE = 64  # image side, pixels
DEFAULT_EPISODES = 5000
DEFAULT_STEPS = 20  # actions per episode: Desk-v1's max_episode_steps
DEFAULT_REAL_EPISODES = 64  # rendered episodes the synthetic ones are made from (~3 s of rendering)
EPISODES_PER_SHARD = 1000
BATCH_SIZE = 64
CLIP_K = 10
WORKER_COUNTS = (0, 2)  # the target machine has 2 cores
DEFAULT_WARMUP_BATCHES = 10
DEFAULT_TIMED_BATCHES = 150  # ~10k samples per measurement
OPEN_REPEATS = 5
SCALE_EPISODES = 50_000  # the dataset size the open-time target refers to
TARGET_PAIRS_PER_S = 5000.0  # issue 3: (s0, s_t) samples/s, 2 workers, batch 64, 64×64
TARGET_OPEN_S = 5.0  # issue 3: open a 50,000-episode dataset
BRIGHTNESS_JITTER = 6  # ± grey levels added to a reused episode's frames
EXPLORATIONS = ("uniform", "correlated", "expert_mix")
INSTRUCTIONS = (
    "open the drawer",
    "close the drawer",
    "turn the faucet left",
    "push the white mug left",
    "move the black mug forward",
    "press the button",
    "open the cabinet door",
)
SEED = 0
QUICK = {"episodes": 200, "real_episodes": 4, "warmup": 3, "batches": 20}


# ----------------------------------------------------------------------------------------- data
def render_real_episodes(n: int, steps: int, seed: int = SEED) -> list[dict[str, np.ndarray]]:
    """``n`` Desk-v1 episodes with uniform random actions: rgb, states, object_states, actions."""
    import gymnasium as gym

    import sim  # noqa: F401  (registers robolearn/Desk-v1)

    env = gym.make(ENV_ID, obs_keys=("rgb",), width=SIZE, height=SIZE).unwrapped
    rng = np.random.default_rng(seed)
    out = []
    try:
        for e in range(n):
            obs, _ = env.reset(seed=seed + e)
            rgb, states, objects = [obs["rgb"]], [env.scene.get_state().flat()], [env.object_states.vector()]
            actions = rng.uniform(-1.0, 1.0, (steps, 4)).astype(np.float32)
            for a in actions:
                obs, *_ = env.step(a)
                rgb.append(obs["rgb"])
                states.append(env.scene.get_state().flat())
                objects.append(env.object_states.vector())
            out.append(
                {
                    "rgb": np.stack(rgb),
                    "states": np.stack(states),
                    "object_states": np.stack(objects),
                    "actions": actions,
                }
            )
    finally:
        env.close()
    return out


def synthetic_episode(index: int, real: list[dict[str, np.ndarray]], rng: np.random.Generator) -> Episode:
    """Episode ``index``: a reused real episode, brightness-shifted and maybe mirrored; random actions."""
    base = real[index % len(real)]
    rgb = np.clip(
        base["rgb"].astype(np.int16) + rng.integers(-BRIGHTNESS_JITTER, BRIGHTNESS_JITTER + 1), 0, 255
    ).astype(np.uint8)
    if rng.random() < 0.5:
        rgb = rgb[:, :, ::-1]
    steps = base["actions"].shape[0]
    return Episode(
        index=index,
        seed=SEED + index,
        task="open_drawer",
        exploration=str(rng.choice(EXPLORATIONS)),
        obs={"rgb": np.ascontiguousarray(rgb)},
        actions=rng.uniform(-1, 1, (steps, 4)).astype(np.float32),
        expert=rng.random(steps) < 0.3,
        states=base["states"].copy(),
        object_states=base["object_states"].astype(np.float32),
        labels=[("drawer", "open", None)],
        instructions=list(rng.choice(INSTRUCTIONS, 3, replace=False)),
        heldout_instructions=["slide the drawer out"],
        scene_params={
            "light": rng.uniform(0, 1, 3).round(4).tolist(),
            "camera_eye_offset": rng.normal(0, 0.01, 3).round(5).tolist(),
        },
    )


def build_dataset(root: Path, episodes: int, steps: int, real_episodes: int) -> dict[str, float]:
    """Render, write loose episodes, pack; returns timings."""
    t0 = time.perf_counter()
    real = render_real_episodes(real_episodes, steps)
    render_s = time.perf_counter() - t0
    create_dataset(
        root,
        {
            "seed": SEED,
            "env": {"id": ENV_ID, "width": SIZE, "height": SIZE},
            "obs": {"rgb": [SIZE, SIZE, 3]},
            "note": "synthetic, benchmarks/loader_speed.py",
        },
    )
    writer = DatasetWriter(root)
    rng = np.random.default_rng(SEED)
    eps = [synthetic_episode(i, real, rng) for i in range(episodes)]  # made first: time only the writes
    t0 = time.perf_counter()
    for ep in eps:
        writer.write_episode(ep)
    write_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    writer.pack(EPISODES_PER_SHARD)
    pack_s = time.perf_counter() - t0
    return {"render_s": render_s, "write_ms_per_episode": 1e3 * write_s / episodes, "pack_s": pack_s}


# ----------------------------------------------------------------------------------------- measures
def dataset_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def disk_usage(root: Path, n: int) -> dict[str, float]:
    """Bytes per episode overall, and a breakdown per episode of the first shard."""
    total = sum(p.stat().st_size for p in dataset_files(root))
    out = {"bytes_total": float(total), "bytes_per_episode": total / n}
    shards = sorted(root.glob(SHARD_GLOB))
    if shards:
        stored = {"rgb": 0, "episode_arrays": 0, "shard_tables": 0}

        def add(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                kind = (
                    "rgb"
                    if name.endswith("/obs/rgb")
                    else "episode_arrays"
                    if name.startswith("data/")
                    else "shard_tables"
                )
                stored[kind] += obj.id.get_storage_size()

        with h5py.File(shards[0], "r") as f:
            f.visititems(add)
            k = len(f[INDEX_DATASET])
        size = shards[0].stat().st_size
        out.update({f"{kind}_bytes_per_episode": v / k for kind, v in stored.items()})
        out["hdf5_overhead_bytes_per_episode"] = (size - sum(stored.values())) / k
    return out


def time_open(root: Path, repeats: int = OPEN_REPEATS) -> float:
    """Median wall time of ``DatasetReader(root)``, s."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        reader = DatasetReader(root)
        times.append(time.perf_counter() - t0)
        reader.close()
    return statistics.median(times)


def endless(loader: torch.utils.data.DataLoader):
    """Batches of consecutive epochs."""
    while True:
        yield from loader


def time_loader(dataset: torch.utils.data.Dataset, num_workers: int, warmup: int, batches: int) -> float:
    """Samples/s of ``make_loader(dataset, BATCH_SIZE, num_workers)`` after ``warmup`` untimed batches."""
    loader = make_loader(dataset, BATCH_SIZE, num_workers=num_workers, seed=SEED)
    it = endless(loader)
    for _ in islice(it, warmup):
        pass
    n = 0
    t0 = time.perf_counter()
    for batch in islice(it, batches):
        n += len(batch["episode"])
    dt = time.perf_counter() - t0
    del it, loader  # shuts the persistent workers down
    return n / dt


def scale_check(src_root: Path, dst_root: Path, episodes: int) -> dict[str, float]:
    """Build a ``episodes``-episode dataset by copying the source shards' episode groups under new
    indices (``H5Ocopy``, no recompression), then time opening it."""
    reader = DatasetReader(src_root)
    sources = [(reader.file_of(i), f"data/ep_{i:07d}", reader.length(i)) for i in reader.indices()]
    reader.close()
    dst_root.mkdir(parents=True)
    shutil.copy(src_root / META_FILE, dst_root / META_FILE)
    t0 = time.perf_counter()
    handles = {p: h5py.File(p, "r") for p in {s[0] for s in sources}}
    try:
        for s in range(-(-episodes // EPISODES_PER_SHARD)):
            ids = range(s * EPISODES_PER_SHARD, min(episodes, (s + 1) * EPISODES_PER_SHARD))
            rows = np.zeros(len(ids), INDEX_DTYPE)
            with h5py.File(dst_root / shard_file(s), "w", libver=LIBVER) as dst:
                dst.attrs.update(format=FORMAT_NAME, format_version=FORMAT_VERSION, kind=FILE_KIND_SHARD)
                dst.create_group("data")
                for r, i in enumerate(ids):
                    path, group, length = sources[i % len(sources)]
                    name = f"data/ep_{i:07d}"
                    h5py.h5o.copy(handles[path].id, group.encode(), dst.id, name.encode())
                    rows[r] = (i, length, SEED + i, name.encode())
                dst.create_dataset(INDEX_DATASET, data=rows)
    finally:
        for f in handles.values():
            f.close()
    build_s = time.perf_counter() - t0
    open_s = time_open(dst_root)
    size = sum(p.stat().st_size for p in dataset_files(dst_root))
    return {"episodes": float(episodes), "build_s": build_s, "open_s": open_s, "bytes_per_episode": size / episodes}


# ----------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, help="dataset folder: reused if it holds a dataset, else built there")
    ap.add_argument("--keep", action="store_true", help="keep the dataset built in a temporary folder")
    ap.add_argument("--episodes", type=int, default=DEFAULT_EPISODES)
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="actions per episode")
    ap.add_argument("--real-episodes", type=int, default=DEFAULT_REAL_EPISODES)
    ap.add_argument("--warmup", type=int, default=DEFAULT_WARMUP_BATCHES, help="untimed batches per measurement")
    ap.add_argument("--batches", type=int, default=DEFAULT_TIMED_BATCHES, help="timed batches per measurement")
    ap.add_argument(
        "--scale-check",
        type=int,
        metavar="N",
        default=0,
        help=f"also build an N-episode dataset by copying episodes and time opening it (e.g. {SCALE_EPISODES})",
    )
    ap.add_argument("--quick", action="store_true", help="smoke run: tiny dataset, few batches")
    ap.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    if args.quick:
        for k, v in QUICK.items():
            setattr(args, k, v)

    tmp = None
    root = args.root
    if root is None:
        tmp = Path(tempfile.mkdtemp(prefix="robolearn_loader_bench_"))
        root = tmp / "ds"
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "h5py": h5py.__version__,
            "hdf5": h5py.version.hdf5_version,
            "platform": platform.platform(),
        }
    }
    try:
        if (root / META_FILE).exists():
            print(f"reusing {root}")
        else:
            print(f"building {args.episodes} episodes of {args.steps} steps at {SIZE}×{SIZE} in {root} ...")
            results["build"] = build_dataset(root, args.episodes, args.steps, args.real_episodes)
        reader = DatasetReader(root)
        n, shards = len(reader), len(list(root.glob(SHARD_GLOB)))
        results["episodes"], results["shards"] = n, shards
        results["open_s"] = time_open(root)
        results["disk"] = disk_usage(root, n)
        results["extrapolated_50k"] = {
            "assumption": "open time linear in the number of shards (one index table read per shard; loose "
            "files listed only), disk size linear in episodes; shards of 1000",
            "open_s": results["open_s"] * (SCALE_EPISODES / EPISODES_PER_SHARD) / max(shards, 1),
            "disk_gb": results["disk"]["bytes_per_episode"] * SCALE_EPISODES / 1e9,
        }
        loaders: list[dict[str, Any]] = []
        datasets = {
            "PairDataset (s0, s_T, label)": PairDataset(reader),
            f"ClipDataset k={CLIP_K} (+actions)": ClipDataset(reader, k=CLIP_K),
        }
        for name, ds in datasets.items():
            for nw in WORKER_COUNTS:
                rate = time_loader(ds, nw, args.warmup, args.batches)
                loaders.append({"dataset": name, "num_workers": nw, "samples_per_s": rate})
                print(f"  {name:32s} workers={nw}: {rate:8.0f} samples/s", flush=True)
        results["loaders"] = loaders
        if args.scale_check:
            dst = Path(tempfile.mkdtemp(prefix="robolearn_scale_")) / "ds"
            try:
                print(f"scale check: copying to {args.scale_check} episodes ...", flush=True)
                results["scale_check"] = scale_check(root, dst, args.scale_check)
            finally:
                shutil.rmtree(dst.parent, ignore_errors=True)
    finally:
        if tmp is not None and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp is not None:
            print(f"kept {root}")

    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


def print_table(r: dict[str, Any]) -> None:
    """Markdown tables of the results."""
    d = r["disk"]
    print()
    print(
        f"dataset: {r['episodes']} episodes, {r['shards']} shards; {r['machine']['cpus']} CPUs, torch "
        f"{r['machine']['torch']}, h5py {r['machine']['h5py']} (HDF5 {r['machine']['hdf5']})"
    )
    if "build" in r:
        b = r["build"]
        print(
            f"build: rendering {b['render_s']:.1f} s, write {b['write_ms_per_episode']:.2f} ms/episode "
            f"(fsync on), pack {b['pack_s']:.1f} s"
        )
    print()
    print("| loader (batch 64, 64×64 RGB) | workers | samples/s | target |")
    print("|---|---:|---:|---|")
    for row in r["loaders"]:
        target = ""
        if row["dataset"].startswith("PairDataset") and row["num_workers"] == 2:
            ok = "✓" if row["samples_per_s"] >= TARGET_PAIRS_PER_S else "✗"
            target = f"{ok} ≥{TARGET_PAIRS_PER_S:.0f}/s"
        print(f"| {row['dataset']} | {row['num_workers']} | {row['samples_per_s']:.0f} | {target} |")
    print()
    e = r["extrapolated_50k"]
    print("| storage | value |")
    print("|---|---:|")
    print(f"| open time, {r['episodes']} episodes | {r['open_s'] * 1e3:.1f} ms |")
    print(
        f"| open time, 50,000 episodes (extrapolated) | {e['open_s'] * 1e3:.0f} ms "
        f"({'✓' if e['open_s'] < TARGET_OPEN_S else '✗'} <{TARGET_OPEN_S:.0f} s) |"
    )
    if "scale_check" in r:
        s = r["scale_check"]
        print(
            f"| open time, {int(s['episodes'])} episodes (measured, copied episodes) | {s['open_s'] * 1e3:.0f} ms "
            f"({'✓' if s['open_s'] < TARGET_OPEN_S else '✗'} <{TARGET_OPEN_S:.0f} s) |"
        )
    print(f"| disk per episode (all files) | {d['bytes_per_episode'] / 1e3:.1f} kB |")
    if "hdf5_overhead_bytes_per_episode" in d:
        print(f"|   RGB frames (21 × 64×64×3, gzip 4) | {d['rgb_bytes_per_episode'] / 1e3:.1f} kB |")
        print(
            f"|   other arrays (states, object_states, actions, expert) | "
            f"{d['episode_arrays_bytes_per_episode'] / 1e3:.1f} kB |"
        )
        print(
            f"|   shard tables (index, frame chunk table, attribute columns) | "
            f"{d['shard_tables_bytes_per_episode'] / 1e3:.2f} kB |"
        )
        print(
            f"|   HDF5 structure (object headers, chunk indexes), attributes, string heaps | "
            f"{d['hdf5_overhead_bytes_per_episode'] / 1e3:.1f} kB |"
        )
    print(f"| disk, 50,000 episodes (extrapolated) | {e['disk_gb']:.2f} GB |")
    print(f"\n50k assumption: {e['assumption']}.")


if __name__ == "__main__":
    main()
