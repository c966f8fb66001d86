"""Reward models learned from cheap supervision (planned; nothing is implemented here yet).

This package will hold:
  - LOReL: a language-conditioned reward that scores whether a pair of observations (start,
    now) shows an instruction being carried out, trained on crowd-sourced annotations of
    offline robot data;
  - DVD (Domain-agnostic Video Discriminator): a reward that scores whether a robot video
    shows the same task as a human demonstration video.

Both will be trained with ``robolearn train`` and used by the planners in ``planners``.
"""
