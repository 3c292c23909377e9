"""MountainCarContinuous with per-task engine power and goal position, batched.

At the default task (power 0.0015, goal 0.45) every step equals
``gymnasium.make("MountainCarContinuous-v0")``'s bit for bit (observation, reward, terminated,
truncated at 999 steps), and with one sub-environment ``reset(seed=s)`` draws Gymnasium's initial
state. Exactness needs Gymnasium's mixed precision, which follows from NumPy >= 2 scalar promotion
(NEP 50) in its scalar code:

- its state is float64 after ``reset`` but float32 after every step, so an episode's first step
  runs in float64 and later steps in float32;
- ``force * power`` is a float32 product, except when the action is clipped (then ``force`` is a
  Python float and the push is computed in float64 and rounded once);
- the gravity term ``0.0025 * math.cos(3 * position)`` is float64 of a float32 ``3 * position``;
- comparisons against the Python-float limits and the goal happen in float32.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np

from metarl.envs.base import BatchedTaskEnv
from metarl.tasks import TaskBatch, TaskDistribution, check_count

MIN_POSITION = -1.2
MAX_POSITION = 0.6
MAX_SPEED = 0.07
GRAVITY = 0.0025
GOAL_REWARD = 100.0


@dataclasses.dataclass(frozen=True)
class MountainCarTasks(TaskBatch):
    power: np.ndarray  # [tasks], engine power per unit of action
    goal_position: np.ndarray  # [tasks], the position that ends the episode

    def __post_init__(self) -> None:
        super().__post_init__()
        if np.any(self.power <= 0):
            raise ValueError(f"MountainCarTasks.power must be > 0, got {self.power[self.power <= 0][0]}")
        outside = (self.goal_position <= -0.4) | (self.goal_position >= MAX_POSITION)
        if np.any(outside):
            raise ValueError(
                "MountainCarTasks.goal_position must be in (-0.4, 0.6), "
                f"got {self.goal_position[outside][0]}"
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class MountainCarDistribution(TaskDistribution):
    """Power and goal drawn uniformly around Gymnasium's (0.0015, 0.45).

    The hardest corner (power 0.001, goal 0.5) is the discrete MountainCar-v0's force and goal,
    which is known to be solvable by pumping energy, so every task in the default ranges is too.
    """

    task_type = MountainCarTasks
    power: tuple[float, float] = (0.0010, 0.0020)
    goal_position: tuple[float, float] = (0.35, 0.5)

    def sample(self, n: int, rng: np.random.Generator) -> MountainCarTasks:
        n = check_count("n", n)
        return MountainCarTasks(
            power=rng.uniform(*self.power, size=n),
            goal_position=rng.uniform(*self.goal_position, size=n),
        )

    def default(self) -> MountainCarTasks:
        return MountainCarTasks(power=[0.0015], goal_position=[0.45])

    def describe(self) -> dict[str, str]:
        return {
            "power": f"U{list(self.power)} (MountainCarContinuous-v0: 0.0015)",
            "goal_position": f"U{list(self.goal_position)} (MountainCarContinuous-v0: 0.45)",
        }


def _integrate(
    position: np.ndarray, velocity: np.ndarray, push: np.ndarray, goal: np.ndarray, dtype: type
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of the car's kinematics with every operand and comparison in ``dtype``."""
    position, velocity, goal = position.astype(dtype), velocity.astype(dtype), goal.astype(dtype)
    low, high, speed = dtype(MIN_POSITION), dtype(MAX_POSITION), dtype(MAX_SPEED)
    velocity = np.clip(velocity + push.astype(dtype), -speed, speed)
    position = np.clip(position + velocity, low, high)
    velocity = np.where((position == low) & (velocity < 0), dtype(0), velocity)
    terminated = (position >= goal) & (velocity >= 0)
    return position.astype(np.float64), velocity.astype(np.float64), terminated


class MountainCarEnv(BatchedTaskEnv):
    """Drive an underpowered car up the right hill; reward ``-0.1 a^2`` plus 100 at the goal.

    Observation ``[position, velocity]`` float32; action in ``[-1, 1]`` (clipped for the
    dynamics, unclipped in the action cost, as in Gymnasium); 999 steps per episode.
    """

    family = "mountaincar"
    distribution_type = MountainCarDistribution
    default_max_episode_steps = 999

    def _spaces(self) -> tuple[gym.Space, gym.Space]:
        low = np.array([MIN_POSITION, -MAX_SPEED], dtype=np.float32)
        high = np.array([MAX_POSITION, MAX_SPEED], dtype=np.float32)
        obs = gym.spaces.Box(low=low, high=high, dtype=np.float32)
        act = gym.spaces.Box(low=-1.0, high=1.0, shape=(1,), dtype=np.float32)
        return obs, act

    def set_tasks(self, tasks: TaskBatch, episodes_per_task: int = 1) -> None:
        super().set_tasks(tasks, episodes_per_task)
        self._state = np.zeros((self.num_envs, 2))  # float64; float32-representable after a step
        self._fresh = np.ones(self.num_envs, dtype=bool)

    def _reset_envs(self, idx: np.ndarray) -> None:
        self._state[idx, 0] = self._rng.uniform(low=-0.6, high=-0.4, size=idx.size)
        self._state[idx, 1] = 0.0
        self._fresh[idx] = True

    def _observe(self) -> np.ndarray:
        return self._state.astype(np.float32)

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        action = actions[:, 0].astype(np.float32)
        position, velocity = self._state[:, 0], self._state[:, 1]
        power, goal = self.params["power"], self.params["goal_position"]
        three_x = 3.0 * position  # exact in float64; rounding it gives the float32 product
        three_x = np.where(self._fresh, three_x, three_x.astype(np.float32).astype(np.float64))
        gravity = GRAVITY * np.cos(three_x)
        clipped = np.abs(action) > 1.0
        push32 = action * power.astype(np.float32) - gravity.astype(np.float32)
        push = np.where(clipped, np.sign(action) * power - gravity, push32.astype(np.float64))
        pos64, vel64, term64 = _integrate(position, velocity, push, goal, np.float64)
        pos32, vel32, term32 = _integrate(position, velocity, push, goal, np.float32)
        fresh = self._fresh
        position = np.where(fresh, pos64, pos32)
        velocity = np.where(fresh, vel64, vel32)
        terminated = np.where(fresh, term64, term32)
        self._state = np.stack([position, velocity], axis=1).astype(np.float32).astype(np.float64)
        self._fresh = np.zeros(self.num_envs, dtype=bool)
        square = action.astype(np.float64) ** 2  # exact, as Gymnasium's math.pow of a float32
        reward = np.where(terminated, GOAL_REWARD, 0.0) - square * 0.1
        return reward, terminated
