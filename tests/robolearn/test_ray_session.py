"""``robolearn.ray_session``: every verb with ``ray_address`` says the same one line when Ray is missing (exit code
2 on the command line), before any episode is made; a Ray already started by the caller is used and left running."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from robolearn.bench.executor import ExecutorSettings, run_jobs
from robolearn.cli import main
from robolearn.config import ConfigError
from robolearn.ray_session import RAY_LOCAL, RAY_MISSING, ray_session


@pytest.fixture
def no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import ray`` fails, as where robolearn[ray] is not installed."""
    monkeypatch.setitem(sys.modules, "ray", None)


@pytest.mark.usefixtures("no_ray")
def test_missing_ray_is_one_config_error_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError) as err, ray_session(RAY_LOCAL, 1):
        pass
    assert str(err.value) == RAY_MISSING and "\n" not in RAY_MISSING
    with pytest.raises(ConfigError, match="Ray is not installed"):
        list(run_jobs(abs, [-1], ExecutorSettings(ray_address="auto")))

    out = tmp_path / "videos"
    argv = ["collect", "videos", f"out={out}", "actor_clips=1", "robot_demos_per_task=0", "progress_bar=false"]
    assert main([*argv, "ray_address=local"]) == 2
    assert capsys.readouterr().err.strip() == f"robolearn collect: error: {RAY_MISSING}"
    assert not any((out / "episodes").glob("*.h5"))  # nothing was made


@pytest.mark.slow  # starts a Ray instance (~5 s)
def test_a_running_ray_is_used_and_left_running() -> None:
    ray = pytest.importorskip("ray")
    assert not ray.is_initialized()
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        with ray_session(RAY_LOCAL, 4) as session:
            assert session is ray and ray.cluster_resources().get("CPU") == 1  # the caller's instance, not a new one
        assert ray.is_initialized()
    finally:
        ray.shutdown()
