"""Training and evaluation of learned rewards and video models (``robolearn train``, ``robolearn eval``).

* ``reward_data``: (s0, s_t, instruction, target) items drawn from structured hindsight labels, with
  LOReL's negatives and harder ones, checked structurally instead of by string inequality.
* ``train_reward``: the training loop (BCE, AdamW, augmentation, TensorBoard, resumable checkpoints).
* ``eval_reward``: held-out accuracy and ROC-AUC per task, and robustness to rephrasing.
* ``train_dynamics``: ``robolearn train dynamics``, the action-conditioned video model
  (``planners.video``): multi-step pixel loss on clips, resumable like the reward trainer.
* ``eval_dynamics``: held-out PSNR / SSIM per horizon step against copying the last frame.
* ``eval_options``: the options of ``robolearn eval`` (``conf/eval.yaml``), read by both evaluations.
* ``loop``: the training loop the trainers share; the pieces they share besides, one concept each:
  ``settings`` (``LoopSettings``: the options every trainer has, declared once as knobs; a composed config →
  a trainer's settings, one-line ``ConfigError``s), ``schedule``
  (the learning rate), ``datasets`` (the train/validation split, the dataset's identity, frame and
  proprioception checks), ``resume`` (refusing a resume with other settings, RNG state, ``init_from``),
  ``randomness`` (resume-safe generators keyed by (seed, stream, step));
* ``train_policy``: ``robolearn train policy``, the LCBC baseline (``planners.policy``);
* ``predicted_frames``, ``mixing``: video-model predictions as the reward's training frames, other
  datasets mixed into every batch.

Submodules are imported on use: importing this package loads neither torch nor the simulator.
"""
