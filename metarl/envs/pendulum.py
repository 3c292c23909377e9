"""Pendulum with per-task mass, length and gravity: Gymnasium's Pendulum-v1 dynamics, batched.

At the default task (m = 1, l = 1, g = 10) every step equals ``gymnasium.make("Pendulum-v1")``'s,
and with one sub-environment ``reset(seed=s)`` draws the same initial state as Gymnasium's.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np

from metarl.envs.base import BatchedTaskEnv
from metarl.tasks import TaskBatch, TaskDistribution, check_count

MAX_SPEED = 8.0
MAX_TORQUE = 2.0
DT = 0.05


@dataclasses.dataclass(frozen=True)
class PendulumTasks(TaskBatch):
    mass: np.ndarray  # [tasks]
    length: np.ndarray  # [tasks]
    gravity: np.ndarray  # [tasks]

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, value in self.arrays().items():
            if np.any(value <= 0):
                raise ValueError(f"PendulumTasks.{name} must be > 0, got {value[value <= 0][0]}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PendulumDistribution(TaskDistribution):
    """Mass, length and gravity drawn uniformly from ranges around Pendulum-v1's (1, 1, 10)."""

    task_type = PendulumTasks
    mass: tuple[float, float] = (0.5, 1.5)
    length: tuple[float, float] = (0.5, 1.5)
    gravity: tuple[float, float] = (8.0, 12.0)

    def sample(self, n: int, rng: np.random.Generator) -> PendulumTasks:
        n = check_count("n", n)
        return PendulumTasks(
            mass=rng.uniform(*self.mass, size=n),
            length=rng.uniform(*self.length, size=n),
            gravity=rng.uniform(*self.gravity, size=n),
        )

    def default(self) -> PendulumTasks:
        return PendulumTasks(mass=[1.0], length=[1.0], gravity=[10.0])

    def describe(self) -> dict[str, str]:
        return {
            "mass": f"U{list(self.mass)} (Pendulum-v1: 1)",
            "length": f"U{list(self.length)} (Pendulum-v1: 1)",
            "gravity": f"U{list(self.gravity)} (Pendulum-v1: 10)",
        }


def angle_normalize(x: np.ndarray) -> np.ndarray:
    return ((x + np.pi) % (2 * np.pi)) - np.pi


class PendulumEnv(BatchedTaskEnv):
    """Swing a pendulum up and hold it; reward ``-(theta^2 + 0.1 thetadot^2 + 0.001 u^2)``.

    Observation ``[cos theta, sin theta, thetadot]`` float32; action torque in ``[-2, 2]``, clipped;
    200 steps per episode, never terminated, only truncated.
    """

    family = "pendulum"
    distribution_type = PendulumDistribution
    default_max_episode_steps = 200

    def _spaces(self) -> tuple[gym.Space, gym.Space]:
        high = np.array([1.0, 1.0, MAX_SPEED], dtype=np.float32)
        obs = gym.spaces.Box(low=-high, high=high, dtype=np.float32)
        act = gym.spaces.Box(low=-MAX_TORQUE, high=MAX_TORQUE, shape=(1,), dtype=np.float32)
        return obs, act

    def set_tasks(self, tasks: TaskBatch, episodes_per_task: int = 1) -> None:
        super().set_tasks(tasks, episodes_per_task)
        self._state = np.zeros((self.num_envs, 2))

    def _reset_envs(self, idx: np.ndarray) -> None:
        high = np.array([np.pi, 1.0])
        self._state[idx] = self._rng.uniform(low=-high, high=high, size=(idx.size, 2))

    def _observe(self) -> np.ndarray:
        th, thdot = self._state[:, 0], self._state[:, 1]
        return np.stack([np.cos(th), np.sin(th), thdot], axis=1).astype(np.float32)

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        th, thdot = self._state[:, 0], self._state[:, 1]
        g, m, length = self.params["gravity"], self.params["mass"], self.params["length"]
        u = np.clip(actions[:, 0], -MAX_TORQUE, MAX_TORQUE).astype(np.float64)
        costs = angle_normalize(th) ** 2 + 0.1 * thdot**2 + 0.001 * (u**2)
        newthdot = thdot + (3 * g / (2 * length) * np.sin(th) + 3.0 / (m * length**2) * u) * DT
        newthdot = np.clip(newthdot, -MAX_SPEED, MAX_SPEED)
        self._state = np.stack([th + newthdot * DT, newthdot], axis=1)
        return -costs, np.zeros(self.num_envs, dtype=bool)
