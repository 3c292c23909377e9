"""Half-cheetah task families, on Gymnasium's HalfCheetah-v5 (gym's model, dt = 5 x 0.01 s).

- ``halfcheetah-vel`` (MAML): run at a target velocity ~ U[0, 2]; reward
  ``-|v_x - target| - 0.05 |a|^2``, never terminates, horizon 200. The reward is ProMP's
  ``HalfCheetahRandVelEnv`` (``v_x`` the finite difference of ``qpos[0]``; MAML's rllab code reads
  the torso's COM velocity instead); the observation is Gymnasium's 17 (``qpos[1:]``, ``qvel``).
- ``halfcheetah-vel-oyster`` (PEARL): oyster's ``cheetah-vel`` (``rlkit/envs/half_cheetah_vel.py``).
  Against MAML's it differs in (1) the targets, U[0, 3] (``np.random.uniform(0.0, 3.0)``), and
  (2) the observation, which appends the torso's position ``xpos`` (3 values, the x position
  among them: oyster's ``HalfCheetahEnv._get_obs``), 20 in all. The reward is the same formula:
  ``-|v_x - target| - 0.5 * 1e-1 |a|^2`` with ``v_x = (qpos[0]' - qpos[0]) / dt``, on the action
  after oyster's ``NormalizedBoxEnv`` has clipped it to [-1, 1] (here the policy's
  ``action_bounds`` clip), no termination, ``max_path_length`` 200. oyster draws one fixed list
  of 130 targets under ``np.random.seed(1337)``, 100 for training and the last 30 for
  evaluation: ``oyster_velocity_task_set()`` is that list.
- ``halfcheetah-dir`` (MAML): forward or backward; reward ``d * v_x - 0.05 |a|^2``, d in {-1, +1},
  horizon 200.
- ``halfcheetah-dir-rllab`` and ``halfcheetah-vel-rllab``: the MAML paper's own cheetahs, rllab's
  ``HalfCheetahEnvRandDirec`` and ``HalfCheetahEnvRand`` (cbfinn/maml_rl) on the same model, the
  velocity targets U[0, 2] as the paper draws them. Against ``halfcheetah-dir`` it
  differs in (1) the control step, one physics step of 0.01 s (rllab's ``frame_skip`` is 1 for this
  model: its XML has no ``frame_skip`` numeric), so the 200 steps of an episode are 2 s, not 10 s;
  (2) the velocity rewarded, the x velocity of the cheetah's mass centre after the step (rllab's
  ``get_body_comvel("torso")``: the torso's subtree, the whole robot), not the torso's finite
  difference; (3) the observation, ``qpos[1:]``, ``qvel`` and the mass centre (20); (4) the reset
  noise, ``N(0, 0.01)`` on qpos and ``N(0, 0.1)`` on qvel (Gymnasium: ``U(-0.1, 0.1)`` on qpos).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import gymnasium as gym
import numpy as np

from metarl.envs.gym_adapter import GymTaskAdapter
from metarl.envs.mujoco_tasks import (
    CTRL_COST_WEIGHT,
    HORIZON,
    DirectionDistribution,
    DirectionReward,
    TargetVelocityReward,
    VelocityDistribution,
    VelocityTasks,
    set_field,
)
from metarl.tasks import FixedTaskSet

OYSTER_TASKS, OYSTER_TRAIN_TASKS, OYSTER_SEED = 130, 100, 1337  # configs/cheetah-vel.json, sample_tasks

_set_velocity = functools.partial(set_field, field="velocity", attribute="target_velocity")
_set_direction = functools.partial(set_field, field="direction", attribute="direction")


@dataclasses.dataclass(frozen=True, kw_only=True)
class OysterVelocityDistribution(VelocityDistribution):
    """oyster's target velocities, U[0, 3]."""

    high: float = 3.0

    def default(self) -> VelocityTasks:
        return VelocityTasks(velocity=[1.5])


class TorsoPosition(gym.ObservationWrapper):
    """Gymnasium's observation followed by the torso's world position ``xpos`` ``[3]``."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        inner = env.observation_space
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(inner.shape[0] + 3,), dtype=inner.dtype)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        torso = self.env.unwrapped.data.body("torso").xpos
        return np.concatenate([observation, torso]).astype(self.observation_space.dtype)


class RllabCheetah(gym.Wrapper):
    """rllab's cheetah state on a one-physics-step HalfCheetah-v5: observation ``[qpos[1:], qvel,
    mass centre]`` (20), ``info["x_velocity"]`` the mass centre's x velocity, both of the state
    after the step (the quantities MuJoCo derives from positions are recomputed for it, as rllab's
    ``model.forward()`` after stepping did), and rllab's reset noise."""

    QPOS_NOISE, QVEL_NOISE = 0.01, 0.1

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        inner = env.observation_space
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(inner.shape[0] + 3,), dtype=inner.dtype)
        self._torso = int(env.unwrapped.model.body("torso").id)

    def _derive(self) -> None:
        import mujoco

        model, data = self.env.unwrapped.model, self.env.unwrapped.data
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        mujoco.mj_comVel(model, data)
        mujoco.mj_subtreeVel(model, data)

    def _obs(self) -> np.ndarray:
        data = self.env.unwrapped.data
        state = (data.qpos[1:], data.qvel, data.subtree_com[self._torso])
        return np.concatenate(state).astype(self.observation_space.dtype)

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        _, info = self.env.reset(**kwargs)
        inner = self.env.unwrapped
        rng = inner.np_random
        qpos = inner.init_qpos + rng.normal(size=inner.model.nq) * self.QPOS_NOISE
        qvel = inner.init_qvel + rng.normal(size=inner.model.nv) * self.QVEL_NOISE
        inner.set_state(qpos, qvel)
        return self._obs(), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        _, reward, terminated, truncated, info = self.env.step(action)
        self._derive()
        info = {**info, "x_velocity": float(self.env.unwrapped.data.subtree_linvel[self._torso][0])}
        return self._obs(), reward, terminated, truncated, info


def _make_cheetah(*, frame_skip: int = 5) -> gym.Env:
    return gym.make("HalfCheetah-v5", ctrl_cost_weight=CTRL_COST_WEIGHT, frame_skip=frame_skip,
                    disable_env_checker=True)


def oyster_velocity_task_set(*, seed: int = 0) -> FixedTaskSet:
    """oyster's 130 ``cheetah-vel`` targets (``np.random.seed(1337); np.random.uniform(0, 3, 130)``):
    the first 100 train, the last 30 test. ``seed`` seeds the draw of training batches."""
    velocity = np.random.RandomState(OYSTER_SEED).uniform(0.0, 3.0, size=OYSTER_TASKS)
    return FixedTaskSet(train=VelocityTasks(velocity=velocity[:OYSTER_TRAIN_TASKS]),
                        test=VelocityTasks(velocity=velocity[OYSTER_TRAIN_TASKS:]), seed=seed)


class HalfCheetahVelEnv(GymTaskAdapter):
    """HalfCheetah-v5 (obs 17, action 6) rewarded for running at the task's target velocity."""

    family = "halfcheetah-vel"
    distribution_type = VelocityDistribution
    default_max_episode_steps = HORIZON

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            make_env=lambda: TargetVelocityReward(_make_cheetah()), configure=_set_velocity, **kwargs
        )


class HalfCheetahVelOysterEnv(GymTaskAdapter):
    """oyster's cheetah-vel: HalfCheetah-v5 plus the torso position (obs 20, action 6), targets U[0, 3]."""

    family = "halfcheetah-vel-oyster"
    distribution_type = OysterVelocityDistribution
    default_max_episode_steps = HORIZON

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            make_env=lambda: TargetVelocityReward(TorsoPosition(_make_cheetah())), configure=_set_velocity,
            **kwargs,
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


class HalfCheetahDirRllabEnv(GymTaskAdapter):
    """The MAML paper's cheetah-direction (rllab's dt 0.01, mass-centre velocity, obs 20, action 6)."""

    family = "halfcheetah-dir-rllab"
    distribution_type = DirectionDistribution
    default_max_episode_steps = HORIZON

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            make_env=lambda: DirectionReward(RllabCheetah(_make_cheetah(frame_skip=1))), configure=_set_direction,
            **kwargs,
        )


class HalfCheetahVelRllabEnv(GymTaskAdapter):
    """The MAML paper's cheetah-velocity (rllab's dt 0.01, mass-centre velocity, obs 20, action 6)."""

    family = "halfcheetah-vel-rllab"
    distribution_type = VelocityDistribution
    default_max_episode_steps = HORIZON

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            make_env=lambda: TargetVelocityReward(RllabCheetah(_make_cheetah(frame_skip=1))), configure=_set_velocity,
            **kwargs,
        )
