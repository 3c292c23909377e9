"""2D point navigation (MAML paper, section 5.3), and oyster's sparse point robot (PEARL) as its variant.

A point starts at the origin and moves by its action, a velocity clipped to [-0.1, 0.1] per axis;
the reward is minus the L2 distance to the task's goal after the move; the episode terminates once
within 0.01 of the goal and is truncated after 100 steps. Goals ~ U[-0.5, 0.5]^2.

``navigation2d-sparse`` (``SparseNavigation2DEnv``) is PEARL's sparse point robot: goals on the half
circle of radius 1, reward only within 0.2 of the goal, 20 steps (its docstring says what differs).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from metarl.envs.base import TRAINING_REWARD, BatchedTaskEnv
from metarl.tasks import FixedTaskSet, TaskBatch, TaskDistribution, check_count

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


# ---------------------------------------------------------------------------- the sparse point robot
SPARSE_GOAL_RADIUS = 0.2
OYSTER_SEED = 1337


@dataclasses.dataclass(frozen=True, kw_only=True)
class HalfCircleDistribution(TaskDistribution):
    """Goals on the upper half circle of radius ``radius``: angle ~ U[0, pi]."""

    task_type = NavigationTasks
    radius: float = 1.0

    def sample(self, n: int, rng: np.random.Generator) -> NavigationTasks:
        angles = rng.uniform(0.0, np.pi, size=check_count("n", n))
        return NavigationTasks(goals=self.radius * np.stack([np.cos(angles), np.sin(angles)], axis=1))

    def default(self) -> NavigationTasks:
        return NavigationTasks(goals=[[0.0, self.radius]])

    def describe(self) -> dict[str, str]:
        return {"goals": f"[2] on the half circle of radius {self.radius}, angle U[0, pi]"}


class SparseNavigation2DEnv(Navigation2DEnv):
    """oyster's sparse point robot (PEARL, Rakelly et al. 2019: ``rlkit/envs/point_robot.py``,
    ``SparsePointEnv`` under ``NormalizedBoxEnv``), as a variant of ``navigation2d``.

    Kept from oyster: the point starts at the origin, moves by its action clipped to +-0.1 per
    axis, observes its position; goals lie on the half circle of radius 1; the reward is the
    distance ``d`` to the goal after the move made sparse and positive: ``1 - d`` within 0.2 of the
    goal, 0 elsewhere; episodes of 20 steps that never terminate (oyster's ``done`` is always
    False). The dense reward ``-d``, which oyster's ``step`` returns and PEARL's critic trains on
    (``sample_sac``: "rewards are always dense") while the encoder and the evaluation see the sparse
    one, is reported in ``info["training_reward"]`` (``metarl.envs.base.TRAINING_REWARD``); the
    reward every algorithm is scored on is the sparse one.

    Differs from ``navigation2d`` (the MAML paper's): goals on the half circle instead of
    U[-0.5, 0.5]^2, horizon 20 instead of 100, no termination near the goal, the sparse reward.
    Differs from oyster: goals are drawn with the angle ~ U[0, pi] (``TaskSplit`` streams) where
    oyster fixes 100 evenly spaced goals, shuffled with seed 1337, the first 80 for training and the
    last 20 for evaluation; ``oyster_task_set()`` gives exactly those.
    """

    family = "navigation2d-sparse"
    distribution_type = HalfCircleDistribution
    default_max_episode_steps = 20

    def set_tasks(self, tasks: TaskBatch, episodes_per_task: int = 1) -> None:
        super().set_tasks(tasks, episodes_per_task)
        self._dense = np.zeros(self.num_envs)

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.position = self.position + np.clip(actions, -MAX_VELOCITY, MAX_VELOCITY)
        distance = np.linalg.norm(self.position - self.params["goals"], axis=1)
        self._dense = -distance
        sparse = np.where(distance <= SPARSE_GOAL_RADIUS, 1.0 - distance, 0.0)
        return sparse, np.zeros(self.num_envs, dtype=bool)

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        restart = self._needs_reset.copy() if self.autoreset_mode == AutoresetMode.NEXT_STEP else None
        obs, reward, terminated, truncated, info = super().step(actions)
        dense = self._dense if restart is None else np.where(restart, 0.0, self._dense)
        return obs, reward, terminated, truncated, {**info, TRAINING_REWARD: dense}


def oyster_task_set(*, n_tasks: int = 100, n_train: int = 80, n_test: int = 20) -> FixedTaskSet:
    """oyster's sparse-point-robot tasks: ``n_tasks`` goals evenly spaced on the half circle
    (``np.linspace(0, pi, n_tasks)``), shuffled as ``np.random.seed(1337); np.random.shuffle``,
    the first ``n_train`` for training and the last ``n_test`` for evaluation."""
    angles = np.linspace(0.0, np.pi, num=check_count("n_tasks", n_tasks))
    goals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    np.random.RandomState(OYSTER_SEED).shuffle(goals)
    if check_count("n_train", n_train) + check_count("n_test", n_test) > n_tasks:
        raise ValueError(f"n_train + n_test = {n_train + n_test} exceeds n_tasks = {n_tasks}")
    return FixedTaskSet(train=NavigationTasks(goals=goals[:n_train]), test=NavigationTasks(goals=goals[-n_test:]))
