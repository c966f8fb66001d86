"""The benchmark scripts that make docs/benchmarks.md's tables run end to end on small inputs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_instruction_resolution_beats_nearest_neighbour(tmp_path: Path) -> None:
    bench = _script("instruction_resolution")
    assert bench.main(["--sets", "dev", "--out", str(tmp_path)]) == 0
    (result,) = json.loads((tmp_path / "results.json").read_text())
    assert result["resolver"]["wrong_task"] == 0 and result["nearest_neighbour"]["wrong_task"] > 20
    assert result["resolver"]["correct"] > result["nearest_neighbour"]["correct"]
    assert sum(map(sum, result["confusion"]["counts"])) == result["instructions"]
    assert (tmp_path / "confusion_dev.png").stat().st_size > 0
    assert "| dev | 164 | slots + embedding |" in (tmp_path / "results.md").read_text()


def test_video_scaling_budgets_and_report(tmp_path: Path) -> None:
    """A budget is minutes × the size's measured steps per second; the report gathers what each point has."""
    scaling = _script("video_scaling")
    rates = {"xs": 4.0, "s": 3.0}
    (tmp_path / "rates.json").write_text(json.dumps(rates))
    assert scaling.budget_steps(rates, "s", 20) == 3600
    point = scaling.point_dir(tmp_path, "s", 20)
    point.mkdir()
    (point / "summary.json").write_text(json.dumps({"parameters": 159718, "step": 3600, "best_val_loss": 0.01}))
    (point / "eval_best.json").write_text(
        json.dumps(
            {
                "per_step": {"psnr": [25.0, 24.0], "psnr_changed": [14.0, 12.0]},
                "mean": {"psnr": 24.5, "psnr_changed": 13.0},
            }
        )
    )
    (point / "plan").mkdir()
    rows = [{"task": "open_drawer", "success": i < 3, "mean_plan_seconds": 0.5} for i in range(4)]
    (point / "plan" / "episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert scaling.main(["--stage", "report", "--out", str(tmp_path), "--minutes", "20", "60"]) == 0
    result = json.loads((tmp_path / "results.json").read_text())
    (row,) = result["points"]  # the 60-minute and xs points were never trained: not reported
    assert row["success"] == 0.75 and row["per_task"] == {"open_drawer": "3/4"} and row["budget_steps"] == 3600
    assert "| s | 159,718 | 20 | 3600 | 13.00 / 12.00 | 75.0% |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "scaling.png").stat().st_size > 0


@pytest.mark.usefixtures("one_torch_thread")
def test_latent_reward_head_learns_which_instruction_a_latent_change_completes() -> None:
    """The head reads the change z_0 → ẑ_t under an instruction: trained on synthetic latents where instruction 0 is
    done when channel 0 rose and instruction 1 when it fell, it tells them apart on held-out draws."""
    import torch
    import torch.nn.functional as F

    latent = _script("latent_reward")
    torch.manual_seed(0)
    head = latent.LatentRewardHead(latent_channels=4, proprio_dim=3, text_dim=8)
    text = torch.eye(8)[:2]  # two instructions

    def draw(n: int) -> tuple[torch.Tensor, ...]:
        z0 = torch.rand(n, 4, 8, 8) * 0.2
        change = torch.randn(n).sign()  # +1: channel 0 rose, −1: it fell
        zt = z0.clone()
        zt[:, 0] += 0.5 * change[:, None, None]
        p = torch.zeros(n, 3)
        target = torch.stack([(change > 0).float(), (change < 0).float()], 1)  # (n, K=2)
        return z0, zt, p, target

    opt = torch.optim.Adam(head.parameters(), lr=3e-3)
    for _ in range(100):
        z0, zt, p, target = draw(32)
        loss = F.binary_cross_entropy_with_logits(head.logits(head.state_features(z0, zt, p, p), text), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    head.eval()
    z0, zt, p, target = draw(256)
    with torch.no_grad():
        logits = head.logits(head.state_features(z0, zt, p, p), text)
        accuracy = ((logits > 0).float() == target).float().mean().item()
        # forward (one instruction shared by the batch) is column 0 of logits
        assert torch.allclose(head(z0, zt, p, p, text[0]), logits[:, 0], atol=1e-5)
    assert accuracy > 0.95


def test_data_regimes_report_gives_each_regime_its_lead_with_an_interval(tmp_path: Path) -> None:
    """The two-regime table counts final-step success per agent on the table's seeds only, and VMPC's lead over
    LCBC comes with a 95% interval that holds the difference and excludes 0 only when the counts are far apart."""
    regimes = _script("data_regimes")
    successes = {"lcbc_uniform": 2, "vmpc_lorel_uniform": 14, "lcbc": 10, "vmpc_lorel": 9}  # of 20 per agent
    rows = []
    for agent, k in successes.items():
        for i in range(20):
            task = ("open_drawer", "close_drawer")[i % 2]
            episode = {"agent": agent, "variant": "train", "task": task, "instruction": task, "seed": i // 2}
            rows.append(episode | {"success": i < k, "success_any": i < k})
    not_a_table_seed = {"agent": "lcbc", "variant": "train", "task": "open_drawer", "instruction": "open_drawer"}
    rows.append(not_a_table_seed | {"seed": 10, "success": True, "success_any": True})
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert regimes.main(["--stage", "report", "--out", str(tmp_path), "--trials", "10"]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    by_agent = {r["agent"]: r for r in results["rows"]}
    assert {a: r["k"] for a, r in by_agent.items()} == successes
    assert all(r["n"] == 20 for r in results["rows"])
    uniform, default = results["vmpc_lead"]
    assert uniform["lead"] == pytest.approx(60.0) and 0 < uniform["ci"][0] < 60 < uniform["ci"][1]
    assert default["lead"] == pytest.approx(-5.0) and default["ci"][0] < -5 < 0 < default["ci"][1]
    assert "**+60.0**" in (tmp_path / "results.md").read_text()
