"""Reward models learned from cheap supervision.

Layout: one subpackage per reward family, each split the way ``planners.video`` is (``config`` →
``model`` → ``checkpoint``, with the public names re-exported by its ``__init__``), beside the pieces
the families share:

  - ``rewards.lorel``: LOReL, a language-conditioned reward R(s0, s_t, instruction) = P(the change from
    s0 to s_t carries out the instruction), with batched ``score`` / ``score_pairs`` APIs for planners:
      - ``rewards.lorel.config``: ``LorelConfig`` (``conf/reward/lorel.yaml``);
      - ``rewards.lorel.model``: ``LorelReward`` and its parts (``ConvEncoder``, ``RewardHead``);
      - ``rewards.lorel.checkpoint``: ``save_checkpoint`` (atomic), ``load_checkpoint``, ``load_model``
        (``format: "robolearn.reward"``);
  - ``rewards.text``: ``TextEncoder``, instruction strings → (B, D) sentence embeddings (the packaged
    offline all-MiniLM-L6-v2 by default; attention-mask mean pooling; per-string LRU cache), shared by
    the language-conditioned rewards (and by ``planners.policy``);
  - ``rewards.metrics``: ``roc_auc``;
  - ``rewards.nets``: what the families' networks share: the conv geometry (``conv_padding``,
    ``conv_output_size``, ``conv_stack_side``; light, the configs use it) and ``evaluating`` (eval mode for a block).

``rewards.dvd``: DVD (Domain-agnostic Video Discriminator), a reward that scores whether a robot video
shows the same task as a demonstration video by another embodiment; its own ``config`` / ``model`` /
``checkpoint`` modules beside ``rewards.lorel`` and its own checkpoint kind (``robolearn.dvd``).

The checkpoint protocol itself (``CheckpointKind``, ``CheckpointError``, save / read / load of any
kind) is not reward-specific and lives in ``sim.plumbing.checkpoints``; the config checks in
``sim.plumbing.checks``.

This package's ``__init__`` imports nothing, so ``import rewards`` stays cheap — ``transformers``
alone takes seconds to import; import the subpackages and modules directly.

Dependencies point one way: ``rewards`` uses torch, transformers, numpy and ``sim.plumbing`` only
(not ``planners`` or ``robolearn``), so planners and the trainers can import it without them.
"""
