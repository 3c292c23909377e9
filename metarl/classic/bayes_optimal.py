"""The exact Bayes-optimal policy of a k-armed Bernoulli bandit over a trial of n pulls.

Prior: every arm's mean i.i.d. U(0, 1), i.e. Beta(1, 1), as ``BanditDistribution`` draws them.
An arm pulled ``s`` times with ``i`` successes has posterior Beta(i+1, s-i+1) and pays 1 next with
probability ``(i+1) / (s+2)``. The Bayes-optimal value solves

    V(state) = 0                                   after n pulls
    Q(state, arm) = p (1 + V(arm succeeds)) + (1 - p) V(arm fails),   p = the arm's posterior mean
    V(state) = max over arms of Q(state, arm)

which is the expected total reward of the best policy on tasks drawn from the prior (what no
learner, RL² included, can beat in expectation).

The state: arms are exchangeable, so a state is the multiset of the arms' (pulls, successes),
stored as a row of arm *codes* ``pulls (pulls + 1) / 2 + successes`` sorted in descending order
(``uint16``). With ``k >= n`` arms at most ``n - 1`` arms have been pulled before the last pull, so
there is always an unpulled arm and the problem is the one with ``min(k, n)`` arms: the table is
built for ``min(k, n)`` arms and the extra arms share the unpulled arms' Q.

How: a forward pass builds the reachable states level by level (level t = t pulls made): the
children of every state and distinct arm state in it, re-sorted and deduplicated by
``unique_rows`` (``np.unique(axis=0)`` on packed integer keys), whose inverse is the child index.
A backward pass then computes Q for all states of a level at once. Nothing loops over states.

What is feasible: work and memory grow with the Q table, states x min(k, n), capped at
``MAX_CELLS``; the states grow fast with n (at k=5, 1951 at n=10 and 3.6 million at n=28), so
n=100 is out of reach for k >= 2. Measured on a busy 2-core VM (states of levels 0..n-1, build
time, peak memory of the whole process):

    k=5,  n=10:  1951 states, ~10 ms          k >= 10, n=10: 2296 states, ~15 ms
    k=5,  n=20:  238k states, 0.3-0.6 s       k=10, n=20: 761k states, 2-3 s, 0.5 GB
    k=5,  n=28:  3.6M states, 9 s, 1.0 GB     k=10, n=21: 1.3M states, 6 s, 0.7 GB
    k=2,  n=146: 9.9M states, 12 s, 1.1 GB    (the largest of each k; n <= 20 with any k)
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from metarl.errors import ConfigError
from metarl.tasks import check_count

MAX_CELLS = 20_000_000  # states x min(k, n) over levels 0..n-1: the Q table's size (k=10, n=21: 12.6 million)
MAX_HORIZON = 360  # arm codes (n + 1)(n + 2) / 2 must fit in uint16
TIE_TOLERANCE = 1e-10  # Q values closer than this are ties (round-off between equal values)


def arm_codes(pulls: np.ndarray, successes: np.ndarray) -> np.ndarray:
    """The code of each arm, ``pulls (pulls + 1) / 2 + successes`` (same shape)."""
    return pulls * (pulls + 1) // 2 + successes


def state_count(arms: int, horizon: int, *, stop_above: int | None = None) -> int:
    """Number of distinct states (multisets of arm states) with fewer than ``horizon`` pulls made.

    A generating-function count: an arm pulled m times has m + 1 possible states, and a state is a
    multiset of ``min(arms, horizon)`` arm states whose pulls add up to the level. With
    ``stop_above``, the count stops as soon as it exceeds that (it returns a lower bound above it).
    """
    width = min(check_count("arms", arms), check_count("horizon", horizon))
    ways = np.zeros((width + 1, horizon), dtype=np.float64)  # [multiset size, total pulls]
    ways[0, 0] = 1.0
    for m in range(horizon):
        for _ in range(m + 1):  # the m + 1 arm states of m pulls, each usable any number of times
            for j in range(1, width + 1):
                ways[j, m:] += ways[j - 1, : horizon - m]
        if stop_above is not None and ways[width].sum() > stop_above:
            break
    return int(round(ways[width].sum()))


def _fits(arms: int, horizon: int) -> bool:
    width = min(arms, horizon)
    return horizon <= MAX_HORIZON and state_count(arms, horizon, stop_above=MAX_CELLS // width) * width <= MAX_CELLS


def largest_horizon(arms: int) -> int:
    """The longest trial that ``build_table`` solves for ``arms`` arms."""
    lo, hi = 1, 2
    while _fits(arms, hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if _fits(arms, mid) else (lo, mid)
    return lo


def infeasible(arms: int, horizon: int) -> str:
    """Why the table for ``arms`` arms and ``horizon`` pulls is not built ("" when it is feasible):
    more than ``MAX_CELLS`` Q values (states x min(k, n)), or arm codes beyond ``uint16``."""
    if _fits(check_count("arms", arms), check_count("horizon", horizon)):
        return ""
    size = f"more than {MAX_CELLS} (state, arm) values" if horizon <= MAX_HORIZON else "arm codes beyond uint16"
    return (
        f"bayes-optimal: k={arms} arms and n={horizon} pulls have {size}, too many to solve exactly; "
        f"the longest trial it solves at k={arms} is "
        f"n={largest_horizon(arms)} (n <= {largest_horizon(MAX_HORIZON)} with any k)"
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class BayesTable:
    """Q values of every reachable state of a trial of ``horizon`` pulls with ``width`` arms.

    ``states[t]`` ``[S_t, width]`` are the sorted code rows of level t (lexicographic order, as
    ``np.unique`` returns them) and ``q[t]`` ``[S_t, width]`` the Q of pulling the arm in each
    position, for t = 0 .. horizon - 1. ``value`` is V of the start state.
    """

    width: int
    horizon: int
    states: tuple[np.ndarray, ...]
    q: tuple[np.ndarray, ...]
    value: float

    @property
    def num_states(self) -> int:
        return sum(len(s) for s in self.states)

    def arm_q(self, pulls: np.ndarray, successes: np.ndarray) -> np.ndarray:
        """Q of pulling each arm ``[tasks, arms]`` given each task's counts ``[tasks, arms]``; all
        tasks must have made the same number of pulls t < horizon. Batched: the tasks' sorted rows
        are located among the level's states by one ``unique_rows`` over both."""
        arms = pulls.shape[1]
        if arms < self.width or (arms > self.width and self.width < self.horizon):
            raise ValueError(f"this table is for {self.width} arms (or more when that is the horizon), got {arms}")
        level = int(pulls[0].sum()) if pulls.shape[0] else 0
        if not 0 <= level < self.horizon or np.any(pulls.sum(axis=1) != level):
            raise ValueError(f"every task must have made the same number of pulls, below {self.horizon}")
        codes = arm_codes(pulls, successes).astype(np.uint16)
        order = np.argsort(-codes.astype(np.int64), axis=1, kind="stable")  # descending
        rows = np.take_along_axis(codes, order, axis=1)[:, : self.width]
        known = self.states[level]
        every, inverse = unique_rows(np.concatenate([known, rows]))
        if len(every) != len(known):
            raise ValueError("a task's counts are not a state reachable under this table")
        q_rows = self.q[level][inverse[len(known):]]
        extra = pulls.shape[1] - self.width  # arms beyond min(k, n): unpulled, like the last column
        q_sorted = np.concatenate([q_rows, np.repeat(q_rows[:, -1:], extra, axis=1)], axis=1)
        out = np.empty_like(q_sorted)
        np.put_along_axis(out, order, q_sorted, axis=1)
        return out


def unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(rows, axis=0, return_inverse=True)`` for ``uint16`` code rows ``[N, width]``,
    same order (lexicographic), faster: the rows are packed into a few int64 words (first column
    most significant) and sorted with ``np.lexsort`` instead of as opaque byte strings."""
    bits = max(int(rows.max(initial=0)).bit_length(), 1)
    per_word = 63 // bits
    words = []
    for start in range(0, rows.shape[1], per_word):
        word = np.zeros(rows.shape[0], dtype=np.int64)
        for col in range(start, min(start + per_word, rows.shape[1])):
            word = (word << bits) | rows[:, col].astype(np.int64)
        words.append(word)
    order = np.lexsort(words[::-1])  # lexsort's last key is the primary one
    keys = np.stack(words, axis=1)[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = np.any(keys[1:] != keys[:-1], axis=1)
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return rows[order[new]], inverse


def _tables(horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per arm code: posterior mean, code after a success, code after a failure."""
    pulls = np.repeat(np.arange(horizon + 1), np.arange(1, horizon + 2))
    successes = np.arange(len(pulls)) - pulls * (pulls + 1) // 2
    mean = (successes + 1.0) / (pulls + 2.0)
    base = (pulls + 1) * (pulls + 2) // 2
    return mean, (base + successes + 1).astype(np.uint16), (base + successes).astype(np.uint16)


def _children(rows: np.ndarray, succ: np.ndarray, fail: np.ndarray) -> tuple[np.ndarray, ...]:
    """The next level's states ``[S', width]`` and, for each distinct arm state of each row
    ``[S, width]`` (the first of equal positions, as pulling either of two equal arms is the same
    move), its row ``[P]``, position ``[P]`` and the child index ``[P, 2]`` (success, failure)."""
    first = np.ones(rows.shape, dtype=bool)
    first[:, 1:] = rows[:, 1:] != rows[:, :-1]
    state, pos = np.nonzero(first)
    pairs = np.arange(len(state))
    kids = np.repeat(rows[state][:, None, :], 2, axis=1)  # [P, 2, width]
    kids[pairs, 0, pos] = succ[rows[state, pos]]
    kids[pairs, 1, pos] = fail[rows[state, pos]]
    kids = np.sort(kids.reshape(-1, rows.shape[1]), axis=1)[:, ::-1]  # descending again
    states, inverse = unique_rows(kids)
    return states, state, pos, inverse.reshape(-1, 2)


def _level_q(rows: np.ndarray, link: tuple[np.ndarray, ...], v_next: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Q ``[S, width]`` of a level from the next level's values ``[S']``; equal positions share."""
    state, pos, child = link
    p = mean[rows[state, pos]]
    q = np.zeros(rows.shape)
    q[state, pos] = p * (1.0 + v_next[child[:, 0]]) + (1.0 - p) * v_next[child[:, 1]]
    first = np.zeros(rows.shape, dtype=np.int64)
    first[state, pos] = pos
    return np.take_along_axis(q, np.maximum.accumulate(first, axis=1), axis=1)


def build_table(arms: int, horizon: int) -> BayesTable:
    """Solve the Bayes-optimal DP for ``arms`` arms and ``horizon`` pulls (Beta(1, 1) priors).

    Raises ``ConfigError`` when the problem is too large (``infeasible`` says why).
    """
    arms, horizon = check_count("arms", arms), check_count("horizon", horizon)
    reason = infeasible(arms, horizon)
    if reason:
        raise ConfigError(reason)
    width = min(arms, horizon)
    mean, succ, fail = _tables(horizon)
    states = [np.zeros((1, width), dtype=np.uint16)]
    links = []
    for _ in range(horizon - 1):
        nxt, *link = _children(states[-1], succ, fail)
        states.append(nxt)
        links.append(link)
    q = [mean[states[-1]]]  # the last pull: the posterior mean is all there is
    for t in range(horizon - 2, -1, -1):
        q.insert(0, _level_q(states[t], links[t], q[0].max(axis=1), mean))
    return BayesTable(width=width, horizon=horizon, states=tuple(states), q=tuple(q), value=float(q[0].max()))


def bayes_table(arms: int, horizon: int) -> BayesTable:
    """``build_table`` cached in memory, one table for every ``arms >= horizon`` (the same problem)."""
    return _cached_table(min(check_count("arms", arms), check_count("horizon", horizon)), horizon)


@functools.lru_cache(maxsize=4)
def _cached_table(width: int, horizon: int) -> BayesTable:
    return build_table(width, horizon)


def bayes_optimal_value(arms: int, horizon: int) -> float:
    """The exact expected total reward of the Bayes-optimal policy over ``horizon`` pulls of
    ``arms`` arms whose means are i.i.d. U(0, 1); one arm (no choice) gives ``horizon / 2``."""
    if check_count("arms", arms) == 1:
        return check_count("horizon", horizon) / 2.0
    return bayes_table(arms, horizon).value
