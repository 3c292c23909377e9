"""Sampling on Ray workers: the local sampler's slices, one per worker, at the same time.

Each worker is a Ray actor that holds its own batched environment and samples one slice of the
task batch per call, with the slice's seeds (see ``sharding``), so ``RaySampler(workers=W)`` returns
exactly what ``Sampler(shards=W)`` returns for the same seed. The learner sends the policy once per
call (``ray.put``) and each worker only its tasks and, for MAML, its tasks' rows of the per-task
parameters. A worker that dies is replaced and its slice sampled again with the same seeds, so a
failure changes neither the result nor the order of tasks; after ``max_retries`` replacements of
one slice in one call the call fails with a clear error. Needs ``pip install 'metarl[distributed]'``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from metarl.envs.registry import make_env
from metarl.errors import MissingExtraError
from metarl.rollout.sampler import FeedForwardPolicy, RecurrentPolicy, Sampler, call_seed
from metarl.rollout.sharding import (
    Slice,
    concat_trajectories,
    concat_trials,
    rng_state,
    set_rng_state,
    slice_policy,
    slice_seeds,
    split_call,
)
from metarl.rollout.trajectories import Trajectories, TrialSequence
from metarl.tasks import TaskBatch, check_count

INSTALL_HINT = "the ray backend needs Ray; install it with: pip install 'metarl[distributed]'"


def import_ray() -> Any:
    """The ``ray`` module, or a ``MissingExtraError`` (an ImportError) saying which extra to install."""
    try:
        import ray
    except ImportError as err:
        raise MissingExtraError(INSTALL_HINT, name=err.name) from err
    return ray


def init_ray(address: str | None, num_cpus: int) -> None:
    """Connect to the cluster at ``address``, or start a quiet local instance with ``num_cpus``
    CPUs; an already initialised Ray (e.g. the user's own ``ray.init``) is used as it is."""
    ray = import_ray()
    if ray.is_initialized():
        return
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR}
    if address:
        ray.init(address=address, **quiet)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, **quiet)


class SamplerWorker:
    """The actor: a local ``Sampler`` on its own environment, sampling slices it is given."""

    def __init__(self, env_name: str, env_kwargs: dict[str, Any], device: str, threads: int) -> None:
        torch.set_num_threads(threads)
        self.sampler = Sampler(env=make_env(env_name, **env_kwargs), device=device)

    def pid(self) -> int:
        return os.getpid()

    def collect(self, policy: FeedForwardPolicy, part: Slice, episodes: int, deterministic: bool,
                seed: int) -> Trajectories:
        return self.sampler.collect_slice(policy, part.tasks, episodes, params=part.params,
                                          deterministic=deterministic, seeds=slice_seeds(seed, part.index))

    def collect_trials(self, policy: RecurrentPolicy, part: Slice, episodes: int, deterministic: bool,
                       seed: int) -> TrialSequence:
        return self.sampler.collect_trials_slice(policy, part.tasks, episodes, deterministic=deterministic,
                                                 seeds=slice_seeds(seed, part.index))


class RaySampler:
    """``Sampler``'s interface, sampled by ``workers`` Ray actors (worker s samples slice s).

    ``address``: an existing cluster (``ray://...`` or ``host:port``); None starts a local instance
    with ``workers`` CPUs, unless Ray is already initialised. ``device`` is where workers run the
    policy and where results are returned. Call ``close()`` (or use ``with``) to stop the workers.
    """

    def __init__(
        self,
        *,
        env_name: str,
        env_kwargs: Mapping[str, Any] | None = None,
        workers: int,
        address: str | None = None,
        seed: int | None = None,
        device: torch.device | str = "cpu",
        max_retries: int = 3,
        cpus_per_worker: float = 1.0,
        threads_per_worker: int = 1,
        start_timeout: float = 120.0,
    ) -> None:
        self.workers = check_count("workers", workers)
        self.max_retries = check_count("max_retries", max_retries, minimum=0)
        make_env(env_name, **(env_kwargs or {}))  # bad names and kwargs fail here, not inside a worker
        self.env_name, self.env_kwargs = env_name, dict(env_kwargs or {})
        self.device = torch.device(device)
        self.rng = np.random.default_rng(seed)
        self._ray = import_ray()
        init_ray(address, self.workers)
        self._actor_type = self._ray.remote(num_cpus=cpus_per_worker)(SamplerWorker)
        self._threads = check_count("threads_per_worker", threads_per_worker)
        self.start_timeout, self.cpus_per_worker = start_timeout, cpus_per_worker
        self.actors: list[Any] = self._start_actors(self.workers)
        self.replacements = 0

    # ------------------------------------------------------------------ public API
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
        """As ``Sampler.collect``: ``[tasks, episodes, H, ...]``, tasks in the order given."""
        check_count("episodes_per_task", episodes_per_task)
        this_call = call_seed(self.rng, seed)
        parts = [_compact(part) for part in split_call(tasks, self.workers, params, policy)]
        results = self._run("collect", policy, len(tasks), parts, episodes_per_task, deterministic, this_call)
        return concat_trajectories(results).map(lambda t: t.to(self.device))

    def collect_trials(
        self,
        policy: RecurrentPolicy,
        tasks: TaskBatch,
        episodes_per_trial: int,
        *,
        deterministic: bool = False,
        seed: int | None = None,
    ) -> TrialSequence:
        """As ``Sampler.collect_trials``: one trial per task, ``[trials, L, ...]`` in task order."""
        check_count("episodes_per_trial", episodes_per_trial)
        this_call = call_seed(self.rng, seed)
        parts = split_call(tasks, self.workers)
        results = self._run("collect_trials", policy, len(tasks), parts, episodes_per_trial, deterministic,
                            this_call)
        trials = concat_trials(results)
        return _trials_to(trials, self.device)

    def state_dict(self) -> dict[str, Any]:
        """The call-seed stream's state as plain Python (``torch.load(weights_only=True)`` reads it)."""
        return {"rng": rng_state(self.rng)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        set_rng_state(self.rng, state["rng"])

    def close(self) -> None:
        """Stop the workers (Ray itself stays up for whoever else uses it)."""
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []

    def __enter__(self) -> RaySampler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ workers
    def _start_actors(self, count: int) -> list[Any]:
        """``count`` new workers, once they are up; a clear error if the cluster cannot place them
        (rather than waiting forever for CPUs that are taken)."""
        actors = [self._actor_type.remote(self.env_name, self.env_kwargs, str(self.device), self._threads)
                  for _ in range(count)]
        try:
            self._ray.get([a.pid.remote() for a in actors], timeout=self.start_timeout)
        except self._ray.exceptions.GetTimeoutError as err:
            for actor in actors:
                self._ray.kill(actor)
            raise RuntimeError(
                f"{count} Ray worker(s) of {self.cpus_per_worker} CPU each did not start within "
                f"{self.start_timeout} s; the cluster has {self._ray.available_resources().get('CPU', 0)} "
                f"free CPUs (other samplers still open?)"
            ) from err
        return actors

    def _replace(self, index: int) -> None:
        with contextlib.suppress(Exception):  # already gone is the usual case
            self._ray.kill(self.actors[index])
        (self.actors[index],) = self._start_actors(1)
        self.replacements += 1

    def _run(self, method: str, policy: Any, num_tasks: int, parts: list[Slice], episodes: int,
             deterministic: bool, seed: int) -> list[Any]:
        """Every slice's result in slice order; a slice whose worker died is sampled again on a
        fresh worker with the same seeds, at most ``max_retries`` times."""
        if not self.actors:
            raise RuntimeError("RaySampler is closed")
        ray = self._ray
        dead = (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError)
        if hasattr(policy, "take_tasks"):
            policy_refs = {p.index: ray.put(slice_policy(policy, p, num_tasks)) for p in parts}
        else:
            policy_refs = dict.fromkeys((p.index for p in parts), ray.put(policy))  # sent once

        def submit(part: Slice) -> Any:
            actor = self.actors[part.index]
            return getattr(actor, method).remote(policy_refs[part.index], part, episodes, deterministic, seed)

        pending = {submit(part): part for part in parts}
        results: dict[int, Any] = {}
        failures = dict.fromkeys((p.index for p in parts), 0)
        while pending:
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            part = pending.pop(ref)
            try:
                results[part.index] = ray.get(ref)
            except dead as err:
                failures[part.index] += 1
                if failures[part.index] > self.max_retries:
                    raise RuntimeError(
                        f"the Ray worker sampling slice {part.index} of {self.workers} died "
                        f"{failures[part.index]} times in one call; giving up (last error: {err})"
                    ) from err
                self._replace(part.index)
                pending[submit(part)] = part
        return [results[p.index] for p in parts]


def _compact(part: Slice) -> Slice:
    """The slice with its own copy of its parameter rows: a view would ship the whole batch's."""
    if part.params is None:
        return part
    return dataclasses.replace(part, params={k: v.detach().clone() for k, v in part.params.items()})


def _trials_to(trials: TrialSequence, device: torch.device) -> TrialSequence:
    fields = {k: v.to(device) for k, v in vars(trials).items() if isinstance(v, torch.Tensor)}
    return TrialSequence(**fields, episodes_per_trial=trials.episodes_per_trial)
