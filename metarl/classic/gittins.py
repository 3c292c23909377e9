"""Finite-horizon Gittins indices of Bernoulli arms with a Beta posterior, with certified brackets.

Which index: the *finite-horizon* (undiscounted) calibration index. An arm in state Beta(a, b)
with ``h`` pulls left in the trial is compared with a retirement option paying ``lam`` per pull for
the rest of the trial. Its index is the ``lam`` at which a Bayesian is indifferent between retiring
now and pulling the arm (with the right to retire later):

    W_lam(a, b, 0) = 0
    C_lam(a, b, h) = p - lam + p * W_lam(a+1, b, h-1) + (1-p) * W_lam(a, b+1, h-1),  p = a / (a+b)
    W_lam(a, b, h) = max(0, C_lam(a, b, h))
    index(a, b, h) = the root lam* of C_lam(a, b, h) = max over stopping rules 1 <= tau <= h of
                     E[rewards before tau] / E[tau]

Why finite-horizon and not discounted: a trial has a known number of pulls n and no discounting;
the finite-horizon index uses exactly that (h = n - t), so there is no gamma to pick. With one arm
of known mean ``q`` next to a Beta arm, pulling the Beta arm iff index > q is Bayes-optimal (the
calibration problem *is* that two-armed bandit), which the tests check against brute force.
With several unknown arms the index policy is near-optimal, not optimal (finite-horizon
problems are not exactly indexable).

How: for one ``lam``, a single backward induction over h gives C for *all* states at once, so the
table is built from a shared grid of G values of ``lam`` (vectorised as ``[G, s, i]``), carrying
alongside C the expected number of pulls T of the optimal stopping rule. C is convex and
decreasing in lam with slope -T, which brackets every root without per-state bisection:

- lower bound: the best ratio R / T of the stopping rules optimal at the two grid points around
  the root (each is a feasible rule, so its ratio is <= the max); exact when no other state's
  index lies between the grid point and the root (Dinkelbach's step);
- upper bound: the root of the chord between those two grid points (the chord lies above C).

The stored index is the lower bound; ``GittinsTable.max_error`` is the largest certified
bracket width, reported so "computed" can be checked. States are those reachable in a trial of
n pulls: ``s = a + b - 2 <= n - h`` prior pulls of this arm, stored packed per h.

Measured: n = 10 in milliseconds (true error < 1e-7), n = 100 in about 1 s (bracket 1.4e-3),
n = 500 in about 9 s with G = 32 (bracket 2.8e-2; true errors are several times smaller than the
bracket). At n = 100, k = 10 a G = 32 table and a G = 400 table score the same (difference
-0.03 +- 0.02 over 2000 tasks): the ranking of arms is what matters, and it is insensitive.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from metarl.tasks import check_count


@dataclasses.dataclass(frozen=True, kw_only=True)
class GittinsTable:
    """Indices for a trial of ``horizon`` pulls with a Beta(1, 1) prior on every arm.

    ``levels[h]`` is a packed lower triangle ``[(S+1)(S+2)/2]`` with ``S = horizon - h``: entry
    ``s(s+1)/2 + i`` is the index of an arm pulled ``s`` times with ``i`` successes
    (posterior Beta(i+1, s-i+1)) when ``h`` pulls remain (``levels[0]`` is unused).
    """

    horizon: int
    levels: tuple[np.ndarray, ...]
    max_error: float  # largest certified |index - true index| over the table

    def lookup(self, pulls: np.ndarray, successes: np.ndarray, remaining: int) -> np.ndarray:
        """Indices of arms with ``pulls`` and ``successes`` (same shape) and ``remaining`` pulls left."""
        if not 1 <= remaining <= self.horizon:
            raise ValueError(f"remaining must be in [1, {self.horizon}], got {remaining}")
        if np.any(pulls > self.horizon - remaining):
            raise ValueError(f"an arm has more pulls than a trial of {self.horizon} allows here")
        return self.levels[remaining][pulls * (pulls + 1) // 2 + successes]


def _level_step(
    lam: np.ndarray, w_next: np.ndarray, t_next: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """One backward step from ``W, T`` at h-1 (``[G, size+1, size+1]``, indexed ``[lam, s, i]``)
    to C and the continuation's expected pulls at h (``[G, size, size]``). Entries with i > s are
    padding; p is clipped there so they stay finite."""
    s = np.arange(size, dtype=np.float32)[:, None]
    i = np.arange(size, dtype=np.float32)[None, :]
    p = np.minimum((i + 1.0) / (s + 2.0), 1.0)
    q = 1.0 - p
    cont = p * w_next[:, 1:, 1:]
    cont += q * w_next[:, 1:, :-1]
    cont += p - lam[:, None, None]
    pulls = p * t_next[:, 1:, 1:]
    pulls += q * t_next[:, 1:, :-1]
    pulls += 1.0
    return cont, pulls


def _bracket(lam: np.ndarray, cont: np.ndarray, pulls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds ``[size, size]`` on each state's root from C and T on the grid
    (``[G, size, size]``): tangents (ratios of feasible rules) below, the chord above."""
    above = np.clip((cont > 0).sum(axis=0) - 1, 0, lam.shape[0] - 2)[None]  # C decreases in lam
    lo_lam, hi_lam = lam[above[0]], lam[above[0] + 1]
    c_lo = np.take_along_axis(cont, above, 0)[0].astype(np.float64)
    c_hi = np.take_along_axis(cont, above + 1, 0)[0].astype(np.float64)
    t_lo = np.take_along_axis(pulls, above, 0)[0]
    t_hi = np.take_along_axis(pulls, above + 1, 0)[0]
    lower = np.maximum(lo_lam + c_lo / t_lo, hi_lam + c_hi / t_hi)
    upper = lo_lam + c_lo * (hi_lam - lo_lam) / np.maximum(c_lo - c_hi, 1e-30)
    return lower, np.maximum(upper, lower)


def default_grid(horizon: int) -> int:
    """Grid size for a build of a few seconds: the error shrinks as ``1 / grid^2`` and the cost
    grows as ``grid * horizon^3``, so short horizons get a fine grid (400 at n = 100, 32 from
    n = 230)."""
    return int(np.clip(4e8 / horizon**3, 32, 1024))


def build_table(horizon: int, *, grid: int | None = None) -> GittinsTable:
    """Compute the index of every reachable state of a trial of ``horizon`` pulls.

    ``grid`` points of lam span [0, 1] (indices of Bernoulli arms lie in (0, 1)); the work is
    about ``grid * horizon^3 / 3`` float32 multiply-adds (``default_grid`` when None).
    """
    horizon = check_count("horizon", horizon)
    grid = check_count("grid", default_grid(horizon) if grid is None else grid, minimum=2)
    lam = np.linspace(0.0, 1.0, grid, dtype=np.float32)
    lam64 = lam.astype(np.float64)
    w = np.zeros((grid, horizon + 1, horizon + 1), dtype=np.float32)
    t = np.zeros_like(w)
    levels: list[np.ndarray] = [np.zeros(0, dtype=np.float32)]
    worst = 0.0
    for h in range(1, horizon + 1):
        size = horizon - h + 1
        cont, pulls = _level_step(lam, w, t, size)
        lower, upper = _bracket(lam64, cont, pulls)
        rows, cols = np.tril_indices(size)
        worst = max(worst, float(np.max(upper[rows, cols] - lower[rows, cols])))
        levels.append(lower[rows, cols].astype(np.float32))
        stop = cont <= 0
        cont[stop] = 0.0
        pulls[stop] = 0.0
        w, t = cont, pulls
    return GittinsTable(horizon=horizon, levels=tuple(levels), max_error=worst)


@functools.lru_cache(maxsize=8)
def gittins_table(horizon: int, *, grid: int | None = None) -> GittinsTable:
    """``build_table`` cached in memory: built once per horizon per process."""
    return build_table(horizon, grid=grid)
