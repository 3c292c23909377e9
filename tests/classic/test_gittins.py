"""The finite-horizon Gittins table against independent computations."""

import functools

import numpy as np
import pytest

from metarl.classic.gittins import build_table, gittins_table


def test_one_pull_left_index_is_posterior_mean():
    table = build_table(12)
    s, i = np.tril_indices(12)
    np.testing.assert_allclose(table.lookup(s, i, 1), (i + 1) / (s + 2), atol=1e-6)


def _known_arm_first_pull_gain(a: int, b: int, h: int, q: float) -> float:
    """Brute-force Bayes-optimal DP of a two-armed bandit: arm 0 pays Bernoulli(q) with q known,
    arm 1 is Beta(a, b). Returns value(pull arm 1 first) - value(pull arm 0 first), h pulls."""

    @functools.cache
    def value(a: int, b: int, h: int) -> float:
        if h == 0:
            return 0.0
        return max(q + value(a, b, h - 1), unknown(a, b, h))

    def unknown(a: int, b: int, h: int) -> float:
        p = a / (a + b)
        return p * (1.0 + value(a + 1, b, h - 1)) + (1 - p) * value(a, b + 1, h - 1)

    return unknown(a, b, h) - (q + value(a, b, h - 1))


def _brute_force_index(a: int, b: int, h: int) -> float:
    """The known-arm mean q at which a Bayes-optimal agent stops preferring the Beta arm."""
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _known_arm_first_pull_gain(a, b, h, mid) > 0 else (lo, mid)
    return (lo + hi) / 2


@pytest.mark.parametrize(("pulls", "successes", "remaining"), [
    (0, 0, 2), (0, 0, 5), (0, 0, 9), (1, 0, 6), (1, 1, 6), (3, 1, 4), (5, 4, 3), (2, 0, 7),
])
def test_index_equals_bayes_optimal_switch_point(pulls, successes, remaining):
    table = gittins_table(pulls + remaining)
    got = table.lookup(np.array(pulls), np.array(successes), remaining)
    want = _brute_force_index(successes + 1, pulls - successes + 1, remaining)
    assert got == pytest.approx(want, abs=1e-5)
    assert got > (successes + 1) / (pulls + 2) - 1e-7  # exploration bonus is never negative


def test_certified_bracket_holds_against_per_state_bisection():
    n = 25
    table = build_table(n, grid=64)
    worst = 0.0
    for h in (2, 5, 13, 20):
        for s in range(n - h + 1):
            for i in range(s + 1):
                want = _calibration_bisection(i + 1, s - i + 1, h)
                worst = max(worst, abs(float(table.lookup(np.array(s), np.array(i), h)) - want))
    assert worst <= table.max_error + 1e-6
    assert worst < 2e-3


def _calibration_bisection(a: int, b: int, h: int) -> float:
    """Index of one state by bisection on its own retirement DP (no shared grid)."""
    def cont(lam: float) -> float:
        w = np.zeros(h + 1)
        for depth in range(h - 1, -1, -1):
            i = np.arange(depth + 1)
            p = (a + i) / (a + b + depth)
            c = p - lam + p * w[1:depth + 2] + (1 - p) * w[:depth + 1]
            w = np.maximum(c, 0.0)
        return float(c[0])

    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cont(mid) > 0 else (lo, mid)
    return (lo + hi) / 2


def test_index_grows_with_remaining_pulls():
    table = gittins_table(40)
    s, i = np.array([0, 3, 10]), np.array([0, 1, 7])
    rows = np.stack([table.lookup(s, i, h) for h in range(1, 31)])
    assert np.all(np.diff(rows, axis=0) >= -1e-4)


def test_lookup_rejects_unreachable_states():
    table = gittins_table(10)
    with pytest.raises(ValueError, match="remaining"):
        table.lookup(np.array([0]), np.array([0]), 11)
    with pytest.raises(ValueError, match="more pulls"):
        table.lookup(np.array([5]), np.array([0]), 8)
