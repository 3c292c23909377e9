"""Bandit baselines against RL² Table 1 and our re-simulation (REFERENCE.md)."""

import numpy as np
import pytest

from metarl.classic import evaluate_baselines
from metarl.classic.bandit import TUNED, UCB1, argmax_random_ties, make_policy, tuned_constant
from metarl.envs.bandit import BanditDistribution
from metarl.tasks import TaskSplit


def _run(n: int, k: int, names: list[str], tasks: int = 2000):
    batch = TaskSplit(distribution=BanditDistribution(arms=k), seed=0).test_tasks(tasks)
    return evaluate_baselines("bandit", tasks=batch, episodes=n, seed=0, names=names)


def _near(result, target: float, sigmas: float = 4.0) -> None:
    assert abs(result.mean - target) < sigmas * result.stderr, (result.name, result.mean, target)


@pytest.fixture(scope="module")
def n10k5():
    return _run(10, 5, ["random", "thompson", "ucb1", "gittins"])


@pytest.fixture(scope="module")
def n100k5():
    return _run(100, 5, ["random", "thompson", "ucb1", "gittins"])


def test_random_pays_half_per_pull(n10k5, n100k5):
    _near(n10k5["random"], 5.0)
    _near(n100k5["random"], 50.0)


def test_thompson_matches_table(n10k5, n100k5):
    _near(n10k5["thompson"], 5.85)  # our re-simulation; the paper printed 5.7
    _near(n100k5["thompson"], 74.7)


def test_ucb1_matches_table(n10k5, n100k5):
    _near(n10k5["ucb1"], 6.7)
    _near(n100k5["ucb1"], 78.0)


def test_gittins_beats_thompson_and_matches_table(n10k5, n100k5):
    assert n100k5["gittins"].mean > n100k5["thompson"].mean
    _near(n100k5["gittins"], 78.3)
    _near(n10k5["gittins"], 6.6)


def test_per_episode_curve_sums_to_the_trial(n100k5):
    result = n100k5["thompson"]
    assert result.per_episode.shape == (100,)
    assert result.per_episode.sum() == pytest.approx(result.mean)
    assert result.per_episode[-10:].mean() > result.per_episode[:10].mean() + 0.1  # it learns


def test_same_seed_same_result():
    a, b = (_run(20, 3, ["thompson", "epsilon-greedy"], tasks=50) for _ in range(2))
    np.testing.assert_array_equal(a["thompson"].returns, b["thompson"].returns)
    np.testing.assert_array_equal(a["epsilon-greedy"].returns, b["epsilon-greedy"].returns)


@pytest.mark.parametrize(("c", "arm"), [(0.5, 1), (0.1, 0)])
def test_ucb1_index_by_hand(c, arm):
    policy = UCB1(arms=2, c=c)
    policy.reset(num_tasks=1, episodes=20, rng=np.random.default_rng(0))
    policy.pulls[:] = [[8, 0]]
    policy.successes[:] = [[6, 0]]
    # t = 12 with pseudo-pulls; arm 0: 7/10 + c sqrt(2 ln 12 / 10) = 0.7 + 0.705 c,
    # arm 1: 1/2 + c sqrt(2 ln 12 / 2) = 0.5 + 1.576 c
    assert policy.choose(0).tolist() == [arm]


def test_ties_are_broken_uniformly():
    picks = argmax_random_ties(np.zeros((4000, 4)), np.random.default_rng(0))
    assert np.all(np.abs(np.bincount(picks, minlength=4) / 4000 - 0.25) < 0.03)


def test_tuned_constants_are_labelled():
    assert tuned_constant("ucb1", 100, 5) == (TUNED[(100, 5)]["ucb1"], f"c={TUNED[(100, 5)]['ucb1']:g}")
    _, label = tuned_constant("epsilon-greedy", 200, 7)
    assert "nearest tuned setting n=100 k=5" in label or "n=500 k=5" in label
    tasks = BanditDistribution(arms=3).default()
    assert make_policy("ucb1", tasks=tasks, episodes=10, constant=0.3).c == 0.3


def test_bad_names_are_rejected():
    tasks = BanditDistribution(arms=3).default()
    with pytest.raises(ValueError, match="allowed"):
        evaluate_baselines("bandit", tasks=tasks, episodes=5, seed=0, names=["ucb2"])
    with pytest.raises(ValueError, match="known"):
        evaluate_baselines("bandits", tasks=tasks, episodes=5, seed=0)
    with pytest.raises(ValueError, match="episodes"):
        evaluate_baselines("bandit", tasks=tasks, episodes=0, seed=0)
