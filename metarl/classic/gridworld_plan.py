"""The exact Bayes-optimal policy of the grid world (``metarl.envs.gridworld``) over a whole trial.

The belief is uniform over the goal cells not yet visited: a visit either finds the goal (reward
+1) or rules the cell out. Before the goal is found every observation is fixed by the actions
taken (positions are deterministic and every reward is -0.1), so a Bayes-optimal policy is an
*open-loop plan*, one move per step of every episode, played until the goal shows up; from then
on the goal is known and the best play is closed-form: stay on it for the rest of the episode,
walk the shortest path (``d = x + y`` steps) to it in each later episode and stay.

Scoring: a step on the goal earns 1.1 more than the -0.1 of any other step, so a trial's return is
``-0.1 E H + 1.1 * (steps spent on the goal)``, and a goal first visited at step ``s`` of episode
``k`` (of E episodes of H steps) is sat on for ``(H + 1 - s) + (E - 1 - k) * max(0, H + 1 - d)``
steps. The plan maximises the sum of that over the goal cells, i.e. the expected return.

Search, exact: a forward dynamic programme over steps whose states are (position, set of goal cells
ruled out), merged when equal, keeping the best score. It is exact with three reductions:

- no step that stays in place (a noop or a move into a wall): deleting it and padding the episode
  at its end finds every later cell one step earlier, which is never worse;
- the first move is "right": the start and the goal set are symmetric about the diagonal;
- branch and bound: a state is dropped when an upper bound on what it can still earn (``_Bound``)
  falls below the score of a complete plan found first by a beam search of the same programme.

It agrees with a plain Bellman recursion over (step, position, cells still possible), all five
actions, on small grids (``tests/classic/test_gridworld.py``). Ties in the total are broken towards
more return in earlier episodes (the score is packed as ``(total, episode 1, episode 2, ...)`` and
compared lexicographically, as many episodes as fit in 64 bits). On the 5x5 grid with E=4 the split
is unique anyway: episode 1 earns 4.0, the most any policy can (a new cell at every step from step
2), and episodes 2-4 the oracle's 11.07, the most any policy can.

Measured on the 5x5 grid, E=4, H=15 (a busy 2-core VM): about 0.5 s in all, half the beam pass
(at most 2000 states a step) and half the exact pass, which keeps 73,665 states over the 60 steps
(at most 29,749 at one step, the end of episode 1). Without the bound and the symmetry the
programme holds up to 2.3 million states at one step.
"""

from __future__ import annotations

import dataclasses
import functools
import time

import numpy as np

from metarl.envs.gridworld import GOAL_REWARD, MOVES, STEP_REWARD
from metarl.errors import ConfigError
from metarl.tasks import check_count

BEAM_WIDTH = 2000
MAX_STATES = 1_000_000  # states kept at one step of the exact pass; the 5x5 grid needs 30 thousand
CHUNK = 7  # bits of the ruled-out set looked up per table


@dataclasses.dataclass(frozen=True)
class Grid:
    """Geometry of a ``size`` x ``size`` grid: cell ``i`` is ``(x, y) = (i % size, i // size)``."""

    size: int

    @functools.cached_property
    def xy(self) -> np.ndarray:
        """``[cells, 2]`` coordinates."""
        i = np.arange(self.size * self.size)
        return np.stack([i % self.size, i // self.size], axis=1)

    @functools.cached_property
    def is_goal(self) -> np.ndarray:
        """``[cells]`` bool: may hold the goal (outside the 2x2 corner at the start)."""
        return (self.xy >= 2).any(axis=1)

    @functools.cached_property
    def bit(self) -> np.ndarray:
        """``[cells]`` int64: the cell's bit in a ruled-out set (0 for cells that never hold the goal)."""
        return np.where(self.is_goal, np.left_shift(1, np.arange(len(self.xy))), 0).astype(np.int64)

    @functools.cached_property
    def move(self) -> np.ndarray:
        """``[cells, actions]`` the cell each action leads to, -1 where it hits a wall."""
        to = self.xy[:, None, :] + MOVES[None]
        inside = ((to >= 0) & (to < self.size)).all(axis=2)
        return np.where(inside, to[..., 0] + self.size * to[..., 1], -1)

    @functools.cached_property
    def dist(self) -> np.ndarray:
        """``[cells, cells]`` Manhattan distances."""
        return np.abs(self.xy[:, None, :] - self.xy[None]).sum(axis=2)

    @property
    def start_distance(self) -> np.ndarray:
        """``[cells]`` steps from the start (0, 0), ``d = x + y``."""
        return self.dist[0]


@dataclasses.dataclass(frozen=True, kw_only=True)
class GridPlan:
    """The Bayes-optimal plan: ``actions [episodes, horizon]`` (the moves while the goal is not yet
    found), ``episode_returns [episodes]`` (its exact expected return in each episode of the trial,
    goal uniform over the goal cells), ``states`` (states the exact pass kept over all steps) and
    ``seconds`` (planning time)."""

    size: int
    horizon: int
    episodes: int
    actions: np.ndarray
    episode_returns: np.ndarray
    states: int
    seconds: float

    @property
    def value(self) -> float:
        """Expected return of the whole trial."""
        return float(self.episode_returns.sum())


def steps_on_goal(grid: Grid, actions: np.ndarray, horizon: int) -> np.ndarray:
    """``[goals, episodes]`` int64: steps each goal cell (in cell order) is sat on when the open-loop
    plan ``actions [episodes, horizon]`` is played until the goal is found, then the known-goal
    play; the direct evaluation of a plan, independent of the search."""
    episodes = actions.shape[0]
    cells = np.flatnonzero(grid.is_goal)
    out = np.zeros((len(cells), episodes), dtype=np.int64)
    found = np.zeros(len(cells), dtype=bool)
    later = np.maximum(0, horizon + 1 - grid.start_distance[cells])
    for k in range(episodes):
        out[found, k] = later[found]
        pos = 0
        for s in range(1, horizon + 1):
            to = grid.move[pos, actions[k, s - 1]]
            pos = pos if to < 0 else to
            hit = (cells == pos) & ~found
            out[hit, k] = horizon + 1 - s
            found |= hit
    return out


def check_size(size: int, horizon: int, episodes: int) -> None:
    """ConfigError unless the problem fits the search (a ruled-out set in one int64, a grid of 3+)."""
    check_count("size", size, minimum=3)
    check_count("horizon", horizon)
    check_count("episodes", episodes)
    if size * size > 62:
        raise ConfigError(f"the grid-world planner handles grids up to 7x7, got size={size}")


@functools.lru_cache(maxsize=16)
def plan(*, size: int = 5, horizon: int = 15, episodes: int = 4) -> GridPlan:
    """The exact Bayes-optimal plan for trials of ``episodes`` episodes of ``horizon`` steps on a
    ``size`` x ``size`` grid (cached per process)."""
    check_size(size, horizon, episodes)
    started = time.perf_counter()
    grid = Grid(size)
    search = _Search(grid, horizon, episodes)
    lower, _, _ = search.run(lower=0, beam=BEAM_WIDTH)
    best, actions, states = search.run(lower=lower, beam=None)
    on_goal = steps_on_goal(grid, actions, horizon)
    if on_goal.sum() != best or best < lower:
        raise AssertionError(f"grid-world planner: the plan scores {on_goal.sum()}, the search {best}, "
                             f"its beam {lower}")
    per_goal = on_goal.mean(axis=0)
    returns = STEP_REWARD * horizon + (GOAL_REWARD - STEP_REWARD) * per_goal
    actions.setflags(write=False)
    returns.setflags(write=False)
    return GridPlan(size=size, horizon=horizon, episodes=episodes, actions=actions, episode_returns=returns,
                    states=states, seconds=time.perf_counter() - started)


class _Search:
    """The forward programme over (position, ruled-out set) for one (grid, horizon, episodes)."""

    def __init__(self, grid: Grid, horizon: int, episodes: int) -> None:
        self.grid, self.horizon, self.episodes = grid, horizon, episodes
        goals = int(grid.is_goal.sum())
        self.field = max(1, int(goals * horizon).bit_length())  # bits of one episode's score
        total_bits = int(goals * horizon * episodes).bit_length()
        self.tie_fields = min(episodes - 1, (62 - total_bits) // self.field)
        self.weight = np.maximum(0, horizon + 1 - grid.start_distance) * grid.is_goal
        self.bounds = _Bound(grid, horizon, episodes)

    def gain(self, k: int, s: int, cells: np.ndarray) -> np.ndarray:
        """Packed score of first visiting goal cells ``cells [N]`` at step s of episode k."""
        now = self.horizon + 1 - s
        total = now + (self.episodes - 1 - k) * self.weight[cells]
        packed = total << (self.field * self.tie_fields)
        for j in range(self.tie_fields):
            part = now if j == k else (self.weight[cells] if j > k else 0)
            packed = packed + (np.asarray(part) << (self.field * (self.tie_fields - 1 - j)))
        return packed

    def total(self, packed: np.ndarray) -> np.ndarray:
        return packed >> (self.field * self.tie_fields)

    def run(self, *, lower: int, beam: int | None) -> tuple[int, np.ndarray, int]:
        """Best total score (steps on the goal, summed over goal cells), its plan ``[episodes,
        horizon]`` and the states kept. States whose bound falls below ``lower`` are dropped;
        ``beam`` keeps only that many per step, by bound (not exact: a lower bound)."""
        pos, ruled, score = np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64)
        trail, kept = [], 0
        for k in range(self.episodes):
            for s in range(1, self.horizon + 1):
                parent, action, pos, ruled, score = self.step(k, s, pos, ruled, score)
                ub = self.total(score) + self.bounds(k, s, pos, ruled)
                keep = np.flatnonzero(ub >= lower)
                if beam is not None and keep.size > beam:
                    keep = keep[np.argpartition(-ub[keep], beam)[:beam]]
                if keep.size > MAX_STATES:
                    raise ConfigError(f"the grid-world planner needs more than {MAX_STATES} states at step {s} of "
                                      f"episode {k + 1} for size={self.grid.size}, horizon={self.horizon}, "
                                      f"episodes={self.episodes}: too large to solve exactly")
                pos, ruled, score = pos[keep], ruled[keep], score[keep]
                trail.append((parent[keep], action[keep]))
                kept += keep.size
            pos = np.zeros_like(pos)
        if score.size == 0:
            raise AssertionError(f"grid-world planner: every state fell below the lower bound {lower}")
        best = int(np.argmax(score))
        return int(self.total(score[best])), self._backtrack(trail, best), kept

    def step(self, k: int, s: int, pos: np.ndarray, ruled: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, ...]:
        """Every move from every state, then one state per (position, ruled-out set), the best
        scored (ties: the first). Returns ``parent, action, pos, ruled, score``, each ``[N']``."""
        actions = (2,) if k == 0 and s == 1 else (1, 2, 3, 4)
        parts = []
        for a in actions:
            to = self.grid.move[pos, a]
            src = np.flatnonzero(to >= 0)
            cell, before = to[src], ruled[src]
            bit = self.grid.bit[cell]
            new = (bit > 0) & ((before & bit) == 0)
            gained = np.where(new, self.gain(k, s, cell), 0)
            parts.append((src, np.full(src.size, a), cell, before | bit, score[src] + gained))
        parent, action, pos, ruled, score = (np.concatenate(p) for p in zip(*parts, strict=True))
        order = np.argsort(-score, kind="stable")
        _, first = np.unique((ruled * 64 + pos)[order], return_index=True)
        pick = order[first]
        return parent[pick], action[pick], pos[pick], ruled[pick], score[pick]

    def _backtrack(self, trail: list[tuple[np.ndarray, np.ndarray]], index: int) -> np.ndarray:
        moves = []
        for parent, action in reversed(trail):
            moves.append(int(action[index]))
            index = int(parent[index])
        return np.array(moves[::-1], dtype=np.int64).reshape(self.episodes, self.horizon)


class _Bound:
    """An upper bound on the steps on the goal a state can still add, summed over the unvisited goal
    cells U, for a state at position p after step s of episode k (``L = E - 1 - k`` later episodes).

    A cell c found at a later step t of this episode adds ``A(t) + L w_c`` (``A(t) = H + 1 - t``,
    ``w_c = max(0, H + 1 - d_c)``); found at step t of a later episode, at most ``A(t) + (L - 1) w_c``.
    So the total is at most ``(L - 1) sum_U w_c`` + (the extra ``w_c`` of the cells found now) + (the
    A's of all found cells). With j cells found now: the i-th of them comes no earlier than step
    ``max(t_{i-1} + 1, s + delta_i)``, delta_i the i-th smallest distance from p over U; their extras
    are at most the j largest ``w_c`` of the cells within reach; cells found in each later episode
    obey the same rule with distances d_c from the start; the bound is the best over j. In the last
    episode (L = 0) only the A's of the cells found now count.
    """

    def __init__(self, grid: Grid, horizon: int, episodes: int) -> None:
        self.grid, self.horizon, self.episodes = grid, horizon, episodes
        self.bins = 2 * grid.size - 1
        self.values = np.arange(self.bins)
        d = grid.start_distance
        by_start = (d[None, None, :] == self.values[:, None, None]) & grid.is_goal
        self.by_start = _Counts(np.broadcast_to(by_start, (self.bins, len(d), len(d))))
        self._reach: dict[int, tuple[_Counts, _Counts]] = {}

    def _reach_counts(self, left: int) -> tuple[_Counts, _Counts]:
        """Counts of the goal cells within ``left`` steps of p, by distance from p and from the start."""
        if left in self._reach:
            return self._reach[left]
        grid, values = self.grid, self.values[:, None, None]
        reach = (grid.dist <= left) & grid.is_goal[None]  # [p, c]
        by_dist = _Counts((grid.dist[None] == values) & reach[None])
        by_start = _Counts((grid.start_distance[None, None, :] == values) & reach[None])
        self._reach[left] = by_dist, by_start
        return by_dist, by_start

    def __call__(self, k: int, s: int, pos: np.ndarray, ruled: np.ndarray) -> np.ndarray:
        h, later = self.horizon, self.episodes - 1 - k
        by_dist, by_start = self._reach_counts(h - s)
        near = by_dist.count(pos, ruled)  # [bins, N] reachable unvisited cells by distance from p
        near_d = by_start.count(pos, ruled)  # [bins, N] the same cells by distance from the start
        all_d = self.by_start.count(pos, ruled)  # [bins, N] every unvisited goal cell by d
        reach = near.sum(axis=0)
        now = self._now(s, near, near_d if later else None)
        if not later:
            return np.take_along_axis(now, np.minimum(reach, now.shape[0] - 1)[None], 0)[0]
        w = np.maximum(0, h + 1 - self.values)
        base = (later - 1) * (w[:, None] * all_d).sum(axis=0)
        findable = all_d[: h + 1].sum(axis=0)
        unfindable_near = near_d[h + 1:].sum(axis=0)
        marginal = _arrivals(all_d, np.zeros_like(pos), h, int(all_d.sum(axis=0).max(initial=0)))
        then = np.concatenate([np.zeros((1, pos.size), np.int64), np.cumsum(np.repeat(marginal, later, 0), 0)])
        best = np.zeros(pos.size, np.int64)
        for j in range(now.shape[0]):
            n_later = np.clip(findable - j + unfindable_near, 0, then.shape[0] - 1)
            value = now[j] + np.take_along_axis(then, n_later[None], 0)[0]
            best = np.maximum(best, np.where(j <= reach, value, 0))
        return base + best

    def _now(self, s: int, near: np.ndarray, near_d: np.ndarray | None) -> np.ndarray:
        """``[J + 1, N]``: the bound on what j cells found in the rest of this episode add."""
        h = self.horizon
        jmax = int(min(h - s, near.sum(axis=0).max(initial=0)))
        gains = _arrivals(near, np.full(near.shape[1], s), h, jmax)
        if near_d is not None:  # the extra w_c, only where the i-th cell can still be found now
            gains = np.where(gains > 0, gains + np.maximum(0, h + 1 - _smallest(near_d, jmax)), 0)
        return np.concatenate([np.zeros((1, near.shape[1]), np.int64), np.cumsum(gains, axis=0)])


def _smallest(hist: np.ndarray, jmax: int) -> np.ndarray:
    """``[jmax, N]``: the j-th smallest value (j = 1..jmax) of each column's histogram ``[bins, N]``
    over values 0..bins-1; a large sentinel where the column has fewer than j values."""
    cum = np.cumsum(hist, axis=0)
    rows = [np.where(cum[-1] >= j, (cum < j).sum(axis=0), 10**6) for j in range(1, jmax + 1)]
    return np.stack(rows) if rows else np.zeros((0, hist.shape[1]), np.int64)


def _arrivals(hist: np.ndarray, start: np.ndarray, horizon: int, jmax: int) -> np.ndarray:
    """``[jmax, N]``: the most ``A(t) = H + 1 - t`` the i-th cell found can earn when the i-th
    smallest distance (histogram ``hist [bins, N]``) is walked from step ``start`` onwards."""
    t, out = start.copy(), []
    for delta in _smallest(hist, jmax):
        t = np.maximum(t + 1, start + delta)
        out.append(np.where(t <= horizon, horizon + 1 - t, 0))
    return np.stack(out) if out else np.zeros((0, start.size), np.int64)


class _Counts:
    """``count(pos, ruled)``: ``sum over cells c not in ruled of ind[:, pos, c]``, by table look-ups
    on ``CHUNK`` bits of the ruled-out set at a time. ``ind [bins, positions, cells]`` bool."""

    def __init__(self, ind: np.ndarray) -> None:
        ind = ind.astype(np.int64)
        self.total = ind.sum(axis=2)  # [bins, positions]
        self.tables = []
        for start in range(0, ind.shape[2], CHUNK):
            width = min(CHUNK, ind.shape[2] - start)
            bits = (np.arange(1 << width)[:, None] >> np.arange(width)) & 1  # [2^width, width]
            self.tables.append((start, width, ind[:, :, start:start + width] @ bits.T))

    def count(self, pos: np.ndarray, ruled: np.ndarray) -> np.ndarray:
        out = self.total[:, pos].copy()
        for start, width, table in self.tables:
            out -= table[:, pos, (ruled >> start) & ((1 << width) - 1)]
        return out
