"""Tabular-MDP baselines against exact values and RL² Table 2 (REFERENCE.md)."""

import itertools

import numpy as np
import pytest

from metarl.classic import evaluate_baselines
from metarl.classic.mdp import finite_horizon_q
from metarl.envs.tabular_mdp import TabularMDPDistribution
from metarl.tasks import TaskSplit


def _tasks(n: int):
    return TaskSplit(distribution=TabularMDPDistribution(), seed=0).test_tasks(n)


def _random_policy_value(tasks, horizon: int = 10) -> np.ndarray:
    """Exact expected episode return of uniform actions from state 0, one task at a time."""
    values = []
    for r, p in zip(tasks.reward_means, tasks.transitions, strict=True):
        v = np.zeros(r.shape[0])
        for _ in range(horizon):
            v = np.mean(r + p @ v, axis=1)
        values.append(v[0])
    return np.array(values)


def test_random_equals_exact_expectation():
    tasks = _tasks(400)
    result = evaluate_baselines("mdp", tasks=tasks, episodes=5, seed=1, names=["random"])["random"]
    diff = result.returns - 5 * _random_policy_value(tasks)
    assert abs(diff.mean()) < 4 * diff.std(ddof=1) / np.sqrt(len(diff))
    assert result.mean == pytest.approx(50.0, abs=3.0)  # Table 2: 100.1 for 10 episodes


def test_finite_horizon_q_matches_enumeration():
    """Optimal 3-step value of a 3-state, 2-action MDP by enumerating every deterministic
    time-dependent policy (a closed-loop plan is a map (t, s) -> a)."""
    tasks = TabularMDPDistribution(states=3, actions=2).sample(1, np.random.default_rng(3))
    r, p = tasks.reward_means[0], tasks.transitions[0]
    best = -np.inf
    for plan in itertools.product(range(2), repeat=3 * 3):
        act = np.array(plan).reshape(3, 3)
        v = np.zeros(3)
        for t in reversed(range(3)):
            v = np.array([r[s, act[t, s]] + p[s, act[t, s]] @ v for s in range(3)])
        best = max(best, v[0])
    q = finite_horizon_q(tasks.reward_means, tasks.transitions, 3)
    assert q[0, 0, 0].max() == pytest.approx(best)


@pytest.fixture(scope="module")
def n10():
    return evaluate_baselines("mdp", tasks=_tasks(500), episodes=10, seed=0, names=["psrl", "greedy"])


def test_psrl_matches_table(n10):
    psrl = n10["psrl"]
    assert 133.4 - 4 * psrl.stderr < psrl.mean < 138.1 + 4 * psrl.stderr
    assert psrl.per_episode[-3:].mean() > psrl.per_episode[:3].mean() + 2.0  # it learns


def test_greedy_stops_learning_and_falls_behind_psrl():
    """Greedy on the posterior mean is strong early (it beats PSRL for n <= 25, unlike the
    paper's greedy) but explores too little: by n = 100 PSRL is ahead overall and per episode."""
    result = evaluate_baselines("mdp", tasks=_tasks(200), episodes=100, seed=0, names=["psrl", "greedy"])
    diff = result["psrl"].returns - result["greedy"].returns
    assert diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(len(diff))
    assert result["psrl"].per_episode[-20:].mean() > result["greedy"].per_episode[-20:].mean() + 1.0


def test_learning_baselines_beat_random_but_not_the_known_mdp(n10):
    tasks = _tasks(500)
    optimal = 10 * finite_horizon_q(tasks.reward_means, tasks.transitions, 10)[:, 0, 0].max(-1)
    for result in n10.values():
        assert 100.1 < result.mean < optimal.mean()


def test_rejects_wrong_task_type():
    from metarl.envs.bandit import BanditDistribution

    with pytest.raises(TypeError, match="TabularMDPTasks"):
        evaluate_baselines("mdp", tasks=BanditDistribution().default(), episodes=2, seed=0)
