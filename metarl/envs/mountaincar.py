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
from metarl.envs.rendering import gymnasium_renderer
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
    position: np.ndarray, velocity: np.ndarray, push: np.ndarray, dtype: type
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of the car's kinematics with every operand in ``dtype``: ``(position, velocity,
    impact)``, where ``impact`` is the velocity before the left end stops the car."""
    position, velocity = position.astype(dtype), velocity.astype(dtype)
    low, high, speed = dtype(MIN_POSITION), dtype(MAX_POSITION), dtype(MAX_SPEED)
    impact = np.clip(velocity + push.astype(dtype), -speed, speed)
    position = np.clip(position + impact, low, high)
    velocity = np.where((position == low) & (impact < 0), dtype(0), impact)
    return position, velocity, impact


@dataclasses.dataclass(frozen=True)
class CarStep:
    """One step of every sub-environment: the new state (float64, float32-representable after an
    episode's first step) and the goal events, each compared in the precision Gymnasium uses."""

    position: np.ndarray  # [num_envs]
    velocity: np.ndarray  # [num_envs]
    right_top: np.ndarray  # [num_envs] bool: position >= right_goal and velocity >= 0
    left_impact: np.ndarray  # [num_envs] bool: hit the left end at velocity <= -impact_speed


def car_step(
    position: np.ndarray, velocity: np.ndarray, action: np.ndarray, power: np.ndarray, fresh: np.ndarray,
    *, right_goal: np.ndarray, impact_speed: float = MAX_SPEED,
) -> CarStep:
    """Advance cars at ``position``, ``velocity`` (``[num_envs]`` float64) by the float32 ``action``
    with Gymnasium's mixed precision (module docstring); ``fresh`` marks an episode's first step."""
    three_x = 3.0 * position  # exact in float64; rounding it gives the float32 product
    three_x = np.where(fresh, three_x, three_x.astype(np.float32).astype(np.float64))
    gravity = GRAVITY * np.cos(three_x)
    clipped = np.abs(action) > 1.0
    push32 = action * power.astype(np.float32) - gravity.astype(np.float32)
    push = np.where(clipped, np.sign(action) * power - gravity, push32.astype(np.float64))
    out = []
    for dtype in (np.float64, np.float32):
        pos, vel, impact = _integrate(position, velocity, push, dtype)
        right = (pos >= right_goal.astype(dtype)) & (vel >= 0)
        left = (pos == dtype(MIN_POSITION)) & (impact <= dtype(-impact_speed))
        out.append((pos.astype(np.float64), vel.astype(np.float64), right, left))
    (pos64, vel64, right64, left64), (pos32, vel32, right32, left32) = out
    return CarStep(
        position=np.where(fresh, pos64, pos32).astype(np.float32).astype(np.float64),
        velocity=np.where(fresh, vel64, vel32).astype(np.float32).astype(np.float64),
        right_top=np.where(fresh, right64, right32),
        left_impact=np.where(fresh, left64, left32),
    )


def action_cost(action: np.ndarray) -> np.ndarray:
    """``0.1 a^2`` of the unclipped float32 action, exactly as Gymnasium's ``math.pow``."""
    return action.astype(np.float64) ** 2 * 0.1


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
        step = car_step(self._state[:, 0], self._state[:, 1], action, self.params["power"], self._fresh,
                        right_goal=self.params["goal_position"])
        self._state = np.stack([step.position, step.velocity], axis=1)
        self._fresh = np.zeros(self.num_envs, dtype=bool)
        reward = np.where(step.right_top, GOAL_REWARD, 0.0) - action_cost(action)
        return reward, step.right_top

    def _goal_flag(self, task: int) -> float:
        """Where the renderer plants the flag of task ``task``."""
        return float(self.tasks.goal_position[task])

    def render_frames(self, *, task: int, obs: np.ndarray, actions: np.ndarray | None = None) -> np.ndarray:
        """``[time, 400, 600, 3]`` uint8: Gymnasium's MountainCarContinuous-v0 drawing of the car at
        each ``obs [time, 2]`` with task ``task``'s flag (its renderer draws no action)."""
        obs, _ = self._render_input(task, obs, actions)
        with gymnasium_renderer("MountainCarContinuous-v0") as env:
            env.goal_position = self._goal_flag(task)
            env.power = float(self.tasks.power[task])
            frames = []
            for state in obs:
                env.state = state.copy()
                frames.append(env.render())
        return np.stack(frames)
