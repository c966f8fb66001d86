"""On-disk layout of a robolearn interaction dataset (format ``robolearn-episodes``, version 1).

A dataset is a folder::

    <root>/
      meta.json                  dataset metadata, written once, atomically, when collection starts
      episodes/ep_0000123.h5     a finished episode not yet packed into a shard (one per file)
      shard_00000.h5             packed episodes; also holds an ``index`` table for fast opening
      annotations.csv            optional human descriptions (episode index → text), see annotations.py

Every HDF5 file (loose episode or shard) keeps its episodes in the robomimic-like layout::

    data/ep_0000123/
      obs/rgb            uint8   (T+1, H, W, 3)   chunked one frame per chunk, gzip
      obs/depth          float16 (T+1, H, W)      metres (only if collected)
      obs/segmentation   uint8   (T+1, H, W)      instance ids (only if collected)
      obs/proprio        float32 (T+1, 14)        (only if collected)
      actions            float32 (T, 4)           as applied (clipped to [-1, 1])
      expert             bool    (T,)             True where the action came from the scripted expert
      states             float64 (T+1, S)         SimState.flat() after reset and after every step
      object_states      float32 (T+1, K)         ObjectStates.vector(); names in meta["object_state_names"]
      attrs: index (int), seed (int), task (str: the initial-state distribution used),
             exploration (str), labels (JSON list of [object, change, direction|null]),
             instructions (JSON list of str: hindsight descriptions, training phrasings),
             heldout_instructions (JSON list of str: phrasings training never sees),
             scene_params (JSON), length (int T),
             clip (JSON; video clips only: what the clip shows, see robolearn.data.videos.clip)

A dataset of video clips (``robolearn collect videos``, ``robolearn data import``) is this same format, declared
by ``meta["content"] == "clips"``: each episode is one clip, its frames in ``obs/rgb``, zero-width ``actions``
(T, 0) and ``states`` (T+1, 0) where there is no robot, and the ``clip`` attribute. A meta.json without
``content`` is an interaction dataset (never guessed from the episodes).

Frame t of ``obs/*`` and ``states`` is the observation *before* action t; frame T is after the
last action. Episode ``index`` i is always generated from seed ``meta["seed"] + i``, so an episode
can be regenerated exactly and a resumed collection never duplicates or skips one.

Crash safety: every file is written to ``<name>.tmp-<pid>`` and renamed into place (atomic on
POSIX), so a killed process leaves only complete files plus stray ``*.tmp-*`` files that readers
ignore and writers delete. A shard is renamed into place before its loose episode files are
removed; readers therefore de-duplicate by episode index, preferring the shard.
"""

from __future__ import annotations

FORMAT_NAME = "robolearn-episodes"
FORMAT_VERSION = 1
META_FILE = "meta.json"
EPISODES_DIR = "episodes"
ANNOTATIONS_FILE = "annotations.csv"
SHARD_GLOB = "shard_*.h5"
TMP_MARKER = ".tmp-"


def episode_group(index: int) -> str:
    """HDF5 group name of episode ``index`` (robomimic calls these ``data/demo_i``)."""
    return f"data/ep_{index:07d}"


def loose_episode_file(index: int) -> str:
    """Path, relative to the dataset root, of a not-yet-packed episode."""
    return f"{EPISODES_DIR}/ep_{index:07d}.h5"


def shard_file(number: int) -> str:
    """Path, relative to the dataset root, of shard ``number``."""
    return f"shard_{number:05d}.h5"
