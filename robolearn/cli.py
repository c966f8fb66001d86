"""``robolearn VERB [key=value ...]``: one verb per job, configured with Hydra overrides.

Each verb composes its config from ``conf/<verb>.yaml`` (plus groups such as ``conf/env/``),
applies the command-line overrides and runs. Exit codes: 0 done, 1 the job failed while
running (e.g. an episode raised), 2 a usage or configuration error (unknown verb, unknown key,
invalid value) or an output that cannot be written (a parent that is a file, a read-only or
full disk, a quota, no permission: checked before the work starts where it can be, and when a
write fails during the work; finished work is kept, so rerunning once it is fixed resumes),
reported as one line on stderr; 130 interrupted (Ctrl-C, SIGINT) and 143 terminated (``kill``,
SIGTERM), both after the verb stopped its worker processes and saved what it finished (a rerun
resumes ``collect``, ``train`` and ``bench``). A second SIGTERM ends the process at once; its
workers still exit with it (``sim.plumbing.processes``).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from robolearn import __version__

if TYPE_CHECKING:  # pragma: no cover - the verbs import what they run on use
    from omegaconf import DictConfig

    from robolearn.bench.home import HomeBenchSettings
    from robolearn.bench.run import BenchSettings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # the shell's convention: 128 + SIGINT (2), 128 + SIGTERM (15)
PROG = "robolearn"


@dataclass(frozen=True)
class Verb:
    """A subcommand: a one-line summary, and a runner (None while the verb is only planned)."""

    summary: str
    run: Callable[[list[str]], int] | None = None


#: how torch re-raises an exception of a DataLoader worker: its message is this, then the worker's traceback
_WORKER_TRACEBACK = "\nOriginal Traceback (most recent call last):"


def error_line(message: str) -> str:
    """A message as one line: the worker's own message when torch re-raised it from a DataLoader worker (its
    traceback's last line, without the exception's name), else its lines joined, never cut."""
    if _WORKER_TRACEBACK in message:
        last = [line for line in message.splitlines() if line.strip()][-1]
        name, sep, rest = last.partition(": ")
        message = rest if sep and " " not in name else last
    return " ".join(line.strip() for line in message.splitlines() if line.strip())


def _error(verb: str | None, message: str) -> None:
    """``robolearn VERB: error: MESSAGE`` on stderr, on one line: a message's lines are joined, never cut."""
    where = f"{PROG} {verb}" if verb else PROG
    print(f"{where}: error: {error_line(message)}", file=sys.stderr)


def _one_line(error: BaseException) -> str:
    """An error's whole message on one line (its lines joined, never cut; a DataLoader worker's own message
    without torch's copy of its traceback), or its type's name when it has none."""
    return error_line(str(error)) or type(error).__name__


def _os_error(verb: str, error: OSError, doing: str) -> int:
    """Report an ``OSError`` of a verb: an output that cannot be written (``sim.plumbing.files.OutputError``,
    whose message names the file and the fix) is exit code 2, any other ``could not {doing}``, exit code 1."""
    from sim.plumbing.files import OutputError  # lazy: importing sim registers the envs (gymnasium, ~120 ms)

    if isinstance(error, OutputError):
        _error(verb, str(error))
        return EXIT_USAGE
    _error(verb, f"could not {doing}: {_one_line(error)}")
    return EXIT_FAILED


# ------------------------------------------------------------ hydra verbs
def _verb_help(verb: str, examples: Sequence[str], config: str | None = None, usage: str = "", about: str = "") -> str:
    """A Hydra verb's help: usage, summary (+ ``about``), options, examples and its config file.

    ``config`` is the config name (default: the verb) and ``usage`` the words after the verb (e.g. a family).
    """
    from robolearn.paths import conf_dir  # lazy: only a verb's help reads it; robolearn --help stays fast

    conf = conf_dir()
    config = config or verb
    usage = f"{usage} " if usage else ""
    return (
        f"usage: {PROG} {verb} {usage}[--cfg] [KEY=VALUE ...]\n\n"
        f"{VERBS[verb].summary}.\n\n"
        + (f"{about}\n\n" if about else "")
        + f"Options are Hydra overrides of conf/{config}.yaml (below) and of the environment,\n"
        f"env.* from {conf / 'env' / 'desk.yaml'} (with env=home or env=counter: {conf / 'env'}/<env>.yaml).\n"
        "  --cfg      print the composed config and exit\n"
        "  -h, --help show this help\n\n"
        "examples:\n"
        + "".join(f"  {PROG} {verb} {e}".rstrip() + "\n" for e in examples)
        + f"\n# {conf / f'{config}.yaml'}\n"
        + (conf / f"{config}.yaml").read_text()
    )


def _compose_verb(
    verb: str, args: list[str], examples: Sequence[str], config: str | None = None, **help_parts: str
) -> tuple[DictConfig | None, int]:
    """Parse ``[--cfg] [--help] KEY=VALUE...`` into a composed config.

    ``config`` is the config name (default: the verb); ``help_parts`` go to ``_verb_help``. Returns
    (config, EXIT_OK) to go on, or (None, exit code) when the verb is already done (help, --cfg) or the
    arguments are wrong.
    """
    from omegaconf import OmegaConf  # lazy: omegaconf; --help stays fast

    from robolearn.config import ConfigError, compose_config  # lazy: hydra; --help stays fast

    flags = [a for a in args if a.startswith("-")]
    overrides = [a for a in args if not a.startswith("-")]
    if any(f in ("-h", "--help") for f in flags):
        print(_verb_help(verb, examples, config, **help_parts))
        return None, EXIT_OK
    unknown = [f for f in flags if f != "--cfg"]
    if unknown:
        _error(
            verb,
            f"unknown option {unknown[0]!r}; options are --cfg and --help, "
            "everything else is KEY=VALUE (e.g. env.task=close_drawer)",
        )
        return None, EXIT_USAGE
    try:
        cfg = compose_config(config or verb, overrides)
    except (ConfigError, FileNotFoundError) as e:
        _error(verb, _kind_refusal(verb, config or verb, overrides) or str(e))
        return None, EXIT_USAGE
    if "--cfg" in flags:
        print(OmegaConf.to_yaml(cfg), end="")
        return None, EXIT_OK
    return cfg, EXIT_OK


#: verbs that run only in some env kinds (``robolearn.kinds.EnvKind.supports``)
KIND_VERBS = ("collect", "plan", "bench")


def _kind_refusal(verb: str, config: str, overrides: Sequence[str]) -> str | None:
    """Why ``verb`` does not run in the env the user chose (``env=counter``), if it does not: said before any
    complaint about the other overrides, which may be keys of the verb in the envs it runs in (bench's trials)."""
    from robolearn.config import ConfigError, compose_config, env_kind, group_overrides, require  # lazy: hydra

    if verb not in KIND_VERBS:
        return None
    try:
        kind = env_kind(compose_config(config, group_overrides(overrides)).get("env"))
    except ConfigError:  # a bad group choice: the user hears about it as it is
        return None
    if kind.supports(verb):
        return None
    try:
        require(kind, verb)
    except ConfigError as e:
        return str(e)
    return None


def _guarded(
    verb: str,
    job: Callable[[], object],
    usage: tuple[type[BaseException], ...],
    failed: tuple[type[BaseException], ...] = (),
    writing: str = "write its output",
) -> int:
    """Run ``job``; map errors to exit codes with one line on stderr: ``usage`` ones (bad input) and outputs that
    cannot be written → 2, ``failed`` ones and other I/O errors (``could not {writing}``) → 1."""
    try:
        job()
    except usage as e:
        _error(verb, _one_line(e))
        return EXIT_USAGE
    except failed as e:
        _error(verb, _one_line(e))
        return EXIT_FAILED
    except OSError as e:
        return _os_error(verb, e, writing)
    return EXIT_OK


# ------------------------------------------------------------------ rollout
ROLLOUT_EXAMPLES = (
    "",
    "env.task=close_drawer policy=random video.path=out.gif",
    "env.task=move_white_mug_up episodes=10 env.randomization.colors=true",
)


def _rollout(args: list[str]) -> int:
    """``robolearn rollout``: run episodes, print per-episode success and a summary, write a video."""
    from robolearn.config import ConfigError  # lazy: hydra; --help stays fast
    from robolearn.rollout import RolloutSettings, run_rollout, summarize  # lazy: pybullet; --help stays fast

    cfg, code = _compose_verb("rollout", args, ROLLOUT_EXAMPLES)
    if cfg is None:
        return code
    try:
        settings = RolloutSettings.from_config(cfg)
    except ConfigError as e:
        _error("rollout", str(e))
        return EXIT_USAGE
    except OSError as e:  # the video's folder cannot be written (checked before the episodes run)
        return _os_error("rollout", e, "write the video")

    try:
        results = run_rollout(settings)
    except ConfigError as e:  # a value the episodes cannot run with (e.g. a home too small for env.nav.min_geodesic)
        _error("rollout", _one_line(e))
        return EXIT_USAGE
    except OSError as e:  # e.g. a full disk
        return _os_error("rollout", e, "write the video")

    from rich.console import Console  # lazy: rich; --help stays fast

    s = summarize(results)
    console = Console(highlight=False, soft_wrap=True)
    first = results[0]

    def rate(ok: int) -> str:
        color = "green" if ok == s["episodes"] else ("yellow" if ok else "red")
        return f"[{color}]{ok}/{s['episodes']} ({100 * ok / s['episodes']:.0f}%)[/{color}]"

    console.print(
        f'[bold]{first["task"]}[/bold] ("{first["instruction"]}"), policy {first["policy"]}: '
        f"success any-step {rate(s['success_any'])}, final-step {rate(s['success_final'])}"
    )
    if settings.video.path is not None:
        frames = sum(r["frames"] for r in results)
        console.print(f"video: {settings.video.path} ({frames} frames, {settings.video.fps:g} fps)")
    return EXIT_OK


# ------------------------------------------------------------------ collect
COLLECT_EXAMPLES = (
    "out=data/desk episodes=50000",
    "out=data/small episodes=200 workers=1",
    "out=data/desk episodes=50000 ray_address=auto",
)


COLLECT_VIDEOS_EXAMPLES = (
    "videos out=data/videos actor_clips=5000",
    "videos out=data/videos_eval seed=1000000 actor_clips=1000 robot_variants=[train,new_colors,new_viewpoint,"
    "new_arrangement]",
    "videos out=data/videos_heldout_actor seed=2000000 actor_clips=500 actors=heldout robot_demos_per_task=0",
)
COLLECT_VIDEOS_ABOUT = (
    "Renders labelled video clips (robolearn.data.videos.collect): robot demos (the scripted expert,\n"
    "robot_demos_per_task per robot task and variant) and clips of non-robot actors (sim.actors) doing desk\n"
    "tasks and more, in randomized scenes, stored in the dataset format (`robolearn data info OUT` counts them).\n"
    "There is no env group: the actors' scenes are drawn per clip."
)


def _collect(args: list[str]) -> int:
    """``robolearn collect [videos]``: collect or resume an offline dataset, or a clip dataset (``videos``)."""
    if args and args[0] == "videos":
        return _collect_videos(args[1:])
    if args and args[0] == "planner-clips":
        return _collect_planner_clips(args[1:])
    from robolearn.config import ConfigError  # lazy: hydra; --help stays fast
    from robolearn.data.collect import (  # lazy: pybullet, h5py; --help stays fast
        CollectSettings,
        EpisodeFailed,
        run_collect,
    )
    from robolearn.data.metadata import DatasetError  # lazy: h5py; --help stays fast

    cfg, code = _compose_verb("collect", args, COLLECT_EXAMPLES)
    if cfg is None:
        return code
    return _guarded(
        "collect",
        lambda: run_collect(CollectSettings.from_config(cfg)),
        (ConfigError, DatasetError),
        (EpisodeFailed,),
        "write the dataset",
    )


def _collect_videos(args: list[str]) -> int:
    """``robolearn collect videos``: render (or resume) a clip dataset."""
    from robolearn.config import ConfigError  # lazy: hydra; --help stays fast
    from robolearn.data.metadata import DatasetError  # lazy: h5py; --help stays fast
    from robolearn.data.videos.collect import (  # lazy: h5py, PyBullet on use; --help stays fast
        ClipFailed,
        CollectVideosSettings,
        run_collect_videos,
    )

    cfg, code = _compose_verb(
        "collect",
        args,
        COLLECT_VIDEOS_EXAMPLES,
        config="collect_videos",
        usage="videos",
        about=COLLECT_VIDEOS_ABOUT,
    )
    if cfg is None:
        return code
    return _guarded(
        "collect",
        lambda: run_collect_videos(CollectVideosSettings.from_config(cfg)),
        (ConfigError, DatasetError),
        (ClipFailed,),
        "write the dataset",
    )


PLANNER_CLIPS_EXAMPLES = (
    "planner-clips out=data/planner_clips clips=200",
    "planner-clips out=data/planner_clips_r2 checkpoint=runs/dvd_r1/best.pt seed=6000000",
)
PLANNER_CLIPS_ABOUT = (
    "Plans whole desk episodes with visual MPC maximising a DVD reward (the simulator as dynamics, demo\n"
    "videos of non-robot actors), executes each plan and stores it as a robot clip labelled by what it did\n"
    "(robolearn.planner_clips): hard negatives for fine-tuning the reward (robolearn train dvd init_from=...)."
)


def _collect_planner_clips(args: list[str]) -> int:
    """``robolearn collect planner-clips``: plan (or resume) a dataset of the DVD planner's own clips."""
    from robolearn.config import ConfigError  # lazy: hydra; --help stays fast
    from robolearn.data.metadata import DatasetError  # lazy: h5py; --help stays fast
    from robolearn.planner_clips import PlannerClipsSettings, run_planner_clips  # lazy: torch, PyBullet
    from sim.plumbing.checkpoints import CheckpointError  # lazy: gymnasium (~120 ms); stays light

    cfg, code = _compose_verb(
        "collect",
        args,
        PLANNER_CLIPS_EXAMPLES,
        config="collect_planner_clips",
        usage="planner-clips",
        about=PLANNER_CLIPS_ABOUT,
    )
    if cfg is None:
        return code
    return _guarded(
        "collect",
        lambda: run_planner_clips(PlannerClipsSettings.from_config(cfg)),
        (ConfigError, DatasetError, CheckpointError),
        writing="write the dataset",
    )


# -------------------------------------------------------------------- train
TRAIN_EXAMPLES = (
    "data=data/desk out=runs/lorel",
    "data=data/desk out=runs/late reward.fusion=late max_minutes=20",
    "data=data/desk out=runs/lorel steps=40000    # resume runs/lorel/last.pt, train longer",
    "dynamics data=data/desk out=runs/video      # a video-prediction model (--help: its options)",
)
TRAIN_DYNAMICS_EXAMPLES = (
    "dynamics data=data/desk out=runs/video",
    "dynamics data=data/desk out=runs/video_sv dynamics.stochastic=true max_minutes=20",
    "dynamics data=data/desk out=runs/video steps=12000    # resume, train longer",
)
#: model families of `robolearn train FAMILY`: family -> config name (the first is the default)
TRAIN_POLICY_EXAMPLES = (
    "policy data=data/desk out=runs/lcbc",
    "policy data=data/desk out=runs/lcbc_expert expert_only=true policy.proprio_dim=14",
)
TRAIN_DVD_EXAMPLES = (
    "dvd data=[data/videos] out=runs/dvd",
    "dvd robot_only=true out=runs/dvd_robot    # the same robot demos alone",
    "dvd reward.head=concat hard_negatives=false out=runs/dvd_concat    # the DVD-faithful baseline",
)
TRAIN_FAMILIES = {"reward": "train", "dynamics": "train_dynamics", "policy": "train_policy", "dvd": "train_dvd"}
TRAIN_USAGE = "[reward|dynamics|policy|dvd]"
TRAIN_ABOUT = (
    "Families (the first word): reward (the default) trains a LOReL language-conditioned reward from\n"
    "conf/train.yaml; dynamics trains an action-conditioned video-prediction model for visual MPC\n"
    "from conf/train_dynamics.yaml (`robolearn train dynamics --help` shows its options); policy trains a\n"
    "language-conditioned behaviour-cloning policy (LCBC, the baseline) from conf/train_policy.yaml; dvd trains a\n"
    "DVD video reward (same task as a demo video?) from conf/train_dvd.yaml."
)


def _train(args: list[str]) -> int:
    """``robolearn train [reward|dynamics|policy]``: train (or resume) a LOReL reward, a video model or an LCBC
    policy; print a summary."""
    from rewards.text import TextModelUnavailableError  # lazy: torch; --help stays fast
    from robolearn.config import ConfigError  # lazy: hydra; --help stays fast
    from robolearn.data.metadata import DatasetError  # lazy: h5py; --help stays fast
    from sim.plumbing.checkpoints import CheckpointError  # lazy: gymnasium (~120 ms); stays light

    family = args[0] if args and args[0] in TRAIN_FAMILIES else "reward"
    rest = args[1:] if args and args[0] in TRAIN_FAMILIES else args
    # train(cfg): the family's settings from the composed config, then its run
    train: Callable[[DictConfig], object]
    examples: Sequence[str]
    if family == "dynamics":
        from robolearn.training.train_dynamics import (  # lazy: torch; --help stays fast
            DynamicsTrainSettings,
            run_train_dynamics,
        )

        def train(cfg: DictConfig) -> object:
            return run_train_dynamics(DynamicsTrainSettings.from_config(cfg))

        examples, usage = TRAIN_DYNAMICS_EXAMPLES, "dynamics"
    elif family == "policy":
        from robolearn.training.train_policy import (  # lazy: torch; --help stays fast
            PolicyTrainSettings,
            run_train_policy,
        )

        def train(cfg: DictConfig) -> object:
            return run_train_policy(PolicyTrainSettings.from_config(cfg))

        examples, usage = TRAIN_POLICY_EXAMPLES, "policy"
    elif family == "dvd":
        from robolearn.training.train_dvd import DVDTrainSettings, run_train_dvd  # lazy: torch; --help stays fast

        def train(cfg: DictConfig) -> object:
            return run_train_dvd(DVDTrainSettings.from_config(cfg))

        examples, usage = TRAIN_DVD_EXAMPLES, "dvd"
    else:
        from robolearn.training.train_reward import TrainSettings, run_train  # lazy: torch; --help stays fast

        def train(cfg: DictConfig) -> object:
            return run_train(TrainSettings.from_config(cfg))

        examples, usage = TRAIN_EXAMPLES, TRAIN_USAGE
    cfg, code = _compose_verb("train", rest, examples, config=TRAIN_FAMILIES[family], usage=usage, about=TRAIN_ABOUT)
    if cfg is None:
        return code
    try:
        train(cfg)
    except (ConfigError, DatasetError, CheckpointError) as e:
        _error("train", _one_line(e))
        return EXIT_USAGE
    except TextModelUnavailableError as e:
        _error("train", _one_line(e) + " (see `robolearn train --help`)")
        return EXIT_USAGE
    except OSError as e:
        return _os_error("train", e, "read the data or write the run folder")
    return EXIT_OK


# --------------------------------------------------------------------- eval
EVAL_EXAMPLES = (
    "checkpoint=runs/lorel/best.pt",
    "checkpoint=runs/lorel/best.pt data=data/desk",
    "checkpoint=runs/lorel/best.pt instructions=my_phrasings.yaml out=reports/",
    "checkpoint=runs/video/best.pt video.clips_per_episode=4    # a video model: PSNR/SSIM per step",
)


def _is_video_checkpoint(path: object) -> bool:
    """Whether ``path`` is a video-model checkpoint (its ``format`` field); anything else is a reward's."""
    if not isinstance(path, str) or not path or path == "???":
        return False
    from planners.video.checkpoint import CHECKPOINT_FORMAT  # lazy: torch; --help stays fast
    from sim.plumbing.checkpoints import peek_format  # lazy: gymnasium (~120 ms); stays light

    return peek_format(path) == CHECKPOINT_FORMAT


EVAL_DVD_EXAMPLES = (
    "dvd checkpoint=runs/dvd/best.pt data=[data/videos,data/videos_eval,data/videos_heldout_actor]",
    "dvd checkpoint=runs/dvd_robot/best.pt out=reports/    # the robot-only run, its table in reports/",
)


def _eval_dvd(args: list[str]) -> int:
    """``robolearn eval dvd``: a DVD reward's pair ROC-AUC / accuracy per split and ranking check (table, figure)."""
    from robolearn.config import ConfigError  # lazy: hydra; --help stays fast
    from robolearn.data.metadata import DatasetError  # lazy: h5py; --help stays fast
    from robolearn.training.eval_dvd import DVDEvalSettings, run_eval_dvd  # lazy: torch; --help stays fast
    from sim.plumbing.checkpoints import CheckpointError  # lazy: gymnasium (~120 ms); stays light

    cfg, code = _compose_verb("eval", args, EVAL_DVD_EXAMPLES, config="eval_dvd", usage="dvd")
    if cfg is None:
        return code
    return _guarded(
        "eval",
        lambda: run_eval_dvd(DVDEvalSettings.from_config(cfg)),
        (ConfigError, DatasetError, CheckpointError, FileNotFoundError),
        writing="read the data or write the report",
    )


def _eval(args: list[str]) -> int:
    """``robolearn eval``: a reward checkpoint's per-task accuracy/AUC and rephrasing table, or a video
    model's held-out PSNR/SSIM per horizon step against copying the last frame (by the checkpoint's format);
    ``robolearn eval dvd``: a DVD reward's table (``_eval_dvd``)."""
    if args and args[0] == "dvd":
        return _eval_dvd(args[1:])
    from rewards.text import TextModelUnavailableError  # lazy: torch; --help stays fast
    from robolearn.config import ConfigError  # lazy: hydra; --help stays fast
    from robolearn.data.metadata import DatasetError  # lazy: h5py; --help stays fast
    from robolearn.training.eval_reward import EvalSettings, run_eval  # lazy: torch; --help stays fast
    from sim.plumbing.checkpoints import CheckpointError  # lazy: gymnasium (~120 ms); stays light

    # `instructions=FILE` names a file, but conf/instructions/ (the shipped paraphrases) makes Hydra
    # read `instructions=` as a config-group choice; so the value is set after composing, and --cfg
    # is printed here, once it is in.
    files = [a.split("=", 1)[1] for a in args if a.startswith("instructions=")]
    rest = [a for a in args if not a.startswith("instructions=") and a != "--cfg"]
    cfg, code = _compose_verb("eval", rest, EVAL_EXAMPLES)
    if cfg is None:
        return code
    if files:
        cfg.instructions = files[-1] or None  # the last one wins, as with any repeated override
    if "--cfg" in args:
        from omegaconf import OmegaConf  # lazy: omegaconf; --help stays fast

        print(OmegaConf.to_yaml(cfg), end="")
        return EXIT_OK
    try:
        if _is_video_checkpoint(cfg.get("checkpoint")):
            from robolearn.training.eval_dynamics import (  # lazy: torch; --help stays fast
                VideoEvalSettings,
                run_video_eval,
            )

            run_video_eval(VideoEvalSettings.from_config(cfg))
        else:
            run_eval(EvalSettings.from_config(cfg))
    except (ConfigError, DatasetError, CheckpointError, FileNotFoundError) as e:
        _error("eval", _one_line(e))
        return EXIT_USAGE
    except TextModelUnavailableError as e:
        _error("eval", _one_line(e))
        return EXIT_USAGE
    except OSError as e:
        return _os_error("eval", e, "read the data or write the report")
    return EXIT_OK


# --------------------------------------------------------------------- plan
PLAN_EXAMPLES = (
    'instruction="open the drawer" reward_checkpoint=runs/lorel/best.pt dynamics_model=runs/video/best.pt',
    'instruction="turn the faucet left" objective=oracle dynamics_model=oracle optimizer=icem',
    'instruction="close the drawer" reward_checkpoint=runs/lorel/best.pt episodes=5 results=plan.json',
    "objective=dvd demo=clip.mp4 dynamics_model=oracle    # imitate a video with the shipped DVD reward",
)


def _plan(args: list[str]) -> int:
    """``robolearn plan``: closed-loop visual-MPC episodes for an instruction or demo videos; print success, write a
    video."""
    from rewards.text import TextModelUnavailableError  # lazy: torch; --help stays fast
    from robolearn.config import ConfigError  # lazy: hydra; --help stays fast
    from robolearn.data.metadata import DatasetError  # lazy: h5py; --help stays fast
    from robolearn.demo_videos import DemoError  # lazy: torch, OpenCV; --help stays fast
    from robolearn.instructions import UnknownInstructionError  # lazy: pybullet; --help stays fast
    from robolearn.plan import PlanSettings, run_plan  # lazy: torch, pybullet; --help stays fast
    from sim.plumbing.checkpoints import CheckpointError  # lazy: gymnasium (~120 ms); stays light

    cfg, code = _compose_verb("plan", args, PLAN_EXAMPLES)
    if cfg is None:
        return code
    return _guarded(
        "plan",
        lambda: run_plan(PlanSettings.from_config(cfg)),
        (
            UnknownInstructionError,
            DemoError,
            ConfigError,
            CheckpointError,
            DatasetError,
            TextModelUnavailableError,
            FileNotFoundError,
        ),
        writing="write the video or results",
    )


# -------------------------------------------------------------------- bench
BENCH_EXAMPLES = (
    "agents=[random,vmpc_lorel] variants=[train] trials=20",
    "env=home tasks=[interactive_nav] trials=20    # navigation agents in the homes (conf/bench/home.yaml)",
    "agents=[vmpc_lorel] instruction_file=my_phrasings.yaml out=outputs/phrasings",
    "agents=[vmpc_lorel_oracle,vmpc_oracle] variants=[train] workers=8",
    "ray_address=auto    # a running Ray cluster",
    "--multirun agents=[vmpc_lorel] +agent_specs.vmpc_lorel.plan.optimizer=cem,mppi",
)
MULTIRUN_FLAGS = ("-m", "--multirun")


def _bench(args: list[str]) -> int:
    """``robolearn bench [--multirun]``: benchmark agents; print the table, write JSON, CSV and a figure."""
    return _bench_runs(args)


def bench_settings(cfg: DictConfig) -> BenchSettings | HomeBenchSettings:
    """The validated settings of a composed ``bench`` config: the bench hook of its env's kind (``robolearn.kinds``:
    ``BenchSettings`` at the desk, ``HomeBenchSettings`` in the homes).

    Raises:
        ConfigError: the env's kind has no bench, or an invalid value (one line).
    """
    from robolearn.config import env_kind, require  # lazy: hydra; --help stays fast
    from robolearn.kinds import load  # lazy: gymnasium (~120 ms); configs stay light

    kind = env_kind(cfg.get("env"))
    require(kind, "bench")
    bench = cast(str, kind.bench)  # not None: require() checked it
    settings: BenchSettings | HomeBenchSettings = load(bench).from_config(cfg)
    return settings


def _bench_runs(args: list[str]) -> int:
    from robolearn.bench import BenchError, run_bench  # lazy: pybullet, torch; --help stays fast
    from robolearn.bench.executor import JobsFailed  # lazy: pybullet, torch; --help stays fast
    from robolearn.config import ConfigError, sweep_overrides  # lazy: hydra; --help stays fast

    multirun = any(a in MULTIRUN_FLAGS for a in args)
    args = [a for a in args if a not in MULTIRUN_FLAGS]
    try:
        runs = sweep_overrides([a for a in args if not a.startswith("-")]) if multirun else [None]
    except ConfigError as e:
        _error("bench", str(e))
        return EXIT_USAGE
    for i, sweep in enumerate(runs):
        flags = [a for a in args if a.startswith("-")]
        overrides = args if sweep is None else flags + sweep
        # The env group picks the bench group (conf/bench/<env>.yaml) in conf/bench.yaml's defaults list.
        cfg, code = _compose_verb("bench", overrides, BENCH_EXAMPLES)
        if cfg is None:
            return code
        if sweep is not None:  # each run of a sweep gets its own results folder, out/<run index>
            cfg.out = f"{cfg.out}/{i}"
            print(f"[multirun {i + 1}/{len(runs)}] {' '.join(sweep)} → {cfg.out}", flush=True)
        # ConfigError: also ray_address without Ray installed (robolearn.ray_session: the message says how to
        # install it)

        def job(cfg: DictConfig = cfg) -> dict[str, Any]:
            return run_bench(bench_settings(cfg))

        code = _guarded(
            "bench",
            job,
            (ConfigError, ImportError),
            (BenchError, JobsFailed),
            "write the results",
        )
        if code != EXIT_OK:
            return code
    return EXIT_OK


# --------------------------------------------------------------------- demo
DEMO_EXAMPLES = (
    '"open the drawer"',
    '"turn the faucet right" seed=3 video.path=faucet.gif',
    '"push the drawer shut" optimizer=cem',
    'scene=home "open the kitchen drawer"',
    "video=move_white_mug_left_hand    # imitate a shipped demo video (or video=clip.mp4)",
)
DEMO_ABOUT = (
    "The words without '=' are the instruction. Tasks the shipped models do: open / close the drawer,\n"
    "turn the faucet left / right, move the black mug right, move the white mug down; with scene=home\n"
    "(a held-out home: drive to the kitchen counter, dock, then plan the arm) open the drawer.\n"
    "video=CLIP instead of an instruction: imitate a video (a file, a folder, DATASET:ids or a shipped demo's name)."
)


def _demo(args: list[str]) -> int:
    """``robolearn demo "INSTRUCTION"``: one planned episode on the shipped checkpoints; print success, write a video."""
    from rewards.text import TextModelUnavailableError  # lazy: torch; --help stays fast
    from robolearn.config import ConfigError  # lazy: hydra; --help stays fast
    from robolearn.data.metadata import DatasetError  # lazy: h5py; --help stays fast
    from robolearn.demo import (  # lazy: torch, pybullet; --help stays fast
        UnsupportedInstructionError,
        instruction_overrides,
        run_demo,
        video_overrides,
    )
    from robolearn.demo_videos import DemoError  # lazy: torch, OpenCV; --help stays fast
    from robolearn.instructions import UnknownInstructionError  # lazy: pybullet; --help stays fast
    from sim.plumbing.checkpoints import CheckpointError  # lazy: gymnasium (~120 ms); stays light

    try:
        overrides = instruction_overrides(video_overrides(args))
    except ConfigError as e:
        _error("demo", str(e))
        return EXIT_USAGE
    cfg, code = _compose_verb("demo", overrides, DEMO_EXAMPLES, usage='"INSTRUCTION"', about=DEMO_ABOUT)
    if cfg is None:
        return code
    return _guarded(
        "demo",
        lambda: run_demo(cfg),
        (
            UnknownInstructionError,
            UnsupportedInstructionError,
            DemoError,
            ConfigError,
            CheckpointError,
            DatasetError,
            TextModelUnavailableError,
            FileNotFoundError,
        ),
        writing="write the video",
    )


# --------------------------------------------------------------------- data
def _data(args: list[str]) -> int:
    """``robolearn data info|show|export-annotations|import-annotations ROOT ...``, ``robolearn data import ssv2|folder
    SRC OUT``."""
    from robolearn.data.inspect import main as data_main  # lazy: h5py; --help stays fast

    return data_main(args)


# -------------------------------------------------------------------- verbs
VERBS: dict[str, Verb] = {
    "rollout": Verb("Run the scripted expert or a random policy on a task; print success and write a video", _rollout),
    "collect": Verb(
        "Collect an offline interaction dataset (random, correlated-noise and expert actions), or labelled video "
        "clips (collect videos), or a DVD planner's own clips (collect planner-clips)",
        _collect,
    ),
    "data": Verb(
        "Inspect a dataset (info, show), import or export human annotations, export its actions (export-actions), "
        "import real videos (import ssv2|folder)",
        _data,
    ),
    "train": Verb(
        "Train a reward model (LOReL), a video-prediction model or a language-conditioned policy (LCBC)", _train
    ),
    "eval": Verb(
        "Evaluate a reward model (held-out accuracy, ROC-AUC, rephrasing) or a video model (PSNR, SSIM)", _eval
    ),
    "plan": Verb(
        "Run language- or video-commanded visual-MPC episodes (CEM, iCEM, MPPI); print success, write a video", _plan
    ),
    "bench": Verb("Benchmark agents across tasks and held-out variants, with confidence intervals", _bench),
    "demo": Verb(
        'Language- or video-commanded demo on the shipped checkpoints: robolearn demo "open the drawer" | video=CLIP',
        _demo,
    ),
}


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``) while a verb runs: raised in the main thread like Ctrl-C's ``KeyboardInterrupt``, so the
    verb stops the same way (its worker pools are stopped, finished work is saved) and exits with 143."""


def _terminate(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second `kill` ends the process at once
    raise Terminated


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``Terminated`` (only the main thread can handle signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def usage() -> str:
    """The top-level help: every verb with its one-line summary."""
    width = max(len(name) for name in VERBS)
    lines = [f"usage: {PROG} VERB [KEY=VALUE ...]", "", "Teach simulated robots from cheap supervision.", "", "verbs:"]
    for name, verb in VERBS.items():
        planned = "" if verb.run else " (planned)"
        lines.append(f"  {name:<{width}}  {verb.summary}{planned}")
    lines += [
        "",
        f"Run '{PROG} VERB --help' for a verb's options. Options are Hydra overrides, e.g.",
        f"  {PROG} rollout env.task=close_drawer policy=random video.path=out.gif",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``robolearn`` command; returns the exit code.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(usage(), file=sys.stderr)
        return EXIT_USAGE
    first, rest = args[0], args[1:]
    if first in ("-h", "--help", "help"):
        print(usage())
        return EXIT_OK
    if first in ("-V", "--version"):
        print(f"{PROG} {__version__}")
        return EXIT_OK
    verb = VERBS.get(first)
    if verb is None:
        _error(None, f"unknown verb {first!r}; valid verbs are: {', '.join(VERBS)} (see '{PROG} --help')")
        return EXIT_USAGE
    if verb.run is None:
        _error(
            first,
            f"'{first}' is not implemented yet (planned); available now: "
            f"{', '.join(n for n, v in VERBS.items() if v.run)}",
        )
        return EXIT_USAGE
    try:
        with _sigterm_interrupts():
            return verb.run(rest)
    except Terminated:
        _error(first, "terminated")
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        _error(first, "interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (`robolearn bench --help | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes at exit
        return EXIT_OK
    except OSError as e:  # an output that cannot be written, from a verb that does not catch it itself
        from sim.plumbing.files import OutputError  # lazy: importing sim registers the envs (gymnasium, ~120 ms)

        if not isinstance(e, OutputError):
            raise
        _error(first, str(e))
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover - `python -m robolearn.cli`
    sys.exit(main())
