"""``robolearn bench``: agents evaluated across tasks, environment variants and seeds, with 95% intervals.

Modules: ``agents`` (what is evaluated), ``executor`` (serial, local processes or Ray, with retries),
``run`` (settings, episode jobs, resume, summary), ``stats`` (Wilson intervals), ``report`` (console
table, CSV, figure).
"""

from robolearn.bench.run import BenchError, BenchSettings, run_bench

__all__ = ["BenchError", "BenchSettings", "run_bench"]
