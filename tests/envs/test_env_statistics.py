"""Sampled rewards and transitions follow the task's parameters; navigation's known returns."""

import numpy as np
import pytest
from scipy import stats

from metarl.envs import BanditTasks, Navigation2DEnv, NavigationTasks, make_distribution, make_env


def test_tabular_mdp_transition_frequencies_match_the_task() -> None:
    task = make_distribution("tabular-mdp").sample(1, np.random.default_rng(3))
    n = 5 * 4000
    env = make_env("tabular-mdp", tasks=task, episodes_per_task=n)
    env.reset(seed=11)
    actions = np.arange(n) % 5
    obs, reward, *_ = env.step(actions)
    next_state = obs.argmax(axis=1)
    for a in range(5):
        counts = np.bincount(next_state[actions == a], minlength=10)
        expected = task.transitions[0, 0, a] * counts.sum()
        keep = expected > 5  # chi-square needs non-tiny cells; lump the rest
        observed = np.append(counts[keep], counts[~keep].sum())
        expected = np.append(expected[keep], expected[~keep].sum())
        if expected[-1] == 0:
            observed, expected = observed[:-1], expected[:-1]
        assert stats.chisquare(observed, expected).pvalue > 1e-3, f"action {a}"
        mean = reward[actions == a].mean()
        assert abs(mean - task.reward_means[0, 0, a]) < 4 / np.sqrt(4000), f"action {a}"


def test_bandit_reward_frequencies_match_probs() -> None:
    probs = np.array([[0.05, 0.3, 0.5, 0.8, 0.97]])
    n = 5 * 4000
    env = make_env("bandit", tasks=BanditTasks(probs=probs), episodes_per_task=n)
    env.reset(seed=2)
    arms = np.arange(n) % 5
    _, reward, terminated, *_ = env.step(arms)
    assert terminated.all()
    for arm, p in enumerate(probs[0]):
        wins = int(reward[arms == arm].sum())
        assert stats.binomtest(wins, 4000, p).pvalue > 1e-3, f"arm {arm}"


def test_navigation_straight_line_reaches_goal_and_terminates() -> None:
    env = Navigation2DEnv(tasks=NavigationTasks(goals=[[0.25, -0.25]]))
    obs, _ = env.reset(seed=0)
    rewards = []
    for _ in range(100):
        action = np.clip(np.array([[0.25, -0.25]]) - obs, -0.1, 0.1).astype(np.float32)
        obs, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward[0])
        if terminated[0] or truncated[0]:
            break
    assert terminated[0] and not truncated[0] and len(rewards) == 3
    # after steps 1, 2, 3 the point is at (0.1,-0.1), (0.2,-0.2), the goal
    assert sum(rewards) == pytest.approx(-np.sqrt(2) * (0.15 + 0.05), abs=1e-6)


def test_navigation_staying_at_origin_returns_minus_100_times_goal_distance() -> None:
    goals = np.array([[0.3, 0.4], [-0.5, 0.1]])
    env = Navigation2DEnv(tasks=NavigationTasks(goals=goals))
    env.reset(seed=0)
    total = np.zeros(2)
    for _ in range(100):
        _, reward, terminated, truncated, _ = env.step(np.zeros((2, 2), np.float32))
        total += reward
    assert truncated.all() and not terminated.any()
    np.testing.assert_allclose(total, -100 * np.linalg.norm(goals, axis=1))
