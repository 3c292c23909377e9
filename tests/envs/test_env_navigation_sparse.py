"""navigation2d-sparse against oyster's SparsePointEnv, computed by hand: reward 1 - d within 0.2
of the goal and 0 elsewhere, the dense -d in info, 20 steps, no termination; oyster's task lists."""

from __future__ import annotations

import numpy as np

from metarl.envs import make_env
from metarl.envs.base import TRAINING_REWARD
from metarl.envs.navigation import NavigationTasks, oyster_task_set
from metarl.envs.registry import env_factory
from metarl.rollout.sampler import Sampler


def test_straight_to_the_goal_earns_one_minus_distance_within_the_radius_only():
    env = make_env("navigation2d-sparse", tasks=NavigationTasks(goals=[[0.0, 1.0]]))
    env.reset(seed=0)
    rewards, dense, ended = [], [], []
    for _ in range(20):
        _, reward, terminated, truncated, info = env.step(np.array([[0.0, 0.09]]))
        rewards.append(reward[0])
        dense.append(info[TRAINING_REWARD][0])
        ended.append((terminated[0], truncated[0]))
    d = np.abs(1.0 - 0.09 * np.arange(1, 21))  # y = 0.09 t (float32 actions), goal at y = 1
    np.testing.assert_allclose(dense, -d, atol=1e-6)
    np.testing.assert_allclose(rewards, np.where(d <= 0.2, 1.0 - d, 0.0), atol=1e-6)
    assert rewards[7] == 0.0 and rewards[8] > 0.8 and rewards[19] == 0.0  # d = 0.28, 0.19, ..., 0.8
    assert ended[:19] == [(False, False)] * 19 and ended[19] == (False, True)


def test_goals_lie_on_the_upper_half_circle():
    from metarl.envs import make_distribution

    goals = make_distribution("navigation2d-sparse").sample(500, np.random.default_rng(0)).goals
    np.testing.assert_allclose(np.linalg.norm(goals, axis=1), 1.0)
    assert (goals[:, 1] >= 0).all() and goals[:, 0].min() < -0.95 and goals[:, 0].max() > 0.95


def test_oysters_task_lists():
    tasks = oyster_task_set()
    goals = np.concatenate([tasks.train.goals, tasks.test.goals])
    assert len(tasks.train) == 80 and len(tasks.test) == 20
    angles = np.sort(np.arctan2(goals[:, 1], goals[:, 0]))
    np.testing.assert_allclose(angles, np.linspace(0, np.pi, 100), atol=1e-12)  # all 100, none twice
    assert not np.allclose(angles, np.arctan2(goals[:, 1], goals[:, 0]))  # shuffled


def test_the_sampler_records_the_training_reward_across_shards():
    tasks = NavigationTasks(goals=[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])

    class Right:
        discrete = False

        def distribution(self, obs, params=None):
            import torch
            from torch.distributions import Independent, Normal

            mean = torch.zeros(*obs.shape[:-1], 2)
            mean[..., 0] = 0.09
            return Independent(Normal(mean, torch.full_like(mean, 1e-6)), 1)

    assert (np.abs(1 - 0.09 * np.arange(1, 21)) <= 0.2).sum() == 5  # some steps earn a reward, none on the edge
    for shards in (1, 2):
        traj = Sampler(env_factory=env_factory("navigation2d-sparse"), seed=0, shards=shards).collect(
            Right(), tasks, 2, deterministic=True)
        x = 0.09 * np.arange(1, 21)
        d = np.stack([np.abs(1 - x), np.hypot(x, 1.0), 1 + x])
        np.testing.assert_allclose(traj.training_rewards[:, 0].numpy(), -d, atol=1e-5)
        np.testing.assert_allclose(traj.rewards[:, 0].numpy(), np.where(d <= 0.2, 1 - d, 0), atol=1e-5)
    assert make_env("navigation2d").step(np.zeros((1, 2)))[4] == {}  # families without one report nothing
