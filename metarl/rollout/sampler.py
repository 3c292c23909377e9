"""Synchronous, batched collection of episodes: one front end, interchangeable executors.

The ``Sampler`` steps batched task environments and runs the policy once per step over every
task x episode; it knows nothing of adaptation. Feed-forward policies (MAML) may run with per-task
parameters (``params`` with a leading task dimension), applied in one batched call. Recurrent
policies (RL²) run trials: the episodes of one trial follow each other on one sub-environment and
the hidden state is carried across their boundaries, reset only at the start of a trial.

The front end does everything that decides *what* is sampled: it draws the call's seed, cuts the
task batch into ``shards`` slices (``sharding``), gives each slice its seeds, its policy and its
rows of the parameters, and joins the slices' results in task order. An executor decides only
*where* the slices run: ``LocalExecutor`` one after another in this process, ``RayExecutor`` on
Ray actors. Both run the same slice function (``SliceRunner``) on environments built from the same
``EnvFactory``, so for one seed and one ``shards`` every executor returns the same episodes.

Randomness belongs to the sampler: it holds its own ``numpy.random.Generator`` (seeded from
``seed``) and draws one seed from it per call; slices reset their environment with
``env.reset(seed=...)`` and draw actions from a ``torch.Generator``, both seeded from that call
seed and the slice index. Neither torch's global generator nor the environment's own is consulted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import torch

from metarl.envs.registry import EnvFactory
from metarl.rollout.sharding import (
    concat_trajectories,
    concat_trials,
    draw_call_seed,
    rng_state,
    set_rng_state,
    slice_policy,
    slice_seeds,
    split_call,
)
from metarl.rollout.slice_runner import FeedForwardPolicy, RecurrentPolicy, SliceJob, SliceRunner
from metarl.rollout.trajectories import Trajectories, TrialSequence
from metarl.tasks import TaskBatch, check_count

SliceResult = Trajectories | TrialSequence


class Executor(Protocol):
    """Where slices run. ``start`` is called once by the sampler that owns the executor; ``run``
    returns each job's result in the order given; ``close`` releases what ``start`` took and may
    be called more than once."""

    workers: int

    def start(self, *, env_factory: EnvFactory, device: torch.device, compile: bool) -> None: ...

    def run(self, work: Sequence[tuple[Any, SliceJob]]) -> list[SliceResult]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Runs the slices one after another in this process, on one environment built from the factory."""

    workers = 1

    def __init__(self) -> None:
        self.runner: SliceRunner | None = None
        self._closed = False

    @property
    def env(self) -> Any:
        """The environment the slices run on (None before ``start``)."""
        return None if self.runner is None else self.runner.env

    def start(self, *, env_factory: EnvFactory, device: torch.device, compile: bool) -> None:
        if self.runner is not None or self._closed:
            raise RuntimeError("this LocalExecutor already belongs to a sampler; make a new one per sampler")
        self.runner = SliceRunner(env=env_factory(), device=device, compile=compile)

    def run(self, work: Sequence[tuple[Any, SliceJob]]) -> list[SliceResult]:
        if self.runner is None:
            raise RuntimeError("the sampler is closed" if self._closed else "LocalExecutor.start was not called")
        return [self.runner.run(policy, job) for policy, job in work]

    def close(self) -> None:
        if self.runner is not None:
            self.runner.env.close()
        self.runner, self._closed = None, True


def call_seed(rng: np.random.Generator, seed: int | None) -> int:
    """The seed of one call: ``seed`` if given (the stream is left alone), else one draw from ``rng``."""
    if seed is None:
        return draw_call_seed(rng)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


class Sampler:
    """Collects episodes of environments built by ``env_factory``, in ``shards`` slices of the
    tasks run by ``executor`` (a ``LocalExecutor`` when None).

    Results depend on ``seed`` and ``shards`` only, not on the executor: ``shards=1`` is fastest
    locally, ``shards=W`` with ``RayExecutor(workers=W)`` spreads the slices over the workers and
    returns what a local sampler with ``shards=W`` returns. ``compile``: the policy forward through
    ``torch.compile`` (local executor only). ``close()`` (or ``with``) releases the executor.
    """

    def __init__(
        self, *, env_factory: EnvFactory, device: torch.device | str = "cpu", seed: int | None = None,
        shards: int = 1, executor: Executor | None = None, compile: bool = False,
    ) -> None:
        if not isinstance(env_factory, EnvFactory):
            raise TypeError(f"env_factory must be an EnvFactory (metarl.envs.registry.env_factory(name)), "
                            f"got {type(env_factory).__name__}")
        self.env_factory = env_factory
        self.device = torch.device(device)
        self.shards = check_count("shards", shards)
        self.compile = bool(compile)
        self.executor: Executor = LocalExecutor() if executor is None else executor
        if self.shards < self.executor.workers:
            raise ValueError(f"shards={self.shards} would leave {self.executor.workers - self.shards} of the "
                             f"executor's {self.executor.workers} workers idle; pass shards >= workers")
        self.rng = np.random.default_rng(seed)
        self.executor.start(env_factory=env_factory, device=self.device, compile=self.compile)

    def reseed(self, seed: int | None) -> None:
        """Restart the call-seed stream from ``seed``: the next calls sample what a new sampler
        made with this seed would (evaluation protocols pair runs this way)."""
        self.rng = np.random.default_rng(seed)

    def state_dict(self) -> dict[str, Any]:
        """The call-seed stream's state as plain Python (``torch.load(weights_only=True)`` reads it)."""
        return {"rng": rng_state(self.rng)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        set_rng_state(self.rng, state["rng"])

    def close(self) -> None:
        """Release the executor (Ray workers are killed); closing again does nothing."""
        self.executor.close()

    def __enter__(self) -> Sampler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def collect(
        self,
        policy: FeedForwardPolicy,
        tasks: TaskBatch,
        episodes_per_task: int,
        *,
        params: Mapping[str, torch.Tensor] | None = None,
        deterministic: bool = False,
        seed: int | None = None,
    ) -> Trajectories:
        """``episodes_per_task`` episodes of every task, all in parallel: ``[tasks, episodes, H, ...]``.

        ``params``: the policy's parameters by name, either shared or with a leading task
        dimension (one set per task, e.g. MAML's adapted parameters); None uses the policy's own.
        ``seed`` fixes this call's streams without drawing from the sampler's (for evaluation).
        """
        check_count("episodes_per_task", episodes_per_task)
        this_call = call_seed(self.rng, seed)
        work = [
            (slice_policy(policy, part, len(tasks)),
             SliceJob(kind="episodes", index=part.index, tasks=part.tasks, episodes=episodes_per_task,
                      params=part.params, deterministic=deterministic, seeds=slice_seeds(this_call, part.index)))
            for part in split_call(tasks, self.shards, params, policy)
        ]
        return concat_trajectories(self.executor.run(work)).map(lambda t: t.to(self.device))

    def collect_trials(
        self,
        policy: RecurrentPolicy,
        tasks: TaskBatch,
        episodes_per_trial: int,
        *,
        deterministic: bool = False,
        seed: int | None = None,
    ) -> TrialSequence:
        """One trial of ``episodes_per_trial`` consecutive episodes for each task: ``[trials, L, ...]``.

        The recurrent state starts from ``policy.initial_state`` and is never reset inside the
        trial; the policy also sees the previous action, reward and episode-end flag. A policy with a
        ``transition`` method (``slice_runner.TransitionPolicy``) also updates its state from each
        step's ``(action, reward, next_obs)``, the final observation where an episode ended.
        """
        check_count("episodes_per_trial", episodes_per_trial)
        this_call = call_seed(self.rng, seed)
        work = [
            (slice_policy(policy, part, len(tasks)),
             SliceJob(kind="trials", index=part.index, tasks=part.tasks, episodes=episodes_per_trial,
                      params=None, deterministic=deterministic, seeds=slice_seeds(this_call, part.index)))
            for part in split_call(tasks, self.shards)
        ]
        return concat_trials(self.executor.run(work)).map(lambda t: t.to(self.device))
