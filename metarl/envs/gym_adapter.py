"""Any Gymnasium environment a task can configure, as a ``BatchedTaskEnv``.

The adapter owns one Gymnasium env per sub-environment, built once by ``make_env()`` and reused
across ``set_tasks`` calls (building a MuJoCo model costs far more than a step). A task reaches a
sub-environment through ``configure(env, task)``, where ``task`` maps each task field to that
sub-environment's row (``{"velocity": array(1.3)}``): set a physics constant, a reward weight, a
goal. ``step`` is a Python loop over the sub-environments: each is a separate C simulator with its
own state, so there is nothing to vectorise across them; the natively batched families
(pendulum, navigation, ...) exist for the cases where that loop is the bottleneck.

Seeding follows Gymnasium's ``SyncVectorEnv``: ``reset(seed=s)`` resets sub-environment ``i`` with
seed ``s + i``; later resets continue each sub-environment's own random stream; a sub-environment
never seeded that way gets a seed drawn from the adapter's generator (the constructor's ``seed``).
So an adapter over ``Pendulum-v1`` equals ``SyncVectorEnv`` of ``Pendulum-v1`` step for step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from metarl.envs.base import BatchedTaskEnv
from metarl.envs.mujoco_messages import mujoco_warnings_as_python
from metarl.tasks import TaskBatch, TaskDistribution

Configure = Callable[[gym.Env, dict[str, np.ndarray]], None]


class GymTaskAdapter(BatchedTaskEnv):
    """Batched task env over Gymnasium envs built by ``make_env`` and set up by ``configure``.

    Spaces come from the wrapped env. A sub-environment's ``terminated`` and ``truncated`` are
    passed through; the adapter's ``max_episode_steps`` truncates on top of them. Subclasses (the
    MuJoCo task families) fix ``family``, ``distribution_type`` and ``default_max_episode_steps``
    as class attributes and pass their own ``make_env`` and ``configure``; for a one-off adapter
    pass ``distribution_type`` (and optionally ``family``) here.
    """

    family: ClassVar[str] = "gym-adapter"
    default_max_episode_steps: ClassVar[int] = 1000

    def __init__(
        self,
        *,
        make_env: Callable[[], gym.Env],
        configure: Configure,
        distribution_type: type[TaskDistribution] | None = None,
        family: str | None = None,
        tasks: TaskBatch | None = None,
        **kwargs: Any,
    ) -> None:
        if distribution_type is not None:
            self.distribution_type = distribution_type
        if family is not None:
            self.family = family
        if not hasattr(self, "distribution_type"):
            raise TypeError("GymTaskAdapter needs distribution_type (a TaskDistribution subclass)")
        if not callable(make_env) or not callable(configure):
            raise TypeError(f"make_env and configure must be callables, got {make_env!r}, {configure!r}")
        self._make_env, self._configure = make_env, configure
        self._envs: list[gym.Env] = [self._build()]
        self._seeded: list[bool] = [False]
        self._reset_seeds: list[int] | None = None  # Python ints: call seeds can exceed int64
        super().__init__(tasks=tasks, **kwargs)

    def _build(self) -> gym.Env:
        with mujoco_warnings_as_python():
            return self._make_env()

    def _spaces(self) -> tuple[gym.Space, gym.Space]:
        return self._envs[0].observation_space, self._envs[0].action_space

    def set_tasks(self, tasks: TaskBatch, episodes_per_task: int = 1) -> None:
        super().set_tasks(tasks, episodes_per_task)
        while len(self._envs) < self.num_envs:
            self._envs.append(self._build())
            self._seeded.append(False)
        for i in range(self.num_envs):
            self._configure(self._envs[i], {k: v[i] for k, v in self.params.items()})
        space = self.single_observation_space
        self._obs = np.zeros((self.num_envs, *space.shape), dtype=space.dtype)
        self._truncated = np.zeros(self.num_envs, dtype=bool)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """As ``BatchedTaskEnv.reset``; with ``seed``, sub-environment ``i`` is reset with ``seed + i``."""
        self._reset_seeds = None if seed is None else [int(seed) + i for i in range(self.num_envs)]
        try:
            return super().reset(seed=seed, options=options)
        finally:
            self._reset_seeds = None

    def _reset_envs(self, idx: np.ndarray) -> None:
        for i in idx:
            seed = None
            if self._reset_seeds is not None:
                seed = int(self._reset_seeds[i])
            elif not self._seeded[i]:
                seed = int(self._rng.integers(2**31))
            self._seeded[i] = self._seeded[i] or seed is not None
            self._obs[i], _ = self._envs[i].reset(seed=seed)

    def _observe(self) -> np.ndarray:
        return self._obs.copy()

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        reward = np.zeros(self.num_envs)
        terminated = np.zeros(self.num_envs, dtype=bool)
        self._truncated = np.zeros(self.num_envs, dtype=bool)
        for i in np.flatnonzero(~self._needs_reset):  # a finished sub-env waits for its reset
            self._obs[i], reward[i], terminated[i], self._truncated[i], _ = self._envs[i].step(
                actions[i]
            )
        return reward, terminated

    def _env_truncated(self) -> np.ndarray:
        return self._truncated

    def close_extras(self, **kwargs: Any) -> None:
        for env in self._envs:
            env.close()
