"""planners.optimizers.library: planning among recorded action sequences, and `robolearn data export-actions`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from planners.optimizers import LibraryConfig, LibraryOptimizer, load_action_library, make_optimizer
from robolearn.cli import main as cli_main
from robolearn.data.reader import DatasetReader
from tests.conftest import CollectDataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")
REPO = Path(__file__).resolve().parents[2]
LOW, HIGH = [-1.0] * 4, [1.0] * 4
H = 6


def write_library(path: Path, actions: np.ndarray, lengths: np.ndarray | None = None) -> str:
    lengths = np.full(len(actions), actions.shape[1]) if lengths is None else lengths
    np.savez(path, actions=actions.astype(np.float32), lengths=lengths)
    load_action_library.cache_clear()  # the tests rewrite files under the same names
    return str(path)


def optimizer(library: str, **overrides: object) -> LibraryOptimizer:
    opt = make_optimizer(LibraryConfig(library=library, **overrides), LOW, HIGH, H, seed=0)  # type: ignore[arg-type]
    assert isinstance(opt, LibraryOptimizer)
    return opt


def test_the_best_recorded_sequence_is_found_and_kept_exactly(tmp_path: Path) -> None:
    """Among 20 recorded sequences one is the objective's optimum: the plan is that sequence, bit for bit (a
    perturbation of it can only score lower), and the first iteration's candidates are recorded sequences only."""
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, size=(20, H, 4))
    target = torch.from_numpy(actions[7].astype(np.float32))
    opt = optimizer(write_library(tmp_path / "lib.npz", actions))
    seen: list[torch.Tensor] = []

    def objective(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.clone())
        return -(x - target).square().sum(dim=(1, 2))

    result = opt.optimize(objective)
    assert torch.equal(result.actions, target) and result.value == 0.0
    recorded = torch.from_numpy(actions.astype(np.float32))
    first = seen[0]
    assert first.shape == (200, H, 4)
    assert all(any(torch.equal(x, r) for r in recorded) for x in first), "iteration 0 draws recorded sequences"
    assert [len(x) for x in seen] == [200, 200, 200] and result.evaluations == 600


def test_refinement_moves_off_the_library_towards_a_nearby_optimum(tmp_path: Path) -> None:
    """The optimum is a recorded sequence shifted by 0.3 in every entry: the perturbed elites find a plan that
    scores better than any recorded sequence, closer to the optimum than that sequence."""
    rng = np.random.default_rng(1)
    actions = rng.uniform(-0.6, 0.6, size=(30, H, 4))
    target = torch.from_numpy(actions[3].astype(np.float32)) + 0.3
    objective = lambda x: -(x - target).square().sum(dim=(1, 2))  # noqa: E731
    best_recorded = float(objective(torch.from_numpy(actions.astype(np.float32))).max())
    result = optimizer(write_library(tmp_path / "lib.npz", actions), iterations=6).optimize(objective)
    assert best_recorded == pytest.approx(-0.09 * H * 4)  # the shifted sequence is the best recorded one
    assert result.value > best_recorded + 0.5


def test_windows_start_at_the_agents_step_and_end_with_the_recording(tmp_path: Path) -> None:
    """Recorded action t is t / 10 in every dimension; sequences of 8 and 4 steps. After advance(3) the first
    candidates continue the recordings from step 3, and steps past a recording's end are the bounds' centre;
    the last plan, shifted, is a candidate too. reset() starts from step 0 again."""
    t = np.arange(8, dtype=np.float32) / 10
    actions = np.broadcast_to(t[None, :, None], (2, 8, 4)).copy()
    lib = write_library(tmp_path / "lib.npz", actions, np.array([8, 4]))
    opt = optimizer(lib, iterations=1)
    seen: list[torch.Tensor] = []

    def objective(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.clone())
        return x.sum(dim=(1, 2))

    plan = opt.optimize(objective).actions
    assert torch.allclose(plan[:, 0], torch.tensor([0.0, 0.1, 0.2, 0.3, 0.4, 0.5]))  # the 8-step recording
    opt.advance(3)
    opt.optimize(objective)
    long = torch.tensor([0.3, 0.4, 0.5, 0.6, 0.7, 0.0])  # steps 3..7, then past the end: centre
    short = torch.tensor([0.3, 0.0, 0.0, 0.0, 0.0, 0.0])  # step 3, then centre
    shifted = torch.tensor([0.3, 0.4, 0.5, 0.0, 0.0, 0.0])  # the last plan moved 3 steps
    rows = {tuple(x[:, 0].tolist()) for x in seen[1]}
    expected = {tuple(v.tolist()) for v in (long, short, shifted)}
    assert {tuple(round(a, 5) for a in r) for r in rows} == {tuple(round(a, 5) for a in r) for r in expected}
    opt.reset()
    seen.clear()
    opt.optimize(objective)
    assert {round(float(x[0, 0]), 5) for x in seen[0]} == {0.0}


def test_same_seed_same_plans(tmp_path: Path) -> None:
    lib = write_library(tmp_path / "lib.npz", np.random.default_rng(2).uniform(-1, 1, size=(50, 10, 4)))
    objective = lambda x: -(x - 0.2).abs().sum(dim=(1, 2))  # noqa: E731
    a, b = optimizer(lib), optimizer(lib)
    for _ in range(3):
        ra, rb = a.optimize(objective), b.optimize(objective)
        assert torch.equal(ra.actions, rb.actions)
        a.advance(1)
        b.advance(1)


def test_a_missing_or_bad_library_names_the_fix(tmp_path: Path) -> None:
    cfg = OmegaConf.load(REPO / "conf" / "optimizer" / "library.yaml")
    with pytest.raises(ValueError, match=r"optimizer.library=FILE.npz.*robolearn data export-actions"):
        make_optimizer(cfg, LOW, HIGH, H)
    with pytest.raises(ValueError, match=r"no such file.*export-actions"):
        optimizer(str(tmp_path / "none.npz"))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    load_action_library.cache_clear()
    with pytest.raises(ValueError, match="not a readable .npz"):
        optimizer(str(tmp_path / "junk.npz"))
    with pytest.raises(ValueError, match=r"3 dimensions, the planner's 4"):
        optimizer(write_library(tmp_path / "a3.npz", np.zeros((5, H, 3))))
    with pytest.raises(ValueError, match="lengths outside 1..T"):
        optimizer(write_library(tmp_path / "len.npz", np.zeros((2, H, 4)), np.array([H, H + 1])))
    with pytest.raises(ValueError, match=r"LibraryConfig.library must be a path"):
        LibraryConfig(library=3)
    with pytest.raises(ValueError, match=r"LibraryConfig.elites=300 must be ≤ population=200"):
        LibraryConfig(library="x.npz", elites=300)
    with pytest.raises(ValueError, match=r"LibraryConfig.fresh_fraction"):
        LibraryConfig(library="x.npz", fresh_fraction=1.5)
    assert not math.isnan(LibraryConfig(library="x.npz").refine_std)


def test_export_actions_writes_the_datasets_actions_as_a_library(
    collect_dataset: CollectDataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = collect_dataset(("episodes=4", "workers=1", "progress_bar=false"))
    out = tmp_path / "actions.npz"
    assert cli_main(["data", "export-actions", str(data), str(out)]) == 0
    assert "optimizer.library=" in capsys.readouterr().out
    load_action_library.cache_clear()
    library = load_action_library(str(out))
    reader = DatasetReader(data)
    assert library.actions.shape[0] == 4 and library.lengths.tolist() == reader.lengths.tolist()
    for row, index in enumerate(reader.indices()):
        assert np.array_equal(library.actions[row, : reader.length(index)].numpy(), reader.read(index, "actions"))
    assert cli_main(["data", "export-actions", str(data), str(tmp_path / "actions.npy")]) == 2
    assert "must be a .npz file" in capsys.readouterr().err
