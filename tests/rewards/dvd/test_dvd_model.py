"""DVDReward: exact symmetry, scoring for planners (demo cache, shared first frame, eval mode), config checks and
checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rewards.dvd import DVDConfig, DVDReward, DVDVocabulary, frame_indices, load_checkpoint, load_model, save_checkpoint
from rewards.dvd.checkpoint import CheckpointError
from rewards.dvd.model import shared_frames
from sim.plumbing.checkpoints import write_atomic

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SMALL = {
    "image_size": 32,
    "cnn_channels": (8, 16, 32),
    "norm_groups": 4,
    "frame_dim": 32,
    "embed_dim": 32,
    "concat_dims": (32,),
    "progress_dim": 8,
}


def clips(n: int, t: int = 6, seed: int = 0, size: int = 32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, t, size, size, 3), dtype=torch.uint8, generator=g)


def test_frame_indices_spread_over_the_clip() -> None:
    assert frame_indices(20, 4) == [0, 6, 13, 19]
    assert frame_indices(4, 4) == [0, 1, 2, 3]
    assert frame_indices(1, 3) == [0, 0, 0]


@pytest.mark.parametrize("temporal", ["conv", "mean"])
def test_symmetric_head_is_exactly_symmetric(temporal: str) -> None:
    model = DVDReward(DVDConfig(**SMALL, temporal=temporal), seed=0)
    a, b = clips(7, seed=1), clips(7, seed=2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):  # still exact after training steps (a learned scale and bias, moved weights)
        loss = model(a, b).sigmoid().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        ab, ba = model(a, b), model(b, a)
    assert torch.equal(ab, ba)
    assert not torch.equal(ab[:1].expand(7), ab)  # not a constant: the pairs differ


def test_concat_head_keeps_its_order_and_never_swaps_at_random() -> None:
    model = DVDReward(DVDConfig(**SMALL, head="concat", progress_weight=0.0), seed=0).eval()
    a, b = clips(5, seed=1), clips(5, seed=2)
    with torch.no_grad():
        ab, ba = model(a, b), model(b, a)
    assert not torch.allclose(ab, ba)  # the baseline is order-dependent...
    s1, s2 = model.score(a, b[:2]), model.score(a, b[:2])
    assert torch.equal(s1, s2)  # ...but scoring is deterministic: (candidate, demo), never swapped


def test_frame_features_equal_each_frame_encoded_on_its_own() -> None:
    """The encoder's shortcuts (the difference channel by linearity, frames reached frame-major in memory, the shared
    leading frames every clip shares encoded once) give what encoding each frame stacked with its difference from
    frame 0 gives."""
    model = DVDReward(DVDConfig(**SMALL), seed=0).eval()
    cand = clips(5, seed=7)
    cand[:, :2] = cand[0, :2]  # the candidates share their first two frames (a planner's real frames so far)
    x = model.preprocess(cand)
    diff = x - x[:, :1]
    with torch.no_grad():
        expected = torch.stack(
            [model.encoder.frames(torch.cat([x[:, k], diff[:, k]], dim=1)) for k in range(x.shape[1])], dim=1
        )
        torch.testing.assert_close(model.encoder.frame_features(x), expected, rtol=1e-4, atol=1e-5)
        for shared in (1, 2):
            torch.testing.assert_close(model.encoder.frame_features(x, shared=shared), expected, rtol=1e-4, atol=1e-5)
        assert shared_frames(cand, x.shape[1]) == 2 and shared_frames(cand[:1], x.shape[1]) == 0
        same = cand[:1].expand(3, *cand.shape[1:])  # every frame shared: encoded once
        torch.testing.assert_close(
            model.encoder.frame_features(model.preprocess(same), shared=x.shape[1]),
            model.encoder.frame_features(model.preprocess(same)),
            rtol=1e-4,
            atol=1e-5,
        )
        # a clip batch laid out clip-major in memory (not as preprocess makes it) gives the same
        torch.testing.assert_close(model.encoder.frame_features(x.contiguous()), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("frame_input", ["rgb", "rgb_diff"])
def test_score_shapes_cache_and_shared_first_frame(frame_input: str) -> None:
    model = DVDReward(DVDConfig(**SMALL, frame_input=frame_input), seed=0)
    cand = clips(9, t=10, seed=3)
    cand[:, 0] = cand[0, 0]  # a planner's candidates share the observed frame
    demos = clips(2, t=7, seed=4)
    s = model.score(cand, demos)
    assert s.shape == (9,) and s.dtype == torch.float32 and bool(((s >= 0) & (s <= 1)).all())
    assert len(model._demo_cache) == 1
    torch.testing.assert_close(model.score(cand.numpy(), demos.numpy()), s)  # numpy in, cache hit
    assert len(model._demo_cache) == 1
    unshared = torch.cat([model.score(cand[i : i + 1], demos) for i in range(9)])
    torch.testing.assert_close(unshared, s, rtol=1e-5, atol=1e-6)
    floats = model.score(cand.float() / 255, demos.float() / 255)
    torch.testing.assert_close(floats, s, rtol=1e-5, atol=1e-6)
    with torch.no_grad():  # changed weights: the cached demo embeddings are recomputed
        model.log_scale.add_(1.0)
    assert not torch.allclose(model.score(cand, demos), s)
    p_same = model.score(cand, demos, progress_weight=0.0)
    assert bool((p_same >= s).all())  # the progress factor only lowers P(same task)


def test_frozen_model_stays_in_eval_mode_and_score_restores_the_mode() -> None:
    model = DVDReward(DVDConfig(**SMALL, dropout=0.5), seed=0)
    model.train()
    a, d = clips(4, seed=5), clips(1, seed=6)
    first = model.score(a, d)
    assert model.training  # restored
    torch.testing.assert_close(model.score(a, d), first)  # no dropout while scoring
    model.freeze()
    model.train()
    assert not any(m.training for m in model.modules())
    assert not any(p.requires_grad for p in model.parameters())


def test_bad_inputs_and_configs_are_one_line_errors() -> None:
    model = DVDReward(DVDConfig(**SMALL), seed=0)
    with pytest.raises(ValueError, match=r"candidates must be \(N, T, 32, 32, 3\).*image_size") as e:
        model.score(torch.zeros(2, 4, 64, 64, 3, dtype=torch.uint8), clips(1))
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="norm_groups=5 must divide"):
        DVDConfig(norm_groups=5)
    with pytest.raises(ValueError, match="progress_weight=0.5 needs progress_head=true"):
        DVDConfig(progress_head=False)
    with pytest.raises(ValueError, match="head"):
        DVDConfig(head="cosine")


def test_checkpoint_round_trip_and_mismatches(tmp_path: Path) -> None:
    model = DVDReward(DVDConfig(**SMALL), seed=3)
    model.vocabulary = DVDVocabulary(("a", "b", "c"), ("a", "b"), ("hand",), ("train",))
    path = save_checkpoint(tmp_path / "dvd.pt", model, step=7, extra={"val_auc": 0.9})
    loaded, info = load_checkpoint(path)
    assert info["step"] == 7 and info["extra"]["val_auc"] == 0.9
    assert loaded.vocabulary == model.vocabulary and loaded.vocabulary.human_only_labels == ("c",)
    assert not loaded.training and loaded.config == model.config
    a, d = clips(3, seed=8), clips(2, seed=9)
    torch.testing.assert_close(load_model(path).score(a, d), model.eval().score(a, d), rtol=0, atol=0)
    with pytest.raises(CheckpointError, match="different DVDConfig.*embed_dim") as e:
        load_checkpoint(path, model=DVDReward(DVDConfig(**{**SMALL, "embed_dim": 16})))
    assert "\n" not in str(e.value)
    other = tmp_path / "lorel.pt"
    write_atomic(
        other, {"format": "robolearn.reward", "version": 1, "model": "LorelReward", "config": {}, "state_dict": {}}
    )
    with pytest.raises(CheckpointError, match="not a robolearn DVD reward checkpoint.*robolearn train dvd") as e:
        load_model(other)
    assert "\n" not in str(e.value)
    np.testing.assert_array_equal(DVDVocabulary.from_dict(model.vocabulary.to_dict()).labels, ("a", "b", "c"))
