"""`robolearn bench`: intervals, the executor (retries, processes, Ray), identical results whatever runs
the episodes, resume, the instruction-file mode, outputs and errors."""

from __future__ import annotations

import csv
import json

import pytest

from robolearn.bench.executor import ExecutorSettings, JobsFailed, run_jobs
from robolearn.bench.stats import success_table, wilson
from robolearn.cli import main
from robolearn.config import ConfigError, compose_config, sweep_overrides
from tests.robolearn.bench import bench_helpers

# A cheap VMPC agent on the shipped checkpoints (fewer candidates than the benchmark's): what matters
# here is that its episodes are the same whatever runs them, not how well it plans.
CHEAP = [
    "+agent_specs.vmpc_lorel.plan.optimizer.population=40",
    "+agent_specs.vmpc_lorel.plan.optimizer.elites=8",
    "+agent_specs.vmpc_lorel.plan.optimizer.iterations=2",
    "+agent_specs.vmpc_lorel.plan.agent.horizon=8",
    "+agent_specs.vmpc_lorel.plan.agent.replan_every=4",
]
SMALL = [
    "tasks=[open_drawer,turn_faucet_right]",
    "variants=[train]",
    "trials=2",
    "progress_bar=false",
    *CHEAP,
    "agents=[random,vmpc_lorel]",
]


def test_wilson_interval():
    lo, hi = wilson(0, 10)
    assert lo == 0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson(10, 10)
    assert lo == pytest.approx(0.7225, abs=1e-4) and hi == 1
    lo, hi = wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-4) and hi == pytest.approx(0.5962, abs=1e-4)
    assert wilson(5, 10)[1] - wilson(5, 10)[0] > wilson(50, 100)[1] - wilson(50, 100)[0]  # more data, narrower
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_success_table_pools_tasks_with_equal_weight():
    eps = [{"agent": "a", "task": "t1", "success": True, "success_any": True}] * 3 + [
        {"agent": "a", "task": "t2", "success": False, "success_any": True}
    ] * 1
    rows = success_table(eps, ("agent", "task"), pool_over="task")
    by = {r["task"]: r for r in rows}
    assert by["t1"]["final"] == 1.0 and by["t2"]["final"] == 0.0 and by["t2"]["any"] == 1.0
    assert by["mean"]["final"] == 0.5 and by["mean"]["episodes"] == 4  # mean of the task rates, not 3/4
    assert list(by["mean"])[:2] == ["agent", "task"]


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_executor_retries_a_job_whose_worker_dies(tmp_path, workers):
    jobs = [(str(tmp_path), x) for x in range(4)]
    if workers == 1:  # in-process, a crash would kill the test: use an exception instead
        out = dict(run_jobs(bench_helpers.double, list(range(4)), ExecutorSettings(workers=1)))
        assert out == {x: 2 * x for x in range(4)}
        return
    out = dict(run_jobs(bench_helpers.crash_once, jobs, ExecutorSettings(workers=workers, max_retries=2)))
    assert {job[1]: r for job, r in out.items()} == {x: 2 * x for x in range(4)}  # every job, none dropped
    assert len(list(tmp_path.iterdir())) == 4  # each ran (and died) once before succeeding


@pytest.mark.parametrize("workers", [1, 2])
def test_executor_reports_a_job_that_always_fails(workers):
    got = {}
    with pytest.raises(JobsFailed) as err:
        for job, result in run_jobs(
            bench_helpers.fail_on_three, list(range(6)), ExecutorSettings(workers=workers, max_retries=1)
        ):
            got[job] = result
    assert got == {x: 2 * x for x in range(6) if x != 3}  # the others finished
    assert list(err.value.failures) == [3] and "three is not allowed" in err.value.failures[3]


def test_executor_settings_are_validated():
    for bad in ({"workers": 0}, {"max_retries": -1}, {"ray_address": ""}):
        with pytest.raises(ValueError):
            ExecutorSettings(**bad)


def _episodes(out):
    rows = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    keep = (
        "agent",
        "variant",
        "task",
        "instruction",
        "seed",
        "success",
        "success_any",
        "progress",
        "final_reward",
        "last_plan_value",
    )
    return sorted((tuple(r.get(k) for k in keep) for r in rows), key=repr)


@pytest.mark.slow
def test_results_are_identical_serially_over_processes_and_on_ray(tmp_path, capsys):
    pytest.importorskip("ray")
    outs = {}
    for name, extra in (
        ("serial", ["workers=1"]),
        ("processes", ["workers=2"]),
        ("ray", ["workers=2", "ray_address=local"]),
    ):
        outs[name] = tmp_path / name
        assert main(["bench", *SMALL, *extra, f"out={outs[name]}", "figure=false"]) == 0, capsys.readouterr().err
    serial = _episodes(outs["serial"])
    assert len(serial) == 2 * 2 * 2  # agents × tasks × seeds
    assert _episodes(outs["processes"]) == serial
    assert _episodes(outs["ray"]) == serial
    assert any(r[-1] is not None for r in serial)  # the VMPC agent's episodes really planned


@pytest.mark.slow
def test_bench_outputs_resume_and_refuse_other_settings(tmp_path, capsys):
    out = tmp_path / "b"
    args = [
        "bench",
        "agents=[random]",
        "tasks=[open_drawer,close_drawer]",
        "variants=[train,new_viewpoint]",
        "trials=3",
        "workers=1",
        "progress_bar=false",
        f"out={out}",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "random" in printed and "new_viewpoint" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["episodes"] == results["expected_episodes"] == 12
    rows = {(r["variant"], r["task"]): r for r in results["rows"]}
    assert set(rows) == {(v, t) for v in ("train", "new_viewpoint") for t in ("open_drawer", "close_drawer", "mean")}
    lo, hi = rows[("train", "mean")]["final_ci"]
    assert 0 <= lo <= rows[("train", "mean")]["final"] <= hi <= 1
    with open(out / "results.csv") as f:
        assert len(list(csv.DictReader(f))) == 6
    assert (out / "results.png").stat().st_size > 1000
    # a rerun resumes: nothing left to run, same results
    assert main(args) == 0
    assert "0 to run" in capsys.readouterr().out
    assert len((out / "episodes.jsonl").read_text().splitlines()) == 12
    # more trials: only the new seeds run
    assert main([*args, "trials=4"]) == 0
    assert "4 to run" in capsys.readouterr().out
    # the same folder with another env is refused, in one line
    assert main([*args, "env.width=32"]) == 2
    assert "other env settings" in capsys.readouterr().err
    # a folder recorded before an env knob existed resumes: the knob at its default is the same env
    meta = json.loads((out / "bench.json").read_text())
    del meta["env"]["randomization"]["palette"]
    (out / "bench.json").write_text(json.dumps(meta))
    assert main([*args, "trials=4"]) == 0
    assert "0 to run" in capsys.readouterr().out
    # ... but not when the knob is set to another value
    assert main([*args, "trials=4", "env.randomization.colors=true", "env.randomization.palette=wide"]) == 2
    assert "other env settings" in capsys.readouterr().err


@pytest.mark.slow
def test_instruction_file_mode(tmp_path, capsys):
    phrasings = tmp_path / "mine.yaml"
    phrasings.write_text(
        "pull the drawer out: open_drawer\nshove the drawer closed: close_drawer\npress the button: push_button\n"
    )
    out = tmp_path / "inst"
    assert (
        main(
            [
                "bench",
                "agents=[random]",
                "tasks=[open_drawer,close_drawer]",
                "variants=[train]",
                "trials=2",
                "workers=1",
                "progress_bar=false",
                "figure=false",
                f"instruction_file={phrasings}",
                f"out={out}",
            ]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    rows = {r["instruction"]: r for r in results["rows"]}
    assert set(rows) == {"pull the drawer out", "shove the drawer closed", "mean"}  # push_button is not benchmarked
    assert rows["pull the drawer out"]["task"] == "open_drawer" and rows["pull the drawer out"]["episodes"] == 2
    res = results["resolution"]["pull the drawer out"]
    assert res["resolves_to"] == "open_drawer" and res["correct"]
    assert "pull the drawer out" in capsys.readouterr().out


def test_multirun_sweeps(tmp_path, capsys):
    assert sweep_overrides(["a=1,2", "b=x", "c=p,q"]) == [
        ["a=1", "b=x", "c=p"],
        ["a=1", "b=x", "c=q"],
        ["a=2", "b=x", "c=p"],
        ["a=2", "b=x", "c=q"],
    ]
    with pytest.raises(ConfigError):
        sweep_overrides(["a=[1,"])
    out = tmp_path / "sweep"
    assert (
        main(
            [
                "bench",
                "--multirun",
                "agents=[random]",
                "tasks=[open_drawer]",
                "variants=[train]",
                "trials=1,2",
                "workers=1",
                "progress_bar=false",
                "figure=false",
                f"out={out}",
            ]
        )
        == 0
    )
    assert json.loads((out / "0" / "results.json").read_text())["episodes"] == 1
    assert json.loads((out / "1" / "results.json").read_text())["episodes"] == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["agents=[nope]"], "unknown agents ['nope']"),
        (["variants=[mars]"], "unknown variants ['mars']"),
        (["tasks=[fly]"], "unknown desk tasks ['fly']"),
        (["trials=0"], "trials=0 is out of range; use an integer ≥ 1"),
        (["workers=0"], "workers=0 is out of range; use an integer ≥ 1"),
        (["agents=[random,random]"], "agents=['random', 'random'] lists an entry twice"),
        (["agents=[]"], "agents=[] must be a non-empty list of agents, e.g. agents=[random]"),
        (["+foo=1"], "unknown bench option(s) ['foo']"),
        (["agent_specs.random=5"], "agent_specs.random must be a mapping with a _target_"),
        (["instruction_file=/no/such.yaml"], "no such file"),
        (["agents=[lcbc]", "agent_specs.lcbc.checkpoint=/no/policy.pt"], "no such file"),
        (["agents=[vmpc_lorel]", "agent_specs.vmpc_lorel.plan.reward_checkpoint=/no/r.pt"], "no such file"),
        (["agents=[vmpc_lorel]", "+agent_specs.vmpc_lorel.plan.seed=3"], "set what the bench decides"),
        (["agents=[vmpc_lorel]", "+agent_specs.vmpc_lorel.plan.agent.horizon=0"], "horizon must be an integer"),
        (["agents=[x]", "+agent_specs.x._target_=no.such.Agent"], "cannot be built"),
        (["agents=[lcbc]", "agent_specs.lcbc.checkpoint=${shipped:video_model.pt}"], "not a"),
        (["agents=[vmpc_lorel]", "agent_specs.vmpc_lorel.plan.reward_checkpoint=${shipped:video_model.pt}"], "not a"),
    ],
)
def test_bench_errors_are_one_line(tmp_path, args, message, capsys):
    assert main(["bench", f"out={tmp_path / 'o'}", "progress_bar=false", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "agent, missing",
    [("lcbc_rand", "runs/lcbc_rand/best.pt"), ("vmpc_lorel_rand", "runs/lorel_rand/best.pt")],
)
def test_randomized_agents_name_the_run_they_need(tmp_path, monkeypatch, capsys, agent, missing):
    """The "_rand" agents read runs/ models trained on randomized data; without them the error names the file."""
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "out=o", "progress_bar=false", f"agents=[{agent}]"]) == 2
    err = capsys.readouterr().err
    assert missing in err and "no such file" in err and len(err.strip().splitlines()) == 1


def test_an_interrupted_bench_keeps_its_tables(tmp_path, monkeypatch):
    """Ctrl-C (or `kill`) mid-run: the finished episodes are saved and the tables of them written."""
    from robolearn.bench import run as bench_run
    from robolearn.bench.run import BenchSettings, run_bench

    real = bench_run.run_jobs

    def interrupted_after_three(fn, jobs, settings):
        for n, item in enumerate(real(fn, jobs, settings)):
            if n == 3:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(bench_run, "run_jobs", interrupted_after_three)
    cfg = compose_config(
        "bench",
        [
            "agents=[random]",
            "tasks=[open_drawer]",
            "variants=[train]",
            "trials=10",
            "workers=1",
            "progress_bar=false",
            "figure=false",
            f"out={tmp_path}",
        ],
    )
    with pytest.raises(KeyboardInterrupt):
        run_bench(BenchSettings.from_config(cfg), echo=False)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["interrupted"] and results["episodes"] == 3
    assert len((tmp_path / "episodes.jsonl").read_text().splitlines()) == 3


def test_resume_survives_another_install_of_the_shipped_checkpoints(tmp_path, monkeypatch):
    """The same shipped agent resolved from another checkout compares equal; another checkpoint does not."""
    import robolearn.paths
    from robolearn.bench.run import BenchSettings, _check_resume

    def settings(*extra):
        return BenchSettings.from_config(compose_config("bench", ["agents=[lcbc]", f"out={tmp_path}", *extra]))

    _check_resume(tmp_path, settings())
    monkeypatch.setattr(robolearn.paths, "SHIPPED_DIR", tmp_path / "elsewhere" / "checkpoints")
    moved = settings()
    assert str(tmp_path / "elsewhere") in moved.agent_specs["lcbc"]["checkpoint"]
    _check_resume(tmp_path, moved)  # no refusal
    with pytest.raises(ConfigError, match="another spec"):
        _check_resume(tmp_path, settings("agent_specs.lcbc.checkpoint=runs/mine.pt"))


@pytest.mark.slow
def test_home_bench_runs_the_nav_agent_resumes_and_reports_navigation_metrics(tmp_path, capsys):
    out = tmp_path / "h"
    args = [
        "bench",
        "env=home",
        "agents=[nav,random]",
        "tasks=[pointnav,interactive_nav]",
        "trials=2",
        "workers=1",
        "progress_bar=false",
        "env.num_rooms=[2,3]",
        f"out={out}",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "2 splits" not in printed and "1 splits × 2 tasks" in printed and "mean SPL" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["episodes"] == results["expected_episodes"] == 8
    rows = {(r["agent"], r["task"]): r for r in results["rows"]}
    assert rows[("nav", "mean")]["final"] >= 0.75 and rows[("random", "mean")]["final"] == 0.0
    nav = rows[("nav", "pointnav")]
    assert 0 < nav["spl"] <= nav["final"] and 0 < nav["ins"] <= 1  # SPL and INS are gated by success
    assert rows[("random", "pointnav")]["spl"] == rows[("random", "pointnav")]["ins"] == 0.0
    episodes = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert all(e["variant"] == "test" and e["home"].startswith("generated:1") for e in episodes)  # held-out homes
    with open(out / "results.csv") as f:
        assert {"spl", "effort_efficiency", "ins"} <= set(next(csv.DictReader(f)))
    assert main(args) == 0 and "0 to run" in capsys.readouterr().out  # resumes
    assert main([*args, "nav_agent.object_cost=0"]) == 2  # another agent spec: refused, in one line
    assert "another spec" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["tasks=[fly]"], "unknown home tasks ['fly']"),
        (["splits=[val]"], "unknown splits ['val']"),
        (["splits=[test,test]"], "splits=['test', 'test'] lists an entry twice"),
        (["+variants=[train]"], "unknown bench option(s) ['variants']"),
        (["trials=0"], "trials=0 is out of range; use an integer ≥ 1"),
        (["nav_agent.lookahead=0"], "lookahead"),
        (["env.home=atlantis"], "atlantis"),
    ],
)
def test_home_bench_errors_are_one_line(tmp_path, args, message, capsys):
    assert main(["bench", "env=home", f"out={tmp_path / 'x'}", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
