"""``robolearn demo "open the drawer"``, ``robolearn demo video=CLIP``: a language- or video-commanded episode on the
checkpoints shipped with the package.

The demo is ``robolearn plan`` with ``conf/demo.yaml`` on top: the shipped LOReL reward and video model
(``robolearn/checkpoints``), one episode, a video. ``scene=desk`` (the default) plans at the desk;
``scene=home`` starts the mobile manipulator anywhere in a held-out home, lets the drawer baseline drive to the
kitchen counter and dock, and plans the arm with the counter's shipped models (``conf/scene/``). Before
planning, the instruction is matched to a task (``robolearn.instructions``); an instruction that matches none,
or a task the shipped models were not trained and benchmarked for, gets an answer listing what the robot can do
instead of an episode.

``video=CLIP`` (a video file, a folder of them, ``DATASET:ids`` or the name of a demo video shipped in
``robolearn/checkpoints/demos``) selects ``scene=video``: the robot imitates the video with the shipped DVD reward
(``robolearn.demo_videos``); a video whose task is not recognised, or not one the shipped reward was benchmarked
for, gets an answer the same way.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from robolearn.config import ConfigError, quote_override
from robolearn.demo_videos import shipped_demos
from robolearn.instructions import capabilities, check_instruction, resolve_instruction
from robolearn.paths import SHIPPED_DIR
from robolearn.plan import PlanSettings, check_models, load_models, plan_demos, run_plan
from sim.plumbing.checks import shown

__all__ = [
    "DEMO_KEYS",
    "MANIFEST",
    "UnsupportedInstructionError",
    "instruction_overrides",
    "is_override",
    "run_demo",
    "shipped_success",
    "video_overrides",
]

# a Hydra override: a key (``env.width``, ``+agent.x``, ``scene``: no spaces) then ``=``
_OVERRIDE = re.compile(r"^[+~]{0,2}[A-Za-z_][\w.@/-]*=")
#: the demo's own keys (set by conf/scene/), read here; every other key is plan's (``robolearn.plan.PlanOptions``)
DEMO_KEYS = ("supported_tasks", "manifest_section")
#: what the shipped checkpoints are and how well they do (written with them; see their README.md)
MANIFEST = SHIPPED_DIR / "manifest.json"
#: the ``robolearn demo`` key that names a demo video to imitate (the demo's own; plan's is ``demo``)
VIDEO_KEY = "video"
#: the scene (conf/scene/) a video-commanded demo runs in
VIDEO_SCENE = "video"


class UnsupportedInstructionError(ValueError):
    """The instruction names a task the shipped models do not support; the message says what they do."""


def shipped_success(task: str, section: str | None = None) -> dict[str, Any] | None:
    """The shipped models' benchmarked success on ``task`` (``final``, ``episodes``, ``command``), if recorded.

    ``section``: the manifest entry of the models the demo planned with (``counter`` for ``scene=home``); None =
    the manifest's top level, the desk models'.
    """
    if not MANIFEST.is_file():
        return None
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    entry = manifest if section is None else manifest.get(section, {})
    rate = entry.get("success", {}).get(task)
    return None if rate is None else {**rate, "command": entry.get("success_command")}


def run_demo(cfg: DictConfig, echo: bool = True) -> dict[str, Any]:
    """Resolve the instruction, check the shipped models support it, plan one episode. Returns its summary.

    Raises:
        robolearn.instructions.UnknownInstructionError: the instruction matches no task.
        UnsupportedInstructionError: it matches a task outside ``supported_tasks``.
        ConfigError: an invalid value, or a shipped checkpoint is missing from the install.
    """
    supported = OmegaConf.to_container(cfg.get("supported_tasks"))
    if not isinstance(supported, list) or not supported:
        raise ConfigError("supported_tasks must be a non-empty list of tasks")
    section = cfg.get("manifest_section")
    if section is not None and not isinstance(section, str):
        raise ConfigError(f"manifest_section={section!r} must be a manifest.json entry name (e.g. counter) or null")
    for key in ("reward_checkpoint", "dynamics_model"):
        path = cfg.get(key)
        if isinstance(path, str) and path.startswith(str(SHIPPED_DIR)) and not os.path.isfile(path):
            raise ConfigError(
                f"the shipped checkpoint {path} is missing: reinstall robolearn "
                "(pip install -c constraints.txt -e .), or pass your own with "
                f"{key}=runs/.../best.pt"
            )
    if cfg.get("objective") == "dvd":
        return _run_video_demo(cfg, supported, section, echo)
    check_instruction(cfg.get("instruction"), supported)  # before the models load: say what the robot can do
    settings = PlanSettings.from_config(cfg, ignore=DEMO_KEYS)
    models = load_models(settings)  # loaded once: the resolver reuses the reward's sentence encoder
    check_models(settings, settings.env, models)  # they fit the env (and each other) before anything runs
    reward_model = models[0]
    # Resolved once, here, over every desk task (so an instruction the shipped models were not trained for is
    # recognised and answered), then handed to run_plan, which resolves nothing again.
    resolution = resolve_instruction(
        settings.instruction,
        settings.task,
        text_encoder=reward_model.text if reward_model is not None else None,
        min_similarity=settings.min_similarity,
        capable=supported,
    )
    task = resolution.task
    if resolution.by_matching:
        if task not in supported:
            raise UnsupportedInstructionError(
                f"I understood {shown(settings.instruction)} as {capabilities([task])[0]!r}, but the shipped models "
                f"were not trained and benchmarked for it. With them the robot can: "
                f"{'; '.join(capabilities(supported))}. To try it anyway: robolearn plan "
                f"instruction={shown(settings.instruction)} "
                f"reward_checkpoint=YOUR_REWARD.pt dynamics_model=YOUR_VIDEO_MODEL.pt"
            )
        if echo:
            print(resolution.describe(settings.instruction))
    results = run_plan(settings, echo=echo, models=models, resolution=resolution)
    if echo:
        _print_shipped_rate("the shipped models", task, section)
    return results[0]


def _print_shipped_rate(models: str, task: str, section: str | None) -> None:
    """Print how often ``models`` succeed on ``task`` in the benchmark (the manifest's figure), if recorded."""
    rate = shipped_success(task, section)
    if rate is not None:
        print(
            f"{models} succeed on {rate['final']:.0%} of {rate['episodes']} benchmark episodes of {task} "
            f"(final step; reproduce: {rate['command']})"
        )


def _run_video_demo(cfg: DictConfig, supported: list[Any], section: str | None, echo: bool) -> dict[str, Any]:
    """The video-commanded demo: read the demo videos, find their task, check the shipped reward supports it, plan."""
    settings = PlanSettings.from_config(cfg, ignore=DEMO_KEYS)
    models = load_models(settings)
    check_models(settings, settings.env, models)
    demos, resolution = plan_demos(settings, models[0], echo)
    task = resolution.task
    if task not in supported:
        names = ", ".join(n for n, e in shipped_demos().items() if e.get("task") in supported)
        shipped = f" (shipped videos: {names})" if names else ""
        given = " ".join(settings.demo or ())
        raise UnsupportedInstructionError(
            f"the video shows {capabilities([task])[0]!r} ({task}), but the shipped video reward was not benchmarked "
            f"for it. With it the robot imitates videos of: {'; '.join(capabilities(supported))}{shipped}. To try "
            f"it anyway: robolearn plan objective=dvd demo={shown(given)} task={task} dynamics_model=oracle"
        )
    results = run_plan(settings, echo=echo, models=models, resolution=resolution, demos=demos)
    if echo:
        _print_shipped_rate("the shipped video reward and the simulator", task, section)
    return results[0]


def video_overrides(args: Sequence[str]) -> list[str]:
    """``robolearn demo video=CLIP ...`` → plan's overrides: ``demo=CLIP`` in ``scene=video`` (the shipped DVD reward).

    ``video.path=`` (where the output video goes) is left alone; only ``video=`` itself names a demo video.

    Raises:
        ConfigError: words of an instruction beside the video, or another scene than the video's.
    """

    def key(arg: str) -> str | None:  # the override's key (``+video=`` too), None for words of an instruction
        return arg.partition("=")[0].lstrip("+~") if is_override(arg) else None

    named = [a for a in args if key(a) == VIDEO_KEY]
    if not named:
        return list(args)
    if len(named) > 1:
        raise ConfigError("give video= once (a list of demos is one value: video=[a.mp4,b.mp4])")
    if any(key(a) in (None, "instruction") and not a.startswith("-") for a in args):
        raise ConfigError(
            'give an instruction or a video, not both: robolearn demo "open the drawer" | robolearn demo video=CLIP'
        )
    other = [a.partition("=")[2] for a in args if key(a) == "scene" and a.partition("=")[2] != VIDEO_SCENE]
    if other:
        raise ConfigError(f"video= imitates a video at the desk (scene={VIDEO_SCENE}), not scene={other[0]}")
    value = named[0].partition("=")[2]
    rest = [a for a in args if a != named[0] and key(a) != "scene"]
    return [f"scene={VIDEO_SCENE}", f"demo={value}", *rest]


def is_override(arg: str) -> bool:
    """Whether a ``robolearn demo`` argument is a ``KEY=VALUE`` override (a dotted key without spaces before the
    ``=``) rather than words of the instruction ("set the drawer=open" is words)."""
    return _OVERRIDE.match(arg) is not None


def instruction_overrides(args: Sequence[str]) -> list[str]:
    """``robolearn demo`` arguments → overrides: the arguments that are not ``KEY=VALUE`` (``is_override``) nor
    options form the instruction, one quoted argument or unquoted words, which are joined.

    Raises:
        ConfigError: several quoted instructions (``demo "open the drawer" "close the drawer"``), or words and an
            ``instruction=`` override both.
    """
    words = [a for a in args if not a.startswith("-") and not is_override(a)]
    rest = [a for a in args if a not in words]
    if not words:
        return rest
    if len(words) > 1 and any(len(w.split()) > 1 for w in words):
        listed = ", ".join(shown(w, 40) for w in words[:3]) + (", ..." if len(words) > 3 else "")
        raise ConfigError(
            f'give one instruction, as one quoted argument, e.g. robolearn demo "open the drawer" (got '
            f"{len(words)}: {listed}); the demo plans one episode for one instruction"
        )
    if any(a.partition("=")[0].lstrip("+~") == "instruction" for a in rest):
        raise ConfigError(
            f"the instruction is given twice: as words ({shown(' '.join(words), 40)}) and as instruction=; give it once"
        )
    return [f"instruction={quote_override(' '.join(words))}", *rest]
