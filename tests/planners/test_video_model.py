"""planners.video: the action-conditioned video model, its checkpoints, metrics, and `robolearn train dynamics` / eval.

Models here are small (32×32 frames) so that the file runs in well under a minute on two cores; one
learns a synthetic "square pushed by the action" task for a few seconds and must beat copying the
last frame on held-out clips, and one tiny desk dataset is collected for the CLI round trip.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from planners.video import Latents, VideoConfig, VideoModel, VideoState, load_checkpoint, load_model, save_checkpoint
from planners.video.metrics import changed_mask, masked_psnr, psnr, ssim
from robolearn.cli import EXIT_OK, EXIT_USAGE, main
from robolearn.config import ConfigError, compose_config
from sim.plumbing.checkpoints import CheckpointError
from tests.conftest import CollectDataset

REPO = Path(__file__).resolve().parents[2]
SIZE = 32  # image side of the test models (pixels)
# a small model: latent 16 × 8 × 8 for 32×32 frames
SMALL = dict(image_size=SIZE, encoder_channels=(8, 16), latent_channels=16, transition_hidden=32, action_embed=16)


def small(seed: int = 0, **overrides) -> VideoModel:
    return VideoModel(VideoConfig(**{**SMALL, **overrides}), seed=seed).eval()


def frames(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randint(0, 256, (*shape, 3, SIZE, SIZE), generator=gen, dtype=torch.uint8)


def actions(gen: torch.Generator, n: int, h: int) -> torch.Tensor:
    return torch.rand(n, h, 4, generator=gen) * 2 - 1


# ---------------------------------------------------------------------------------------- synthetic task
SQUARE, SPEED = 6, 3  # side of the pushed square and its pixels per unit action per step


def square_clips(gen: torch.Generator, n: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n clips of k frames: a bright square that moves by round(SPEED · (dx, dy)) pixels per action, over a
    static background with a fixed dark bar; returns frames uint8 (n, k, 3, S, S) and actions (n, k − 1, 4)."""
    acts = actions(gen, n, k - 1)
    pos = torch.randint(SQUARE, SIZE - 2 * SQUARE, (n, 2), generator=gen).float()
    out = torch.full((n, k, 3, SIZE, SIZE), 60, dtype=torch.uint8)
    out[:, :, :, 4:8, 2:30] = 20  # a static landmark
    for t in range(k):
        if t:
            pos = (pos + torch.round(SPEED * acts[:, t - 1, :2])).clamp(0, SIZE - SQUARE)
        for i in range(n):
            y, x = int(pos[i, 1]), int(pos[i, 0])
            out[i, t, :, y : y + SQUARE, x : x + SQUARE] = torch.tensor([230, 200, 40], dtype=torch.uint8)[
                :, None, None
            ]
    return out, acts


def train_small(model: VideoModel, clips, steps: int = 300, horizon: int = 3) -> VideoModel:
    """Train on ``clips(gen, n, k)`` → (frames, actions[, proprio]) with train_dynamics' loss: L2, changed pixels
    weighted 1 + 4 (+ the proprioception MSE)."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    ctx = model.config.context_frames
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(steps):
        clip, acts, *proprio = clips(gen, 16, ctx + horizon)
        proprio = proprio if model.config.proprio_dim else []  # a frames-only model is not shown it
        out = model(clip, acts, proprio=proprio[0] if proprio else None)
        weight = 1 + 4 * changed_mask(out["target"], clip[:, ctx - 1, None].float() / 255)
        loss = ((out["pred"] - out["target"]).pow(2) * weight.unsqueeze(2)).mean()
        if proprio:
            loss = loss + (out["proprio_pred"] - out["proprio_target"]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.fixture(scope="module")
def trained_square() -> tuple[VideoModel, float, float, float, float]:
    """A small model trained for 300 steps on the square task (~6 s); held-out (model, psnr, copy psnr, psnr on
    changed pixels, copy's)."""
    horizon, ctx = 3, 1
    model = train_small(small(context_frames=ctx, seed=0), square_clips, horizon=horizon)
    test_gen = torch.Generator().manual_seed(12345)  # held-out clips: other positions and actions
    clip, acts = square_clips(test_gen, 64, ctx + horizon)
    pred = model.predict(clip[:, :ctx], acts)
    target = clip[:, ctx:].float() / 255
    last = clip[:, ctx - 1 : ctx].float().expand_as(target) / 255
    mask = changed_mask(target, last)
    return (
        model,
        float(psnr(pred, target).mean()),
        float(psnr(last, target).mean()),
        float(masked_psnr(pred, target, mask).nanmean()),
        float(masked_psnr(last, target, mask).nanmean()),
    )


@pytest.mark.slow
def test_a_small_model_learns_a_moving_square_better_than_copying(trained_square) -> None:
    _, ours, copy, ours_changed, copy_changed = trained_square
    assert ours > copy + 2.0, (ours, copy)  # measured: 25.6 vs 22.3 dB
    assert ours_changed > copy_changed + 8.0, (ours_changed, copy_changed)  # measured: 19.0 vs 5.8 dB


HIDDEN_RATE = 0.5  # change of the hidden height per unit of the action's third component


def hidden_height_clips(gen: torch.Generator, n: int, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The square task, but the square moves only while a hidden "height" h < 0 (a hand low enough to push):
    h starts uniform in [-1, 1] and changes by HIDDEN_RATE · a_z per step. Nothing in the frames shows h, as
    one camera hides a hand's height; it is the proprioception, (n, k, 1)."""
    acts = actions(gen, n, k - 1)
    h = torch.rand(n, generator=gen) * 2 - 1
    pos = torch.randint(SQUARE, SIZE - 2 * SQUARE, (n, 2), generator=gen).float()
    out = torch.full((n, k, 3, SIZE, SIZE), 60, dtype=torch.uint8)
    heights = torch.empty(n, k, 1)
    for t in range(k):
        if t:
            push = (heights[:, t - 1, 0] < 0).float()[:, None]
            pos = (pos + push * torch.round(SPEED * acts[:, t - 1, :2])).clamp(0, SIZE - SQUARE)
            h = (h + HIDDEN_RATE * acts[:, t - 1, 2]).clamp(-1, 1)
        heights[:, t, 0] = h
        for i in range(n):
            y, x = int(pos[i, 1]), int(pos[i, 0])
            out[i, t, :, y : y + SQUARE, x : x + SQUARE] = torch.tensor([230, 200, 40], dtype=torch.uint8)[
                :, None, None
            ]
    return out, acts, heights


@pytest.mark.slow
def test_proprioception_predicts_what_one_camera_cannot_see() -> None:
    horizon, ctx, steps = 3, 1, 600  # (at 300 steps neither has learned the gated motion yet)
    frames_only = train_small(small(context_frames=ctx, action_embed=64), hidden_height_clips, steps, horizon)
    model = small(context_frames=ctx, action_embed=64, proprio_dim=1, proprio_hidden=32)
    model.set_proprio_stats(torch.zeros(1), torch.full((1,), 0.6))
    model = train_small(model, hidden_height_clips, steps, horizon)
    clip, acts, heights = hidden_height_clips(torch.Generator().manual_seed(12345), 64, ctx + horizon)
    target = clip[:, ctx:].float() / 255
    mask = changed_mask(target, clip[:, ctx - 1 : ctx].float().expand_as(target) / 255)
    blind = float(masked_psnr(frames_only.predict(clip[:, :ctx], acts), target, mask).nanmean())
    seeing = float(masked_psnr(model.predict(clip[:, :ctx], acts, proprio=heights[:, ctx - 1]), target, mask).nanmean())
    assert seeing > blind + 2.0, (seeing, blind)  # measured: 19.1 vs 15.5 dB on the pixels that change
    latents = model.rollout(model.encode(clip[:, :ctx], heights[:, ctx - 1]), acts)
    assert latents.proprio.shape == (64, horizon, 1)
    assert float((latents.proprio - heights[:, ctx:]).abs().mean()) < 0.05  # the height is tracked, in its units


def test_proprioception_inputs_are_checked() -> None:
    gen = torch.Generator().manual_seed(0)
    model, plain = small(proprio_dim=3), small()
    ctx, acts = frames(gen, 2), actions(gen, 2, 3)
    assert model.predict(ctx, acts, proprio=torch.zeros(3)).shape == (2, 3, 3, SIZE, SIZE)
    with pytest.raises(ValueError, match="conditions on the robot's 3-D proprioception; pass it"):
        model.predict(ctx, acts)
    with pytest.raises(ValueError, match="expected a 1-D tensor of 3-D vectors"):
        model.encode(ctx, torch.zeros(4))
    with pytest.raises(ValueError, match="trained on frames only"):
        plain.encode(ctx, torch.zeros(3))
    with pytest.raises(ValueError, match="std > 0"):
        model.set_proprio_stats(torch.zeros(3), torch.zeros(3))
    assert "proprio_mean" in model.state_dict() and "proprio_mean" not in plain.state_dict()


def test_the_object_state_head_learns_what_moved() -> None:
    """The head reads the predicted latents and must track the square's displacement (the "object state") on
    held-out clips far better than "nothing moved"; planning outputs are unaffected by whether it exists."""
    horizon, ctx = 3, 1
    model = small(context_frames=ctx, object_state_dim=2, object_state_hidden=32)
    model.set_object_state_scale(torch.full((2,), float(SPEED)))
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(250):
        clip, acts = square_clips(gen, 16, ctx + horizon)
        out = model(clip, acts, object_states=square_positions(clip))
        loss = (out["pred"] - out["target"]).pow(2).mean() + (out["object_pred"] - out["object_target"]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    clip, acts = square_clips(torch.Generator().manual_seed(12345), 64, ctx + horizon)
    with torch.no_grad():
        out = model(clip, acts, object_states=square_positions(clip))
    assert out["object_pred"].shape == out["object_target"].shape == (64, horizon, 2)
    err = float((out["object_pred"] - out["object_target"]).pow(2).mean())
    still = float(out["object_target"].pow(2).mean())  # predicting "nothing moved"
    assert err < 0.25 * still, (err, still)
    # without object states (planning, validation of frames) the head is skipped
    with torch.no_grad():
        assert model(clip, acts)["object_pred"] is None


def square_positions(clip: torch.Tensor) -> torch.Tensor:
    """The square's top-left corner (x, y) in pixels per frame, (n, k, 2), found from its yellow colour."""
    yellow = (clip[:, :, 2] < 100) & (clip[:, :, 0] > 200)  # (n, k, S, S)
    ys = torch.arange(SIZE).view(1, 1, SIZE, 1).expand_as(yellow)
    xs = torch.arange(SIZE).view(1, 1, 1, SIZE).expand_as(yellow)
    big = SIZE + 1
    return torch.stack(
        [torch.where(yellow, xs, big).flatten(2).amin(2), torch.where(yellow, ys, big).flatten(2).amin(2)], dim=-1
    ).float()


def test_the_object_state_head_is_checked_and_changes_nothing_else() -> None:
    gen = torch.Generator().manual_seed(0)
    with_head, plain = small(seed=3, object_state_dim=4), small(seed=3)
    # the head is built last: every other weight is the one the same seed gives a model without it
    shared = plain.state_dict()
    assert all(torch.equal(v, shared[k]) for k, v in with_head.state_dict().items() if k in shared)
    assert {k for k in with_head.state_dict() if k not in shared} == {
        "object_state_scale",
        *(f"object_head.{k}" for k in with_head.object_head.state_dict()),
    }
    ctx, acts = frames(gen, 2), actions(gen, 2, 3)
    torch.testing.assert_close(with_head.predict(ctx, acts), plain.predict(ctx, acts))
    assert with_head.num_parameters()["object_state"] > 0 and plain.num_parameters()["object_state"] == 0
    with pytest.raises(ValueError, match=r"object_states: expected \(B=2, ≥ 5 frames, 4\), got shape \(2, 5, 3\)"):
        with_head(frames(gen, 2, 5), actions(gen, 2, 3), object_states=torch.zeros(2, 5, 3))
    with pytest.raises(ValueError, match="every value > 0"):
        with_head.set_object_state_scale(torch.zeros(4))
    with pytest.raises(ValueError, match="object_state_dim=0"):
        plain.set_object_state_scale(torch.ones(4))


def test_planner_dynamics_feed_the_latest_proprioception() -> None:
    from planners.dynamics import VideoModelDynamics

    gen = torch.Generator().manual_seed(0)
    model = small(proprio_dim=3)
    with torch.no_grad():  # make the untrained model's prediction depend on the robot's state
        for p in model.transition.parameters():
            p.normal_(0, 0.3, generator=gen)
        model.decoder.head.bias[5] = 4.0
    rgb = np.random.default_rng(0).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    acts = actions(gen, 4, 3)
    dyn = VideoModelDynamics(model)
    dyn.reset(None, {"rgb": rgb, "proprio": np.zeros(3, np.float32)})
    at_zero = dyn.rollout(acts, [2]).frames
    dyn.observe(None, {"rgb": rgb, "proprio": np.ones(3, np.float32)})
    moved = dyn.rollout(acts, [2]).frames
    direct = model.predict(
        torch.from_numpy(rgb).permute(2, 0, 1).expand(2, -1, -1, -1), acts, steps=[2], proprio=torch.ones(3)
    )
    torch.testing.assert_close(moved, direct, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(at_zero, moved, atol=1e-3)
    with pytest.raises(ValueError, match="add proprio to env.obs_keys"):
        dyn.observe(None, {"rgb": rgb})


def test_planner_dynamics_plan_against_fixed_draws_of_a_stochastic_model() -> None:
    """A sample seed gives a draw of the latent that is the same at every call (candidates compared under one
    fixed sample of the world); other seeds give other draws; without one the model predicts its prior's mean."""
    from planners.dynamics import VideoModelDynamics

    gen = torch.Generator().manual_seed(0)
    model = small(stochastic=True)
    with torch.no_grad():  # a prior wide enough that draws visibly differ
        for p in [*model.transition.parameters(), *model.prior.parameters()]:
            p.normal_(0, 0.3, generator=gen)
    rgb = np.random.default_rng(0).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    acts = actions(gen, 5, 3)

    def rollout(dyn: VideoModelDynamics) -> torch.Tensor:
        dyn.reset(None, {"rgb": rgb})
        return dyn.rollout(acts, [2]).frames

    first, again, other = (rollout(VideoModelDynamics(model, sample_seeds=[k])) for k in (0, 0, 1))
    mean = rollout(VideoModelDynamics(model))
    torch.testing.assert_close(first, again)
    assert not torch.allclose(first, other, atol=1e-3) and not torch.allclose(first, mean, atol=1e-3)
    context = torch.from_numpy(rgb).permute(2, 0, 1).expand(2, -1, -1, -1)
    torch.testing.assert_close(mean, model.predict(context, acts, steps=[2]), atol=1e-5, rtol=1e-4)
    both_dyn = VideoModelDynamics(model, sample_seeds=(0, 1))  # one encoding, one member per draw
    both_dyn.reset(None, {"rgb": rgb})
    both = both_dyn.rollout(acts, [2])
    assert both.members == 2
    torch.testing.assert_close(both.frames, torch.cat([first, other]))


def test_sample_planning_needs_a_stochastic_model(tmp_path: Path) -> None:
    from robolearn.plan import PlanSettings, check_models

    path = tmp_path / "video.pt"
    save_checkpoint(path, small(image_size=64, encoder_channels=(8, 16, 32)), step=0)
    s = PlanSettings.from_config(
        compose_config(
            "plan",
            ["objective=goal_image", f"dynamics_model={path}", "dynamics_samples=2", "video.path=null"],
        )
    )
    with pytest.raises(ConfigError, match="is deterministic .* dynamics.stochastic=true, or dynamics_samples=1"):
        check_models(s, s.env, (None, load_model(path)))


def test_a_dataset_without_proprioception_is_refused_with_the_fix() -> None:
    from types import SimpleNamespace

    from robolearn.training.datasets import needs_proprio

    rgb_only = SimpleNamespace(meta={"observations": {"rgb": {"shape": [64, 64, 3]}}})
    with pytest.raises(ConfigError, match=r"no proprioception .* collect with env.obs_keys=\[rgb,proprio\]"):
        needs_proprio(VideoConfig(proprio_dim=14), rgb_only, "data/desk")
    with_proprio = SimpleNamespace(meta={"observations": {"proprio": {"shape": [14]}}})
    with pytest.raises(ConfigError, match="set dynamics.proprio_dim=14"):
        needs_proprio(VideoConfig(proprio_dim=7), with_proprio, "data/desk")
    assert needs_proprio(VideoConfig(proprio_dim=14), with_proprio, "d")
    assert not needs_proprio(VideoConfig(), rgb_only, "d")


# ---------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    ("overrides", "field", "detail"),
    [
        ({"context_frames": 0}, "context_frames", "≥ 1"),
        ({"encoder_channels": []}, "encoder_channels", "non-empty"),
        ({"image_size": 60}, "image_size", "divisible by 2^3"),
        ({"sample": "median"}, "sample", "mean | sample"),
        ({"stochastic": "yes"}, "stochastic", "true or false"),
        ({"min_std": 0}, "min_std", "> 0"),
        ({"transition_blocks": -1}, "transition_blocks", "≥ 0"),
    ],
)
def test_config_validation_names_the_field(overrides: dict, field: str, detail: str) -> None:
    with pytest.raises(ValueError, match=f"VideoConfig.{field}") as info:
        VideoConfig(**overrides)
    assert detail in str(info.value) and "\n" not in str(info.value)


def test_yaml_instantiates_the_dataclass() -> None:
    """conf/dynamics/video.yaml is generated from VideoConfig (tests/robolearn/test_conf.py checks it is current);
    Hydra builds the defaults from it."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(REPO / "conf" / "dynamics" / "video.yaml")
    assert instantiate(cfg) == VideoConfig()
    assert instantiate(cfg, stochastic=True, encoder_channels=[8, 16]).encoder_channels == (8, 16)


# ---------------------------------------------------------------------------------------------- shapes
def test_predict_shapes_dtypes_and_input_kinds() -> None:
    gen = torch.Generator().manual_seed(0)
    model = small()
    ctx, acts = frames(gen, 2), actions(gen, 5, 4)
    out = model.predict(ctx, acts)
    assert out.shape == (5, 4, 3, SIZE, SIZE) and out.dtype == torch.float32
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    torch.testing.assert_close(model.predict(ctx.float() / 255, acts), out)  # float [0, 1] context = uint8 context
    per_seq = model.predict(ctx.expand(5, -1, -1, -1, -1), acts)  # one context per sequence
    torch.testing.assert_close(per_seq, out, atol=1e-5, rtol=1e-4)
    assert model.predict(ctx, acts, steps=[-1, 0]).shape == (5, 2, 3, SIZE, SIZE)
    # an untrained model copies the last context frame (mask bias): the frames stay close to it
    assert (out - ctx[-1].float() / 255).abs().mean() < 0.05


def test_chunking_does_not_change_predictions() -> None:
    gen = torch.Generator().manual_seed(1)
    for stochastic in (False, True):
        model = small(stochastic=stochastic)
        ctx, acts = frames(gen, 2), actions(gen, 7, 3)
        whole = model.predict(ctx, acts, chunk=100, sample="sample", generator=torch.Generator().manual_seed(3))
        parts = model.predict(ctx, acts, chunk=2, sample="sample", generator=torch.Generator().manual_seed(3))
        torch.testing.assert_close(parts, whole, atol=1e-5, rtol=1e-4)


def test_latent_path_equals_predict() -> None:
    gen = torch.Generator().manual_seed(2)
    model = small()
    ctx, acts = frames(gen, 2), actions(gen, 6, 5)
    state = model.encode(ctx)
    assert isinstance(state, VideoState) and state.batch == 1
    latents = model.rollout(state, acts)
    assert isinstance(latents, Latents) and latents.shape == (6, 5, 16, 8, 8)
    full = model.predict(ctx, acts)
    torch.testing.assert_close(model.decode(latents), full, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(model.decode(latents, steps=[-1])[:, 0], full[:, -1], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(model.decode(latents.z, steps=2, state=state)[:, 0], full[:, 2], atol=1e-5, rtol=1e-4)


def test_bad_inputs_are_reported() -> None:
    gen = torch.Generator().manual_seed(0)
    model = small()
    with pytest.raises(ValueError, match=r"context: 1 frames but the model takes context_frames=2"):
        model.predict(frames(gen, 1), actions(gen, 2, 3))
    with pytest.raises(ValueError, match=r"expected \(T, C, H, W\) or \(N, T, C, H, W\)"):
        model.predict(torch.zeros(2, 3, 16, 16), actions(gen, 2, 3))
    with pytest.raises(ValueError, match=r"actions: expected \(N, H, 4\)"):
        model.predict(frames(gen, 2), torch.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="3 sequences but the context has 2"):
        model.predict(frames(gen, 2, 2), actions(gen, 3, 2))
    with pytest.raises(ValueError, match="steps must be"):
        model.decode(model.rollout(model.encode(frames(gen, 2)), actions(gen, 2, 3)), steps=[3])


def test_same_seed_same_model_other_seed_other_model() -> None:
    gen = torch.Generator().manual_seed(4)
    ctx, acts = frames(gen, 2), actions(gen, 3, 3)
    a, b, c = small(seed=0), small(seed=0), small(seed=1)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name
    # zero-initialised dynamics copy the frame at first: make the weights differ in what they predict
    with torch.no_grad():
        for m in (a, b, c):
            m.decoder.head.bias[5] = 4.0  # favour the generated pixels (softmax source 3 of 3)
    assert torch.equal(a.predict(ctx, acts), b.predict(ctx, acts))
    assert not torch.equal(a.predict(ctx, acts), c.predict(ctx, acts))


def test_stochastic_samples_differ_by_seed_and_the_prior_mean_is_deterministic() -> None:
    gen = torch.Generator().manual_seed(5)
    model = small(stochastic=True)
    with torch.no_grad():  # an untrained transition ignores the latent (zero-initialised output convs)
        for p in model.transition.parameters():
            p.normal_(0, 0.3, generator=gen)
        model.decoder.head.bias[5] = 4.0
    ctx, acts = frames(gen, 2), actions(gen, 4, 3)

    def run(seed: int | None, sample: str) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        return model.predict(ctx, acts, sample=sample, generator=g)

    assert torch.equal(run(0, "sample"), run(0, "sample"))
    assert not torch.allclose(run(0, "sample"), run(1, "sample"))
    assert torch.equal(run(None, "mean"), run(7, "mean"))
    out = model(frames(gen, 3, 5), actions(gen, 3, 4), generator=torch.Generator().manual_seed(0))
    assert out["kl"].shape == (3, 3) and bool((out["kl"] >= 0).all())


def test_training_pass_shapes_and_gradients() -> None:
    gen = torch.Generator().manual_seed(6)
    model = small(stochastic=True).train()
    out = model(frames(gen, 2, 6), actions(gen, 2, 5), horizon=2, generator=gen)
    assert out["pred"].shape == out["target"].shape == (2, 2, 3, SIZE, SIZE)
    (out["pred"].mean() + out["kl"].mean()).backward()
    assert all(p.grad is not None for n, p in model.named_parameters() if not n.startswith("fuse"))


def test_macs_and_parameters_are_counted() -> None:
    model = VideoModel(VideoConfig())
    macs = model.macs()
    assert 1e6 < macs["transition"] < 5e6 and 1e6 < macs["decode"] < 8e6, macs
    assert model.num_parameters()["total"] == sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------- metrics
def test_ssim_matches_a_direct_computation() -> None:
    gen = torch.Generator().manual_seed(7)
    x = torch.rand(1, 16, 16, generator=gen)
    y = (x + 0.2 * torch.randn(1, 16, 16, generator=gen)).clamp(0, 1)
    g = torch.exp(-((torch.arange(11.0) - 5) ** 2) / (2 * 1.5**2))
    w = torch.outer(g, g) / torch.outer(g, g).sum()
    vals = []
    for i in range(16 - 10):
        for j in range(16 - 10):
            a, b = x[0, i : i + 11, j : j + 11], y[0, i : i + 11, j : j + 11]
            ma, mb = (w * a).sum(), (w * b).sum()
            va, vb = (w * a * a).sum() - ma**2, (w * b * b).sum() - mb**2
            cov = (w * a * b).sum() - ma * mb
            vals.append(((2 * ma * mb + 1e-4) * (2 * cov + 9e-4)) / ((ma**2 + mb**2 + 1e-4) * (va + vb + 9e-4)))
    torch.testing.assert_close(ssim(x, y), torch.stack(vals).mean(), atol=1e-5, rtol=1e-5)
    assert float(ssim(x, x)) == pytest.approx(1.0, abs=1e-6)


def test_psnr_and_changed_pixel_psnr() -> None:
    a = torch.zeros(2, 3, 8, 8)
    b = a.clone()
    b[0, :, :2, :] = 0.5  # a quarter of image 0 changed; image 1 identical
    assert psnr(a, b)[0] == pytest.approx(10 * np.log10(1 / (0.25 * 0.25)), rel=1e-5)
    mask = changed_mask(b, a)
    assert mask[0].sum() == 16 and mask[1].sum() == 0
    m = masked_psnr(a, b, mask)
    assert m[0] == pytest.approx(10 * np.log10(1 / 0.25), rel=1e-5) and torch.isnan(m[1])


# ---------------------------------------------------------------------------------------------- checkpoints
def test_checkpoint_round_trip_and_runtime_fields(tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(8)
    model = small(stochastic=True)
    opt = torch.optim.AdamW(model.parameters())
    path = save_checkpoint(tmp_path / "run" / "last.pt", model, opt, step=3, extra={"val_loss": np.float32(0.5)})
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.pt"], "no temporary file left behind"
    loaded, info = load_checkpoint(path)
    assert info["step"] == 3 and info["extra"] == {"val_loss": 0.5} and loaded.config == model.config
    ctx, acts = frames(gen, 2), actions(gen, 3, 2)
    assert torch.equal(loaded.predict(ctx, acts), model.predict(ctx, acts))
    assert load_model(path, chunk=1, sample="sample").config.chunk == 1  # runtime fields may differ
    with pytest.raises(ValueError, match="not runtime fields"):
        load_model(path, latent_channels=8)


def test_loading_into_a_different_config_names_the_fields(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "a.pt", small())
    with pytest.raises(CheckpointError, match=r"(?s)different VideoConfig.*latent_channels: 16 != 24.*load_model"):
        load_checkpoint(path, model=small(latent_channels=24, chunk=3))
    with pytest.raises(ValueError, match=r"shape mismatch: encoder\.to_latent\.weight"):
        small(latent_channels=24).load_state_dict(torch.load(path, weights_only=True)["state_dict"])


def test_foreign_and_missing_files_give_clear_errors(tmp_path: Path) -> None:
    from sim.plumbing.checkpoints import write_atomic

    with pytest.raises(FileNotFoundError, match="no video-model checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    reward_like = write_atomic(tmp_path / "reward.pt", {"format": "robolearn.reward", "version": 1})
    with pytest.raises(CheckpointError, match="not a robolearn video-model checkpoint.*format='robolearn.reward'"):
        load_checkpoint(reward_like)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"no" * 50)
    with pytest.raises(CheckpointError, match="damaged, truncated"):
        load_checkpoint(junk)


# ---------------------------------------------------------------------------------------------- CLI
STEPS = 6  # actions per collected episode (7 frames: clips of 2 context + 3 predicted frames fit)
COLLECT = [
    "episodes=14",
    "env.obs_keys=[rgb,proprio]",
    f"env.width={SIZE}",
    f"env.height={SIZE}",
    f"env.max_episode_steps={STEPS}",
    "workers=1",
    "chunk_episodes=7",
    "progress_bar=false",
    "exploration.uniform=0.5",
    "exploration.correlated=0.0",
    "exploration.reach=0.5",
    "exploration.expert_mix=0.0",
]
TRAIN = [
    "dynamics.image_size=32",
    "dynamics.encoder_channels=[8,16]",
    "dynamics.latent_channels=8",
    "dynamics.transition_hidden=16",
    "horizon=3",
    "batch_size=4",
    "val_clips=6",
    "eval_every=2",
    "checkpoint_every=2",
    "num_workers=0",
    "warmup_steps=1",
    "val_fraction=0.3",
    "progress_bar=false",
]


@pytest.fixture(scope="module")
def desk(collect_dataset: CollectDataset) -> Path:
    return collect_dataset(COLLECT)


def test_train_dynamics_and_eval_end_to_end(desk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["train", "dynamics", f"data={desk}", f"out={out}", "steps=4", *TRAIN]) == EXIT_OK
    for name in ("last.pt", "best.pt", "summary.json"):
        assert (out / name).is_file(), name
    assert any((out / "tb").iterdir())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["step"] == 4 and summary["val"]["copy_psnr"] > 0
    capsys.readouterr()
    assert main(["eval", f"checkpoint={out / 'best.pt'}", "progress_bar=false", "video.clips_per_episode=2"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "Held-out clips" in text and "PSNR changed" in text and "copy" in text
    report = json.loads((out / "eval_best.json").read_text())
    assert report["horizon"] == 3 and len(report["per_step"]["psnr"]) == 3 and report["clips"] >= 2
    assert all(v is not None for v in report["per_step"]["copy_psnr"])
    assert (out / "eval_best.csv").read_text().startswith("step,psnr,ssim,psnr_changed,copy_psnr")
    # resume: same settings continue from step 4; another model setting is refused, naming it
    assert main(["train", "dynamics", f"data={desk}", f"out={out}", "steps=6", *TRAIN]) == EXIT_OK
    assert json.loads((out / "summary.json").read_text())["start_step"] == 4
    capsys.readouterr()
    assert (
        main(["train", "dynamics", f"data={desk}", f"out={out}", "steps=8", *TRAIN, "dynamics.latent_channels=12"])
        == EXIT_USAGE
    )
    err = capsys.readouterr().err
    assert "other model settings" in err and "dynamics.latent_channels: 8 != 12" in err and err.count("\n") == 1


@pytest.mark.slow
def test_train_dynamics_with_proprioception(desk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from robolearn.training.train_dynamics import DynamicsTrainSettings, run_train_dynamics

    def settings(steps: int) -> DynamicsTrainSettings:
        return DynamicsTrainSettings.from_config(
            compose_config(
                "train_dynamics",
                [f"data={desk}", f"out={tmp_path / 'run'}", f"steps={steps}", *TRAIN, "dynamics.proprio_dim=14"],
            )
        )

    summary = run_train_dynamics(settings(2), echo=False)
    assert summary["val"]["proprio_rmse"] > 0
    model = load_model(tmp_path / "run" / "last.pt")
    # normalised by the training data: the finger opening and TCP height have their own scale
    assert model.proprio_std.shape == (14,) and bool((model.proprio_std > 0).all())
    assert float(model.proprio_mean[2]) > 0.5  # the TCP's height above the floor, in metres
    stats = model.proprio_mean.clone(), model.proprio_std.clone()
    run_train_dynamics(settings(4), echo=False)  # a resumed run keeps the checkpoint's normalisation
    resumed = load_model(tmp_path / "run" / "last.pt")
    assert torch.equal(resumed.proprio_mean, stats[0]) and torch.equal(resumed.proprio_std, stats[1])
    assert main(["eval", f"checkpoint={tmp_path / 'run' / 'last.pt'}", "progress_bar=false"]) == EXIT_OK
    # plans with it: the planning env observes the proprioception the model needs (PlanSettings.env_for)
    results = tmp_path / "plan.json"
    assert (
        main(
            [
                "plan",
                "instruction=open the drawer",
                "objective=goal_image",
                f"dynamics_model={tmp_path / 'run' / 'last.pt'}",
                "env.width=32",
                "env.height=32",
                "env.max_episode_steps=4",
                "agent.horizon=3",
                "optimizer=cem",
                "optimizer.population=8",
                "optimizer.elites=2",
                "optimizer.iterations=1",
                f"results={results}",
            ]
        )
        == EXIT_OK
    )
    assert json.loads(results.read_text())["episodes"][0]["steps"] == 4


def test_train_dynamics_with_the_object_state_head(desk: Path, tmp_path: Path) -> None:
    from robolearn.training.train_dynamics import DynamicsTrainSettings, run_train_dynamics

    def settings(*extra: str) -> DynamicsTrainSettings:
        return DynamicsTrainSettings.from_config(
            compose_config("train_dynamics", [f"data={desk}", f"out={tmp_path / 'run'}", "steps=2", *TRAIN, *extra])
        )

    summary = run_train_dynamics(settings("dynamics.object_state_dim=10"), echo=False)
    assert summary["val"]["object_rmse"] > 0 and summary["val"]["object_rmse_still"] > 0
    model = load_model(tmp_path / "run" / "last.pt")
    # the spread of the data's changes: the reaching exploration moves the drawer and mugs by centimetres
    scale = model.object_state_scale
    assert scale.shape == (10,) and bool((scale >= 1e-3).all()) and float(scale.max()) > 2e-3, scale
    with pytest.raises(
        ConfigError, match=r"10 object-state values per frame \(black_mug.x, .*dynamics.object_state_dim=10"
    ):
        run_train_dynamics(settings("dynamics.object_state_dim=3", f"out={tmp_path / 'other'}"), echo=False)


def test_resume_continues_exactly(desk: Path, tmp_path: Path) -> None:
    from robolearn.training.train_dynamics import DynamicsTrainSettings, run_train_dynamics

    def settings(out: Path, steps: int) -> DynamicsTrainSettings:
        return DynamicsTrainSettings.from_config(
            compose_config(
                "train_dynamics",
                [f"data={desk}", f"out={out}", f"steps={steps}", *TRAIN, "warmup_steps=0", "min_lr_fraction=1.0"],
            )
        )

    run_train_dynamics(settings(tmp_path / "a", 2), echo=False)
    run_train_dynamics(settings(tmp_path / "a", 4), echo=False)
    run_train_dynamics(settings(tmp_path / "b", 4), echo=False)
    a, b = load_model(tmp_path / "a" / "last.pt"), load_model(tmp_path / "b" / "last.pt")
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name


def test_training_batches_draw_episodes_from_the_whole_split(desk: Path) -> None:
    from robolearn.data.loader import ClipDataset, SampleKey
    from robolearn.data.reader import DatasetReader
    from robolearn.training.train_dynamics import StepClips

    clips = StepClips(ClipDataset(DatasetReader(desk), k=5, seed=0))
    seen = {clips[SampleKey(0, step, j)]["episode"] for step in range(6) for j in range(2)}
    assert len(seen) >= 6, seen  # 12 draws over 14 episodes, not the first 2 (batch positions) every step
    assert clips[SampleKey(0, 3, 1)]["t0"] == clips[SampleKey(0, 3, 1)]["t0"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("loss=l3", "loss='l3' is not allowed; choose from l1 | l2"),
        ("horizon=0", "horizon=0 is out of range; use an integer ≥ 1"),
        ("dynamics.sample=median", "sample='median' is not allowed; choose from mean | sample"),
        ("kl_weight=-1", "kl_weight=-1.0 is out of range; use a value ≥ 0"),
        ("dynamics.bogus=1", "unknown config key 'dynamics.bogus'"),
    ],
)
def test_bad_train_dynamics_config_is_a_one_line_error(
    override: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "dynamics", f"out={tmp_path}", "data=/nonexistent/folder", override]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_too_long_clips_are_refused(desk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "dynamics", f"data={desk}", f"out={tmp_path}", *TRAIN, "horizon=9"]) == EXIT_USAGE
    assert "too short for clips of context_frames + horizon = 11 frames" in capsys.readouterr().err


def test_train_help_names_every_family(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--help"]) == EXIT_OK
    text = capsys.readouterr().out
    assert (
        "[reward|dynamics|policy|dvd]" in text
        and "conf/train_policy.yaml" in text
        and "conf/train_dvd.yaml" in text
        and "conf/train_dynamics.yaml" in text
        and "reward.fusion" in text
    )
    assert main(["train", "dynamics", "--help"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "usage: robolearn train dynamics" in text and "kl_weight" in text and "dynamics: video" in text


def test_the_train_dynamics_config_composes(tmp_path: Path) -> None:
    from robolearn.training.train_dynamics import DynamicsTrainSettings

    s = DynamicsTrainSettings.from_config(compose_config("train_dynamics", [f"out={tmp_path}"]))
    assert s.dynamics == VideoConfig() and s.horizon == 10
    with pytest.raises(
        ConfigError, match="dynamics: VideoConfig.latent_channels=0 is out of range; use an integer ≥ 1"
    ):
        DynamicsTrainSettings.from_config(compose_config("train_dynamics", ["dynamics.latent_channels=0"]))


# ------------------------------------------------------------------------- data aggregation
@pytest.mark.slow
def test_planned_episodes_are_recorded_as_training_data(desk: Path, tmp_path: Path) -> None:
    """`robolearn plan record=DIR` keeps what the planner did, in the collect format, replayable exactly;
    `train dynamics init_from= extra_data=` fine-tunes a model on it mixed with the offline data."""
    from robolearn.data.reader import DatasetReader
    from robolearn.data.recorder import PLANNER_EXPLORATION, planned_index
    from sim.config import DeskEnvConfig
    from sim.envs.desk import DeskEnv

    base = tmp_path / "base"
    assert (
        main(["train", "dynamics", f"data={desk}", f"out={base}", "steps=2", *TRAIN, "dynamics.proprio_dim=14"])
        == EXIT_OK
    )
    rec = tmp_path / "planned"
    plan = [
        "plan",
        "instruction=open the drawer",
        "objective=goal_image",
        f"dynamics_model={base / 'last.pt'}",
        f"env.width={SIZE}",
        f"env.height={SIZE}",
        f"env.max_episode_steps={STEPS}",
        "agent.horizon=3",
        "optimizer=cem",
        "optimizer.population=8",
        "optimizer.elites=2",
        "optimizer.iterations=1",
        "video.path=null",
        f"record={rec}",
    ]
    assert main([*plan, "episodes=2", "seed=5"]) == EXIT_OK
    assert main([*plan, "instruction=close the drawer", "seed=5"]) == EXIT_OK  # another task, same folder
    reader = DatasetReader(rec)
    tasks = reader.meta["tasks"]
    want = [
        planned_index(tasks, "open_drawer", 5),
        planned_index(tasks, "open_drawer", 6),
        planned_index(tasks, "close_drawer", 5),
    ]
    assert sorted(reader.indices()) == sorted(want) and len(set(want)) == 3
    attrs = reader.attrs(want[1])
    assert attrs["exploration"] == PLANNER_EXPLORATION and attrs["task"] == "open_drawer" and attrs["seed"] == 6
    assert attrs["instructions"] and reader.length(want[1]) == STEPS
    # the recorded actions, replayed from the same reset, give the recorded frames and proprioception
    ep = reader.episode(want[1])
    cfg = DeskEnvConfig(
        task="open_drawer", obs_keys=("rgb", "proprio"), width=SIZE, height=SIZE, max_episode_steps=STEPS
    )
    env = DeskEnv(config=cfg)
    try:
        obs, _ = env.reset(seed=6)
        np.testing.assert_array_equal(obs["rgb"], ep.obs["rgb"][0])
        for t, action in enumerate(ep.actions):
            obs, *_ = env.step(action)
            np.testing.assert_array_equal(obs["rgb"], ep.obs["rgb"][t + 1])
            np.testing.assert_allclose(obs["proprio"], ep.obs["proprio"][t + 1], atol=1e-6)
    finally:
        env.close()

    # fine-tune on both: starts from the base model's weights and normalisation, reports the extra data
    tuned = tmp_path / "tuned"
    from robolearn.training.train_dynamics import DynamicsTrainSettings, fresh_model

    args = [
        f"data={desk}",
        f"out={tuned}",
        *TRAIN,
        "dynamics.proprio_dim=14",
        f"init_from={base / 'last.pt'}",
        f"extra_data=[{rec}]",
        "extra_fraction=0.5",
        "val_fraction=0.4",
    ]
    start = fresh_model(DynamicsTrainSettings.from_config(compose_config("train_dynamics", ["steps=2", *args])))
    for (name, a), b in zip(start.state_dict().items(), load_model(base / "last.pt").state_dict().values()):
        assert torch.equal(a, b), name
    assert main(["train", "dynamics", "steps=2", *args]) == EXIT_OK
    summary = json.loads((tuned / "summary.json").read_text())
    counts = summary["extra_data"][str(rec)]
    assert counts["train"] + counts["val"] == 3 and counts["train"] >= 1
    if counts["val"]:  # its held-out clips are validated too, and weigh into the loss that picks best.pt
        v = summary["val"]
        assert v["loss"] == pytest.approx(0.5 * v["main_loss"] + 0.5 * v["extra"]["loss"])
    tuned_model = load_model(tuned / "last.pt")
    assert torch.equal(tuned_model.proprio_mean, load_model(base / "last.pt").proprio_mean)


def test_extra_data_mixes_into_batches_by_the_fraction(desk: Path, tmp_path: Path) -> None:
    from robolearn.data.loader import ClipDataset, SampleKey
    from robolearn.data.reader import DatasetReader
    from robolearn.training.train_dynamics import StepClips

    reader = DatasetReader(desk)
    eps = reader.indices()
    main_clips, extra_clips = ClipDataset(reader, eps[:10], k=5), ClipDataset(reader, eps[10:], k=5)
    mixed = StepClips(main_clips, [extra_clips], extra_fraction=0.3)
    draws = [mixed[SampleKey(0, step, j)]["episode"] for step in range(100) for j in range(4)]
    share = np.mean([e in eps[10:] for e in draws])
    assert 0.24 < share < 0.36, share
    assert len(set(draws) & set(eps[10:])) == 4  # every extra episode is drawn
    assert draws == [mixed[SampleKey(0, step, j)]["episode"] for step in range(100) for j in range(4)]
    # without extra data the batches are the ones an unmixed run draws
    plain = StepClips(main_clips)
    assert [plain[SampleKey(0, s, 0)]["t0"] for s in range(20)] == [
        StepClips(main_clips, [], 0.5)[SampleKey(0, s, 0)]["t0"] for s in range(20)
    ]


def test_extra_data_and_init_from_errors(desk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from robolearn.data.collect import CollectSettings, run_collect

    wide = tmp_path / "wide"  # other frame size
    run_collect(
        CollectSettings.from_config(
            compose_config(
                "collect",
                [f"out={wide}", *COLLECT[:-6], "env.width=16", "env.height=16", "episodes=2", "progress_bar=false"],
            )
        ),
        echo=False,
    )
    base = [f"data={desk}", f"out={tmp_path / 'run'}", "steps=2", *TRAIN]
    cases = [
        ([f"extra_data=[{wide}]"], "extra_data", "16×16"),
        ([f"extra_data=[{desk}]"], "repeats data", None),
        (["extra_data=[x]", "extra_fraction=1"], "extra_fraction=1.0 is out of range; use a value in (0, 1)", None),
        ([f"init_from={tmp_path / 'none.pt'}"], "init_from=", None),
        ([f"extra_data=[{tmp_path / 'nothing'}]"], "extra_data: ", "no such dataset folder"),
    ]
    for extra, message, detail in cases:
        assert main(["train", "dynamics", *base, *extra]) == EXIT_USAGE, extra
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
        assert detail is None or detail in err, err
    # a run may not resume with another data mix
    assert main(["train", "dynamics", *base]) == EXIT_OK
    capsys.readouterr()
    assert (
        main(["train", "dynamics", *base[:2], "steps=4", *TRAIN, f"extra_data=[{wide}]", "dynamics.image_size=32"])
        == EXIT_USAGE
    )
    assert f"extra_data: [] != ['{wide}']" in capsys.readouterr().err
