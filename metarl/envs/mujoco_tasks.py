"""MuJoCo locomotion task families of the MAML paper, on Gymnasium's HalfCheetah-v5 and Ant-v5.

- ``halfcheetah-vel``: run at a target velocity ~ U[0, 2]; reward
  ``-|v_x - target| - 0.05 |a|^2`` (MAML's ``HalfCheetahEnvRand``, ProMP's ``HalfCheetahRandVelEnv``).
- ``halfcheetah-dir``: run forward or backward; reward ``d * v_x - 0.05 |a|^2``, d in {-1, +1}.
- ``ant-dir``: the ant forward or backward along x; reward ``d * v_x`` plus Ant-v5's healthy
  reward, control cost and contact cost, terminated when unhealthy (ProMP's ``AntRandDirecEnv``).

``v_x`` is Gymnasium's ``info["x_velocity"]``: the finite difference of the torso's x position over
one control step, as in ProMP. Horizon 200 (MAML paper). These need the optional extra
``metarl[mujoco]``; this module imports only Gymnasium, and MuJoCo is loaded when an env is built,
so the task distributions work without it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np

from metarl.envs.gym_adapter import GymTaskAdapter
from metarl.tasks import TaskBatch, TaskDistribution, check_count

CTRL_COST_WEIGHT = 0.05  # 0.5 * 1e-1 in the MAML and ProMP code
HORIZON = 200


@dataclasses.dataclass(frozen=True)
class VelocityTasks(TaskBatch):
    velocity: np.ndarray  # [tasks], target forward velocity


@dataclasses.dataclass(frozen=True)
class DirectionTasks(TaskBatch):
    direction: np.ndarray  # [tasks], +1 forward or -1 backward along x

    def __post_init__(self) -> None:
        super().__post_init__()
        bad = np.abs(self.direction) != 1.0
        if np.any(bad):
            raise ValueError(f"DirectionTasks.direction must be -1 or +1, got {self.direction[bad][0]}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class VelocityDistribution(TaskDistribution):
    """Target velocity uniform in ``[low, high]``."""

    task_type = VelocityTasks
    low: float = 0.0
    high: float = 2.0

    def sample(self, n: int, rng: np.random.Generator) -> VelocityTasks:
        return VelocityTasks(velocity=rng.uniform(self.low, self.high, size=check_count("n", n)))

    def default(self) -> VelocityTasks:
        return VelocityTasks(velocity=[1.0])

    def describe(self) -> dict[str, str]:
        return {"velocity": f"U[{self.low}, {self.high}] target forward velocity"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class DirectionDistribution(TaskDistribution):
    """Directions balanced within a batch: ``n // 2`` of each sign, the odd one a fair coin, shuffled.

    A meta-batch then always trains on both directions equally, which an i.i.d. coin per task
    (the MAML code) only does on average.
    """

    task_type = DirectionTasks

    def sample(self, n: int, rng: np.random.Generator) -> DirectionTasks:
        n = check_count("n", n)
        signs = np.repeat([1.0, -1.0], n // 2)
        if n % 2:
            signs = np.append(signs, rng.choice([1.0, -1.0]))
        return DirectionTasks(direction=rng.permutation(signs))

    def default(self) -> DirectionTasks:
        return DirectionTasks(direction=[1.0])

    def describe(self) -> dict[str, str]:
        return {"direction": "+1 or -1, half of each in a batch"}


class TargetVelocityReward(gym.Wrapper):
    """Reward ``-|v_x - target_velocity|`` plus the wrapped env's non-forward reward terms."""

    target_velocity: float = 0.0

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, _, terminated, truncated, info = self.env.step(action)
        reward = -abs(info["x_velocity"] - self.target_velocity) + _other_terms(info)
        return obs, reward, terminated, truncated, info


class DirectionReward(gym.Wrapper):
    """Reward ``direction * v_x`` plus the wrapped env's non-forward reward terms."""

    direction: float = 1.0

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, _, terminated, truncated, info = self.env.step(action)
        reward = self.direction * info["x_velocity"] + _other_terms(info)
        return obs, reward, terminated, truncated, info


def _other_terms(info: dict[str, Any]) -> float:
    """Sum of Gymnasium's ``reward_*`` terms except the forward one (control, contact, healthy)."""
    return float(sum(v for k, v in info.items() if k.startswith("reward_") and k != "reward_forward"))


def _make_cheetah() -> gym.Env:
    return gym.make("HalfCheetah-v5", ctrl_cost_weight=CTRL_COST_WEIGHT, disable_env_checker=True)


def _make_ant() -> gym.Env:
    return gym.make("Ant-v5", disable_env_checker=True)


def _set_velocity(env: gym.Env, task: dict[str, np.ndarray]) -> None:
    env.target_velocity = float(task["velocity"])


def _set_direction(env: gym.Env, task: dict[str, np.ndarray]) -> None:
    env.direction = float(task["direction"])


class HalfCheetahVelEnv(GymTaskAdapter):
    """HalfCheetah-v5 (obs 17, action 6) rewarded for running at the task's target velocity."""

    family = "halfcheetah-vel"
    distribution_type = VelocityDistribution
    default_max_episode_steps = HORIZON

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            make_env=lambda: TargetVelocityReward(_make_cheetah()), configure=_set_velocity, **kwargs
        )


class HalfCheetahDirEnv(GymTaskAdapter):
    """HalfCheetah-v5 (obs 17, action 6) rewarded for running in the task's direction."""

    family = "halfcheetah-dir"
    distribution_type = DirectionDistribution
    default_max_episode_steps = HORIZON

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            make_env=lambda: DirectionReward(_make_cheetah()), configure=_set_direction, **kwargs
        )


class AntDirEnv(GymTaskAdapter):
    """Ant-v5 (obs 105, action 8) rewarded for walking in the task's direction along x."""

    family = "ant-dir"
    distribution_type = DirectionDistribution
    default_max_episode_steps = HORIZON

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(make_env=lambda: DirectionReward(_make_ant()), configure=_set_direction, **kwargs)
