"""Collecting experience: typed episode batches and the batched sampler with its executors."""

from __future__ import annotations

import torch

from metarl.envs.registry import EnvFactory
from metarl.errors import ConfigError
from metarl.rollout.ray_sampler import RayExecutor  # imports Ray only when one is made
from metarl.rollout.sampler import Executor, LocalExecutor, Sampler
from metarl.rollout.slice_runner import SliceJob, SliceRunner, sample_action
from metarl.rollout.trajectories import Trajectories, TrialSequence

BACKENDS = ("local", "ray")


def check_backend(backend: str, workers: int, address: str | None) -> None:
    """Validate ``--backend / --workers / --ray-address`` before any work starts."""
    if backend not in BACKENDS:
        raise ConfigError(f"backend={backend!r} is not allowed: one of {', '.join(map(repr, BACKENDS))}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers={workers!r} is not allowed: an integer >= 1")
    if address and backend != "ray":
        raise ConfigError(f"ray_address={address!r} needs backend='ray'")


def make_sampler(
    *,
    env_factory: EnvFactory,
    backend: str = "local",
    workers: int = 1,
    address: str | None = None,
    seed: int | None = None,
    device: torch.device | str = "cpu",
    compile: bool = False,
) -> Sampler:
    """The sampler behind ``--backend {local,ray} --workers N [--ray-address A]``.

    Both backends cut each call into ``workers`` slices with the same seeds, so for one seed they
    return identical episodes: ``local`` samples the slices one after another in this process,
    ``ray`` on ``workers`` Ray actors (a local Ray instance unless ``address`` names a cluster).
    ``compile``: the local sampler's policy forward through ``torch.compile`` (``metarl.compile``).
    """
    from metarl.tasks import check_count

    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
    check_count("workers", workers)
    if backend == "local":
        if address is not None:
            raise ConfigError(f"a Ray address ({address!r}) needs backend='ray', got backend='local'")
        return Sampler(env_factory=env_factory, device=device, seed=seed, shards=workers, compile=compile)
    if compile:
        raise ConfigError("compile=True is supported with backend='local' only (Ray workers get a new policy "
                         "object every call, which would recompile every call)")
    return Sampler(env_factory=env_factory, device=device, seed=seed, shards=workers,
                   executor=RayExecutor(workers=workers, address=address))


__all__ = [
    "BACKENDS", "Executor", "LocalExecutor", "RayExecutor", "Sampler", "SliceJob", "SliceRunner", "Trajectories",
    "TrialSequence", "check_backend", "make_sampler", "sample_action",
]
