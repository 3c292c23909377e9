"""Ant task families, on Gymnasium's Ant-v5 (gym's ant model, the one oyster ships with sites
added; dt = 5 x 0.01 s). Horizon 200 for each (MAML paper, oyster's ``max_path_length``).

- ``ant-dir``: forward or backward along x, d in {-1, +1} (ProMP's ``AntRandDirecEnv``; the MAML
  paper's ant direction task). Reward ``d * v_x`` plus Ant-v5's own terms: healthy reward 1
  while healthy, control cost ``0.5 |a|^2``, contact cost ``5e-4 |clip(cfrc_ext, -1, 1)|^2``;
  terminated when unhealthy (torso z outside [0.2, 1]). Observation Ant-v5's 105 (with contact
  forces). Where ProMP differs: it pays the survive reward also on the terminating step and
  terminates only outside z in [0, 1].
- ``ant-dir-circle``: oyster's ``ant-dir`` (``rlkit/envs/ant_dir.py``) as it runs by default
  (``forward_backward=False``, which ``configs/ant-dir.json`` keeps): heading ``theta ~ U[0, 2pi)``,
  reward ``(v_x, v_y) . (cos theta, sin theta) - 0.5 |a|^2 - 0.5e-3 |clip(cfrc_ext, -1, 1)|^2 + 1``
  with the survive reward 1 on every step, terminated unless the state is finite and torso
  z in [0.2, 1]. Observation oyster's ``AntEnv``: ``qpos[2:]``, ``qvel`` (27, no contact forces).
  ProMP's ``AntRandDirec2DEnv`` draws the same distribution (a normalised Gaussian) with the same
  reward but observes contact forces and terminates outside z in [0, 1].
- ``ant-goal``: oyster's ``ant-goal`` (``rlkit/envs/ant_goal.py``, copied from ProMP's
  ``AntRandGoalEnv``): goal ``r (cos a, sin a)`` with ``a ~ U[0, 2pi)``, ``r = 3 sqrt(U[0, 1))``,
  uniform in the disc of radius 3. Reward ``-|xy - goal|_1 - 0.1 |a|^2 - 0.5e-3
  |clip(cfrc_ext, -1, 1)|^2`` (survive reward 0), ``xy`` the torso's position after the step;
  never terminates. Observation oyster's: all of ``qpos`` (x, y included), ``qvel``, clipped
  ``cfrc_ext``: 107 here, oyster's 113 less the world body's six, which are always 0.

Gymnasium computes ``cfrc_ext`` (``mj_rnePostConstraint`` after each step), so the contact cost
and the contact observations are real; under mujoco-py on MuJoCo 2.x they read 0 (openai/gym#1541),
so in runs of the original code on those versions the contact term was absent.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import gymnasium as gym
import numpy as np

from metarl.envs.gym_adapter import GymTaskAdapter
from metarl.envs.mujoco_tasks import (
    HORIZON,
    AngleDistribution,
    DirectionDistribution,
    DirectionReward,
    HeadingReward,
    check_positive,
    cost_terms,
    set_field,
)
from metarl.tasks import TaskBatch, TaskDistribution, check_count

GOAL_RADIUS = 3.0
ANT_GOAL_CTRL_COST = 0.1
CIRCLE_CTRL_COST = 0.5
SURVIVE_REWARD = 1.0


@dataclasses.dataclass(frozen=True)
class GoalTasks(TaskBatch):
    goal: np.ndarray  # [tasks, 2], the (x, y) position to reach

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.goal.ndim != 2 or self.goal.shape[1] != 2:
            raise ValueError(f"GoalTasks.goal must have shape [tasks, 2], got {list(self.goal.shape)}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class GoalDistribution(TaskDistribution):
    """Goal uniform in the disc of radius ``radius``: angle ``U[0, 2pi)``, distance
    ``radius * sqrt(U[0, 1))`` (the square root makes it uniform in area), as oyster and ProMP draw it."""

    task_type = GoalTasks
    radius: float = GOAL_RADIUS

    def __post_init__(self) -> None:
        check_positive(type(self).__name__, radius=self.radius)

    def sample(self, n: int, rng: np.random.Generator) -> GoalTasks:
        n = check_count("n", n)
        angle = rng.random(n) * 2 * np.pi
        distance = self.radius * rng.random(n) ** 0.5
        return GoalTasks(goal=np.stack([distance * np.cos(angle), distance * np.sin(angle)], axis=-1))

    def default(self) -> GoalTasks:
        return GoalTasks(goal=[[self.radius / 2, 0.0]])

    def describe(self) -> dict[str, str]:
        return {"goal": f"[2] uniform in the disc of radius {self.radius} (angle U[0, 2pi), r = {self.radius} sqrt(U))"}


class GoalReward(gym.Wrapper):
    """Reward ``-|torso_xy - goal|_1`` plus Gymnasium's control and contact costs."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.goal = np.zeros(2)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, _, terminated, truncated, info = self.env.step(action)
        xy = self.env.unwrapped.data.body("torso").xpos[:2]
        reward = -np.abs(xy - self.goal).sum() + cost_terms(info)
        return obs, float(reward), terminated, truncated, info


def _set_goal(env: GoalReward, task: dict[str, np.ndarray]) -> None:
    env.goal = np.array(task["goal"], dtype=np.float64)


def _make_ant(**kwargs: Any) -> gym.Env:
    return gym.make("Ant-v5", disable_env_checker=True, **kwargs)


def _circle_ant() -> gym.Env:
    ant = _make_ant(ctrl_cost_weight=CIRCLE_CTRL_COST, include_cfrc_ext_in_observation=False)
    return HeadingReward(ant, forward_weight=1.0, survive=SURVIVE_REWARD)


def _goal_ant() -> gym.Env:
    ant = _make_ant(ctrl_cost_weight=ANT_GOAL_CTRL_COST, healthy_reward=0.0, terminate_when_unhealthy=False,
                    exclude_current_positions_from_observation=False)
    return GoalReward(ant)


class AntDirEnv(GymTaskAdapter):
    """Ant-v5 (obs 105, action 8) rewarded for walking in the task's direction along x."""

    family = "ant-dir"
    distribution_type = DirectionDistribution
    default_max_episode_steps = HORIZON

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            make_env=lambda: DirectionReward(_make_ant()),
            configure=functools.partial(set_field, field="direction", attribute="direction"), **kwargs,
        )


class AntDirCircleEnv(GymTaskAdapter):
    """Ant-v5 without contact observations (obs 27, action 8), rewarded for walking along the task's heading."""

    family = "ant-dir-circle"
    distribution_type = AngleDistribution
    default_max_episode_steps = HORIZON

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            make_env=_circle_ant, configure=functools.partial(set_field, field="angle", attribute="angle"),
            **kwargs,
        )


class AntGoalEnv(GymTaskAdapter):
    """Ant-v5 observing its x, y (obs 107, action 8), rewarded for closeness (L1) to the task's goal."""

    family = "ant-goal"
    distribution_type = GoalDistribution
    default_max_episode_steps = HORIZON

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(make_env=_goal_ant, configure=_set_goal, **kwargs)
