"""LCBC (`robolearn train policy`): config, learning to imitate, conditioning on the instruction, checkpoints,
and acting in the bench."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from planners.policy import LanguagePolicyNet, PolicyConfig, load_checkpoint, load_policy
from robolearn.cli import main
from robolearn.paths import conf_dir
from tests.conftest import CollectDataset

SIZE, STEPS = 32, 20
COLLECT = [
    "episodes=60",
    "env.obs_keys=[rgb,proprio]",
    f"env.width={SIZE}",
    f"env.height={SIZE}",
    f"env.max_episode_steps={STEPS}",
    "workers=1",
    "chunk_episodes=20",
    "progress_bar=false",
    "exploration.uniform=0.2",
    "exploration.correlated=0.0",
    "exploration.reach=0.3",
    "exploration.expert_mix=0.5",
]
SMALL = [
    f"policy.image_size={SIZE}",
    "policy.conv_channels=[16,32,32]",
    "policy.hidden=64",
    "policy.proprio_dim=14",
    "batch_size=32",
    "eval_every=100",
    "checkpoint_every=100",
    "val_items=256",
    "num_workers=0",
    "progress_bar=false",
    "warmup_steps=20",
    "val_fraction=0.3",
]


def test_config_yaml_instantiates_the_dataclass():
    """conf/policy_model/lcbc.yaml is generated from PolicyConfig (tests/robolearn/test_conf.py checks it is
    current); Hydra builds the defaults from it."""
    from hydra.utils import instantiate

    assert instantiate(OmegaConf.load(Path(conf_dir()) / "policy_model" / "lcbc.yaml")) == PolicyConfig()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"hidden": 0}, "PolicyConfig.hidden"),
        ({"image_size": 30}, "divisible"),
        ({"text_model": ""}, "text_model"),
    ],
)
def test_config_validation(overrides, message):
    with pytest.raises(ValueError, match=message):
        PolicyConfig(**overrides)


@pytest.fixture(scope="module")
def desk(collect_dataset: CollectDataset) -> Path:
    return collect_dataset(COLLECT)


@pytest.fixture(scope="module")
def trained(desk: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lcbc_run")
    assert main(["train", "policy", f"data={desk}", f"out={out}", "steps=300", *SMALL]) == 0
    return out


def _square_batch(gen: torch.Generator, n: int, size: int = SIZE) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Frames with a white square at a random x; instruction 0 or 1; target action[0] = ±x (sign by instruction)."""
    x = torch.rand(n, generator=gen) * 2 - 1
    which = torch.randint(0, 2, (n,), generator=gen)
    frames = torch.zeros(n, 3, size, size, dtype=torch.uint8)
    cols = ((x + 1) / 2 * (size - 6)).long()
    for i, c in enumerate(cols.tolist()):
        frames[i, :, size // 2 - 3 : size // 2 + 3, c : c + 6] = 255
    target = torch.zeros(n, 4)
    target[:, 0] = torch.where(which == 0, x, -x)
    return frames, which, target


@pytest.mark.slow
def test_the_policy_learns_a_mapping_that_needs_both_the_frame_and_the_instruction():
    from rewards.text import TextEncoder

    emb = TextEncoder().encode(["move toward the square", "move away from the square"]).float()
    net = LanguagePolicyNet(PolicyConfig(image_size=SIZE, conv_channels=(16, 32, 32), hidden=64), seed=0)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):
        frames, which, target = _square_batch(gen, 48)
        loss = (net(frames, emb[which]) - target).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    frames, which, target = _square_batch(torch.Generator().manual_seed(99), 512)  # held out
    with torch.no_grad():
        err = (net(frames, emb[which]) - target)[:, 0].pow(2).mean()
        swapped = (net(frames, emb[1 - which]) - target)[:, 0].pow(2).mean()
    constant = target[:, 0].var()  # the best action that ignores both inputs (~1/3)
    assert err < 0.15 * constant, (float(err), float(constant))
    assert swapped > 3 * constant  # the other instruction gives the opposite action (ideal: 4x)


@pytest.mark.slow
def test_lcbc_trains_from_a_dataset(trained):
    summary = json.loads((trained / "summary.json").read_text())
    assert summary["step"] == 300 and summary["episodes"]["train"] > 0 and summary["episodes"]["val"] > 0
    assert 0 < summary["best_val_loss"] < 1.0 and (trained / "best.pt").is_file()


def test_the_instruction_changes_the_action(trained):
    from sim.envs.desk import DeskEnv

    policy = load_policy(trained / "best.pt")
    env = DeskEnv(task="open_drawer", width=SIZE, height=SIZE, obs_keys=("rgb", "proprio"))
    try:
        obs, _ = env.reset(seed=0)
        actions = {}
        for text in ("open the drawer", "turn the faucet right", "move the black mug right"):
            policy.reset(text)
            actions[text] = policy.act(obs)
            assert actions[text].dtype == np.float32 and actions[text].shape == (4,)
            assert np.all(np.abs(actions[text]) <= 1)
        a = list(actions.values())
        assert max(np.abs(a[0] - a[1]).max(), np.abs(a[0] - a[2]).max()) > 0.1
        with pytest.raises(ValueError, match="env.width=env.height=32"):
            policy.act({"rgb": np.zeros((64, 64, 3), np.uint8), "proprio": obs["proprio"]})
    finally:
        env.close()


def test_checkpoint_round_trip_and_resume_refusal(trained, desk, capsys):
    net, info = load_checkpoint(trained / "last.pt")
    assert isinstance(net, LanguagePolicyNet) and info["step"] == 300
    other = LanguagePolicyNet(PolicyConfig(image_size=SIZE, conv_channels=(16, 32, 32), hidden=32, proprio_dim=14))
    with pytest.raises(Exception, match="hidden"):
        load_checkpoint(trained / "last.pt", model=other)
    # resuming with another architecture is refused in one line
    assert main(["train", "policy", f"data={desk}", f"out={trained}", "steps=400", *SMALL, "policy.hidden=32"]) == 2
    assert "policy.hidden" in capsys.readouterr().err


def test_lcbc_in_the_bench(trained, tmp_path, capsys):
    out = tmp_path / "bench"
    assert (
        main(
            [
                "bench",
                "agents=[lcbc]",
                f"agent_specs.lcbc.checkpoint={trained / 'best.pt'}",
                "tasks=[open_drawer]",
                "variants=[train]",
                "trials=2",
                "workers=1",
                f"env.width={SIZE}",
                f"env.height={SIZE}",
                "progress_bar=false",
                "figure=false",
                f"out={out}",
            ]
        )
        == 0
    )
    rows = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["agent"] == "lcbc" and r["steps"] == 20 for r in rows)
    # the same episodes again give the same results (the policy is deterministic)
    out2 = tmp_path / "bench2"
    assert (
        main(
            [
                "bench",
                "agents=[lcbc]",
                f"agent_specs.lcbc.checkpoint={trained / 'best.pt'}",
                "tasks=[open_drawer]",
                "variants=[train]",
                "trials=2",
                "workers=1",
                f"env.width={SIZE}",
                f"env.height={SIZE}",
                "progress_bar=false",
                "figure=false",
                f"out={out2}",
            ]
        )
        == 0
    )
    rows2 = [json.loads(line) for line in (out2 / "episodes.jsonl").read_text().splitlines()]
    assert [r["progress"] for r in rows] == [r["progress"] for r in rows2]


def test_fresh_nets_are_seeded():
    a = LanguagePolicyNet(PolicyConfig(), seed=3)
    b = LanguagePolicyNet(PolicyConfig(), seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
