"""planners.optimizers: CEM, iCEM and MPPI reach known optima within stated budgets, stay in bounds,
are reproducible, and forget everything on reset(); colored noise has the promised spectrum.

Budgets are stated in each test as iterations × samples (= objective evaluations). The test
functions are cheap closed forms, so the whole file runs in a few seconds on one core.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from planners.optimizers import (
    OPTIMIZERS,
    CEMConfig,
    CEMOptimizer,
    ICEMConfig,
    ICEMOptimizer,
    MPPIConfig,
    MPPIOptimizer,
    OptimizerResult,
    TrajectoryOptimizer,
    autoregressive_noise,
    colored_noise,
    make_optimizer,
    mppi_weights,
    optimizer_config,
)

# Tiny models: one intra-op thread is fastest and keeps the shared 2-core machine free.
pytestmark = pytest.mark.usefixtures("one_torch_thread")
REPO = Path(__file__).resolve().parents[2]
#: the Gaussian-sampling optimizers (the library optimizer needs a library file: tests/planners/test_library_optimizer.py)
CONFIGS = {"cem": CEMConfig, "icem": ICEMConfig, "mppi": MPPIConfig}
LOW, HIGH = [-1.0] * 4, [1.0] * 4  # the desk env's action box (4-D)


def quadratic(target: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """−‖x − target‖² per sequence: maximiser ``target`` clipped to the bounds."""
    return lambda x: -(x - target).square().sum(dim=(1, 2))


def in_bounds(objective: Callable, low: torch.Tensor, high: torch.Tensor, seen: list[int] | None = None) -> Callable:
    """``objective`` that first asserts every sequence it gets is (N, H, A) inside [low, high]."""

    def wrapped(x: torch.Tensor) -> torch.Tensor:
        assert x.ndim == 3 and ((x >= low) & (x <= high)).all(), "a sample left the action bounds"
        if seen is not None:
            seen.append(x.shape[0])
        return objective(x)

    return wrapped


def smooth_target(horizon: int) -> torch.Tensor:
    """(H, 2) a slowly varying action sequence inside [−1, 1]."""
    t = torch.arange(horizon, dtype=torch.float32)
    return torch.stack([0.6 * torch.sin(math.pi * t / horizon + 0.3), -0.5 + 0.04 * t], dim=1)


# ------------------------------------------------------------------------------------ configs
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_yaml_builds_the_optimizer(name: str) -> None:
    # The file is generated from the dataclass (tests/robolearn/test_conf.py checks it is current).
    path = REPO / "conf" / "optimizer" / f"{name}.yaml"
    cls = CONFIGS[name]
    cfg = OmegaConf.load(path)
    assert cfg._target_ == f"{cls.__module__}.{cls.__name__}"
    assert optimizer_config(cfg) == cls()
    opt = make_optimizer(cfg, LOW, HIGH, horizon=5, seed=1)
    assert type(opt) is OPTIMIZERS[name] and opt.config == cls() and (opt.horizon, opt.action_dim) == (5, 4)
    cfg.iterations = 2  # a command-line override reaches the dataclass
    assert make_optimizer(cfg, LOW, HIGH, horizon=5).config.iterations == 2


@pytest.mark.parametrize(
    ("cls", "overrides", "detail"),
    [
        (CEMConfig, {"elites": 300}, "elites=300 must be ≤ population=200"),
        (CEMConfig, {"population": 0}, "CEMConfig.population"),
        (CEMConfig, {"iterations": True}, "CEMConfig.iterations"),
        (CEMConfig, {"init_std": 0.0}, "CEMConfig.init_std"),
        (CEMConfig, {"min_std": -0.1}, "CEMConfig.min_std"),
        (CEMConfig, {"alpha": 1.0}, "CEMConfig.alpha"),
        (CEMConfig, {"return_mean_of_elites": 1}, "CEMConfig.return_mean_of_elites"),
        (CEMConfig, {"shift_fill": "zero"}, "center | last"),
        (ICEMConfig, {"noise_beta": -1.0}, "ICEMConfig.noise_beta"),
        (ICEMConfig, {"population_decay": 0.8}, "ICEMConfig.population_decay"),
        (ICEMConfig, {"keep_elites_fraction": 1.5}, "ICEMConfig.keep_elites_fraction"),
        (ICEMConfig, {"elites": 201}, "ICEMConfig.elites=201"),
        (MPPIConfig, {"temperature": 0.0}, "MPPIConfig.temperature"),
        (MPPIConfig, {"noise_std": float("nan")}, "MPPIConfig.noise_std"),
        (MPPIConfig, {"noise_correlation": 1.0}, "MPPIConfig.noise_correlation"),
        (MPPIConfig, {"samples": 0}, "MPPIConfig.samples"),
    ],
)
def test_invalid_config_values_name_the_field(cls: type, overrides: dict, detail: str) -> None:
    with pytest.raises(ValueError) as info:
        cls(**overrides)
    assert detail in str(info.value) and "\n" not in str(info.value)


def test_make_optimizer_errors_list_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown optimizer 'cme'; choose one of cem \| icem \| mppi"):
        make_optimizer("cme", LOW, HIGH, 5)
    with pytest.raises(ValueError, match="choose one of cem .*icem .*mppi"):
        make_optimizer({"_target_": "planners.optimizers.cem.NoSuchConfig"}, LOW, HIGH, 5)
    with pytest.raises(ValueError, match="not an optimizer config; choose one of cem"):
        make_optimizer({"_target_": "rewards.lorel.LorelConfig"}, LOW, HIGH, 5)
    with pytest.raises(ValueError, match="mapping with _target_"):
        make_optimizer({"population": 10}, LOW, HIGH, 5)
    with pytest.raises(ValueError, match="populaton"):  # a misspelled key names itself
        make_optimizer({"_target_": "planners.optimizers.cem.CEMConfig", "populaton": 10}, LOW, HIGH, 5)
    with pytest.raises(ValueError, match="CEMConfig.elites=30 must be ≤ population=10"):  # the config's own message
        make_optimizer({"_target_": "planners.optimizers.cem.CEMConfig", "population": 10, "elites": 30}, LOW, HIGH, 5)
    assert type(make_optimizer("mppi", LOW, HIGH, 5)) is MPPIOptimizer
    assert type(make_optimizer(ICEMConfig(iterations=2), LOW, HIGH, 5)) is ICEMOptimizer


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_invalid_inputs_give_clear_errors(name: str) -> None:
    cls = OPTIMIZERS[name]
    with pytest.raises(ValueError, match="1-D with one entry per action dimension"):
        make_optimizer(name, [-1, -1], [1, 1, 1], 5)
    with pytest.raises(ValueError, match=r"not so at index\(es\) \[1\]"):
        make_optimizer(name, [-1, 1], [1, 1], 5)
    with pytest.raises(ValueError, match="finite"):
        make_optimizer(name, [-1, -math.inf], [1, 1], 5)
    with pytest.raises(ValueError, match="horizon must be an integer ≥ 1"):
        make_optimizer(name, LOW, HIGH, 0)
    with pytest.raises(TypeError, match=f"needs a {cls.config_class.__name__}"):
        cls(CEMConfig() if cls is not CEMOptimizer else ICEMConfig(), LOW, HIGH, 5)
    opt = make_optimizer(name, LOW, HIGH, 5)
    objective = quadratic(torch.zeros(5, 4))
    with pytest.raises(ValueError, match=r"x0 must have shape \(horizon, action_dim\) = \(5, 4\), got \(4, 5\)"):
        opt.optimize(objective, x0=torch.zeros(4, 5))
    with pytest.raises(ValueError, match=rf"{cls.__name__}: the objective returned shape \(\d+, 1\) for \d+ action"):
        opt.optimize(lambda x: objective(x)[:, None])
    with pytest.raises(ValueError, match=rf"{cls.__name__}: the objective returned 1 non-finite value\(s\)"):
        opt.optimize(lambda x: torch.cat([objective(x)[:-1], torch.tensor([math.nan])]))
    with pytest.raises(ValueError, match="steps must be an integer ≥ 0"):
        opt.advance(-1)


# ------------------------------------------------------------------------- reaching optima
def test_cem_finds_the_maximiser_of_a_shifted_quadratic() -> None:
    """CEM, 25 iterations × 200 samples (5000 evaluations): max-abs error ≤ 0.05 over (H=10, A=4),
    seeds 0–4 (from the centre, a target anywhere in [−0.8, 0.8]^40)."""
    target = torch.rand(10, 4, generator=torch.Generator().manual_seed(0)) * 1.6 - 0.8
    for seed in range(5):
        opt = CEMOptimizer(CEMConfig(iterations=25), LOW, HIGH, horizon=10, seed=seed)
        result = opt.optimize(quadratic(target))
        assert result.evaluations == 25 * 200
        assert (result.actions - target).abs().max() <= 0.05, seed
        assert result.value == result.history[-1] <= result.best_value <= 0


def test_mppi_finds_the_maximiser_of_a_shifted_quadratic() -> None:
    """MPPI, 40 iterations × 200 samples (λ = 0.1, white noise of std 0.1): max-abs error ≤ 0.05 over
    (H=10, A=4), seeds 0–4. With a fixed noise level MPPI averages rather than narrows, so it needs a
    small std (and more iterations) for a precise optimum."""
    target = torch.rand(10, 4, generator=torch.Generator().manual_seed(0)) * 1.6 - 0.8
    config = MPPIConfig(iterations=40, temperature=0.1, noise_std=0.1, noise_correlation=0.0)
    for seed in range(5):
        result = MPPIOptimizer(config, LOW, HIGH, horizon=10, seed=seed).optimize(quadratic(target))
        assert result.evaluations == 40 * 200
        assert (result.actions - target).abs().max() <= 0.05, seed


def test_icem_reaches_a_goal_with_few_samples() -> None:
    """iCEM with its defaults (3 iterations, populations 200/160/128 + kept elites and mean: 501
    evaluations) drives a point mass p_H = 0.1 Σ_t a_t over (H=20, A=2) within 0.04 of its goal,
    seeds 0–4; the optimum (any sequence summing to 10 · goal) has return 0."""
    goal = torch.tensor([0.8, -0.5])

    def terminal(x: torch.Tensor) -> torch.Tensor:
        return -(0.1 * x.sum(dim=1) - goal).norm(dim=-1)

    for seed in range(5):
        result = make_optimizer("icem", [-1, -1], [1, 1], horizon=20, seed=seed).optimize(terminal)
        assert result.evaluations == 200 + 160 + 128 + 6 + 6 + 1
        assert -terminal(result.actions[None]).item() <= 0.04, seed


def test_cem_finds_the_global_optimum_of_a_rastrigin_function() -> None:
    """Non-convex: −Σ [z² + 3 (1 − cos 2πz)], z = 2 (x − c), over (H=4, A=2) has a local maximum every
    0.5 per coordinate. CEM, 20 iterations × 200 samples, ends within 0.01 of the global one c in at
    least 4 of seeds 0–4; a narrow CEM (init_std 0.05) from the centre stays in a local one."""
    c = torch.rand(4, 2, generator=torch.Generator().manual_seed(1)) * 1.2 - 0.6

    def rastrigin(x: torch.Tensor) -> torch.Tensor:
        z = 2 * (x - c)
        return -(z.square() + 3 * (1 - torch.cos(2 * math.pi * z))).sum(dim=(1, 2))

    def error(config: CEMConfig, seed: int) -> float:
        return (CEMOptimizer(config, [-1, -1], [1, 1], 4, seed=seed).optimize(rastrigin).actions - c).abs().max()

    assert sum(error(CEMConfig(iterations=20), seed) <= 0.01 for seed in range(5)) >= 4
    assert all(error(CEMConfig(iterations=20, init_std=0.05), seed) > 0.3 for seed in range(5))


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("icem", ICEMConfig(iterations=5)),
        ("mppi", MPPIConfig(iterations=5, temperature=0.01)),
    ],
)
def test_correlated_noise_finds_the_global_basin_of_a_two_basin_reach(name: str, config: object) -> None:
    """Non-convex: a point mass p = 0.1 Σ_t a_t over (H=10, A=2) scores
    max(−‖p − g‖², −‖p − l‖² − 0.2):
    a local basin (value −0.2) around l near the start, the global one (value 0) at g, farther away.
    iCEM (defaults, 5 iterations: 696 evaluations) and MPPI (AR(1) noise ρ = 0.5, λ = 0.01, 5 × 200)
    end within 0.05 of g for seeds 0–4; CEM's white noise (5 × 200) and white-noise MPPI stay in the
    local basin: temporally correlated samples move far enough to find the other basin."""
    g, l = torch.tensor([-0.6, 0.7]), torch.tensor([0.15, 0.1])

    def two_basin(x: torch.Tensor) -> torch.Tensor:
        p = 0.1 * x.sum(dim=1)
        return torch.maximum(-(p - g).square().sum(-1), -(p - l).square().sum(-1) - 0.2)

    def distance(cfg: object, seed: int) -> float:
        plan = make_optimizer(cfg, [-1, -1], [1, 1], horizon=10, seed=seed).optimize(two_basin).actions
        return (0.1 * plan.sum(dim=0) - g).norm().item()

    assert all(distance(config, seed) <= 0.05 for seed in range(5)), name
    white = CEMConfig(iterations=5) if name == "icem" else dataclasses.replace(config, noise_correlation=0.0)
    assert all(distance(white, seed) > 0.5 for seed in range(5))


@pytest.mark.parametrize(
    ("name", "config", "tolerance"),
    [
        ("cem", CEMConfig(iterations=20), 0.02),  # 4000 evaluations
        ("icem", ICEMConfig(iterations=20, population=400, elites=40), 0.02),  # 2850 evaluations
        ("mppi", MPPIConfig(iterations=10), 0.05),  # 2000 evaluations
    ],
)
def test_optimum_on_the_bounds_is_reached_without_leaving_them(name: str, config: object, tolerance: float) -> None:
    """Clipping: the maximiser of −‖x − t‖² with t one range beyond a corner of asymmetric bounds is
    that corner (every entry on a bound). Over (H=4, A=3) each optimizer ends within ``tolerance``
    of it and never passes a sample outside the bounds to the objective (seeds 0–2)."""
    low, high = torch.tensor([-1.0, 0.0, -0.5]), torch.tensor([1.0, 2.0, 0.5])
    corner = torch.tensor([1.0, 0.0, 0.5])
    target = corner + torch.tensor([1.0, -1.0, 1.0]) * (high - low)
    for seed in range(3):
        opt = make_optimizer(config, low, high, horizon=4, seed=seed)
        result = opt.optimize(in_bounds(quadratic(target), low, high))
        assert (result.actions - corner).abs().max() <= tolerance, (name, seed)
        assert ((result.actions >= low) & (result.actions <= high)).all()


def test_icem_needs_fewer_evaluations_than_cem_on_a_smooth_objective() -> None:
    """A point mass p_H = 0.1 Σ_t a_t over (H=30, A=2) must reach a far goal, (2.1, −1.5): mean actions
    of (0.7, −0.5), a consistent move that temporally correlated samples propose and white ones cancel
    out. Each optimizer gets the smallest budget, over iterations ∈ {3, 5, 10} × population ∈
    {50, 100, 200, 400} (elites 10 %), at which its plan ends within 0.05 of the goal for seeds 0–2.
    iCEM's budget (defaults otherwise) is at least 3× smaller than CEM's (measured: 245 vs 2000)."""
    goal = torch.tensor([2.1, -1.5])

    def distance(x: torch.Tensor) -> torch.Tensor:
        return (0.1 * x.sum(dim=1) - goal).norm(dim=-1)

    def cheapest(cls: type) -> int:
        budgets = []
        for iterations in (3, 5, 10):
            for population in (50, 100, 200, 400):
                config = cls(iterations=iterations, population=population, elites=population // 10)
                opts = [make_optimizer(config, [-1, -1], [1, 1], 30, seed=seed) for seed in range(3)]
                results = [opt.optimize(lambda x: -distance(x)) for opt in opts]
                if all(distance(r.actions[None]).item() <= 0.05 for r in results):
                    budgets.append(max(r.evaluations for r in results))
        assert budgets, f"{cls.__name__} never got within 0.05"
        return min(budgets)

    icem, cem = cheapest(ICEMConfig), cheapest(CEMConfig)
    assert 3 * icem <= cem, (icem, cem)


# ------------------------------------------------------------------------------ mechanics
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_objective_gets_whole_in_bounds_batches_once_per_iteration(name: str) -> None:
    """Bounds far narrower than the noise (init_std 5 = 5 half-ranges), an x0 on the bound: still no
    sample leaves them; one objective call per iteration with that iteration's whole batch."""
    low, high = torch.tensor([-0.2, 0.5]), torch.tensor([0.1, 0.6])
    overrides = {"mppi": dict(noise_std=5.0, iterations=3)}.get(name, dict(init_std=5.0, iterations=3))
    config = dataclasses.replace(optimizer_config(name), **overrides)
    opt = make_optimizer(config, low, high, horizon=6, seed=0)
    # iCEM: decayed populations 200, 160, 128; + 6 = round(0.3 · 20) kept elites from the previous
    # iteration, or at the first one from the previous call (warm starts only); + 1 mean at the last.
    batches = {"icem": [[200, 166, 135], [206, 166, 135], [200, 166, 135]]}.get(name, [[200] * 3] * 3)
    for x0, expected in zip((None, None, high.expand(6, -1)), batches, strict=True):  # fresh, warm, explicit x0
        seen: list[int] = []
        result = opt.optimize(in_bounds(lambda x: x.sum(dim=(1, 2)), low, high, seen), x0=x0)
        assert seen == expected and sum(seen) == result.evaluations
        for plan in (result.actions, result.best_actions, opt.warm_start):
            assert plan.shape == (6, 2) and ((plan >= low) & (plan <= high)).all()


def test_cem_returns_the_mean_of_the_last_elites_or_the_best_sample() -> None:
    target = torch.full((5, 4), 0.3)
    by_mean = CEMOptimizer(CEMConfig(), LOW, HIGH, 5, seed=0).optimize(quadratic(target))
    by_best = CEMOptimizer(CEMConfig(return_mean_of_elites=False), LOW, HIGH, 5, seed=0).optimize(quadratic(target))
    # Same seed and settings: the same search, only the returned plan differs.
    assert torch.equal(by_mean.best_actions, by_best.best_actions) and by_mean.history == by_best.history
    assert torch.equal(by_best.actions, by_best.best_actions) and by_best.value == by_best.best_value
    assert not torch.equal(by_mean.actions, by_mean.best_actions)
    assert by_mean.value == by_mean.history[-1] < by_mean.best_value  # elite mean return < best return
    # The elite mean is the better plan here: averaging cancels the elites' independent noise.
    assert quadratic(target)(by_mean.actions[None]) > quadratic(target)(by_best.actions[None])


def test_icem_with_every_switch_off_is_cem() -> None:
    off = ICEMConfig(
        noise_beta=0.0,
        population_decay=1.0,
        keep_elites_fraction=0.0,
        shift_elites=False,
        add_mean_at_last_iteration=False,
        alpha=0.0,
    )
    icem, cem = ICEMOptimizer(off, LOW, HIGH, 8, seed=3), CEMOptimizer(CEMConfig(), LOW, HIGH, 8, seed=3)
    objective = quadratic(smooth_target(8).repeat(1, 2))
    for _ in range(2):
        a, b = icem.optimize(objective), cem.optimize(objective)
        assert torch.equal(a.actions, b.actions) and torch.equal(a.best_actions, b.best_actions)
        assert (a.value, a.best_value, a.history, a.evaluations) == (b.value, b.best_value, b.history, b.evaluations)
        icem.advance(2)
        cem.advance(2)
    # ... and each switch on its own changes the search.
    for change in (
        dict(noise_beta=2.0),
        dict(population_decay=1.25),
        dict(keep_elites_fraction=0.3),
        dict(add_mean_at_last_iteration=True),
        dict(alpha=0.1),
    ):
        one = ICEMOptimizer(dataclasses.replace(off, **change), LOW, HIGH, 8, seed=3).optimize(objective)
        assert not torch.equal(one.actions, CEMOptimizer(CEMConfig(), LOW, HIGH, 8, seed=3).optimize(objective).actions)


def _episode(opt: TrajectoryOptimizer, objective: Callable) -> list[OptimizerResult]:
    """optimize → advance(2) → optimize → advance(1) → optimize, as an agent replanning."""
    out = [opt.optimize(objective)]
    for steps in (2, 1):
        opt.advance(steps)
        out.append(opt.optimize(objective))
    return out


def _same(a: list[OptimizerResult], b: list[OptimizerResult]) -> bool:
    return all(
        torch.equal(x.actions, y.actions)
        and torch.equal(x.best_actions, y.best_actions)
        and (x.value, x.best_value, x.history, x.evaluations) == (y.value, y.best_value, y.history, y.evaluations)
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_reset_clears_every_piece_of_state(name: str) -> None:
    objective = quadratic(smooth_target(6).repeat(1, 2))
    opt = make_optimizer(name, LOW, HIGH, 6, seed=7)
    first = _episode(opt, objective)
    assert _same(first, _episode(make_optimizer(name, LOW, HIGH, 6, seed=7), objective)), "same seed, same plans"
    assert not _same(first, _episode(make_optimizer(name, LOW, HIGH, 6, seed=8), objective)), "another seed differs"
    no_reset = _episode(opt, objective)  # carries the warm start, RNG state (and iCEM's elites) over
    assert not _same(first, no_reset)
    opt.reset()
    assert opt.warm_start is None and (name != "icem" or opt.kept_elites is None)
    assert _same(first, _episode(opt, objective)), "after reset() an episode repeats a fresh optimizer's bit for bit"


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_the_warm_start_changes_and_improves_the_next_plan(name: str) -> None:
    """Two optimizers in the same state: the next call from the warm start differs from one from the
    centre (same random draws) and, on a fixed objective, is closer to the optimum."""
    target = torch.full((6, 4), 0.5)
    config = dataclasses.replace(optimizer_config(name), iterations=1)
    warm, cold = (make_optimizer(config, LOW, HIGH, 6, seed=0) for _ in range(2))
    warm.optimize(quadratic(target))
    cold.optimize(quadratic(target))
    a = warm.optimize(quadratic(target))
    b = cold.optimize(quadratic(target), x0=torch.zeros(6, 4))
    assert (a.actions - target).abs().mean() < (b.actions - target).abs().mean()


@pytest.mark.parametrize("fill", ["center", "last"])
def test_advance_shifts_the_warm_start_and_the_kept_elites(fill: str) -> None:
    low, high = torch.tensor([-1.0, 0.0]), torch.tensor([1.0, 4.0])
    center = torch.tensor([0.0, 2.0])
    opt = ICEMOptimizer(ICEMConfig(shift_fill=fill), low, high, horizon=5, seed=0)
    opt.advance(2)  # before any plan: nothing to shift, still no warm start
    assert opt.warm_start is None and opt.kept_elites is None
    opt.optimize(quadratic(torch.tensor([0.5, 3.0]).expand(5, 2)))
    mean, elites = opt.warm_start, opt.kept_elites
    assert elites.shape == (6, 5, 2)  # round(0.3 · 20)

    def shifted(seq: torch.Tensor, steps: int) -> torch.Tensor:
        tail = seq[..., -1:, :] if fill == "last" else center.expand(*seq.shape[:-2], 1, 2)
        keep = seq[..., steps:, :]
        return torch.cat([keep, tail.expand(*seq.shape[:-2], 5 - keep.shape[-2], 2)], dim=-2)

    opt.advance(0)
    assert torch.equal(opt.warm_start, mean)
    opt.advance(2)
    assert torch.equal(opt.warm_start, shifted(mean, 2)) and torch.equal(opt.kept_elites, shifted(elites, 2))
    opt.advance(9)  # past the horizon: all fill
    assert torch.equal(opt.warm_start, shifted(shifted(mean, 2), 9))
    assert torch.equal(opt.warm_start, (mean[-1] if fill == "last" else center).expand(5, 2))


def test_advance_shifts_the_mppi_plan() -> None:
    opt = MPPIOptimizer(MPPIConfig(), LOW, HIGH, horizon=4, seed=0)
    plan = opt.optimize(quadratic(torch.full((4, 4), 0.4))).actions
    assert torch.equal(opt.warm_start, plan)  # MPPI keeps its plan U
    opt.advance(1)
    assert torch.equal(opt.warm_start, torch.cat([plan[1:], torch.zeros(1, 4)]))


def test_mppi_is_numerically_safe_with_huge_returns() -> None:
    """Returns of order 1e6 (and their spread of ~1e5) with λ = 0.05: exp without subtracting the best
    would overflow to inf (and inf/inf = NaN); subtracting it keeps every weight finite."""
    target = torch.full((5, 4), 0.2)
    objective = lambda x: 1e6 + 1e5 * quadratic(target)(x)  # noqa: E731
    naive = torch.exp(objective(torch.zeros(3, 5, 4)).double() / 0.05)
    assert torch.isinf(naive).all(), "the test must exercise overflow"
    result = MPPIOptimizer(MPPIConfig(iterations=5), LOW, HIGH, 5, seed=0).optimize(objective)
    assert torch.isfinite(result.actions).all() and math.isfinite(result.value) and math.isfinite(result.best_value)
    assert all(math.isfinite(v) for v in result.history)
    weights = mppi_weights(torch.tensor([1e12, 1e12 - 1.0, -1e12], dtype=torch.float64), 1e-3)
    assert torch.isfinite(weights).all() and weights.sum() == 1 and weights[0] == 1
    weights = mppi_weights(torch.tensor([5e6, 5e6, 5e6], dtype=torch.float64), 0.05)
    assert torch.allclose(weights, torch.full((3,), 1 / 3, dtype=torch.float64))


def test_seed_none_draws_a_seed_that_reproduces_the_run() -> None:
    objective = quadratic(torch.zeros(3, 4))
    a = CEMOptimizer(CEMConfig(), LOW, HIGH, 3, seed=None)
    b = CEMOptimizer(CEMConfig(), LOW, HIGH, 3, seed=a.seed)
    assert torch.equal(a.optimize(objective).actions, b.optimize(objective).actions)


# ---------------------------------------------------------------------------------- noise
def _psd_slope(noise: torch.Tensor) -> float:
    """Least-squares slope of log power vs log frequency over the nonzero frequencies (last axis = time)."""
    power = torch.fft.rfft(noise.double(), dim=-1).abs().square().mean(dim=0)[1:]
    freqs = torch.fft.rfftfreq(noise.shape[-1], dtype=torch.float64)[1:]
    x, y = freqs.log(), power.log()
    return float(((x - x.mean()) * (y - y.mean())).sum() / (x - x.mean()).square().sum())


@pytest.mark.parametrize("beta", [0.0, 1.0, 2.0, 3.0])
def test_colored_noise_has_slope_minus_beta_and_unit_variance_per_step(beta: float) -> None:
    noise = colored_noise((4000, 64), beta, generator=torch.Generator().manual_seed(0))
    assert noise.shape == (4000, 64) and noise.dtype == torch.float32
    assert abs(_psd_slope(noise) + beta) < 0.1
    variance = noise.double().var(dim=0)  # per time step, across draws
    assert ((variance - 1).abs() < 0.1).all(), variance
    assert noise.double().mean().abs() < 0.05
    # Higher β, smoother: neighbouring steps correlate more.
    lag1 = float((noise[:, 1:] * noise[:, :-1]).mean())
    assert (lag1 < 0.05) if beta == 0 else (lag1 > 0.3)


def test_colored_noise_is_reproducible_and_handles_short_horizons() -> None:
    a = colored_noise((3, 2, 7), 2.0, generator=torch.Generator().manual_seed(1))
    b = colored_noise((3, 2, 7), 2.0, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    for steps in (1, 2, 3):  # odd, even and length-1 horizons keep unit variance
        x = colored_noise((20000, steps), 2.5, generator=torch.Generator().manual_seed(2))
        assert ((x.double().var(dim=0) - 1).abs() < 0.05).all(), steps
    with pytest.raises(ValueError, match="beta must be a finite number ≥ 0"):
        colored_noise((2, 5), -1.0)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_autoregressive_noise_has_unit_variance_and_lag_correlation_rho(rho: float) -> None:
    noise = autoregressive_noise((8000, 10, 2), rho, generator=torch.Generator().manual_seed(0)).double()
    assert ((noise.var(dim=0) - 1).abs() < 0.1).all()
    for lag in (1, 3):
        corr = (noise[:, lag:] * noise[:, :-lag]).mean()
        assert abs(corr - rho**lag) < 0.05
