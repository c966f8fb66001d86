"""Plan in the video model's latent space: a LOReL reward head read from latents (issue 26, item 2).

The planner today decodes each candidate's last predicted frame and scores it with the LOReL reward; the optimizer
then finds the blurry predictions the reward over-rates. The candidate tried here removes decoding from the loop: a
small head reads the video model's *predicted* latent state (and predicted proprioception) beside the latent of the
episode's first real frame, and is trained to say what the LOReL reward says of the *real* frame at the same step:

    head(z_0, ẑ_t, p_0, p̂_t, instruction)  ≈  LOReL(s_0, s_t, instruction)

where ẑ_t, p̂_t come from the video model rolled from the real frames at a start k through the episode's own
actions (as a planner rolls out, 1 to ``--horizon`` steps ahead) and s_t is the real frame. The target is the
teacher's probability (distillation), for every one of the data's task labels at every predicted step, so opposite
directions and other objects are in every batch. A head that learned E[LOReL(real outcome) | predicted latent]
would be calibrated for the model's own errors, which is what a planner needs.

Stages:

* ``train``: distil the head (``--steps`` batches of ``--batch`` rollouts); every ``--eval-every`` steps the
  held-out ROC-AUC on labelled items (``RewardPairDataset``, validation episodes) is printed beside the teacher's
  AUC on the same items' real frames and on their decoded predictions (what the planner scores today);
  ``out/head.pt`` and ``out/train.json``.
* ``plan``: the VMPC benchmark's episodes (LOReL's six tasks, ``--trials`` seeds per task from ``--first-seed``,
  the scaling curve's validation seeds) with the head as the reward (``--combine none``), or with the minimum of
  the head and the pixel reward (``--combine min``: the optimizer must fool both); ``out/episodes.jsonl`` (resumes)
  and a table.

Usage (from the repository root, after ``robolearn collect out=data/desk episodes=50000 workers=2
'env.obs_keys=[rgb,proprio]'``)::

    python benchmarks/latent_reward.py train --out runs/latent_reward        # shipped video model and reward
    python benchmarks/latent_reward.py plan --head runs/latent_reward/head.pt --out runs/latent_reward/plan
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

if TYPE_CHECKING:  # pragma: no cover
    from planners.video.model import VideoModel
    from rewards.lorel import LorelReward
    from robolearn.data.reader import DatasetReader
    from robolearn.training.reward_data import RewardPairDataset

#: the head's hidden sizes: conv channels over the 8 × 8 latent grid, the MLP's width, and the projections of the
#: proprioception and of the instruction embedding
CONV_WIDTH, HIDDEN, PROPRIO_FEATURES, TEXT_FEATURES = 64, 256, 64, 128
#: activation slope, as the video model's
LEAK = 0.1
#: the teacher's training recipe for the items that validate the head (the shipped reward's fine-tuning negatives)
NEGATIVES = {
    "other_episode": 0.15,
    "reversed": 0.1,  # drawn, then skipped: s_t is not a future of s_0, no planner predicts it
    "opposite": 0.4,
    "wrong_object": 0.1,
    "no_change": 0.1,
    "incomplete": 0.15,
}
#: episodes read (the reward's own training share of the dataset), validation share, split seed
MAX_EPISODES, VAL_FRACTION, SPLIT_SEED = 20000, 0.1, 0
#: descriptions per task label in the instruction pools (as the reward's training)
INSTRUCTION_POOL = 1000
#: labelled validation items
VAL_ITEMS = 1024
#: warm-up steps of the learning rate (then cosine decay)
WARMUP = 100


class LatentRewardHead(nn.Module):
    """P(instruction done | z_0, ẑ_t, p_0, p̂_t) from video-model latents.

    Inputs: z_0, ẑ_t float (B, C_z, S, S) in [-1, 1] (the first real frame's encoding, a predicted state), p_0, p̂_t
    float (B, P) normalised proprioception, text (B, D) or (1, D) sentence embeddings. Output: logits (B,).
    """

    def __init__(self, latent_channels: int, proprio_dim: int, text_dim: int):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(3 * latent_channels, CONV_WIDTH, 3, padding=1),
            nn.LeakyReLU(LEAK),
            nn.Conv2d(CONV_WIDTH, CONV_WIDTH, 3, stride=2, padding=1),
            nn.LeakyReLU(LEAK),
            nn.Conv2d(CONV_WIDTH, CONV_WIDTH, 3, stride=2, padding=1),
            nn.LeakyReLU(LEAK),
            nn.AdaptiveAvgPool2d(2),
        )
        self.proprio = nn.Sequential(nn.Linear(3 * proprio_dim, PROPRIO_FEATURES), nn.LeakyReLU(LEAK))
        # batch-normalised like the LOReL head's: embeddings of instructions one word apart are nearly parallel
        self.text = nn.Sequential(nn.Linear(text_dim, TEXT_FEATURES), nn.BatchNorm1d(TEXT_FEATURES))
        self.mlp = nn.Sequential(
            nn.Linear(CONV_WIDTH * 4 + PROPRIO_FEATURES + TEXT_FEATURES, HIDDEN),
            nn.LeakyReLU(LEAK),
            nn.Linear(HIDDEN, HIDDEN),
            nn.LeakyReLU(LEAK),
            nn.Linear(HIDDEN, 1),
        )

    def state_features(self, z0: Tensor, zt: Tensor, p0: Tensor, pt: Tensor) -> Tensor:
        """(B, F) features of the change z_0 → ẑ_t, p_0 → p̂_t (z_0, p_0 may have one row for all)."""
        z0, p0 = z0.expand_as(zt), p0.expand_as(pt)
        h = self.conv(torch.cat([z0, zt, zt - z0], 1)).flatten(1)
        return torch.cat([h, self.proprio(torch.cat([p0, pt, pt - p0], 1))], 1)

    def logits(self, features: Tensor, text: Tensor) -> Tensor:
        """Logits (B, K) of B feature rows under K instructions (text (B, K, D) or (K, D) shared)."""
        t = self.text(text.flatten(0, -2)).unflatten(0, text.shape[:-1])
        if t.dim() == 2:
            t = t.expand(features.shape[0], -1, -1)
        f = features[:, None].expand(-1, t.shape[1], -1)
        return self.mlp(torch.cat([f, t], -1))[..., 0]

    def forward(self, z0: Tensor, zt: Tensor, p0: Tensor, pt: Tensor, text: Tensor) -> Tensor:
        return self.logits(self.state_features(z0, zt, p0, pt), text if text.dim() == 2 else text[None])[:, 0]


def encode_frames(video: VideoModel, frames: Tensor) -> Tensor:
    """(B, C, H, W) real frames (uint8, or float in [0, 1]) → their latents (B, C_z, S, S), the encoder's state of a
    one-frame context."""
    from planners.video.model import to_unit_float

    with torch.inference_mode():
        lat, _ = video._encode_frames(to_unit_float(frames)[:, None])
    return torch.tanh(lat[:, 0])


def start_proprio(reader: DatasetReader, items: Sequence[dict[str, Any]]) -> Tensor:
    """(B, P) the proprioception at frame 0 of each item's episode, in the data's units."""
    from robolearn.data.loader import PROPRIO

    return torch.stack(
        [torch.from_numpy(reader.read(int(it["episode"]), PROPRIO, 0).astype(np.float32)) for it in items]
    )


def normalised(video: VideoModel, proprio: Tensor) -> Tensor:
    """Proprioception in the data's units → the video model's normalised units."""
    return (proprio - video.proprio_mean) / video.proprio_std


@dataclass
class Rollouts:
    """A batch of B rollouts of up to H steps from real starts, and the real frames at the same steps.

    Attributes:
        z0, p0: (B, C_z, S, S) latents of each episode's first real frame, (B, P) its normalised proprioception.
        zt, pt: (M, C_z, S, S) predicted latents, (M, P) normalised predicted proprioception, for the M valid steps.
        s0, st: uint8 (M, C, H, W) each valid step's first frame and real frame.
        row: int (M,) the rollout each valid step belongs to.
    """

    z0: Tensor
    p0: Tensor
    zt: Tensor
    pt: Tensor
    s0: Tensor
    st: Tensor
    row: Tensor


def rollouts(video: VideoModel, reader: DatasetReader, items: Sequence[dict[str, Any]], horizon: int) -> Rollouts:
    """Roll the video model from each item's start k (its context) through its episode's next ``horizon`` actions."""
    b, action_dim = len(items), int(items[0]["actions"].shape[-1])
    size = tuple(items[0]["s0"].shape)
    acts = torch.zeros(b, horizon, action_dim)
    real = torch.zeros(b, horizon, *size, dtype=torch.uint8)
    valid = torch.zeros(b, horizon, dtype=torch.bool)
    for i, it in enumerate(items):
        e, k = int(it["episode"]), int(it["t1"]) - int(it["pred_steps"])
        a = reader.read(e, "actions", slice(k, k + horizon)).astype(np.float32)
        n = a.shape[0]
        acts[i, :n] = torch.from_numpy(a)
        real[i, :n] = torch.from_numpy(reader.frames(e, "rgb", slice(k + 1, k + 1 + n))).permute(0, 3, 1, 2)
        valid[i, :n] = True
    s0 = torch.stack([it["s0"] for it in items])
    p0 = start_proprio(reader, items)
    with torch.inference_mode():
        state = video.encode(torch.stack([it["context"] for it in items]), torch.stack([it["proprio"] for it in items]))
        lat = video.rollout(state, acts)
    assert lat.proprio is not None, "the head reads predicted proprioception: a video model with proprio_dim > 0"
    row = valid.nonzero()[:, 0]
    return Rollouts(
        encode_frames(video, s0).clone(),
        normalised(video, p0),
        lat.z[valid].clone(),
        normalised(video, lat.proprio[valid]).clone(),
        s0[row],
        real[valid],
        row,
    )


def teacher_targets(teacher: LorelReward, r: Rollouts, text: Tensor, choice: Tensor) -> Tensor:
    """(M, K) the teacher's probability for each valid step's real frame under each of its rollout's K instructions
    (``choice`` (B, K) indexes ``text`` (U, D)), smoothed over text noise as the planner scores."""
    with torch.inference_mode():
        feats = teacher.image_features(r.s0, r.st)
        conds = teacher.conditions(text)
        return torch.stack(
            [teacher.head_probabilities(feats, conds, choice[r.row, j]) for j in range(choice.shape[1])], 1
        )


def open_data(
    args: argparse.Namespace, video: VideoModel
) -> tuple[DatasetReader, RewardPairDataset, RewardPairDataset]:
    """The reward's training split of ``--data`` and its labelled training / validation items."""
    from robolearn.training.datasets import open_split
    from robolearn.training.reward_data import NegativeWeights, RewardPairDataset

    reader, _, train_eps, val_eps = open_split(Path(args.data), MAX_EPISODES, VAL_FRACTION, SPLIT_SEED)
    common: dict[str, Any] = {
        "negatives": NegativeWeights(**NEGATIVES),
        "typo_rate": 0.0,
        "seed": args.seed,
        "predict_horizon": args.horizon,
        "context_frames": video.config.context_frames,
        "context_proprio": True,
    }
    return (
        reader,
        RewardPairDataset(reader, train_eps, instruction_pool=INSTRUCTION_POOL, **common),
        RewardPairDataset(reader, val_eps, **common),
    )


def validation(
    head: LatentRewardHead, video: VideoModel, teacher: LorelReward, reader: DatasetReader, items: list[dict[str, Any]]
) -> dict[str, float]:
    """Held-out ROC-AUC on labelled items whose s_t is a future of s_0: the head on the predicted latent, the teacher
    on the real frame and on the decoded prediction (what the planner scores today)."""
    from rewards.metrics import roc_auc
    from robolearn.training.predicted_frames import predict_targets

    head.eval()
    scores: dict[str, list[Tensor]] = {"head": [], "teacher_real": [], "teacher_predicted": []}
    with torch.inference_mode():
        for lo in range(0, len(items), 128):
            part = items[lo : lo + 128]
            steps = torch.tensor([int(it["pred_steps"]) for it in part])
            context = torch.stack([it["context"] for it in part])
            actions = torch.stack([it["actions"] for it in part])
            proprio = torch.stack([it["proprio"] for it in part])
            s0 = torch.stack([it["s0"] for it in part])
            st = torch.stack([it["st"] for it in part])
            emb = teacher.encode_text([it["instruction"] for it in part])
            lat = video.rollout(video.encode(context, proprio), actions[:, : int(steps.max())])
            assert lat.proprio is not None, "a video model with proprioception"
            at = torch.arange(len(part))
            p0 = start_proprio(reader, part)
            zt, pt = lat.z[at, steps - 1], normalised(video, lat.proprio[at, steps - 1])
            f = head.state_features(encode_frames(video, s0), zt, normalised(video, p0), pt)
            scores["head"].append(head.logits(f, emb[:, None])[:, 0])
            scores["teacher_real"].append(teacher(s0, st, emb))
            scores["teacher_predicted"].append(
                teacher(s0, predict_targets(video, context, actions, steps, proprio), emb)
            )
    head.train()
    y = np.array([it["target"] for it in items], dtype=np.float64)
    return {k: round(float(roc_auc(torch.cat(v).numpy(), y)), 4) for k, v in scores.items()}


def train(args: argparse.Namespace) -> int:
    from planners.video.checkpoint import load_model as load_video
    from rewards.lorel import load_checkpoint
    from robolearn.data.loader import SampleKey
    from sim.plumbing.files import write_json_atomic

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    video = load_video(args.video).eval()
    teacher, _ = load_checkpoint(args.teacher)
    teacher.eval()
    if not video.config.proprio_dim:
        sys.exit(f"{args.video}: the head reads predicted proprioception; train the video model with proprio_dim > 0")
    reader, train_ds, val_ds = open_data(args, video)
    pools = list(train_ds._pool.values())  # one pool of descriptions per task label
    pool = [s for p in pools for s in p]
    text = teacher.encode_text(pool)  # (U, D), frozen encoder: computed once
    starts = np.cumsum([0] + [len(p) for p in pools])
    val_items = [
        it
        for it in (val_ds[SampleKey(args.seed + 1, 0, i)] for i in range(VAL_ITEMS))
        if int(it["pred_steps"]) > 0  # a future of s_0, as every planned frame is
    ]
    head = LatentRewardHead(video.config.latent_channels, video.config.proprio_dim, int(text.shape[1]))
    opt = torch.optim.AdamW(head.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    rng = np.random.default_rng(args.seed)
    history: list[dict[str, Any]] = []
    key, start = 0, time.monotonic()
    for step in range(1, args.steps + 1):
        lr = args.lr * min(1.0, step / WARMUP) * 0.5 * (1 + np.cos(np.pi * (step - 1) / args.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        items: list[dict[str, Any]] = []
        while len(items) < args.batch:
            it = train_ds[SampleKey(args.seed, 0, key)]
            key += 1
            if int(it["pred_steps"]) > 0:
                items.append(it)
        r = rollouts(video, reader, items, args.horizon)
        # every label, one of its descriptions per rollout: opposites and other objects are in every batch
        choice = torch.from_numpy(
            np.stack([rng.integers(lo, hi, size=len(items)) for lo, hi in itertools.pairwise(starts)], 1)
        )
        target = teacher_targets(teacher, r, text, choice)
        logits = head.logits(head.state_features(r.z0[r.row], r.zt, r.p0[r.row], r.pt), text[choice[r.row]].clone())
        loss = F.binary_cross_entropy_with_logits(logits, target.clone())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % args.eval_every == 0 or step == args.steps:
            v = validation(head, video, teacher, reader, val_items)
            history.append(
                {"step": step, "loss": round(loss.item(), 4), "seconds": round(time.monotonic() - start), **v}
            )
            print(json.dumps(history[-1]), flush=True)
            torch.save(
                {
                    "state_dict": head.state_dict(),
                    "latent_channels": video.config.latent_channels,
                    "proprio_dim": video.config.proprio_dim,
                    "text_dim": int(text.shape[1]),
                    "video": str(args.video),
                    "teacher": str(args.teacher),
                    "step": step,
                },
                args.out / "head.tmp",
            )
            (args.out / "head.tmp").replace(args.out / "head.pt")  # atomic: a killed run leaves the last head
    write_json_atomic(args.out / "train.json", {"args": {k: str(v) for k, v in vars(args).items()}, "history": history})
    return 0


def load_head(path: Path) -> LatentRewardHead:
    state = torch.load(path, map_location="cpu", weights_only=False)
    head = LatentRewardHead(state["latent_channels"], state["proprio_dim"], state["text_dim"])
    head.load_state_dict(state["state_dict"])
    return head.eval()


class LatentObjective:
    """The head as a planner reward (``planners.objectives.RewardSource``): scores ``LatentDynamics`` rollouts;
    ``combine="min"`` takes the minimum with the pixel LOReL reward on the decoded frames."""

    needs_states = False

    def __init__(self, head: LatentRewardHead, video: VideoModel, teacher: LorelReward, instruction: str, combine: str):
        self.head, self.video, self.teacher, self.combine = head, video, teacher, combine
        self.needs_frames = combine == "min"
        self.text = teacher.encode_text([instruction])  # (1, D)
        self.z0 = self.p0 = self.s0 = torch.zeros(0)

    def reset(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        frame = torch.from_numpy(np.ascontiguousarray(obs["rgb"])).permute(2, 0, 1)[None]
        self.s0 = frame[0]
        self.z0 = encode_frames(self.video, frame)
        self.p0 = normalised(self.video, torch.as_tensor(np.asarray(obs["proprio"], dtype=np.float32))[None])

    def __call__(self, rollout: Any) -> Tensor:
        with torch.inference_mode():
            z_pred = getattr(rollout, "z", None)
            if z_pred is None:  # the real frame (the reward-over-time plot): its encoding, the start's proprio
                z, p = encode_frames(self.video, rollout.frames[:, 0]), self.p0
                n, s = 1, 1
            else:
                n, s = z_pred.shape[:2]
                z, p = z_pred.flatten(0, 1), normalised(self.video, rollout.proprio).flatten(0, 1)
            r = torch.sigmoid(self.head(self.z0, z, self.p0, p, self.text)).reshape(n, s)
            if self.combine == "min":
                r = torch.minimum(r, self.teacher.score(self.s0, rollout.frames, self.text[0]).float().reshape(n, s))
            return r


def _plan_worker(jobs: list[tuple[str, int]], args: argparse.Namespace, parent: int) -> None:
    """Plan ``jobs`` ((task, seed)) in one process, appending a JSON line per episode to ``out/episodes.jsonl``; the
    process exits when the benchmark (``parent``) dies, however it dies."""
    from sim.plumbing.processes import init_worker

    init_worker(parent)
    torch.set_num_threads(1)
    from benchmarks.vmpc import settings_for
    from planners.dynamics import PredictedRollout, VideoModelDynamics
    from planners.vmpc import run_episode
    from robolearn.bench.run import append_row
    from robolearn.plan import PlanSettings, build_agent, load_models
    from sim.envs.desk import DeskEnv, DeskEnvConfig

    @dataclass
    class LatentRollout(PredictedRollout):
        """Also the predicted latents z (N, S, C_z, S_z, S_z) and proprioception (N, S, P, data units)."""

        z: Tensor | None = None
        proprio: Tensor | None = None

    class LatentDynamics(VideoModelDynamics):
        """The video model's rollout with its latents and predicted proprioception at the scored steps."""

        def rollout(
            self, actions: Tensor, steps: Sequence[int], frames: bool = True, states: bool = False
        ) -> PredictedRollout:
            with torch.inference_mode():
                steps = sorted({int(x) for x in steps})
                state = self.model.encode(self.context, self._proprio)
                lat = self.model.rollout(state, actions[:, : max(steps) + 1])
                decoded = self.model.decode(lat, steps=steps) if frames else None
                assert lat.proprio is not None, "the head reads predicted proprioception"
                return LatentRollout(steps, decoded, z=lat.z[:, steps], proprio=lat.proprio[:, steps])

    head = load_head(args.head)
    overrides = [f"reward_checkpoint={args.teacher}", f"dynamics_model={args.video}"]
    models: tuple[Any, Any] | None = None
    envs: dict[str, tuple[PlanSettings, Any, DeskEnv]] = {}
    for task, seed in jobs:
        if task not in envs:
            s = settings_for(task, overrides)  # benchmarks/vmpc.py's: the same settings as every other row
            env_cfg = s.env_for(task)
            assert isinstance(env_cfg, DeskEnvConfig), "LOReL's tasks are desk tasks"
            envs[task] = (s, env_cfg, DeskEnv(config=env_cfg))
        s, env_cfg, env = envs[task]
        models = models or load_models(s)
        agent = build_agent(s, env_cfg, seed, *models)
        agent.dynamics = LatentDynamics(models[1])
        agent.reward = LatentObjective(head, models[1], models[0], s.instruction, args.combine)
        rec = run_episode(env, agent, seed=seed)
        append_row(str(args.out / "episodes.jsonl"), {"task": task, "seed": seed, **rec.summary()})
    for _, _, env in envs.values():
        env.close()


def plan(args: argparse.Namespace) -> int:
    from robolearn.bench.stats import wilson
    from sim.plumbing.processes import ctrl_c_blocked
    from sim.tasks.desk import LOREL_TASKS

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "episodes.jsonl"
    done = {(r["task"], r["seed"]) for r in map(json.loads, path.read_text().splitlines())} if path.exists() else set()
    seeds = range(args.first_seed, args.first_seed + args.trials)
    jobs = [(t, s) for s in seeds for t in LOREL_TASKS if (t, s) not in done]
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=_plan_worker, args=(jobs[w :: args.workers], args, os.getpid())) for w in range(args.workers)
    ]
    with ctrl_c_blocked(ctx):
        for p in procs:
            p.start()
    for p in procs:
        p.join()
    rows = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    print("| task | success |\n|---|---:|")
    for task in LOREL_TASKS:
        wins = [r["success"] for r in rows if r["task"] == task]
        print(f"| {task} | {sum(wins)}/{len(wins)} |")
    wins_all = sum(r["success"] for r in rows)
    lo, hi = wilson(wins_all, len(rows))
    print(
        f"| **all** | {wins_all}/{len(rows)} = {100 * wins_all / max(1, len(rows)):.1f}% [{100 * lo:.0f}, {100 * hi:.0f}] |"
    )
    return 0 if all(p.exitcode == 0 for p in procs) else 1


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("stage", choices=["train", "plan"])
    p.add_argument("--data", default="data/desk", help="dataset from robolearn collect (with proprioception)")
    p.add_argument("--video", type=Path, default=REPO_ROOT / "robolearn" / "checkpoints" / "video_model.pt")
    p.add_argument("--teacher", type=Path, default=REPO_ROOT / "robolearn" / "checkpoints" / "lorel_reward.pt")
    p.add_argument("--out", type=Path, default=Path("runs/latent_reward"))
    p.add_argument("--head", type=Path, default=None, help="plan: the head.pt of a train stage")
    p.add_argument("--horizon", type=int, default=20, help="steps rolled out from each start (the planning horizon)")
    p.add_argument("--steps", type=int, default=1200)
    p.add_argument("--batch", type=int, default=32, help="rollouts per step (each scores every step and label)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--combine", choices=["none", "min"], default="none", help="plan: the head alone, or min with LOReL")
    p.add_argument("--trials", type=int, default=30, help="plan: seeds per task")
    p.add_argument(
        "--first-seed", type=int, default=2000, help="plan: first seed (the scaling curve's validation seeds)"
    )
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    if args.stage == "plan":
        if args.head is None:
            p.error("plan needs --head (the head.pt a train stage wrote)")
        return plan(args)
    return train(args)


if __name__ == "__main__":
    raise SystemExit(main())
