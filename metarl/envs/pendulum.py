"""Pendulum with per-task mass, length and gravity: Gymnasium's Pendulum-v1 dynamics, batched.

At the default task (m = 1, l = 1, g = 10) every step equals ``gymnasium.make("Pendulum-v1")``'s,
and with one sub-environment ``reset(seed=s)`` draws the same initial state as Gymnasium's.
Observations are bit-exact; so are rewards, except that Gymnasium squares the float32 torque with
C ``powf`` (one float32 ulp off ``u * u`` for ~0.07% of torques, which no array operation
reproduces), so those steps' rewards agree to ~1e-10.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np

from metarl.envs.base import BatchedTaskEnv
from metarl.envs.rendering import gymnasium_renderer
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


def _scalar_square(x: np.ndarray) -> np.ndarray:
    """``x ** 2`` as Gymnasium gets it from a NumPy float64 scalar: C ``pow``, which differs from
    the array path (``x * x`` or SIMD) by one ulp in about 0.1% of cases; ``float_power`` calls
    ``pow`` element by element."""
    return np.float_power(x, 2.0)


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
        # Gymnasium keeps u a float32 scalar, so its action terms are float32 products; matching
        # that arithmetic is what makes the default task equal Pendulum-v1 bit for bit.
        u = np.clip(actions[:, 0], -MAX_TORQUE, MAX_TORQUE).astype(np.float32)
        action_cost = (np.float32(0.001) * (u * u)).astype(np.float64)
        torque = ((3.0 / (m * length**2)).astype(np.float32) * u).astype(np.float64)
        costs = _scalar_square(angle_normalize(th)) + 0.1 * _scalar_square(thdot) + action_cost
        newthdot = thdot + (3 * g / (2 * length) * np.sin(th) + torque) * DT
        newthdot = np.clip(newthdot, -MAX_SPEED, MAX_SPEED)
        self._state = np.stack([th + newthdot * DT, newthdot], axis=1)
        return -costs, np.zeros(self.num_envs, dtype=bool)

    def render_frames(self, *, task: int, obs: np.ndarray, actions: np.ndarray | None = None) -> np.ndarray:
        """``[time, 500, 500, 3]`` uint8: Gymnasium's Pendulum-v1 drawing of each ``obs [time, 3]``
        (the angle recovered from its cos and sin). As in Gymnasium's own frames after a step, frame
        t draws the torque arrow of ``actions[t - 1]`` (clipped; none on frame 0 or without actions).
        The renderer draws a unit rod whatever the task's length, and no mass or gravity."""
        obs, actions = self._render_input(task, obs, actions)
        theta = np.arctan2(obs[:, 1].astype(np.float64), obs[:, 0].astype(np.float64))
        torque = None if actions is None else np.clip(actions[:, 0], -MAX_TORQUE, MAX_TORQUE).astype(np.float32)
        with gymnasium_renderer("Pendulum-v1") as env:
            env.m, env.l, env.g = (float(self.tasks.arrays()[k][task]) for k in ("mass", "length", "gravity"))
            frames = []
            for t in range(len(obs)):
                env.state = np.array([theta[t], float(obs[t, 2])])
                env.last_u = None if torque is None or t == 0 else torque[t - 1]
                frames.append(env.render())
        return np.stack(frames)
