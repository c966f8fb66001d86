"""Rolling candidate action sequences out in private copies of the desk simulator (the oracle dynamics).

``RolloutWorld`` is one private ``DeskEnv`` (no camera observations, so a step costs physics alone) that restores
the real env's state before each candidate, steps the candidate's actions and reads only what the caller asks for
at the requested horizon steps: the task's dense reward and / or a rendered frame. ``RolloutPool`` runs one world
per worker process and gives each a contiguous share of the candidates, so a replanning step uses every core.

What a candidate costs, and what is done about it (docs/benchmarks.md, "Oracle dynamics, faster"):

* physics is ~80% of it, most of it the arm's own joint motors and limits at 8 substeps per control step;
* bodies at rest when the real state is read (mugs standing on the desk, furniture left alone) are put to sleep
  in every candidate (``rest_speed``): Bullet skips a sleeping body's contacts and motors until an awake body
  touches it, which wakes it, so a candidate pays only for what it disturbs;
* the cores: ``RolloutPool``.

Results are a pure function of the real state, the candidates and two settings, whatever the number of workers
or the machine: the candidates are rolled out in chunks of ``chunk`` consecutive candidates, each chunk in a world
rebuilt from the real state (``DeskEnv.set_state``, ~4 ms), its candidates restoring only the arrays (Bullet's
contact caches carry over within a chunk: contact-noise-level differences from a rebuilt world, ~10× cheaper than
rebuilding per candidate, which is ``chunk=1``, the bit-exact mode); and ``rest_speed``. A worker takes whole
chunks, so how the chunks are shared out changes nothing.
"""

from __future__ import annotations

import copy
import itertools
import multiprocessing as mp
import os
import traceback
import weakref
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pybullet loads on use: video-model planning never needs it
    from sim.config import DeskEnvConfig
    from sim.envs.desk import EnvState

__all__ = ["RolloutPool", "RolloutResult", "RolloutWorld", "resolve_workers", "shared_pool", "usable_cores"]

#: (frames (N, S, H, W, 3) uint8 or None, dense rewards (N, S) float32 or None)
RolloutResult = tuple[np.ndarray | None, np.ndarray | None]

# A worker runs one simulator, single-threaded: the cores are shared out by process, and an idle BLAS thread
# that spins after a numpy call would take a core from another worker.
_WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class RolloutWorld:
    """A private desk simulator that rolls candidates out from the real env's state.

    Args:
        cfg: the real env's config (copied; its camera observations are dropped).
        chunk: consecutive candidates rolled out in one world rebuilt from the real state (≥ 1; 1: every candidate
            in a rebuilt world, bit-exact). The chunks are counted from the first candidate of each ``rollout``.
        rest_speed: bodies other than the arm none of whose points moves faster than this (m/s;
            ``DeskScene.resting_bodies``) in the real state sleep in each candidate until something touches them;
            0 disables it.
    """

    def __init__(self, cfg: DeskEnvConfig, chunk: int = 1, rest_speed: float = 0.0):
        from sim.envs.desk import DeskEnv

        if chunk < 1:
            raise ValueError(f"chunk must be ≥ 1 (candidates per rebuilt world), got {chunk}")
        if rest_speed < 0:
            raise ValueError(f"rest_speed must be ≥ 0 (m/s; 0 disables sleeping), got {rest_speed}")
        cfg = copy.deepcopy(cfg)
        cfg.obs_keys = ("proprio",)
        self.env = DeskEnv(config=cfg, render_mode="rgb_array")
        self.chunk = int(chunk)
        self.rest_speed = float(rest_speed)
        self._state: EnvState | None = None
        self._resting: list[int] | None = None  # found in the first rebuilt world of this state

    def observe(self, state: EnvState) -> None:
        """The real env's state after a reset or a real step: every candidate until the next call starts here."""
        self._state = state
        self._resting = None

    def _rebuild(self) -> None:
        assert self._state is not None
        self.env.set_state(self._state)  # a fresh world: its caches depend only on the real state
        if self._resting is None:
            scene = self.env.scene
            self._resting = scene.resting_bodies(self._state.sim, self.rest_speed) if self.rest_speed > 0 else []

    def _restore(self) -> None:
        assert self._state is not None
        self.env.scene.set_state(self._state.sim)  # the arrays only; wakes every body

    def rollout(self, actions: np.ndarray, steps: Sequence[int], frames: bool, states: bool) -> RolloutResult:
        """Roll (N, H, A) float64 actions (clipped to [-1, 1]) out to ``max(steps)``; ``steps`` sorted, 0-based.

        Returns (frames (N, S, H, W, 3) uint8 if ``frames``, dense rewards (N, S) float32 if ``states``).
        """
        if self._state is None:
            raise RuntimeError("RolloutWorld: call observe(state) before rollout()")
        env = self.env
        index = {h: k for k, h in enumerate(steps)}
        n, last = actions.shape[0], max(steps)
        dense = np.zeros((n, len(steps)), dtype=np.float32) if states else None
        images: list[np.ndarray] = []
        for i in range(n):
            if i % self.chunk == 0:
                self._rebuild()
            else:
                self._restore()
            if self._resting:
                env.scene.sleep(self._resting)
            scene, task, th = env.scene, env.task, env.cfg.thresholds  # a rebuild makes a new scene
            init = env.initial_object_states  # the real episode's, restored with its state
            assert init is not None
            seq_images = []
            for h in range(last + 1):
                scene.arm.set_action(np.clip(actions[i, h], -1.0, 1.0))
                scene.step_physics(env.cfg.physics.substeps)
                if h in index:
                    if dense is not None:
                        now = scene.object_states()
                        dense[i, index[h]] = task.dense_reward(scene, now, init, th)
                    if frames:
                        frame = env.render()
                        assert frame is not None  # render_mode="rgb_array"
                        seq_images.append(frame)
            if frames:
                images.append(np.stack(seq_images))
        return (np.stack(images) if frames else None), dense

    def close(self) -> None:
        self.env.close()


def _answer(world: RolloutWorld | None, msg: tuple[Any, ...]) -> tuple[RolloutWorld | None, object]:
    """Carry out one request; returns the (possibly new) world and the reply's value."""
    cmd = msg[0]
    if cmd == "world":
        if world is not None:
            world.close()
        return RolloutWorld(*msg[1:]), None
    if world is None:
        raise RuntimeError(f"{cmd!r} before the world was built")
    if cmd == "observe":
        world.observe(msg[1])
        return world, None
    if cmd == "rollout":
        return world, world.rollout(*msg[1:])
    raise ValueError(f"unknown request {cmd!r}")


def _serve(conn: Connection, parent: int) -> None:
    """A worker's loop: build a world, follow the real state, roll out its share; errors go back as text. The
    loop ends on ``close``, when the parent closes the pipe, or when a reply cannot be sent (the parent gave up
    on this request and closed the pool)."""
    from sim.plumbing.processes import init_worker

    init_worker(parent)
    world: RolloutWorld | None = None
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "close":
                break
            try:
                world, value = _answer(world, msg)
                reply: tuple[str, object] = ("ok", value)
            except Exception:  # report it: the parent raises with this worker's traceback
                reply = ("error", traceback.format_exc())
            conn.send(reply)
    except (EOFError, OSError):  # the parent closed the pipe
        pass
    finally:
        if world is not None:
            world.close()


def _stop(conns: list[Connection], procs: list[mp.process.BaseProcess]) -> None:
    for c in conns:
        try:
            c.send(("close",))
            c.close()
        except (OSError, BrokenPipeError):
            pass
    for proc in procs:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.terminate()


class RolloutPool:
    """``workers`` ``RolloutWorld``s in worker processes; a rollout gives worker k the k-th run of whole chunks
    of candidates and stacks the results in candidate order. The processes start once (a few seconds:
    each imports the simulator) and live until ``close`` or until this object is collected."""

    def __init__(self, workers: int):
        if workers < 2:
            raise ValueError(f"a RolloutPool needs at least 2 workers, got {workers} (use a RolloutWorld)")
        ctx = mp.get_context("spawn")  # a forked torch process can deadlock in its thread pools
        from sim.plumbing.processes import ctrl_c_blocked

        self._conns: list[Connection] = []
        procs: list[mp.process.BaseProcess] = []
        saved = {k: os.environ.get(k) for k in _WORKER_ENV}
        os.environ.update(_WORKER_ENV)  # read by the children as they start
        try:
            with ctrl_c_blocked(ctx):  # a Ctrl-C while a worker imports waits: no traceback from it
                for _ in range(workers):
                    here, there = ctx.Pipe()
                    proc = ctx.Process(target=_serve, args=(there, os.getpid()), daemon=True)
                    proc.start()
                    there.close()
                    self._conns.append(here)
                    procs.append(proc)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.workers = workers
        self.owner: object | None = None  # whose world and state the workers hold (see ``shared_pool``)
        self.chunk = 1  # the workers' worlds' chunk (``world``)
        self._finalizer = weakref.finalize(self, _stop, self._conns, procs)

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def _ask(self, messages: list[tuple[object, ...]]) -> list[Any]:
        """Send worker k ``messages[k]`` and wait for every reply. Anything that leaves a reply unread (a worker's
        error, a dead worker, a Ctrl-C while waiting) closes the pool: a later request would otherwise read a
        stale reply as its own. ``shared_pool`` then starts a new one."""
        if self.closed:
            raise RuntimeError("this oracle rollout pool is closed (an earlier request failed); start a new one")
        try:
            for conn, msg in zip(self._conns, messages):
                conn.send(msg)
            replies, errors = [], []
            for k, conn in enumerate(self._conns[: len(messages)]):
                try:
                    status, value = conn.recv()
                except (EOFError, ConnectionResetError):
                    errors.append(f"oracle rollout worker {k} died (out of memory?); see its output above")
                    continue
                if status == "error":
                    errors.append(f"oracle rollout worker {k} failed:\n{value}")
                replies.append(value)
        except BaseException:
            self.close()
            raise
        if errors:
            self.close()
            raise RuntimeError("\n".join(errors))
        return replies

    def world(self, cfg: DeskEnvConfig, chunk: int, rest_speed: float) -> None:
        """(Re)build every worker's world for ``cfg`` (``RolloutWorld``'s arguments)."""
        self._ask([("world", cfg, chunk, rest_speed)] * self.workers)
        self.chunk = chunk

    def observe(self, state: EnvState) -> None:
        self._ask([("observe", state)] * self.workers)

    def rollout(self, actions: np.ndarray, steps: Sequence[int], frames: bool, states: bool) -> RolloutResult:
        """``RolloutWorld.rollout`` over the workers: worker k takes the k-th run of whole chunks."""
        chunks = -(-actions.shape[0] // self.chunk)
        bounds = [min(int(c) * self.chunk, actions.shape[0]) for c in np.linspace(0, chunks, self.workers + 1).round()]
        shares = [actions[a:b] for a, b in itertools.pairwise(bounds) if b > a]
        parts: list[RolloutResult] = self._ask([("rollout", s, list(steps), frames, states) for s in shares])
        imgs = [im for im, _ in parts if im is not None]
        dense = [d for _, d in parts if d is not None]
        return (np.concatenate(imgs) if frames else None), (np.concatenate(dense) if states else None)

    def close(self) -> None:
        self._finalizer()


def resolve_workers(requested: int) -> int:
    """``requested`` rollout processes, or for 0 one per usable core, except in a process that multiprocessing
    started (a worker of a benchmark or of ``robolearn bench``, which already shares the cores out): 1 there."""
    if requested < 0:
        raise ValueError(f"oracle workers must be ≥ 0 (0 = one per core), got {requested}")
    if requested == 0:
        return 1 if mp.parent_process() is not None else usable_cores()
    return requested


_SHARED: dict[int, RolloutPool] = {}


def shared_pool(workers: int) -> RolloutPool:
    """This process's pool of ``workers`` rollout processes, started on first use and kept until exit: a planner
    builds its dynamics once per episode, and starting processes costs seconds. Its users take turns: one that
    finds another ``owner`` there re-sends its world and state before rolling out."""
    pool = _SHARED.get(workers)
    if pool is None or pool.closed:
        pool = _SHARED[workers] = RolloutPool(workers)
    return pool
