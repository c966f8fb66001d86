"""Declared env kinds: the registry (robolearn.kinds), the one env factory (robolearn.config), and the verbs' dispatch."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from robolearn.cli import EXIT_USAGE, bench_settings, main
from robolearn.config import ConfigError, compose_config, env_config, env_kind
from robolearn.kinds import KINDS, KindError, get_kind, kind_of, load

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kinds_composed_config_builds_through_the_factory(kind: str) -> None:
    entry = KINDS[kind]
    node = compose_config("rollout", [f"env={kind}"]).env
    assert env_kind(node) is entry
    cfg = env_config(node)
    cls = load(entry.config)
    assert type(cfg) is cls and kind == cls.KIND and kind_of(cfg) is entry
    assert cfg == cls()  # conf/env/<kind>.yaml holds the dataclass defaults, and `kind` is no field
    assert "kind" not in {f.name for f in dataclasses.fields(cfg)}


@pytest.mark.parametrize(
    "node, message",
    [
        ({"task": "open_drawer"}, "no env kind: env.kind must be one of desk, home, counter"),
        ({"kind": "kitchen", "task": "open_drawer"}, "unknown env kind 'kitchen': env.kind must be one of desk, home"),
    ],
)
def test_a_missing_or_unknown_kind_is_a_one_line_error(node: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        env_config(node)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("override", ["env.kind=kitchen", "~env.kind"])
def test_the_cli_reports_a_bad_kind_in_one_line(override: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rollout", override, "video.path=null"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "env.kind must be one of desk, home, counter" in err


def test_a_node_of_another_kind_than_needed_is_refused() -> None:
    with pytest.raises(ConfigError, match="needs a desk env: give env=desk"):
        env_config(compose_config("rollout", ["env=home"]).env, kind="desk")


def test_no_kind_is_an_error() -> None:
    with pytest.raises(KindError, match="must be one of"):
        get_kind(None)


def test_the_registration_ids_match_the_registry() -> None:
    from sim.registration import ENV_IDS, ENV_KWARGS

    assert ENV_IDS == {
        "robolearn/Desk-v1": "sim.envs.desk:DeskEnv",
        "robolearn/Home-v0": "sim.envs.home:HomeEnv",
        "robolearn/PointNav-v0": "sim.envs.home:HomeEnv",
        "robolearn/InteractiveNav-v0": "sim.envs.home:HomeEnv",
        "robolearn/RoomNav-v0": "sim.envs.home:HomeEnv",
        "robolearn/OpenDoor-v0": "sim.envs.home:HomeEnv",
        "robolearn/OpenDrawer-v0": "sim.envs.home:HomeEnv",
        "robolearn/Counter-v1": "sim.envs.counter:CounterEnv",
    }
    assert ENV_KWARGS["robolearn/OpenDrawer-v0"] == {"task": "open_drawer"}
    for kind in KINDS.values():  # every kind's gym ids are registered with the kind's env class
        assert all(ENV_IDS[i] == kind.env for i in (kind.env_id, *kind.task_ids))


def test_every_registry_path_loads() -> None:
    for entry in KINDS.values():
        for path in (entry.config, entry.env, entry.tasks, entry.check, entry.rollout, entry.bench):
            if path is not None:
                assert load(path) is not None, path
        if entry.plan is not None and entry.plan.home_env is not None:
            assert callable(load(entry.plan.home_env))


def test_the_registry_is_light() -> None:
    """robolearn.kinds names classes by import path: importing it loads neither pybullet nor torch."""
    code = "import sys, robolearn.kinds; print(sorted(m for m in ('pybullet', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_bench_env_home_composes_through_the_bench_group() -> None:
    from robolearn.bench.home import HomeBenchSettings
    from robolearn.bench.run import BenchSettings

    assert not (REPO / "conf" / "bench_home.yaml").exists()  # no config file is swapped in any more
    home = compose_config("bench", ["env=home", "trials=2"])
    assert home.env.kind == "home" and list(home.env.obs_keys) == ["scan", "goal"]
    assert list(home.splits) == ["test"] and list(home.agents) == ["nav", "random"] and home.trials == 2
    assert "nav_agent" in home and "variants" not in home and "threads_per_episode" not in home
    settings = bench_settings(home)
    assert isinstance(settings, HomeBenchSettings) and "kind" not in settings.env  # bench.json's env is unchanged
    desk = bench_settings(compose_config("bench"))
    assert isinstance(desk, BenchSettings) and desk.variants[0] == "train" and "kind" not in desk.env


def test_bench_in_a_kind_without_a_bench_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "env=counter"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "does not run in env=counter; give env=desk or env=home" in err


@pytest.mark.parametrize("verb", ["plan", "collect"])
def test_verbs_without_the_home_kind_say_where_they_run(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([verb, "env=home", "video.path=null" if verb == "plan" else "out=/nonexistent/x"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"`robolearn {verb}` does not run in env=home; give env=desk or env=counter" in err


def test_plan_bounds_come_from_the_env_action_space() -> None:
    import torch

    from robolearn.plan import action_bounds
    from sim.config import DeskEnvConfig

    low, high = action_bounds(DeskEnvConfig())  # no env at hand: the kind's env is built once to read its box
    assert torch.equal(low, torch.full((4,), -1.0)) and torch.equal(high, torch.full((4,), 1.0))


def test_an_image_size_that_does_not_match_a_checkpoint_fails_before_the_first_episode(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from robolearn.paths import shipped_checkpoint

    reward = shipped_checkpoint("lorel_reward.pt")
    code = main(
        [
            "plan",
            "video.path=null",
            "objective=lorel",
            f"reward_checkpoint={reward}",
            "dynamics_model=oracle",
            "env.width=96",
            "env.height=96",
        ]
    )
    captured = capsys.readouterr()
    assert code == EXIT_USAGE and "episode 1/1" not in captured.out
    err = captured.err.strip()
    assert len(err.splitlines()) == 1
    assert "takes 64x64 images but the env renders 96x96" in err and "env.width=64 env.height=64" in err


def test_an_instruction_is_resolved_once_and_handed_on() -> None:
    from robolearn.instructions import UnknownInstructionError, resolve_instruction

    given = resolve_instruction("  push the drawer shut ", "close_drawer", tasks=["open_drawer", "close_drawer"])
    assert given.task == "close_drawer" and not given.by_matching
    with pytest.raises(ConfigError, match="task='fly' is not a task of this env"):
        resolve_instruction("fly", "fly", tasks=["open_drawer"])
    with pytest.raises(UnknownInstructionError, match="the instruction is empty.*The robot can: open the drawer"):
        resolve_instruction("   ", "close_drawer", capable=["open_drawer"])


def test_bench_checks_a_vmpc_agents_image_size_before_any_episode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["bench", "agents=[vmpc_lorel]", "tasks=[open_drawer]", "variants=[train]", "trials=1", "workers=1"]
    assert main([*args, "env.width=96", "env.height=96", f"out={tmp_path}", "figure=false"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "takes 64x64 images but the env renders 96x96" in err
    assert not (tmp_path / "episodes.jsonl").exists()
