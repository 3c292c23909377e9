"""MuJoCo locomotion task families of the meta-RL literature, on Gymnasium's v5 models and today's MuJoCo.

This module holds what the families share (task records, distributions, reward wrappers); the
families live by robot:

| family | module | tasks | source |
|---|---|---|---|
| ``halfcheetah-vel`` | ``mujoco_cheetah`` | target velocity U[0, 2] | MAML (ProMP's reward) |
| ``halfcheetah-vel-oyster`` | ``mujoco_cheetah`` | target velocity U[0, 3], torso position observed | PEARL (oyster) |
| ``halfcheetah-dir`` | ``mujoco_cheetah`` | forward or backward | MAML |
| ``halfcheetah-dir-rllab`` | ``mujoco_cheetah`` | forward or backward, rllab's dt 0.01 and state | MAML's rllab |
| ``halfcheetah-vel-rllab`` | ``mujoco_cheetah`` | target velocity U[0, 2], rllab's dt and state | MAML's rllab |
| ``ant-dir`` | ``mujoco_ant`` | forward or backward along x | ProMP's ``AntRandDirecEnv`` |
| ``ant-dir-circle`` | ``mujoco_ant`` | direction angle U[0, 2pi) | oyster's ``ant-dir`` (its default) |
| ``ant-goal`` | ``mujoco_ant`` | goal uniform in the disc of radius 3 | oyster / ProMP ``AntRandGoalEnv`` |
| ``humanoid-dir`` | ``mujoco_humanoid`` | direction angle U[0, 2pi) | oyster / varibad ``HumanoidDirEnv`` |
| ``walker-params`` | ``mujoco_params`` | mass, inertia, damping, friction scaled | rand_param_envs (PEARL) |
| ``hopper-params`` | ``mujoco_params`` | mass, inertia, damping, friction scaled | rand_param_envs (PEARL) |

Every family's horizon is 200 steps: the MAML paper's, oyster's ``max_path_length`` and varibad's
``max_episode_steps``. Velocities are Gymnasium's ``info["x_velocity"]`` (and ``y_velocity``):
the finite difference over one control step of the torso's position (of the mass centre for the
humanoid), as in ProMP, oyster and varibad. Action spaces are Gymnasium's; the sources'
``[-1, 1]`` normalisation (rllab's ``normalize``, oyster's ``NormalizedBoxEnv``: rescale and clip)
is the policy's ``action_bounds`` (MAML's locomotion presets; PEARL's tanh squashes), so there a
control cost is on the clipped action, as in the sources. RL²'s and VariBAD's Gaussian policies
send their raw sample, as varibad does by default: MuJoCo clamps the control, and Gymnasium's cost
is on the raw sample.

These need the optional extra ``metarl[mujoco]``; the family modules import only Gymnasium, and
MuJoCo is loaded when an env is built, so listing the families and drawing tasks work without it.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

import gymnasium as gym
import numpy as np

from metarl.errors import ConfigError
from metarl.tasks import TaskBatch, TaskDistribution, check_count

CTRL_COST_WEIGHT = 0.05  # 0.5 * 1e-1 in the MAML, ProMP and oyster code
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


@dataclasses.dataclass(frozen=True)
class AngleTasks(TaskBatch):
    angle: np.ndarray  # [tasks], heading in radians from +x towards +y: run along (cos, sin)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VelocityDistribution(TaskDistribution):
    """Target velocity uniform in ``[low, high]`` (MAML's ``[0, 2]`` by default)."""

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


@dataclasses.dataclass(frozen=True, kw_only=True)
class AngleDistribution(TaskDistribution):
    """Heading uniform on the circle, ``U[0, 2pi)``: oyster's and varibad's draw (ProMP's
    normalised Gaussian direction is the same distribution)."""

    task_type = AngleTasks

    def sample(self, n: int, rng: np.random.Generator) -> AngleTasks:
        return AngleTasks(angle=rng.uniform(0.0, 2.0 * np.pi, size=check_count("n", n)))

    def default(self) -> AngleTasks:
        return AngleTasks(angle=[0.0])

    def describe(self) -> dict[str, str]:
        return {"angle": "U[0, 2pi) heading, radians from +x; rewarded velocity along (cos, sin)"}


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


class HeadingReward(gym.Wrapper):
    """Reward ``forward_weight * (cos(angle) v_x + sin(angle) v_y) + survive`` plus Gymnasium's
    control and contact costs.

    ``survive`` is a constant, paid on every step including the one that terminates, as in
    oyster, ProMP and varibad (Gymnasium pays its healthy reward only while healthy).
    """

    angle: float = 0.0

    def __init__(self, env: gym.Env, *, forward_weight: float, survive: float) -> None:
        super().__init__(env)
        self.forward_weight, self.survive = forward_weight, survive

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, _, terminated, truncated, info = self.env.step(action)
        along = np.cos(self.angle) * info["x_velocity"] + np.sin(self.angle) * info["y_velocity"]
        reward = self.forward_weight * along + self.survive + cost_terms(info)
        return obs, float(reward), terminated, truncated, info


def _other_terms(info: dict[str, Any]) -> float:
    """Sum of Gymnasium's ``reward_*`` terms except the forward one (control, contact, healthy)."""
    return float(sum(v for k, v in info.items() if k.startswith("reward_") and k != "reward_forward"))


def cost_terms(info: dict[str, Any]) -> float:
    """Gymnasium's control and contact costs as reward terms (``reward_ctrl + reward_contact``, <= 0)."""
    return float(info.get("reward_ctrl", 0.0) + info.get("reward_contact", 0.0))


def set_field(env: gym.Env, task: dict[str, np.ndarray], *, field: str, attribute: str) -> None:
    """``configure`` for a reward wrapper: its ``attribute`` is the task's scalar ``field``."""
    setattr(env, attribute, float(task[field]))


def check_positive(owner: str, **values: float) -> None:
    """A ConfigError naming the first of ``values`` that is not > 0."""
    for name, value in values.items():
        if not value > 0:
            raise ConfigError(f"{owner}.{name} must be > 0, got {value!r}")


_MOVED = {"HalfCheetahVelEnv": "mujoco_cheetah", "HalfCheetahDirEnv": "mujoco_cheetah", "AntDirEnv": "mujoco_ant"}


def __getattr__(name: str) -> Any:
    """The env classes that lived here before the split by robot, for old imports."""
    if name in _MOVED:
        return getattr(importlib.import_module(f"metarl.envs.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
