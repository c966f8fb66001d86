"""Training and evaluation of learned rewards (``robolearn train``, ``robolearn eval``).

* ``reward_data``: (s0, s_t, instruction, target) items drawn from structured hindsight labels, with
  LOReL's negatives and harder ones, checked structurally instead of by string inequality.
* ``train_reward``: the training loop (BCE, AdamW, augmentation, TensorBoard, resumable checkpoints).
* ``eval_reward``: held-out accuracy and ROC-AUC per task, and robustness to rephrasing.

Submodules are imported on use: importing this package loads neither torch nor the simulator.
"""
