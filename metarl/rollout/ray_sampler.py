"""Sampling on Ray workers: the sampler's slices run on Ray actors, several at the same time.

Each worker is a Ray actor that builds its own batched environment once, from the pickled
``EnvFactory`` (so a family defined in user code works too), and runs the same slice function as
the local executor (``SliceRunner``): ``Sampler(shards=W, executor=RayExecutor(workers=W))``
returns exactly what ``Sampler(shards=W)`` returns for the same seed. Slice s runs on worker
``s % workers``. The policy is sent once per call (``ray.put``) and each worker only its tasks and,
for MAML, its tasks' rows of the per-task parameters. A worker that dies is replaced and its
slice sampled again with the same seeds, so a failure changes neither the result nor the order
of tasks; after ``max_retries`` replacements for one slice in one call the call fails with a clear
error. Needs ``pip install 'metarl[distributed]'``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Sequence
from typing import Any

import torch

from metarl.envs.registry import EnvFactory
from metarl.errors import MissingExtraError
from metarl.rollout.slice_runner import SliceJob, SliceRunner
from metarl.rollout.trajectories import Trajectories, TrialSequence
from metarl.tasks import check_count

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


class SliceWorker:
    """The actor: a ``SliceRunner`` on its own environment, built once from the factory."""

    def __init__(self, env_factory: EnvFactory, device: str, threads: int) -> None:
        torch.set_num_threads(threads)
        self.runner = SliceRunner(env=env_factory(), device=device)

    def pid(self) -> int:
        return os.getpid()

    def run(self, policy: Any, job: SliceJob) -> Trajectories | TrialSequence:
        return self.runner.run(policy, job)


class RayExecutor:
    """Runs a sampler's slices on ``workers`` Ray actors.

    ``address``: an existing cluster (``ray://...`` or ``host:port``); None starts a local instance
    with ``workers`` CPUs, unless Ray is already initialised. Workers run the policy on the
    sampler's device. ``close()`` kills the workers (Ray itself stays up for whoever else uses it).
    """

    def __init__(
        self, *, workers: int, address: str | None = None, max_retries: int = 3, cpus_per_worker: float = 1.0,
        threads_per_worker: int = 1, start_timeout: float = 120.0,
    ) -> None:
        self.workers = check_count("workers", workers)
        self.max_retries = check_count("max_retries", max_retries, minimum=0)
        self.threads = check_count("threads_per_worker", threads_per_worker)
        self.address, self.cpus_per_worker, self.start_timeout = address, cpus_per_worker, start_timeout
        self._ray = import_ray()  # a missing Ray fails here, before any sampler is built
        self.actors: list[Any] = []
        self.replacements = 0
        self._started = False

    def start(self, *, env_factory: EnvFactory, device: torch.device, compile: bool) -> None:
        if self._started:
            raise RuntimeError("this RayExecutor already belongs to a sampler; make a new one per sampler")
        if compile:
            raise ValueError("compile=True is supported with the local executor only (Ray workers get a new "
                             "policy object every call, which would recompile every call)")
        env_factory().close()  # bad kwargs fail here, not inside a worker
        self._started = True
        self._args = (env_factory, str(device), self.threads)
        init_ray(self.address, self.workers)
        self._actor_type = self._ray.remote(num_cpus=self.cpus_per_worker)(SliceWorker)
        self.actors = self._start_actors(self.workers)

    def close(self) -> None:
        """Kill the workers; closing again does nothing."""
        for actor in self.actors:
            with contextlib.suppress(Exception):  # already dead
                self._ray.kill(actor)
        self.actors = []

    def _start_actors(self, count: int) -> list[Any]:
        """``count`` new workers, once they are up; a clear error if the cluster cannot place them
        (rather than waiting forever for CPUs that are taken)."""
        actors = [self._actor_type.remote(*self._args) for _ in range(count)]
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

    def _replace(self, worker: int, dead: Any) -> None:
        """A fresh worker in place of ``dead``, unless another slice's failure has replaced it already."""
        if self.actors[worker] is not dead:
            return
        with contextlib.suppress(Exception):  # already gone is the usual case
            self._ray.kill(dead)
        (self.actors[worker],) = self._start_actors(1)
        self.replacements += 1

    def run(self, work: Sequence[tuple[Any, SliceJob]]) -> list[Trajectories | TrialSequence]:
        """Every slice's result in the order given; a slice whose worker died is sampled again on a
        fresh worker with the same seeds, at most ``max_retries`` times."""
        if not self.actors:
            raise RuntimeError("the sampler is closed" if self._started else "RayExecutor.start was not called")
        ray = self._ray
        dead_errors = (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError)
        refs: dict[int, Any] = {}  # one put per distinct policy object: a shared policy is sent once
        for policy, _ in work:
            if id(policy) not in refs:
                refs[id(policy)] = ray.put(policy)
        policy_refs = [refs[id(policy)] for policy, _ in work]
        jobs = [_compact(job) for _, job in work]

        def submit(i: int) -> tuple[Any, Any]:
            actor = self.actors[jobs[i].index % self.workers]
            return actor.run.remote(policy_refs[i], jobs[i]), actor

        pending: dict[Any, tuple[int, Any]] = {}
        for i in range(len(jobs)):
            ref, actor = submit(i)
            pending[ref] = (i, actor)
        results: dict[int, Any] = {}
        failures = [0] * len(jobs)
        while pending:
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            i, actor = pending.pop(ref)
            try:
                results[i] = ray.get(ref)
            except dead_errors as err:
                failures[i] += 1
                if failures[i] > self.max_retries:
                    raise RuntimeError(
                        f"the Ray worker sampling slice {jobs[i].index} died {failures[i]} times in one call; "
                        f"giving up (last error: {err})"
                    ) from err
                self._replace(jobs[i].index % self.workers, actor)
                ref, actor = submit(i)
                pending[ref] = (i, actor)
        return [results[i] for i in range(len(jobs))]


def _compact(job: SliceJob) -> SliceJob:
    """The job with its own copy of its parameter rows: a view would ship the whole batch's."""
    if job.params is None:
        return job
    return dataclasses.replace(job, params={k: v.detach().clone() for k, v in job.params.items()})
