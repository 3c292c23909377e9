"""The edge where names become objects: a config's env name, task options, seed and backend turn
into the ``EnvFactory``, ``TaskSet`` and sampler that a learner is built from.

Learners never resolve names themselves, so a learner can equally be given a family registered in
user code, a fixed benchmark task set or a sampler of the caller's own. Only the fields of
``RunnableConfig`` are read here.
"""

from __future__ import annotations

from typing import Any

from metarl.algorithms.registry import AlgorithmSpec, RunnableConfig
from metarl.envs.registry import EnvFactory, family, make_distribution
from metarl.rollout import make_sampler
from metarl.tasks import TaskSet, task_kwargs


def resolve_env(config: RunnableConfig) -> tuple[EnvFactory, TaskSet]:
    """The env factory and task set of ``config``: the family's distribution with the config's
    ``task_options`` and its ``task_set(seed=config.seed)`` (a seeded ``TaskSplit``, or the fixed
    lists of a benchmark family); the env is built with that distribution's default task, which
    fixes its spaces (the bandit's number of arms), and the config's episode limit."""
    distribution = make_distribution(config.env, **task_kwargs(config.task_options))
    env_kwargs: dict[str, Any] = {"tasks": distribution.default()}
    if config.max_episode_steps:
        env_kwargs["max_episode_steps"] = config.max_episode_steps
    factory = EnvFactory(env_type=family(config.env).env_type(), kwargs=env_kwargs)
    return factory, distribution.task_set(seed=config.seed)


def build(
    spec: AlgorithmSpec, config: RunnableConfig, *, backend: str | None = None, tasks: TaskSet | None = None,
) -> Any:
    """A learner of ``spec`` for ``config``. ``backend`` overrides the config's sampling backend
    (evaluation samples locally: a Ray run's evaluation needs no cluster); ``tasks`` replaces the
    config's task split (a benchmark's fixed task lists)."""
    env, split = resolve_env(config)
    backend = backend or config.backend
    ray = backend == "ray"
    sampler = make_sampler(env_factory=env, backend=backend, workers=config.workers,
                           address=(config.ray_address or None) if ray else None, seed=config.seed,
                           device=config.device, compile=bool(getattr(config, "compile", False)) and not ray)
    return spec.build_learner(config, env=env, tasks=tasks if tasks is not None else split, sampler=sampler)
