"""LOReL reward speed (issue 4): (s0, s_t, instruction) scores per second on the CPU, per fusion and API.

Measured for ``LorelReward`` with the default ``LorelConfig`` and each fusion (early, late):

* ``score``: one s0, N candidate frames (N, C, H, W), one instruction — a planner scoring the last
  predicted frame of N action sequences;
* ``score`` (N, T): one s0, N predicted sequences of T frames — a planner scoring every frame;
* ``score_pairs``: B independent (s0, s_t, instruction) triples drawn from ``--instructions``
  distinct strings (embeddings cached after the warm-up, as in training/evaluation);
* ``train step``: forward + backward + Adam on a batch (pairs/s), for the trainer's estimate.

Random uint8 64×64 images (the speed of a CNN does not depend on the pixel values). Each number is
the median of ``--repeats`` timed calls after one untimed warm-up call, as wall-clock rate and as
rate per CPU-second of this process (robust on a shared machine). Threads: ``--threads``
(default 2, the target machine's cores). The table also gives parameters and multiply-accumulates
(MACs) per CNN pass and per score.

Usage (from the repository root)::

    python benchmarks/reward_speed.py               # N = 4096 frames, 5 repeats, 2 threads
    python benchmarks/reward_speed.py --quick       # a few seconds
    python benchmarks/reward_speed.py --json out.json
    python benchmarks/reward_speed.py --threads 1          # when other processes share the 2 cores
    python benchmarks/reward_speed.py --omp-passive        # same, keeping 2 threads

Shared machine: with 2 threads and another busy process on the 2 cores, OpenMP threads spin-wait
for each other at every parallel region while one of them is descheduled; rates measured here fell
4–30× (e.g. score_pairs early 7,400 → 1,700/s, a training step 3,000 → 95 pairs/s). Use 1 thread,
or OMP_WAIT_POLICY=PASSIVE, whenever the cores are shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# OpenMP reads its wait policy when it starts (at `import torch`), so the flag acts before the import.
if "--omp-passive" in sys.argv:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

import torch

from rewards.lorel import FUSIONS, LorelConfig, LorelReward
from rewards.text import TextEncoder

TARGET_SCORES_PER_S = 5000  # issue 4: ≥ 5,000 scores/s on the 2-core CPU at 64×64
HORIZON = 20  # frames per predicted sequence in the (N, T) case (LOReL's SV2P horizon)
TRAIN_BATCH = 96  # LOReL: 32 positives + 2 × 32 negatives per step
PIXEL_LEVELS = 256


def _median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (s) over ``repeats`` calls of ``fn``.

    CPU time (all threads) is the robust number on a shared machine: with 1 thread it is what the wall
    time would be without other load; wall time with 2 threads suffers most from contention (OpenMP
    threads wait for each other when one is descheduled).
    """
    fn()  # warm-up: allocator, oneDNN primitive creation, text cache
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def _rates(row: dict[str, Any], key: str, count: int, times: tuple[float, float]) -> None:
    row[key] = count / times[0]
    row[key + "_cpu"] = count / times[1]


def bench(fusion: str, text: TextEncoder, n: int, repeats: int, instructions: int, train: bool) -> dict[str, Any]:
    """Scores/s of each API for one fusion."""
    config = LorelConfig(fusion=fusion)
    model = LorelReward(config, text_encoder=text, seed=0)
    c = config
    gen = torch.Generator().manual_seed(0)

    def img(*lead: int) -> torch.Tensor:
        return torch.randint(
            0,
            PIXEL_LEVELS,
            (*lead, c.channels, c.image_size, c.image_size),
            dtype=torch.uint8,
            generator=gen,
        )

    s0, frames, seqs = img(), img(n), img(max(1, n // HORIZON), HORIZON)
    b0, bt = img(n), img(n)
    words = [f"move object {i} to the left" for i in range(instructions)]
    instr = [words[i % instructions] for i in range(n)]
    row: dict[str, Any] = {"fusion": fusion, **model.num_parameters(), **model.macs()}
    _rates(row, "score_N_per_s", n, _median_time(lambda: model.score(s0, frames, words[0]), repeats))
    _rates(
        row, "score_NxT_per_s", seqs.shape[0] * HORIZON, _median_time(lambda: model.score(s0, seqs, words[0]), repeats)
    )
    _rates(row, "score_pairs_per_s", n, _median_time(lambda: model.score_pairs(b0, bt, instr), repeats))
    if train:
        model.train()
        opt = torch.optim.Adam(model.trainable_parameters(), lr=1e-4)
        tb0, tbt = b0[:TRAIN_BATCH], bt[:TRAIN_BATCH]
        labels = (torch.arange(TRAIN_BATCH) % 2).float()

        def step() -> None:
            logits = model(tb0, tbt, model.encode_text(instr[:TRAIN_BATCH]))
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        _rates(row, "train_pairs_per_s", TRAIN_BATCH, _median_time(step, repeats))
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=4096, help="frames / pairs per timed call")
    ap.add_argument("--repeats", type=int, default=5, help="timed calls per measurement (median)")
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    ap.add_argument("--instructions", type=int, default=16, help="distinct instructions in score_pairs")
    ap.add_argument("--fusion", choices=FUSIONS, nargs="*", default=list(FUSIONS), help="fusions to measure")
    ap.add_argument("--no-train", action="store_true", help="skip the training-step measurement")
    ap.add_argument("--quick", action="store_true", help="smoke run: N = 256, 1 repeat")
    ap.add_argument(
        "--omp-passive",
        action="store_true",
        help="OMP_WAIT_POLICY=PASSIVE: idle OpenMP threads sleep instead of spinning (see the docstring)",
    )
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.repeats = 256, 1
    torch.set_num_threads(args.threads)
    text = TextEncoder()
    rows = [bench(f, text, args.n, args.repeats, args.instructions, not args.no_train) for f in args.fusion]

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"torch {torch.__version__}, {args.threads} threads (OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '-')}), "
        f"{platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load:.1f} at the end, N = {args.n}, "
        f"target ≥ {TARGET_SCORES_PER_S} scores/s; each rate: wall (per CPU-second of this process)"
    )
    cols = [
        ("fusion", "fusion", "{}"),
        ("trainable", "params", "{:,}"),
        ("cnn_pass", "MACs/CNN", "{:,}"),
        ("score_per_frame", "MACs/score", "{:,}"),
        ("score_pairs_per_pair", "MACs/pair", "{:,}"),
        ("score_N_per_s", "score (N)/s", "rate"),
        ("score_NxT_per_s", "score (N,T)/s", "rate"),
        ("score_pairs_per_s", "score_pairs/s", "rate"),
        ("train_pairs_per_s", "train pairs/s", "rate"),
    ]
    cols = [c for c in cols if c[0] in rows[0]]
    cells = [
        [f"{r[k]:,.0f} ({r[k + '_cpu']:,.0f})" if fmt == "rate" else fmt.format(r[k]) for k, _, fmt in cols]
        for r in rows
    ]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, (_, h, _) in enumerate(cols)]
    print(" | ".join(h.rjust(w) for (_, h, _), w in zip(cols, widths)))
    print("-+-".join("-" * w for w in widths))
    for row in cells:
        print(" | ".join(v.rjust(w) for v, w in zip(row, widths)))
    if args.json:
        args.json.write_text(json.dumps({"threads": args.threads, "n": args.n, "rows": rows}, indent=2))
    slow = [r["fusion"] for r in rows if min(r["score_N_per_s"], r["score_pairs_per_s"]) < TARGET_SCORES_PER_S]
    if slow:
        print(f"below target (wall): {slow}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
