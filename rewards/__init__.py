"""Reward models learned from cheap supervision.

Modules (import them directly; this package imports nothing, so ``import rewards`` stays cheap —
``transformers`` alone takes seconds to import):

  - ``rewards.text``: ``TextEncoder``, instruction strings → (B, D) sentence embeddings (the packaged
    offline all-MiniLM-L6-v2 by default; attention-mask mean pooling; per-string LRU cache);
  - ``rewards.lorel``: ``LorelConfig`` and ``LorelReward``, a LOReL-style language-conditioned reward
    R(s0, s_t, instruction) = P(the change from s0 to s_t carries out the instruction), with batched
    ``score`` / ``score_pairs`` APIs for planners;
  - ``rewards.checkpoint``: ``save_checkpoint`` (atomic), ``load_checkpoint``, ``load_model``;
  - ``rewards.metrics``: ``roc_auc``.

Planned: DVD (Domain-agnostic Video Discriminator), a reward that scores whether a robot video shows
the same task as a human demonstration video.

Dependencies point one way: ``rewards`` uses torch, transformers and numpy only (not ``robolearn``
or ``sim``), so planners and the trainer can import it without the simulator.
"""
