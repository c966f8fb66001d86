"""DVD reward speed (issue 23, item 6): scoring 200 candidate clips against a demo within a replanning step.

Measured for ``DVDReward`` with the default ``DVDConfig`` and a few encoder choices (``--choices``):

* ``score``: ``DVDReward.score(candidates, demos)`` with N candidate clips of T frames (a planner's predicted videos,
  all starting at the same observed frame, as a planner's are) against M demo clips (embeddings cached after the
  first call, as in planning); the target is ≤ 100 ms for N = 200 on the 2 cores;
* ``train``: forward + backward + AdamW on a batch of clip pairs (clips/s), for the trainer's estimate.

Random uint8 64×64 clips (the speed of a CNN does not depend on the pixel values). Each number is the median of
``--repeats`` timed calls after one untimed warm-up call. Threads: ``--threads`` (default 2, the target machine's
cores; use 1 when other processes share the cores: OpenMP threads spin-wait for each other, see
benchmarks/reward_speed.py).

Usage (from the repository root)::

    python benchmarks/dvd_speed.py                       # the default config, 2 threads
    python benchmarks/dvd_speed.py --threads 1 --choices # the encoder choices compared
    python benchmarks/dvd_speed.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

import torch

from rewards.dvd import DVDConfig, DVDReward

TARGET_MS = 100.0  # issue 23: 200 candidates against a demo in ≤ 100 ms on the 2 cores
#: encoder choices compared with --choices: name → DVDConfig overrides
CHOICES: dict[str, dict[str, Any]] = {
    "default (6 frames, 32-64-128, rgb_diff)": {},
    "4 frames, 32-64-128": {"num_frames": 4},
    "8 frames, 32-64-128": {"num_frames": 8},
    "6 frames, rgb only": {"frame_input": "rgb"},
    "6 frames, 16-32-64": {"cnn_channels": (16, 32, 64)},
    "4 frames, 16-32-64": {"num_frames": 4, "cnn_channels": (16, 32, 64)},
    "6 frames, mean over time": {"temporal": "mean"},
    "concat head": {"head": "concat"},
}


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn`` over ``repeats`` calls after one warm-up call (seconds)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure(overrides: dict[str, Any], n: int, t: int, m: int, batch: int, repeats: int) -> dict[str, Any]:
    """Score and training timings of one config (see the module docstring)."""
    model = DVDReward(DVDConfig(**overrides), seed=0)
    s = model.config.image_size
    g = torch.Generator().manual_seed(0)
    cand = torch.randint(0, 256, (n, t, s, s, 3), dtype=torch.uint8, generator=g)
    cand[:, 0] = cand[0, 0]  # a planner's candidates all start at the observed frame
    demos = torch.randint(0, 256, (m, t, s, s, 3), dtype=torch.uint8, generator=g)
    score_s = median_seconds(lambda: model.score(cand, demos), repeats)
    a = torch.randint(0, 256, (batch, model.config.num_frames, s, s, 3), dtype=torch.uint8, generator=g)
    b = torch.randint(0, 256, (batch, model.config.num_frames, s, s, 3), dtype=torch.uint8, generator=g)
    target = torch.randint(0, 2, (batch,), generator=g).float()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()

    def step() -> None:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(a, b), target)
        opt.zero_grad()
        loss.backward()
        opt.step()

    train_s = median_seconds(step, repeats)
    return {
        "parameters": model.num_parameters()["total"],
        "score_ms": round(1000 * score_s, 1),
        "train_clips_per_s": round(2 * batch / train_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    p.add_argument("--candidates", type=int, default=200, help="candidate clips per score call (default 200)")
    p.add_argument("--frames", type=int, default=20, help="frames per candidate / demo clip (default 20)")
    p.add_argument("--demos", type=int, default=1, help="demo clips (default 1)")
    p.add_argument("--batch", type=int, default=32, help="clip pairs per training step (default 32)")
    p.add_argument("--repeats", type=int, default=5, help="timed calls per number (median; default 5)")
    p.add_argument("--choices", action="store_true", help="compare the encoder choices, not only the default")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = {}
    for name, overrides in CHOICES.items() if args.choices else [("default", {})]:
        rows[name] = r = measure(overrides, args.candidates, args.frames, args.demos, args.batch, args.repeats)
        ok = "ok" if r["score_ms"] <= TARGET_MS else "over"
        print(
            f"{name:34s} {r['parameters']:>9,} params  score {args.candidates} clips × {args.frames} frames vs "
            f"{args.demos} demo(s): {r['score_ms']:7.1f} ms ({ok}, target ≤ {TARGET_MS:g})  train "
            f"{r['train_clips_per_s']:7.1f} clips/s  [{args.threads} thread(s)]",
            flush=True,
        )
    if args.json is not None:
        args.json.write_text(json.dumps({"threads": args.threads, "results": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
