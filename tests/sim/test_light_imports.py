"""Building and validating a config loads nothing heavy; sim's modules import one another without cycles.

Each config check runs in a fresh interpreter (``python -X importtime``), since this test process has long
imported PyBullet and torch; a failure names the heavy module and the chain of imports that pulled it in.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
#: what a config must never load: the simulator, the learning stack, and the homes' geometry libraries
HEAVY = ("pybullet", "torch", "transformers", "scipy", "networkx")

ROUND_TRIP = "from sim.config import to_dict\nfrom sim.plumbing.settings import from_mapping as from_dict\n"
CASES = {
    "sim.config": ROUND_TRIP
    + """
from sim.config import DeskEnvConfig
cfg = DeskEnvConfig(task="move_white_mug_up", variant="new_colors", obs_keys=("rgb", "depth"))
from_dict(DeskEnvConfig, to_dict(DeskEnvConfig()))
from_dict(DeskEnvConfig, to_dict(cfg))
""",
    "sim.home_config": ROUND_TRIP
    + """
from sim.home_config import HomeEnvConfig
from_dict(HomeEnvConfig, to_dict(HomeEnvConfig()))
from_dict(HomeEnvConfig, to_dict(HomeEnvConfig(task="open_door", robot="manipulator")))
""",
    "sim.counter_config": ROUND_TRIP
    + """
from sim.counter_config import CounterEnvConfig
from_dict(CounterEnvConfig, to_dict(CounterEnvConfig(task="close_drawer")))
""",
    "planners.navigation_config": ROUND_TRIP
    + """
from planners.navigation_config import NavAgentConfig
from_dict(NavAgentConfig, to_dict(NavAgentConfig()))
""",
    "planners.mobile_manipulation_config": ROUND_TRIP
    + """
from planners.mobile_manipulation_config import ManipulationAgentConfig
from_dict(ManipulationAgentConfig, to_dict(ManipulationAgentConfig()))
""",
    "robolearn.config": """
from robolearn.config import compose_config, env_config, manipulation_agent_config, nav_agent_config
desk = compose_config("rollout", ["env.task=close_drawer"])
env_config(desk.env)
home = compose_config("rollout", ["env=home", "env.task=interactive_nav"])
env_config(home.env)
nav_agent_config(home.nav_agent)
manipulation_agent_config(home.manipulation_agent)
env_config(compose_config("rollout", ["env=counter"]).env)
""",
    "video clip configs": """
from sim.video_randomization_config import VideoRandomizationConfig
from sim.actors import ACTORS, BEHAVIOURS, HELDOUT_ACTOR
from sim.actors.config import ActorConfig
from robolearn.data.videos.collect_config import CollectVideosOptions
VideoRandomizationConfig(); ActorConfig(); CollectVideosOptions()
assert HELDOUT_ACTOR in ACTORS and BEHAVIOURS
""",
    # The env and agent files; planners.video and planners.policy load torch in their packages' __init__.
    "robolearn.conf_files": """
from robolearn.conf_files import render
for path in ("env/desk.yaml", "env/home.yaml", "env/counter.yaml", "nav_agent/default.yaml",
             "manipulation_agent/default.yaml"):
    render(path)
""",
}


def import_chain(importtime: str, module: str) -> list[str]:
    """``module`` and the modules that imported it, innermost first, from ``python -X importtime`` output.

    Each line is ``import time: self | cumulative | <indent>name``, a module after the ones it imported, so the
    importer of a module is the next line indented less.
    """
    entries = []
    for line in importtime.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1]
            entries.append((len(name) - len(name.lstrip()), name.strip()))
    found = [i for i, (_, name) in enumerate(entries) if name == module]
    if not found:
        return [module]
    i = found[0]
    chain = [module]
    for depth, name in entries[i + 1 :]:
        if depth < entries[i][0]:
            chain.append(name)
            i = entries.index((depth, name), i + 1)
    return chain


@pytest.mark.parametrize("module", sorted(CASES))
def test_config_loads_nothing_heavy(module: str) -> None:
    """Constructing, validating and round-tripping the configs of ``module`` imports none of ``HEAVY``."""
    code = textwrap.dedent(CASES[module]) + f"\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-3000:]
    loaded = run.stdout.split()
    chains = ["  " + " <- ".join(import_chain(run.stderr, m)) for m in loaded]
    assert not loaded, f"{module}'s configs load {loaded}; imported by:\n" + "\n".join(chains)


def _import_graph() -> ModuleType:
    """``benchmarks/import_graph.py``, loaded from its path (benchmarks is not a package)."""
    spec = importlib.util.spec_from_file_location("import_graph", REPO / "benchmarks" / "import_graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_sim_imports_have_no_cycles() -> None:
    """No cycle among sim's modules, counting module-level imports, those under TYPE_CHECKING included."""
    graph = _import_graph()
    modules, edges = graph.repository_imports(REPO)
    cycles = [c for c in graph.import_cycles(modules, edges, "type_checking") if c[0].startswith("sim.")]
    assert not cycles, f"import cycles among sim's modules: {cycles}"


def test_sim_function_local_imports_say_why() -> None:
    """A function-local import in sim carries a comment that says why it is not at the top of its module."""
    graph = _import_graph()
    _, edges = graph.repository_imports(REPO)
    silent = [f"{e.source}:{e.line}: {e.text}" for e in graph.function_local(edges) if e.source.startswith("sim.")]
    silent = [s for s in silent if "#" not in s]
    assert not silent, "function-local imports without a reason:\n" + "\n".join(silent)
