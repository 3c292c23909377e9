"""2D point navigation (MAML paper, section 5.3).

A point starts at the origin and moves by its action, a velocity clipped to [-0.1, 0.1] per axis;
the reward is minus the L2 distance to the task's goal after the move; the episode terminates once
within 0.01 of the goal and is truncated after 100 steps. Goals ~ U[-0.5, 0.5]^2.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np

from metarl.envs.base import BatchedTaskEnv
from metarl.tasks import TaskBatch, TaskDistribution, check_count

MAX_VELOCITY = 0.1
GOAL_RADIUS = 0.01


@dataclasses.dataclass(frozen=True)
class NavigationTasks(TaskBatch):
    goals: np.ndarray  # [tasks, 2]

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.goals.ndim != 2 or self.goals.shape[1] != 2:
            raise ValueError(f"NavigationTasks.goals must be [tasks, 2], got {self.goals.shape}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class NavigationDistribution(TaskDistribution):
    """Goal uniform in the square ``[low, high]^2``."""

    task_type = NavigationTasks
    low: float = -0.5
    high: float = 0.5

    def sample(self, n: int, rng: np.random.Generator) -> NavigationTasks:
        return NavigationTasks(goals=rng.uniform(self.low, self.high, size=(check_count("n", n), 2)))

    def default(self) -> NavigationTasks:
        return NavigationTasks(goals=[[0.25, -0.25]])

    def describe(self) -> dict[str, str]:
        return {"goals": f"[2] each U[{self.low}, {self.high}]"}


class Navigation2DEnv(BatchedTaskEnv):
    """Observation: the position ``[x, y]``; action: a velocity, clipped per axis to +-0.1."""

    family = "navigation2d"
    distribution_type = NavigationDistribution
    default_max_episode_steps = 100

    def _spaces(self) -> tuple[gym.Space, gym.Space]:
        obs = gym.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
        act = gym.spaces.Box(-MAX_VELOCITY, MAX_VELOCITY, shape=(2,), dtype=np.float32)
        return obs, act

    def set_tasks(self, tasks: TaskBatch, episodes_per_task: int = 1) -> None:
        super().set_tasks(tasks, episodes_per_task)
        self.position = np.zeros((self.num_envs, 2))

    def _reset_envs(self, idx: np.ndarray) -> None:
        self.position[idx] = 0.0

    def _observe(self) -> np.ndarray:
        return self.position.astype(np.float32)

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.position = self.position + np.clip(actions, -MAX_VELOCITY, MAX_VELOCITY)
        distance = np.linalg.norm(self.position - self.params["goals"], axis=1)
        return -distance, distance < GOAL_RADIUS
