"""Plumbing every package of robolearn shares: one home for infrastructure that is not about robots.

- ``sim.plumbing.checks``: validation of config values with one-line errors that name the field, the
  value and what is allowed (``check_range``, ``check_int``, ``check_number``, ...): every
  validator of the code base lives there; and the plain-dict round trip of config dataclasses;
- ``sim.plumbing.files``: atomic file writing (a crash leaves the old file or the new one, never half of
  one), outputs checked before the work (``check_writable``) and OS errors of writing turned into one-line
  ``OutputError``s that name the file, the option and the fix;
- ``sim.plumbing.processes``: worker processes that end with their parent however it ends (SIGKILL
  included): a pool initializer, and a guard for processes a library starts (a local Ray instance);
- ``sim.plumbing.quiet``: pybullet imported without its build-time banner on stderr;
- ``sim.plumbing.checkpoints``: the checkpoint protocol of learned models (a ``CheckpointKind`` names a
  format; save / read / load with errors that say what to do). It imports torch; the other modules import
  only the standard library and numpy.

Why here: the packages form one chain, ``sim`` → ``rewards`` → ``planners`` → ``robolearn`` (the CLI, data,
training and benchmarks), and ``sim`` imports nothing of the others. Plumbing that all four use must
therefore sit at the root of that chain, in ``sim``; putting it in ``rewards`` (where it used to live) made
``planners`` and ``robolearn.bench`` import the reward package for infrastructure. ``sim``'s own modules
never import ``sim.plumbing.checkpoints``, so the simulator does not load torch.
"""
