"""A counting environment whose every output is known in advance, for exact sampler tests.

Task ``i`` has an episode length ``length[i]``; the observation is ``[step, task_id, 0]`` where step
counts from 0 within the episode; the reward of the step taken at count c is ``c + 1000 * task_id``;
the episode terminates after ``length`` steps (truncated by the time limit if that comes first).
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np

from metarl.envs.base import BatchedTaskEnv
from metarl.envs.registry import EnvFactory
from metarl.tasks import TaskBatch, TaskDistribution


@dataclasses.dataclass(frozen=True)
class CountingTasks(TaskBatch):
    length: np.ndarray  # [tasks]
    task_id: np.ndarray  # [tasks]


class CountingDistribution(TaskDistribution):
    task_type = CountingTasks

    def sample(self, n: int, rng: np.random.Generator) -> CountingTasks:
        return CountingTasks(length=rng.integers(1, 6, size=n), task_id=np.arange(n))

    def default(self) -> CountingTasks:
        return CountingTasks(length=[3], task_id=[0])


class CountingEnv(BatchedTaskEnv):
    family = "counting"
    distribution_type = CountingDistribution
    default_max_episode_steps = 4

    def __init__(self, *, discrete: bool = False, **kwargs) -> None:
        self.discrete = discrete
        super().__init__(**kwargs)

    def _spaces(self):
        obs = gym.spaces.Box(-np.inf, np.inf, shape=(3,), dtype=np.float32)
        act = gym.spaces.Discrete(3) if self.discrete else gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
        return obs, act

    def set_tasks(self, tasks, episodes_per_task=1):
        super().set_tasks(tasks, episodes_per_task)
        self.count = np.zeros(self.num_envs, dtype=np.int64)

    def _reset_envs(self, idx):
        self.count[idx] = 0

    def _observe(self):
        zeros = np.zeros(self.num_envs)
        return np.stack([self.count, self.params["task_id"], zeros], axis=1).astype(np.float32)

    def _transition(self, actions):
        reward = self.count + 1000.0 * self.params["task_id"]
        self.count = self.count + 1
        return reward, self.count >= self.params["length"]


def counting_factory(**kwargs) -> EnvFactory:
    """An ``EnvFactory`` of ``CountingEnv`` with ``kwargs`` (e.g. ``discrete=True``)."""
    return EnvFactory(env_type=CountingEnv, kwargs=kwargs)
