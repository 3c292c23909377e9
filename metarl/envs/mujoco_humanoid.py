"""``humanoid-dir``: the humanoid runs along a heading on the circle, on Gymnasium's Humanoid-v5.

Follows oyster's ``rlkit/envs/humanoid_dir.py``, which varibad's
``environments/mujoco/humanoid_dir.py`` copies ("based on environment in PEARL"); ProMP's
``HumanoidRandDirec2DEnv`` is the same but draws its heading as a normalised Gaussian, the same
distribution. Heading ``theta ~ U[0, 2pi)``. Reward, per step::

    0.25 * (cos theta, sin theta) . (c' - c) / timestep - 0.1 |ctrl|^2 - min(0.5e-6 |cfrc_ext|^2, 10) + 5

with ``c`` the mass centre's (x, y). ``0.25 / timestep`` is ``1.25 / dt`` (dt = 5 frames of 0.003
s), so the first term is Humanoid-v5's ``forward_reward_weight`` 1.25 on the velocity along the
heading; the costs are Humanoid-v5's (``ctrl_cost_weight`` 0.1 on ``data.ctrl``,
``contact_cost_weight`` 5e-7 capped at 10); the alive bonus 5 is paid on every step, the
terminating one too (Humanoid-v5 pays it only while healthy). Terminated when the torso's z leaves
(1, 2); horizon 200 (oyster's ``max_path_length``, varibad's ``max_episode_steps``).

The action space is Humanoid-v5's [-0.4, 0.4]^17; oyster's ``NormalizedBoxEnv`` and varibad's
rescaling expose [-1, 1] and map it there, which the policy's ``action_bounds`` does here. The
observation is Humanoid-v5's 348: the sources' 376 less the world body's ``cinert``, ``cvel``,
``cfrc_ext`` and the free joint's ``qfrc_actuator``, which are always 0. Gymnasium's model is
gym's after its 0.21 change (Gymnasium#947); oyster ran gym 0.12.1.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym

from metarl.envs.gym_adapter import GymTaskAdapter
from metarl.envs.mujoco_tasks import HORIZON, AngleDistribution, HeadingReward, set_field

FORWARD_WEIGHT = 1.25  # 0.25 / model.opt.timestep * dt, dt = frame_skip 5 * timestep
ALIVE_BONUS = 5.0


def _humanoid() -> gym.Env:
    humanoid = gym.make("Humanoid-v5", disable_env_checker=True)
    return HeadingReward(humanoid, forward_weight=FORWARD_WEIGHT, survive=ALIVE_BONUS)


class HumanoidDirEnv(GymTaskAdapter):
    """Humanoid-v5 (obs 348, action 17 in [-0.4, 0.4]) rewarded for running along the task's heading."""

    family = "humanoid-dir"
    distribution_type = AngleDistribution
    default_max_episode_steps = HORIZON

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            make_env=_humanoid, configure=functools.partial(set_field, field="angle", attribute="angle"),
            **kwargs,
        )
