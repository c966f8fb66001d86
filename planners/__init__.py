"""Planners: visual model-predictive control, behaviour cloning, and motion planning for the homes.

Modules (import them directly; this package imports nothing, so ``import planners`` stays cheap):

  - ``planners.optimizers``: sampling trajectory optimizers behind one interface,
    ``TrajectoryOptimizer.optimize(objective, x0)`` over (H, A) action sequences with batched
    (N, H, A) → (N,) objectives, plus ``advance`` (shift the warm start after acting) and ``reset``
    (clear all state between episodes): CEM (``cem``), iCEM (``icem``: colored noise, population
    decay, elite reuse and shifting) and MPPI (``mppi``), built from ``conf/optimizer/*.yaml`` by
    ``make_optimizer``; ``noise`` holds the temporally correlated noise generators.

  - ``planners.video``: the action-conditioned video-prediction model (``predict``, and the
    ``encode`` / ``rollout`` / ``decode`` path a planner uses to decode only the frames it scores);
  - ``planners.dynamics``: what candidates are rolled through — ``VideoModelDynamics`` (a trained
    video model) or ``SimulatorDynamics`` (the simulator itself, the oracle upper bound), whose
    candidates ``planners.simulator_rollouts`` rolls out in private worlds, over the cores;
  - ``planners.objectives``: reward sources over predicted futures — LOReL, a goal image, the oracle
    state reward — and their aggregation over the horizon (last, max, sum, mean);
  - ``planners.vmpc``: the receding-horizon agent (replan every k steps, warm-started) and
    ``run_episode``; ``robolearn plan`` runs it from the command line.

  - ``planners.policy``: the language-conditioned behaviour-cloning policy (LCBC, LOReL's baseline):
    config, model and checkpoint, as ``planners.video``;
  - ``planners.motion``: classical motion planning (A* on grids, RRT-Connect for the arm);
  - ``planners.navigation`` (config: ``planners.navigation_config``): the homes' navigation baseline;
  - ``planners.mobile_manipulation`` (config: ``planners.mobile_manipulation_config``): the homes'
    drawer and door baselines, and visual MPC as their local planner at the kitchen counter.

Config modules (``*_config.py``, ``planners.video.config``, ``planners.policy.config``) import no
simulator or torch, so composing and validating a config stays cheap.
"""
