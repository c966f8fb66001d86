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
    """A budget is minutes × the size's measured steps per second; the report gathers what each finished point has,
    keeps the published rows of points measured on an earlier machine, and leaves out a run still under way."""
    scaling = _script("video_scaling")
    rates = {"xs": 4.0, "s": 3.0}
    runs, publish = tmp_path / "runs", tmp_path / "published"
    runs.mkdir()
    publish.mkdir()
    (publish / "rates.json").write_text(json.dumps(rates))  # the budgets come from the published rates
    assert scaling.budget_steps(rates, "s", 20) == 3600
    point = scaling.point_dir(runs, "s", 20)
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
    unfinished = scaling.point_dir(runs, "s", 60)  # stopped at a session's time limit, 1 of 10,800 steps done
    unfinished.mkdir()
    (unfinished / "summary.json").write_text(json.dumps({"parameters": 159718, "step": 1, "best_val_loss": 0.1}))
    earlier = {"size": "xs", "minutes": 20.0, "parameters": 42174, "steps": 4800, "budget_steps": 4800}
    (publish / "results.json").write_text(json.dumps({"rates_steps_per_second": rates, "points": [earlier]}))
    argv = ["--stage", "report", "--out", str(runs), "--publish", str(publish), "--minutes", "20", "60"]
    assert scaling.main(argv) == 0
    result = json.loads((publish / "results.json").read_text())
    earlier_row, row = result["points"]  # sizes in order; the unfinished run and the untrained ones not reported
    assert earlier_row == earlier
    assert row["success"] == 0.75 and row["per_task"] == {"open_drawer": "3/4"} and row["budget_steps"] == 3600
    assert "| s | 159,718 | 20 | 3600 | 13.00 / 12.00 | 75.0% |" in (publish / "results.md").read_text()
    assert (publish / "scaling.png").stat().st_size > 0
    assert (publish / "episodes" / "s_20min_plan.jsonl").read_text().count("open_drawer") == 4


def test_video_scaling_run_outlives_its_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run stopped at --hours leaves its last.pt in the published folder; a new machine (empty runs folder)
    resumes from that copy, and the copy is removed once the run reaches its budget."""
    import argparse

    scaling = _script("video_scaling")
    calls: list[list[str]] = []

    def fake_train(cmd: list[str], log: Path) -> None:  # `robolearn train dynamics`: 1 step per call
        calls.append(list(cmd))
        out = Path(next(a for a in cmd if a.startswith("out="))[4:])
        steps = int(next(a for a in cmd if a.startswith("steps="))[6:])
        last = out / "last.pt"
        step = int(last.read_text()) + 1 if last.exists() else 1
        out.mkdir(parents=True, exist_ok=True)
        last.write_text(str(step))
        (out / "summary.json").write_text(json.dumps({"step": step, "steps": steps}))

    monkeypatch.setattr(scaling, "run", fake_train)
    rates = {"s": 2 / 60}  # a 1-minute budget is 2 steps
    publish = tmp_path / "published"
    first = argparse.Namespace(out=tmp_path / "machine1", publish=publish, data="data/desk")
    assert not scaling.train(first, rates, "s", 1.0, 30.0)  # stopped after step 1
    assert "max_minutes=30.0" in calls[0]
    saved = scaling.in_progress(first, "s", 1.0)
    assert saved.read_text() == "1"
    second = argparse.Namespace(out=tmp_path / "machine2", publish=publish, data="data/desk")
    assert scaling.train(second, rates, "s", 1.0, None)  # went on from step 1 to the budget
    assert (scaling.point_dir(second.out, "s", 1.0) / "last.pt").read_text() == "2"
    assert not saved.exists() and not any(a.startswith("max_minutes") for a in calls[1])
    assert scaling.train(second, rates, "s", 1.0, None) and len(calls) == 2  # done: nothing more to run


def test_video_candidates_train_measure_and_compare_with_the_curve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A candidate trains the shipped recipe plus its overrides for its own budget, is measured as a curve point
    (eval, paired reward, planning), and is reported beside the curve's "s" point of that budget."""
    cand = _script("video_candidates")
    import benchmarks.video_scaling as scaling

    calls: list[list[str]] = []

    def fake(cmd: list[str], log: Path) -> None:
        calls.append(list(cmd))
        if "dynamics" in cmd:  # `robolearn train dynamics`: the whole budget at once
            out = Path(next(a for a in cmd if a.startswith("out="))[4:])
            out.mkdir(parents=True, exist_ok=True)
            steps = int(next(a for a in cmd if a.startswith("steps="))[6:])
            (out / "summary.json").write_text(json.dumps({"step": steps, "parameters": 170000}))
        elif "eval" in cmd:
            out = Path(next(a for a in cmd if a.startswith("out="))[4:])
            e = {"per_step": {"psnr_changed": [15.0, 14.0]}, "mean": {"psnr": 24.0, "psnr_changed": 14.5}}
            (out / "eval_best.json").write_text(json.dumps(e))
        elif "benchmarks/vmpc.py" in cmd:  # the candidate solves 3 of 4 drawers
            out = Path(cmd[cmd.index("--out") + 1])
            out.mkdir(parents=True, exist_ok=True)
            rows = [
                {"task": "open_drawer", "success": i < 3, "last_plan_value": 0.8, "final_reward": 0.6} for i in range(4)
            ]
            (out / "episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    monkeypatch.setattr(scaling, "run", fake)
    curve = tmp_path / "curve.json"  # the curve's s point at 1 minute: 1 of 4 drawers
    base = {"size": "s", "minutes": 1.0, "steps": 180, "psnr_changed": 14.0, "paired_success": 0.25}
    base |= {"paired_episodes": 4, "paired_per_task": {"open_drawer": "1/4"}}
    curve.write_text(json.dumps({"points": [base]}))
    monkeypatch.setattr(cand, "SCALING", curve)
    publish = tmp_path / "published"
    publish.mkdir()
    (publish / "rates.json").write_text(json.dumps({"objects": 2.5}))  # measured once, on an idle machine
    argv = ["--candidates", "objects", "--minutes", "1", "--out", str(tmp_path / "runs"), "--publish", str(publish)]
    assert cand.main(argv) == 0
    train, _, reward, plan = calls
    assert "dynamics.object_state_dim=10" in train and "steps=150" in train and "dynamics.proprio_dim=14" in train
    assert any(a.startswith("predicted_frames.video_checkpoint=") for a in reward)
    assert f"dynamics_model={tmp_path / 'runs' / 'objects_1min' / 'best.pt'}" in plan
    (row,) = json.loads((publish / "results.json").read_text())["rows"]
    assert row["paired_success"] == 0.75 and row["difference_points"][0] == pytest.approx(50.0)
    assert row["difference_points"][1] < 50.0 < row["difference_points"][2]
    table = (publish / "results.md").read_text()
    assert "| s (scaling curve) | 1 | 180 | 14.00 | 1/4 |" in table
    assert "| s + objects | 1 | 150 | 14.50 | 3/4 |" in table and "**75.0%**" in table
    assert cand.main(argv) == 0 and len(calls) == 6  # done: only the reward (a no-op when finished) and planning


def test_plan_aggregation_rounds_chain_models_and_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Round k records with round k-1's pair on its own seeds, fine-tunes the model from round k-1's on every
    recording so far, then the reward from round k-1's on the new model's predictions, and validates the new
    pair on the validation seeds; the report tabulates each round's validation and recording."""
    agg = _script("plan_aggregation")
    calls: list[list[str]] = []

    def fake(cmd: list[str], log: Path, timings: Path, name: str) -> None:
        calls.append(list(cmd))
        if "benchmarks/vmpc.py" in cmd:  # one episode per task: round 0 fails the drawer, later rounds solve it
            out = Path(cmd[cmd.index("--out") + 1])
            solved = "round0" not in str(out)
            out.mkdir(parents=True, exist_ok=True)
            rows = [
                {"task": t, "success": solved or t != "open_drawer", "last_plan_value": 0.9, "final_reward": 0.5}
                for t in ("open_drawer", "close_drawer")
            ]
            (out / "episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    monkeypatch.setattr(agg, "run_timed", fake)
    out, publish = tmp_path / "runs", tmp_path / "published"
    argv = ["--out", str(out), "--publish", str(publish), "--rounds", "2", "--trials", "5", "--first-seed", "3000"]
    assert agg.main(argv) == 0
    assert len(calls) == 1 + 2 * 4  # the shipped pair's validation, then 4 steps per round
    record2, video2, reward2, val2 = calls[5:]
    assert "3100" in record2 and f"record_plans={out / 'round2' / 'plans'}" in record2
    assert f"reward_checkpoint={out / 'round1' / 'reward' / 'best.pt'}" in record2
    assert f"init_from={out / 'round1' / 'video' / 'best.pt'}" in video2
    assert f"extra_data=[{out / 'round1' / 'plans'},{out / 'round2' / 'plans'}]" in video2
    assert f"init_from={out / 'round1' / 'reward' / 'best.pt'}" in reward2
    assert f"predicted_frames.video_checkpoint={out / 'round2' / 'video' / 'best.pt'}" in reward2
    assert "2000" in val2 and f"dynamics_model={out / 'round2' / 'video' / 'best.pt'}" in val2
    assert f"dynamics_model={agg.SHIPPED / 'video_model.pt'}" in calls[0]
    rounds = json.loads((publish / "results.json").read_text())["rounds"]
    assert [r["validation"]["success"] for r in rounds] == [0.5, 1.0, 1.0]
    assert rounds[2]["recording"]["per_task"] == {"open_drawer": "1/1", "close_drawer": "1/1"}
    table = (publish / "results.md").read_text()
    assert "| 0 (shipped) | | 1/1 | 0/1 | **50.0%**" in table and (publish / "val_round2.jsonl").exists()


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
