"""Bad options on every verb's command line: each gets one line naming the option and what to write instead.

These are the options themselves (syntax, unknown keys, types, ranges, choices, group names); values that
parse but cannot work in the simulator, files and checkpoints have their own files in this folder.
"""

from __future__ import annotations

import pytest

from tests.bad_inputs.conftest import BadCli

HINT = "KEY=VALUE"  # every unreadable option's message says how options are written

CASES: list[tuple[list[str], tuple[str, ...]]] = [
    # the command itself
    (["rollouts"], ("'rollouts'", "rollout")),
    (["rollout", "--bogus"], ("--bogus", "KEY=VALUE")),
    # option syntax (Hydra's grammar), named with the option and how to write one
    (["rollout", "episodes"], ("'episodes'", HINT)),
    (["rollout", "episodes=[1"], ("'episodes=[1'", HINT)),
    (["rollout", "=3"], ("'=3'", "no key", HINT)),
    (["rollout", "a=b=c"], ("'a=b=c'", HINT, "a='...'")),
    (["rollout", "x='a"], ("x='a", HINT)),
    (["train", "bogus"], ("'bogus'", HINT)),
    (["bench", "agents=[random"], ("agents=[random", HINT)),
    # unknown keys, with the nearest real ones
    (["rollout", "+foo=1"], ("foo", "episodes")),
    (["rollout", "env.tsk=x"], ("env.tsk", "env.task")),
    (["rollout", "episode=3"], ("episode", "episodes")),
    (["collect", "out=/tmp/never", "+foo=1"], ("foo",)),
    (["train", "+bogus=1"], ("bogus",)),
    (["bench", "+foo=1"], ("foo",)),
    # group names
    (["rollout", "env=nowhere"], ("env/nowhere", "desk", "home", "counter")),
    (["rollout", "env="], ("env/", "desk")),
    (["rollout", "env=3"], ("env=3",)),
    (["plan", "optimizer=nope"], ("optimizer/nope", "cem", "icem", "mppi")),
    (["train", "reward=nope"], ("reward/nope", "lorel")),
    # types
    (["rollout", "episodes=abc"], ("episodes='abc'", "number")),
    (["rollout", "episodes=1.5"], ("episodes=1.5",)),
    (["rollout", "progress_bar=maybe"], ("progress_bar='maybe'", "true or false")),
    (["rollout", "episodes="], ("episodes=''",)),
    (["train", "dynamics", "steps=abc"], ("steps='abc'",)),
    (["collect", "out=/tmp/never", "episodes=[1,2]"], ("episodes",)),
    # ranges
    (["rollout", "episodes=0"], ("episodes=0", "≥ 1")),
    (["rollout", "seed=-1"], ("seed=-1",)),
    (["collect", "out=/tmp/never", "episodes=-1"], ("episodes=-1", "≥ 1")),
    (["collect", "out=/tmp/never", "workers=0"], ("workers=0", "≥ 1")),
    (["train", "steps=0"], ("steps=0", "≥ 1")),
    (["train", "lr=-1"], ("lr=-1", "> 0")),
    (["train", "val_fraction=1"], ("val_fraction=1",)),
    (["train", "policy", "batch_size=1"], ("batch_size=1", "≥ 2")),
    (["bench", "trials=0"], ("trials=0", "≥ 1")),
    (["bench", "workers=0"], ("workers=0", "≥ 1")),
    (["bench", "max_retries=-1"], ("max_retries=-1",)),
    (["bench", "first_seed=-1"], ("first_seed=-1",)),
    # choices
    (["rollout", "policy=smart"], ("policy='smart'", "expert", "random")),
    (["rollout", "env.task=fly_away"], ("fly_away", "open_drawer")),
    (["train", "reward.fusion=middle"], ("fusion='middle'", "early", "late")),
    (["plan", "objective=nope"], ("objective='nope'", "lorel", "oracle")),
    (["bench", "agents=[nobody]"], ("nobody", "random")),
    (["bench", "tasks=[fly]"], ("fly", "open_drawer")),
    (["bench", "variants=[moon]"], ("moon", "new_colors")),
    (["bench", "agents=[]"], ("agents",)),
    (["bench", "agents=[random,random]"], ("agents", "twice")),
    (["bench", "env=home", "splits=[val]"], ("val", "test")),
    # interpolations and required values
    (["rollout", "episodes=${oops}"], ("oops", "episodes")),
    (["eval"], ("checkpoint=PATH",)),
    # the data verb (argparse): one line with the usage
    (["data"], ("command", "usage: robolearn data")),
    (["data", "info"], ("root", "usage: robolearn data info")),
    (["data", "bogus"], ("'bogus'", "info")),
    (["data", "info", "a", "b"], ("unrecognized arguments: b",)),
    (["data", "show", "x", "-e", "q"], ("--episodes", "'q'")),
    (["data", "info", "/nonexistent/dataset"], ("/nonexistent/dataset", "no such dataset")),
]


@pytest.mark.parametrize(("argv", "needles"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_a_bad_option_is_one_line_naming_it(argv: list[str], needles: tuple[str, ...], bad_cli: BadCli) -> None:
    bad_cli(argv, *needles)
