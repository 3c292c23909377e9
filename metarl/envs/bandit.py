"""k-armed Bernoulli bandits (RL² paper, section 4.1): arm i pays 1 with probability p_i.

One episode is one pull (terminated after the pull); a trial is n episodes on one task. The
observation carries no information (a constant zero), so everything the agent knows about the
task comes from the rewards of earlier pulls.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np

from metarl.envs.base import BatchedTaskEnv
from metarl.tasks import TaskBatch, TaskDistribution, check_count


@dataclasses.dataclass(frozen=True)
class BanditTasks(TaskBatch):
    probs: np.ndarray  # [tasks, arms], each in [0, 1]

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.probs.ndim != 2 or np.any((self.probs < 0) | (self.probs > 1)):
            raise ValueError("BanditTasks.probs must be [tasks, arms] with values in [0, 1]")

    @property
    def num_arms(self) -> int:
        return int(self.probs.shape[1])


@dataclasses.dataclass(frozen=True, kw_only=True)
class BanditDistribution(TaskDistribution):
    """Arm probabilities i.i.d. U[0, 1]."""

    task_type = BanditTasks
    arms: int = 5

    def __post_init__(self) -> None:
        check_count("arms", self.arms, minimum=2)

    def sample(self, n: int, rng: np.random.Generator) -> BanditTasks:
        return BanditTasks(probs=rng.uniform(0.0, 1.0, size=(check_count("n", n), self.arms)))

    def default(self) -> BanditTasks:
        return BanditTasks(probs=np.linspace(0.1, 0.9, self.arms)[None])

    def describe(self) -> dict[str, str]:
        return {"probs": f"[arms={self.arms}] each U[0, 1]"}


class BanditEnv(BatchedTaskEnv):
    """Observation ``[0.0]``; action an arm index; reward Bernoulli(p_arm); every pull terminates."""

    family = "bandit"
    distribution_type = BanditDistribution
    default_max_episode_steps = 1

    def __init__(self, *, arms: int | None = None, tasks: BanditTasks | None = None, **kwargs) -> None:
        if tasks is None:
            tasks = BanditDistribution(arms=arms or 5).default()
        elif arms is not None and arms != tasks.num_arms:
            raise ValueError(f"bandit: arms={arms} but tasks have {tasks.num_arms} arms")
        self.arms = tasks.num_arms
        super().__init__(tasks=tasks, **kwargs)

    def _spaces(self) -> tuple[gym.Space, gym.Space]:
        return gym.spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32), gym.spaces.Discrete(self.arms)

    def _check_tasks(self, tasks: TaskBatch) -> None:
        if tasks.num_arms != self.arms:
            raise ValueError(f"bandit: this env has {self.arms} arms, tasks have {tasks.num_arms}")

    def _reset_envs(self, idx: np.ndarray) -> None:
        pass

    def _observe(self) -> np.ndarray:
        return np.zeros((self.num_envs, 1), dtype=np.float32)

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = np.take_along_axis(self.params["probs"], actions[:, None], axis=1)[:, 0]
        reward = (self._rng.random(self.num_envs) < p).astype(np.float64)
        return reward, np.ones(self.num_envs, dtype=bool)
