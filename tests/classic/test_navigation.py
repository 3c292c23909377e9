"""Navigation bounds against closed forms and REFERENCE.md (stay ~ -38.3, oracle ~ -0.5)."""

import numpy as np
import pytest

from metarl.classic import evaluate_baselines
from metarl.envs.navigation import NavigationDistribution, NavigationTasks
from metarl.tasks import TaskSplit


@pytest.fixture(scope="module")
def results():
    tasks = TaskSplit(distribution=NavigationDistribution(), seed=0).test_tasks(4000)
    return tasks, evaluate_baselines("navigation", tasks=tasks, episodes=2, seed=0)


def test_stay_matches_mean_distance(results):
    tasks, res = results
    stay = res["stay"]
    dist = np.linalg.norm(tasks.goals, axis=1)
    steps = np.where(dist < 0.01, 1, 100)  # a goal within 0.01 of the origin ends at once
    np.testing.assert_allclose(stay.returns, -2 * steps * dist, rtol=1e-6)
    expected = -100 * (np.sqrt(2) + np.log(1 + np.sqrt(2))) / 6  # E|g| on the unit square: 38.26
    assert abs(stay.per_episode.mean() - expected) < 4 * stay.stderr / 2
    assert stay.per_episode.mean() == pytest.approx(-38.3, abs=1.0)


def _oracle_return(goal: np.ndarray) -> float:
    """Straight line at speed 0.1 * |g| / |g|_inf per step; ends within 0.01 of the goal."""
    total, dist, step = 0.0, np.linalg.norm(goal), 0.1 * np.linalg.norm(goal) / np.abs(goal).max()
    for _ in range(100):
        dist = max(dist - step, 0.0)
        total -= dist
        if dist < 0.01:
            break
    return total


def test_oracle_matches_closed_form(results):
    tasks, res = results
    want = np.array([_oracle_return(g) for g in tasks.goals[:200]])
    np.testing.assert_allclose(res["oracle"].returns[:200] / 2, want, atol=1e-5)
    assert res["oracle"].per_episode.mean() == pytest.approx(-0.5, abs=0.1)


def test_random_is_worse_than_staying(results):
    _, res = results
    assert res["random"].mean < res["stay"].mean < res["oracle"].mean


def test_oracle_reaches_a_goal_on_the_boundary():
    tasks = NavigationTasks(goals=[[0.5, -0.5], [0.0, 0.0]])
    oracle = evaluate_baselines("navigation", tasks=tasks, episodes=1, seed=0, names=["oracle"])["oracle"]
    # [0.5, -0.5]: steps of 0.1 sqrt(2) leave 0.4, 0.3, 0.2, 0.1, 0 (times sqrt(2)) to go
    np.testing.assert_allclose(oracle.returns, [-np.sqrt(2), 0.0], atol=1e-6)
