"""Training and evaluation of learned rewards and video models (``robolearn train``, ``robolearn eval``).

* ``reward_data``: (s0, s_t, instruction, target) items drawn from structured hindsight labels, with
  LOReL's negatives and harder ones, checked structurally instead of by string inequality.
* ``train_reward``: the training loop (BCE, AdamW, augmentation, TensorBoard, resumable checkpoints).
* ``eval_reward``: held-out accuracy and ROC-AUC per task, and robustness to rephrasing.
* ``train_dynamics``: ``robolearn train dynamics``, the action-conditioned video model
  (``planners.video``): multi-step pixel loss on clips, resumable like the reward trainer.
* ``eval_dynamics``: held-out PSNR / SSIM per horizon step against copying the last frame.
* ``loop`` and ``common``: the training loop and helpers both trainers share.

Submodules are imported on use: importing this package loads neither torch nor the simulator.
"""
