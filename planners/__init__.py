"""Planners (planned; nothing is implemented here yet).

This package will hold:
  - visual model-predictive control: an action-conditioned video-prediction model plus
    sampling-based trajectory optimisers (CEM, iCEM, MPPI) that score predicted futures with a
    reward model from ``rewards``;
  - motion planning for the arm in the simulator's scenes.

They will be run with ``robolearn plan`` and evaluated with ``robolearn eval``.
"""
