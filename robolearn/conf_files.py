"""The config files in ``conf/`` that are generated from the config dataclasses, and the command that writes them.

Decision (issue 21): **the dataclasses are the single source of every config's defaults, documentation and
allowed values; the YAML files in ``conf/`` and their comments are generated from them, and CI checks that they
are current** (``tests/robolearn/test_conf.py::test_generated_conf_files_are_current`` runs ``--check``).
Each field is declared once with ``sim.plumbing.settings.knob(default, doc, lo=..., hi=..., choices=...)``.

Why not the alternative, Hydra ConfigStore structured configs (the dataclasses registered with Hydra, no YAML):

- ``sim`` must stay usable without Hydra or OmegaConf: it is a Gymnasium package whose envs take the same
  dataclasses (``gymnasium.make("robolearn/Desk-v1", config=...)``);
- the configs need range checks with one-line messages (``physics.timestep=1 is out of range; use a value in
  [0.0001, 0.05]``), tuples and cross-field rules (workspace low < high per axis, a camera within the
  chassis), which OmegaConf's structured configs do not express;
- users keep reading the documented YAML in ``conf/`` and overriding its keys with the same syntax
  (``robolearn rollout env.physics.timestep=0.005``); the files stay, only their hand-written copy goes.

Usage::

    python -m robolearn.conf_files --write   # regenerate every file after editing a dataclass
    python -m robolearn.conf_files --check   # exit 1 and list the stale files (what CI runs)

Each registry entry names the file (relative to ``conf/``), the factory of the config whose defaults it
holds, the header comment (the file's usage notes live here, once) and extra first keys (Hydra's
``_target_``; an env config's declared ``kind`` is added when its class has a ``KIND``). A command's file
(``rollout.yaml``, ``collect.yaml``, ``plan.yaml``, the trainers' ``train.yaml``, ``train_dynamics.yaml`` and
``train_policy.yaml``, ``eval.yaml``, and ``bench.yaml``) also has its Hydra ``defaults:`` list and the keys it
overrides in the composed groups (collect's ``env.obs_keys``), both written in its entry. The trainers' options
share a base (``robolearn.training.settings.LoopSettings``): each trainer's class gives its own defaults and rewords
the shared docs that say more in it; ``eval.yaml`` serves the reward's and the video model's evaluations
(``robolearn.training.eval_options``). ``robolearn bench`` is split over files: ``bench.yaml`` holds the options
every bench has (``robolearn.bench.run.BenchOptions``) and picks the group ``bench`` by ``env``; each kind's
``bench/<kind>.yaml`` (``@package _global_``) holds only the fields its subclass adds (``base=``), with its own
``defaults:`` list and ``env`` overrides (the homes').

``demo.yaml`` stays hand-written: it declares no option of its own, only a ``defaults:`` list that composes
``plan.yaml`` and a ``scene`` group, and overrides of plan's keys (``objective``, ``video.path``), so there is
no dataclass for it to be generated from; its keys are plan's, documented and checked by ``PlanOptions``.
Neither are the files of ``conf/scene/`` (``@package _global_`` overrides of plan's keys), nor
``conf/instructions/freeform.yaml`` (data: the free-form paraphrases of ``robolearn eval``), nor
``bench/counter.yaml``: the counter has no bench (``robolearn.kinds`` gives its kind no bench hook), so the file
declares no option, only the comment that says so; it exists so that ``robolearn bench env=counter`` composes and
then stops with the one-line error naming the envs that have a bench.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib import import_module
from pathlib import Path
from typing import Any, TypeVar

from robolearn.paths import conf_dir

__all__ = ["GENERATED", "KIND_DOC", "Generated", "main", "parse_options", "render", "stale", "write"]

T = TypeVar("T")

_NOTICE = "Generated from {source} by `python -m robolearn.conf_files --write`:\nedit the dataclass, not this file."
#: the comment of an env config's ``kind`` key (the key is written when the class declares ``KIND``)
KIND_DOC = "what this env config is, its entry in robolearn.kinds: desk | home | counter"


@dataclass(frozen=True)
class Generated:
    """One generated file: whose defaults it holds and what its header says.

    Attributes:
        factory: ``"module:Class"`` of the config dataclass; imported when the file is rendered (so the
            registry itself imports nothing heavy).
        header: usage notes at the top of the file (without ``#``), after the generated-from notice.
        first: extra top-level keys written before the fields, ``name -> (value, doc)``.
        defaults: a command's Hydra ``defaults:`` list, ``(entry, doc)`` pairs (``("env: desk", "...")``,
            ``("_self_", "...")``), written first.
        overrides: sections written last that set keys of composed groups (the groups' own configs hold
            other defaults), ``group -> (section doc, [(key, value, doc), ...])``.
        package: the Hydra package of a config group's file, written first as ``# @package <package>``
            (``_global_``: the file's keys land at the top level, as ``conf/bench/<kind>.yaml``'s do).
        base: ``"module:Class"`` of a base class of ``factory`` whose fields another generated file holds
            (``bench.yaml``: the options every bench has); this file leaves them out.
    """

    factory: str
    header: str
    first: Mapping[str, tuple[Any, str]] = field(default_factory=dict)
    defaults: tuple[tuple[str, str], ...] = ()
    overrides: Mapping[str, tuple[str, tuple[tuple[str, Any, str], ...]]] = field(default_factory=dict)
    package: str = ""
    base: str = ""

    def config_class(self) -> type:
        """The dataclass named by ``factory``."""
        return _load(self.factory)

    def base_fields(self) -> tuple[str, ...]:
        """The fields of ``base`` (none without one): written by the base's own file, not this one."""
        return tuple(f.name for f in fields(_load(self.base))) if self.base else ()


def _load(factory: str) -> type:
    module, name = factory.split(":")
    cls: type = getattr(import_module(module), name)
    return cls


#: the comment of an optimizer file's ``_target_``
_OPTIMIZER_TARGET = (
    "config dataclass instantiated by Hydra with the keys below (make_optimizer picks the optimizer from it)"
)

#: the last entry of a command's ``defaults:`` list: its own keys come after the groups'
_SELF = ("_self_", "values below override the group defaults")

GENERATED: dict[str, Generated] = {
    "rollout.yaml": Generated(
        "robolearn.rollout:RolloutOptions",
        "`robolearn rollout`: run a scripted expert or a random policy on a desk task, print success\n"
        "and write a captioned video. Override keys on the command line, e.g.\n"
        "  robolearn rollout env.task=close_drawer policy=random episodes=5 video.path=out.gif\n"
        "  robolearn rollout env=home env.task=interactive_nav env.split=test episodes=3   # homes: the nav agent\n"
        "With env=home the expert is the task's baseline agent (planners.navigation / planners.mobile_manipulation,\n"
        "options in conf/nav_agent and conf/manipulation_agent) and the video shows the head camera beside a\n"
        "top-down map of the home. With env=counter (the docked mobile manipulator at a home's counter) the expert is\n"
        "the counter's drawer expert, seen by the head camera.\n"
        "Relative paths are relative to the directory you run the command from.",
        defaults=(
            (
                "env: desk",
                "environment config group: conf/env/desk.yaml (or env=home / env=counter: "
                "conf/env/{home,counter}.yaml), under the key `env`",
            ),
            (
                "nav_agent: default",
                "the home environments' expert: conf/nav_agent/default.yaml, under the key `nav_agent`",
            ),
            ("manipulation_agent: default", "its drawer / door part: conf/manipulation_agent/default.yaml"),
            _SELF,
        ),
    ),
    "collect.yaml": Generated(
        "robolearn.data.collect:CollectOptions",
        "`robolearn collect`: record an offline interaction dataset in the desk environment, labelled\n"
        "after the fact with what happened (structured labels + natural-language descriptions). E.g.\n"
        "  robolearn collect out=data/desk episodes=50000\n"
        "  robolearn collect out=data/desk episodes=1000 ray_address=auto     # on a Ray cluster\n"
        "Rerunning the same command resumes: finished episodes are kept, missing ones are collected.",
        defaults=(("env: desk", "environment config group: conf/env/desk.yaml, under the key `env`"), _SELF),
        overrides={
            "env": (
                "Override the observation settings of the env group for datasets: RGB at 64×64, as LOReL's data.",
                (
                    ("obs_keys", ["rgb"], "modalities to store: any of rgb, depth, segmentation, proprio"),
                    ("max_episode_steps", 20, "actions per episode (LOReL: 20)"),
                ),
            )
        },
    ),
    "collect_videos.yaml": Generated(
        "robolearn.data.videos.collect_config:CollectVideosOptions",
        "`robolearn collect videos`: render labelled video clips for a DVD reward (robolearn.data.videos): robot\n"
        "demos (the scripted expert) for a few desk tasks and clips of non-robot actors (sim.actors) doing every desk\n"
        "task and more, in randomized scenes; each clip has a Something-Something template, its desk task, actor and\n"
        "measured outcome. Clip i is rendered from seed + i. E.g.\n"
        "  robolearn collect videos out=data/videos actor_clips=5000\n"
        "  robolearn collect videos out=data/videos_eval seed=1000000 robot_variants=[train,new_colors,new_viewpoint,"
        "new_arrangement]\n"
        "  robolearn collect videos out=data/videos_actor seed=2000000 actors=heldout robot_demos_per_task=0\n"
        "Rerunning the same command resumes: finished clips are kept, missing ones are rendered.",
    ),
    "collect_planner_clips.yaml": Generated(
        "robolearn.planner_clips:PlannerClipsOptions",
        "`robolearn collect planner-clips`: clips of what visual MPC does when it maximises a DVD reward (the\n"
        "simulator as dynamics, demo videos of non-robot actors), each labelled by what it measurably did: the\n"
        "negatives a video reward needs against its own planner (robolearn.planner_clips). E.g.\n"
        "  robolearn collect planner-clips out=data/planner_clips clips=200\n"
        "  robolearn train dvd data=[data/videos,data/planner_clips] init_from=robolearn/checkpoints/dvd_reward.pt\n"
        "Rerunning the same command resumes: finished clips are kept, missing ones are planned.",
        defaults=(
            (
                "optimizer: cem",
                "trajectory optimizer group: conf/optimizer/{cem,icem,mppi}.yaml, under the key `optimizer`",
            ),
            _SELF,
        ),
    ),
    "plan.yaml": Generated(
        "robolearn.plan:PlanOptions",
        "`robolearn plan`: run closed-loop, language- or video-commanded visual MPC episodes and write a video of the\n"
        "real "
        "frames, the predicted frames of the chosen plans and the reward over time. E.g.\n"
        '  robolearn plan instruction="open the drawer" reward_checkpoint=runs/lorel/best.pt '
        "dynamics_model=runs/video/best.pt\n"
        '  robolearn plan instruction="turn the faucet left" objective=oracle dynamics_model=oracle optimizer=icem\n'
        '  robolearn plan env=counter episode_start=home instruction="open the drawer" reward_checkpoint=... '
        "dynamics_model=...\n"
        "  robolearn plan objective=dvd demo=clip.mp4 dynamics_model=oracle    # imitate a video (the shipped DVD "
        "reward)\n"
        "Relative paths are relative to the directory you run the command from.",
        defaults=(
            (
                "env: desk",
                "environment config group: conf/env/desk.yaml, under the key `env` (env.task is set from the "
                "instruction)",
            ),
            (
                "optimizer: icem",
                "trajectory optimizer group: conf/optimizer/{cem,icem,mppi}.yaml, under the key `optimizer` "
                "(iCEM: the best success measured, docs/benchmarks.md)",
            ),
            _SELF,
        ),
    ),
    "train.yaml": Generated(
        "robolearn.training.train_reward:TrainOptions",
        "`robolearn train`: train a language-conditioned reward (LOReL) on an offline dataset. E.g.\n"
        "  robolearn train data=data/desk out=runs/lorel\n"
        "  robolearn train data=data/desk out=runs/late reward.fusion=late max_minutes=20\n"
        "Rerunning the same command resumes from out/last.pt (raise `steps` to train longer); a run whose\n"
        "model settings (reward.*) or data split differ from the checkpoint's is refused.",
        defaults=(
            ("reward: lorel", "reward model config group: conf/reward/lorel.yaml, under the key `reward`"),
            _SELF,
        ),
    ),
    "train_dynamics.yaml": Generated(
        "robolearn.training.train_dynamics:DynamicsTrainOptions",
        "`robolearn train dynamics`: train an action-conditioned video-prediction model on an offline dataset. E.g.\n"
        "  robolearn train dynamics data=data/desk out=runs/video\n"
        "  robolearn train dynamics data=data/desk out=runs/video_sv dynamics.stochastic=true max_minutes=20\n"
        "Each item is a clip of context_frames + horizon frames; the model rolls out `horizon` steps from the\n"
        "context under the clip's actions and is scored on every predicted frame. Rerunning the same command\n"
        "resumes from out/last.pt (raise `steps` to train longer); a run whose model settings (dynamics.*),\n"
        "horizon or data split differ from the checkpoint's is refused.",
        defaults=(
            ("dynamics: video", "video-model config group: conf/dynamics/video.yaml, under the key `dynamics`"),
            _SELF,
        ),
    ),
    "train_policy.yaml": Generated(
        "robolearn.training.train_policy:PolicyTrainOptions",
        "`robolearn train policy`: language-conditioned behaviour cloning (LCBC), the baseline LOReL compared\n"
        "against: a policy trained on the same offline data as the reward, each episode's actions labelled with\n"
        "its hindsight instructions. E.g.\n"
        "  robolearn train policy data=data/desk out=runs/lcbc\n"
        "  robolearn train policy data=data/desk out=runs/lcbc_expert expert_only=true policy.proprio_dim=14\n"
        "Each item is one step of a labelled episode (an episode that changed nothing is skipped): its frame,\n"
        "the action taken and one of the episode's instructions; the loss is the mean squared action error.\n"
        "Rerunning the same command resumes from out/last.pt; other policy.* settings or another split are refused.",
        defaults=(
            (
                "policy_model@policy: lcbc",
                "policy architecture group: conf/policy_model/lcbc.yaml, under the key `policy`",
            ),
            _SELF,
        ),
    ),
    "eval.yaml": Generated(
        "robolearn.training.eval_options:EvalOptions",
        "`robolearn eval`: evaluate a trained reward on held-out episodes: accuracy and ROC-AUC per task, and\n"
        "robustness to rephrasing (LOReL's protocol: seen phrasing, unseen verb, unseen noun, both, free-form);\n"
        "or, for a video-model checkpoint (`robolearn train dynamics`), PSNR/SSIM per predicted step (the\n"
        "`video` node at the end). E.g.\n"
        "  robolearn eval checkpoint=runs/lorel/best.pt\n"
        "  robolearn eval checkpoint=runs/lorel/best.pt data=data/desk instructions=my_phrasings.yaml\n"
        "Held-out episodes are the validation split of training (same max_episodes, val_fraction and seed,\n"
        "read from the checkpoint). Positives of a task: (s0, s_T) of episodes whose final labels contain it;\n"
        'negatives: all the others, of which "hard" ones changed the same object the other way.',
    ),
    "bench.yaml": Generated(
        "robolearn.bench.run:BenchOptions",
        "`robolearn bench`: evaluate agents in an environment, N seeded episodes per agent, variant (or split) and\n"
        "task, reporting success at the final step and at any step with 95% Wilson intervals (plus the homes' SPL,\n"
        "effort efficiency and INS with env=home); writes episodes.jsonl (every episode, so an interrupted run\n"
        "resumes), results.json, results.csv and results.png to `out`. The agents, tasks and variants depend on the\n"
        "env's kind and come from conf/bench/<kind>.yaml (the group `bench`, chosen by `env`); this file holds the\n"
        "options every bench has (workers, ray_address and max_retries: where episodes run, robolearn.bench.executor).\n"
        "E.g.\n"
        "  robolearn bench agents=[random,vmpc_lorel] variants=[train] trials=20\n"
        "  robolearn bench agents=[vmpc_lorel] instruction_file=my_phrasings.yaml   # your own phrasings → task\n"
        "  robolearn bench workers=8                                           # 8 local processes\n"
        "  robolearn bench ray_address=auto                                    # a running Ray cluster\n"
        "  robolearn bench --multirun agents=[vmpc_lorel] +agent_specs.vmpc_lorel.plan.optimizer=cem,mppi\n"
        "  robolearn bench env=home tasks=[interactive_nav] trials=10 agents=[nav]   # navigation agents in the homes\n"
        "Results do not depend on workers, Ray or the order episodes run in: each episode depends only on its\n"
        "agent, variant (split), task, instruction and seed. Relative paths are relative to where you run the command.",
        defaults=(
            (
                "env: desk",
                "environment config group: conf/env/desk.yaml (env=home: conf/env/home.yaml); its task and variant "
                "or split are set per episode",
            ),
            (
                "bench: ${env}",
                "the bench of that env: conf/bench/desk.yaml (or with env=home conf/bench/home.yaml): agents, tasks, "
                "variants or splits, trials, out",
            ),
            _SELF,
        ),
    ),
    "bench/desk.yaml": Generated(
        "robolearn.bench.run:DeskBenchOptions",
        "`robolearn bench` (env=desk, the default): agents on the desk tasks across environment variants (conf/bench.yaml\n"
        "has the options every bench shares).",
        package="_global_",
        base="robolearn.bench.run:BenchOptions",
    ),
    "bench/home.yaml": Generated(
        "robolearn.bench.home:HomeBenchOptions",
        "`robolearn bench env=home`: navigation agents on the home tasks over generated homes, N seeded episodes per\n"
        "agent, split and task; success with 95% Wilson intervals plus mean SPL, effort efficiency and INS (iGibson's\n"
        "interactive-navigation metrics, gated by success). conf/bench.yaml has the options every bench shares. E.g.\n"
        "  robolearn bench env=home                                    # the baseline agent, 50 held-out episodes per task\n"
        "  robolearn bench env=home tasks=[interactive_nav] trials=10 agents=[nav]\n"
        "  robolearn bench env=home nav_agent.object_cost=0 out=outputs/bench_home_push   # an ablation: always push\n"
        "Each episode depends only on its agent, split, task and seed (not on workers or their order).",
        defaults=(
            (
                "/nav_agent: default",
                "the navigation agent's options (conf/nav_agent/default.yaml), read by agent_specs.nav",
            ),
            (
                "/manipulation_agent: default",
                "the drawer / door baselines' options (conf/manipulation_agent/default.yaml)",
            ),
            _SELF,
        ),
        overrides={
            "env": (
                "Overrides of conf/env/home.yaml for every episode (its task and split are set per episode; tasks that "
                "need the arm get robot=manipulator).",
                (
                    (
                        "obs_keys",
                        ["scan", "goal"],
                        "what the agents read; no camera frames are rendered (add rgb for agents that see)",
                    ),
                ),
            )
        },
        package="_global_",
        base="robolearn.bench.run:BenchOptions",
    ),
    "env/desk.yaml": Generated(
        "sim.config:DeskEnvConfig",
        "The desk environment (robolearn/Desk-v1). Override any key on the command line, e.g.\n"
        "`robolearn rollout env.task=close_drawer env.randomization.colors=true`.",
    ),
    "env/home.yaml": Generated(
        "sim.home_config:HomeEnvConfig",
        "The home environments (robolearn/Home-v0 and the task ids robolearn/PointNav-v0, InteractiveNav-v0,\n"
        "RoomNav-v0, OpenDoor-v0, OpenDrawer-v0). Select it with `env=home`, e.g.\n"
        "`robolearn rollout env=home env.task=interactive_nav`.",
    ),
    "env/counter.yaml": Generated(
        "sim.counter_config:CounterEnvConfig",
        "robolearn/Counter-v1: the mobile manipulator docked at a home's kitchen counter, moving only its arm;\n"
        "where visual MPC's models for the homes learn (robolearn collect env=counter, then robolearn train /\n"
        "train dynamics). Episodes have the desk env's shape: fixed length, success as a change since reset.",
    ),
    "nav_agent/default.yaml": Generated(
        "planners.navigation_config:NavAgentConfig",
        "The baseline interactive-navigation agent (planners.navigation.InteractiveNavAgent), used by\n"
        "`robolearn rollout env=home policy=expert` and by `robolearn bench env=home` (agent `nav`).\n"
        "Override as nav_agent.KEY=VALUE, e.g. nav_agent.object_cost=0 (always push).",
    ),
    "manipulation_agent/default.yaml": Generated(
        "planners.mobile_manipulation_config:ManipulationAgentConfig",
        "The baseline agents of the homes' mobile-manipulation tasks (planners.mobile_manipulation):\n"
        "OpenDrawerAgent (drive to the counter, dock in the desk's arm pose, pull the drawer) and OpenDoorAgent\n"
        "(push the door open by driving through it). Used by `robolearn rollout env=home env.task=open_drawer\n"
        "env.robot=manipulator` and `robolearn bench env=home` (agent `nav`).",
    ),
    "dynamics/video.yaml": Generated(
        "planners.video.config:VideoConfig",
        "Action-conditioned video-prediction model (planners.video.VideoModel): context frames + N action\n"
        "sequences → N predicted videos, with a latent path (encode → rollout → decode only the frames a\n"
        "planner scores). Override keys on the command line, e.g.\n"
        "`dynamics.stochastic=true dynamics.latent_channels=48`.",
        {"_target_": ("planners.video.config.VideoConfig", "class instantiated by Hydra with the keys below")},
    ),
    "optimizer/cem.yaml": Generated(
        "planners.optimizers.cem:CEMConfig",
        "Cross-entropy method (planners.optimizers.cem.CEMOptimizer): sample action sequences from a\n"
        "diagonal Gaussian, refit it to the best ones, repeat.\n"
        "`make_optimizer(cfg.optimizer, action_low, action_high, horizon)` builds the optimizer; override keys\n"
        "on the command line, e.g. `optimizer=cem optimizer.population=400 optimizer.iterations=5`.\n"
        "Stds are fractions of the action bounds' half-range (high − low) / 2.",
        {"_target_": ("planners.optimizers.cem.CEMConfig", _OPTIMIZER_TARGET)},
    ),
    "optimizer/icem.yaml": Generated(
        "planners.optimizers.icem:ICEMConfig",
        "Improved CEM (planners.optimizers.icem.ICEMOptimizer; Pinneri et al. 2020): CEM with colored noise,\n"
        "population decay, elite reuse and shifting, and the mean added at the last iteration, each switchable\n"
        "(all off = plain CEM, bit for bit). Select with `optimizer=icem`; override keys, e.g.\n"
        "`optimizer.noise_beta=3 optimizer.population_decay=1`.\n"
        "Stds are fractions of the action bounds' half-range (high − low) / 2.",
        {"_target_": ("planners.optimizers.icem.ICEMConfig", _OPTIMIZER_TARGET)},
    ),
    "optimizer/library.yaml": Generated(
        "planners.optimizers.library:LibraryConfig",
        "Planning inside the data's support (planners.optimizers.library.LibraryOptimizer): candidates are windows\n"
        "of the offline data's recorded action sequences, from the agent's step in its episode, refined by small\n"
        "perturbations of the best; the plan is the best sequence evaluated. Needs a library file:\n"
        "`robolearn data export-actions data/desk actions.npz`, then `optimizer=library optimizer.library=actions.npz`.\n"
        "Stds are fractions of the action bounds' half-range (high − low) / 2.",
        {"_target_": ("planners.optimizers.library.LibraryConfig", _OPTIMIZER_TARGET)},
    ),
    "optimizer/mppi.yaml": Generated(
        "planners.optimizers.mppi:MPPIConfig",
        "Model-predictive path integral (planners.optimizers.mppi.MPPIOptimizer): perturb the plan, move it to\n"
        "the softmax(return / temperature)-weighted average of the perturbed samples (best return subtracted\n"
        "before exponentiating). The defaults are VP²'s (Tian et al. 2023).\n"
        "Select with `optimizer=mppi`; override keys, e.g. `optimizer.temperature=0.1 optimizer.iterations=3`.",
        {"_target_": ("planners.optimizers.mppi.MPPIConfig", _OPTIMIZER_TARGET)},
    ),
    "reward/lorel.yaml": Generated(
        "rewards.lorel.config:LorelConfig",
        "LOReL language-conditioned reward (rewards.lorel.LorelReward): R(s0, s_t, instruction) = probability\n"
        "that going from frame s0 to frame s_t carries out the instruction.\n"
        "`hydra.utils.instantiate(cfg.reward)` gives a validated LorelConfig; override keys on the command\n"
        "line, e.g. `reward.fusion=late reward.cnn_channels=[16,32,64]`.",
        {"_target_": ("rewards.lorel.LorelConfig", "class instantiated by Hydra with the keys below")},
    ),
    "reward/dvd.yaml": Generated(
        "rewards.dvd.config:DVDConfig",
        "DVD video reward (rewards.dvd.DVDReward): P(a clip shows the same task as a demo clip), from a per-frame\n"
        "patchify CNN over a few sampled frames with a temporal block; symmetric cosine head or DVD's concat head;\n"
        "a progress head used only as a factor of P(same task). Override keys on the command line, e.g.\n"
        "`robolearn train dvd reward.head=concat reward.num_frames=6`.",
        {"_target_": ("rewards.dvd.DVDConfig", "class instantiated by Hydra with the keys below")},
    ),
    "train_dvd.yaml": Generated(
        "robolearn.training.train_dvd:DVDTrainOptions",
        "`robolearn train dvd`: train a DVD video reward (same task or not?) on robot clips and human clips. E.g.\n"
        "  robolearn train dvd data=[data/videos] out=runs/dvd\n"
        "  robolearn train dvd robot_only=true out=runs/dvd_robot            # the same robot demos alone\n"
        "  robolearn train dvd reward.head=concat hard_negatives=false out=runs/dvd_concat   # DVD-faithful baseline\n"
        "Rerunning the same command resumes from out/last.pt (raise `steps` to train longer); a run whose\n"
        "reward.* settings or clip split differ from the checkpoint's is refused.",
        defaults=(
            ("reward: dvd", "reward model config group: conf/reward/dvd.yaml, under the key `reward`"),
            _SELF,
        ),
    ),
    "eval_dvd.yaml": Generated(
        "robolearn.training.eval_dvd:DVDEvalOptions",
        "`robolearn eval dvd`: a DVD reward's same-task pair ROC-AUC and accuracy per split (robot-robot,\n"
        "robot-human, held-out actor, each held-out variant, tasks seen only in human videos) and the ranking check\n"
        "(done > partial > failed attempts), as a markdown table, a CSV, JSON and a figure. E.g.\n"
        "  robolearn eval dvd checkpoint=runs/dvd/best.pt data=[data/videos,data/videos_eval,data/videos_heldout_actor]\n"
        "Clips the checkpoint trained on are left out (its datasets contribute their validation split only).\n"
        "The splits' pairs are defined in robolearn/training/eval_dvd.py.",
    ),
    "policy_model/lcbc.yaml": Generated(
        "planners.policy.config:PolicyConfig",
        "Language-conditioned behaviour-cloning policy (planners.policy.LanguagePolicyNet, LCBC): the current\n"
        "frame (+ proprioception) and the instruction's sentence embedding → an action in [-1, 1].\n"
        "Override keys on the command line, e.g. `policy.hidden=512`.",
        {"_target_": ("planners.policy.config.PolicyConfig", "class instantiated by Hydra with the keys below")},
    ),
}


def parse_options(cls: type[T], data: Mapping[str, Any], verb: str) -> T:
    """A command's options dataclass ``cls`` from its composed keys, every problem a one-line ``ConfigError``.

    The generic checks of ``sim.plumbing.settings`` (unknown keys, types, ranges, choices) name the key as it is
    typed on the command line (``episodes=0 is out of range; use an integer ≥ 1``, ``unknown rollout option(s)
    ['foo']``); the command checks its cross-field rules afterwards.

    Args:
        cls: the options dataclass (e.g. ``robolearn.rollout.RolloutOptions``).
        data: the composed config without its group nodes (``env``, ``optimizer``...), resolved.
        verb: the command, as the unknown-key message names it.
    """
    from robolearn.config import ConfigError, one_line  # lazy: hydra; --help stays fast
    from sim.plumbing.settings import from_mapping  # lazy: gymnasium (~120 ms); stays light

    try:
        return from_mapping(cls, data, prefix="", what=verb)
    except ConfigError:
        raise
    except (TypeError, ValueError) as e:
        raise ConfigError(one_line(str(e))) from None


def render(path: str) -> str:
    """The text of generated file ``path`` (relative to ``conf/``, e.g. ``env/desk.yaml``) from its dataclass.

    Raises:
        KeyError: ``path`` is not a generated file.
    """
    from sim.plumbing.settings import config_yaml  # lazy: gymnasium (~120 ms); stays light

    entry = GENERATED[path]
    cls = entry.config_class()
    first = dict(entry.first)
    kind = getattr(cls, "KIND", None)
    if isinstance(kind, str):  # env configs that declare their kind say so first
        first = {"kind": (kind, KIND_DOC), **first}
    source = f"{cls.__module__}.{cls.__qualname__}"
    header = _NOTICE.format(source=source) + "\n" + entry.header
    return config_yaml(
        cls(), header, first, entry.defaults, entry.overrides, package=entry.package, exclude=entry.base_fields()
    )


def _conf_root(conf: Path | None) -> Path:
    if conf is not None:
        return conf
    return conf_dir()


def stale(conf: Path | None = None) -> list[str]:
    """The generated files under ``conf`` (default: robolearn's config directory) that differ from their
    dataclasses (or are missing)."""
    root = _conf_root(conf)
    out = []
    for path in GENERATED:
        file = root / path
        if not file.is_file() or file.read_text(encoding="utf-8") != render(path):
            out.append(path)
    return out


def write(conf: Path | None = None) -> list[str]:
    """Regenerate every generated file under ``conf``; returns those whose text changed."""
    root = _conf_root(conf)
    changed = stale(root)
    for path in changed:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(render(path), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """``python -m robolearn.conf_files --write | --check [--conf DIR]``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m robolearn.conf_files", description="Generate the conf/ files from the config dataclasses."
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate the files")
    mode.add_argument("--check", action="store_true", help="exit 1 and list the files that are not current")
    parser.add_argument("--conf", type=Path, default=None, help="config directory (default: robolearn's conf/)")
    args = parser.parse_args(argv)
    if args.write:
        for path in write(args.conf):
            print(f"wrote conf/{path}")
        return 0
    out = stale(args.conf)
    for path in out:
        print(f"conf/{path} is not current; run: python -m robolearn.conf_files --write", file=sys.stderr)
    return 1 if out else 0


if __name__ == "__main__":
    raise SystemExit(main())
