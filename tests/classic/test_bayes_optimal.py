"""The exact Bayes-optimal bandit policy against brute force, closed forms and Monte Carlo."""

import functools
import itertools
from fractions import Fraction

import numpy as np
import pytest

from metarl.classic import evaluate_baselines
from metarl.classic.bandit import make_policy
from metarl.classic.bayes_optimal import bayes_optimal_value, build_table, largest_horizon, state_count
from metarl.classic.gittins import gittins_table
from metarl.envs.bandit import BanditDistribution
from metarl.errors import ConfigError
from metarl.tasks import TaskSplit


def _moves(counts: tuple, arm: int) -> tuple[Fraction, tuple, tuple]:
    """Posterior mean of ``arm`` and the counts after its success and after its failure."""
    s, f = counts[arm]
    win, lose = list(counts), list(counts)
    win[arm], lose[arm] = (s + 1, f), (s, f + 1)
    return Fraction(s + 1, s + f + 2), tuple(win), tuple(lose)


def _tree_q(counts: tuple, left: int, arm: int) -> Fraction:
    p, win, lose = _moves(counts, arm)
    return p * (1 + _tree_value(win, left - 1)) + (1 - p) * _tree_value(lose, left - 1)


def _tree_value(counts: tuple, left: int) -> Fraction:
    """Optimal value by the full decision tree: ordered arms, no memo, no symmetry, exact rationals."""
    if left == 0:
        return Fraction(0)
    return max(_tree_q(counts, left, arm) for arm in range(len(counts)))


@functools.cache
def _policy_value(state: tuple, left: int, policy: str) -> float:
    """Value of ``policy`` ("optimal", "greedy", "gittins") over sorted (successes, failures)
    multisets, a plain memoised recursion; index policies average over their tied arms."""
    if left == 0:
        return 0.0
    qs, index = [], []
    for arm in range(len(state)):
        p, win, lose = _moves(state, arm)
        v_win = _policy_value(tuple(sorted(win)), left - 1, policy)
        v_lose = _policy_value(tuple(sorted(lose)), left - 1, policy)
        qs.append(float(p) * (1.0 + v_win) + (1.0 - float(p)) * v_lose)
        if policy == "gittins":
            s, f = state[arm]
            horizon = left + sum(a + b for a, b in state)
            index.append(gittins_table(horizon).lookup(np.array(s + f), np.array(s), left).item())
        else:
            index.append(p)
    if policy == "optimal":
        return max(qs)
    tied = [q for q, i in zip(qs, index, strict=True) if i == max(index)]
    return sum(tied) / len(tied)


@pytest.mark.parametrize(("arms", "horizon"), [(2, 1), (2, 2), (2, 3), (2, 4), (3, 3), (3, 4), (5, 4), (6, 3)])
def test_dp_equals_the_full_decision_tree(arms, horizon):
    """(5, 4) and (6, 3) have more arms than pulls: the table is built for min(k, n) arms."""
    exact = _tree_value(((0, 0),) * arms, horizon)
    assert bayes_optimal_value(arms, horizon) == pytest.approx(float(exact), abs=1e-12)


def test_closed_forms():
    for arms in (2, 5, 10, 50):
        assert bayes_optimal_value(arms, 1) == 0.5  # nothing known: any arm pays 1/2
        # pull one arm (1/2); after a success pull it again (2/3), after a failure a fresh one (1/2)
        assert bayes_optimal_value(arms, 2) == pytest.approx(13 / 12, abs=1e-15)
    for horizon in (1, 7, 30):
        assert bayes_optimal_value(1, horizon) == horizon / 2  # each pull pays 1/2 in expectation


def test_q_lookup_matches_the_tree_in_any_arm_order():
    """``arm_q`` for a batch of tasks at one level (arms in any order, and more arms than pulls
    in the second table) equals the tree's Q of each arm from that task's counts."""
    for arms, horizon, pulls, wins in [
        (3, 5, [[1, 0, 1], [0, 2, 0], [1, 1, 0]], [[1, 0, 0], [0, 1, 0], [0, 1, 0]]),
        (6, 3, [[0, 0, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0]], [[0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0]]),
    ]:
        pulls, wins = np.array(pulls), np.array(wins)
        q = build_table(arms, horizon).arm_q(pulls, wins)
        for task in range(len(pulls)):
            counts = tuple((int(w), int(n - w)) for n, w in zip(pulls[task], wins[task], strict=True))
            left = horizon - int(pulls[task].sum())
            expected = [float(_tree_q(counts, left, arm)) for arm in range(arms)]
            np.testing.assert_allclose(q[task], expected, rtol=0, atol=1e-12)


def test_state_count_matches_enumeration_and_the_table():
    for arms, horizon in [(2, 6), (3, 5), (4, 4), (6, 4)]:
        arm_states = [(s, i) for s in range(horizon) for i in range(s + 1)]
        width = min(arms, horizon)
        brute = sum(
            1 for combo in itertools.combinations_with_replacement(arm_states, width)
            if sum(s for s, _ in combo) < horizon
        )
        assert state_count(arms, horizon) == brute == build_table(arms, horizon).num_states


@pytest.fixture(scope="module")
def mc_k5_n10():
    tasks = TaskSplit(distribution=BanditDistribution(arms=5), seed=0).test_tasks(20000)
    return evaluate_baselines("bandit", tasks=tasks, episodes=10, seed=0,
                              names=["bayes-optimal", "gittins", "greedy"])


def test_monte_carlo_mean_matches_the_exact_value(mc_k5_n10):
    result = mc_k5_n10["bayes-optimal"]
    exact = bayes_optimal_value(5, 10)
    assert result.exact == exact
    assert abs(result.mean - exact) < 3 * result.stderr, (result.mean, result.stderr, exact)
    assert result.to_dict()["exact"] == exact and mc_k5_n10["gittins"].to_dict()["exact"] is None


def test_bayes_optimal_beats_gittins_and_greedy_exactly(mc_k5_n10):
    start = ((0, 0),) * 5
    optimal = _policy_value(start, 10, "optimal")
    assert optimal == pytest.approx(bayes_optimal_value(5, 10), abs=1e-12)
    for name in ("gittins", "greedy"):
        value = _policy_value(start, 10, name)
        assert optimal >= value - 1e-12, (name, value, optimal)
        mc = mc_k5_n10[name]  # the recursion scores what the policy plays
        assert abs(mc.mean - value) < 3 * mc.stderr, (name, mc.mean, value)
    assert optimal > _policy_value(start, 10, "greedy") + 0.01
    # at n=10 with k >= 4 the finite-horizon Gittins index happens to play optimally (below, not always)
    assert _policy_value(start, 10, "gittins") == pytest.approx(optimal, abs=1e-12)


@pytest.mark.parametrize(("arms", "horizon"), [(2, 10), (5, 12)])
def test_gittins_is_not_always_optimal(arms, horizon):
    """Finite-horizon problems are not exactly indexable: the DP finds what the index misses."""
    start = ((0, 0),) * arms
    optimal = bayes_optimal_value(arms, horizon)
    assert optimal == pytest.approx(_policy_value(start, horizon, "optimal"), abs=1e-12)
    assert optimal > _policy_value(start, horizon, "gittins") + 1e-4


def test_too_large_is_refused_with_the_limit():
    with pytest.raises(ConfigError, match=r"k=5 arms and n=100 pulls .* at k=5 is n=28"):
        build_table(5, 100)
    tasks = BanditDistribution(arms=5).sample(4, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="n=100"):
        make_policy("bayes-optimal", tasks=tasks, episodes=100)
    assert largest_horizon(5) == 28 and largest_horizon(50) == 20
    assert "bayes-optimal" not in evaluate_baselines("bandit", tasks=tasks, episodes=30, seed=0)
    assert "bayes-optimal" in evaluate_baselines("bandit", tasks=tasks, episodes=3, seed=0)


def test_ties_are_broken_at_random():
    """At the start every arm is equally good: the first pulls spread evenly (1000 +- 28 each)."""
    tasks = BanditDistribution(arms=5).sample(5000, np.random.default_rng(0))
    policy = make_policy("bayes-optimal", tasks=tasks, episodes=10)
    policy.reset(num_tasks=5000, episodes=10, rng=np.random.default_rng(1))
    counts = np.bincount(policy.act(np.zeros((5000, 1)), 0, 0), minlength=5)
    assert np.all((counts > 880) & (counts < 1120)), counts
