"""Grid-world baselines (``metarl.envs.gridworld``, VariBAD's GridNavi), what any agent sits between:

- random: uniform actions (noop, up, right, down, left);
- oracle: knows the goal, walks a shortest path to it (x first, then y) and stays on it, in every
  episode; ``-0.1 (d - 1) + (H + 1 - d)`` per episode for a goal ``d = x + y`` steps away;
- bayes-optimal: the exact Bayes-optimal policy of the whole trial (``metarl.classic.gridworld_plan``):
  plays the planned moves until a +1 shows where the goal is, then plays as the oracle.

Each knows its expected return exactly under the task distribution (goal uniform over the goal
cells): ``exact`` for the trial and ``exact_per_episode`` for each of its episodes, what the
sampled means estimate. Neither random nor the oracle adapts, so their episodes are alike.
"""

from __future__ import annotations

import numpy as np

from metarl.classic.gridworld_plan import plan
from metarl.classic.trials import BaselineFamily
from metarl.envs import gridworld as grid
from metarl.envs.gridworld import HORIZON, MOVES, SIZE, GridworldEnv, GridworldTasks, goal_cells
from metarl.tasks import check_count

NOOP, UP, RIGHT, DOWN, LEFT = range(5)


def toward(position: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """``[N]`` the action of a shortest path from ``position [N, 2]`` to ``goal [N, 2]`` (x first,
    then y; noop on the goal)."""
    dx, dy = (goal - position).T
    return np.select([dx > 0, dx < 0, dy > 0, dy < 0], [RIGHT, LEFT, UP, DOWN], NOOP).astype(np.int64)


def _episode_return(steps_on_goal: np.ndarray) -> np.ndarray:
    """The return of an episode of ``HORIZON`` steps that spends ``steps_on_goal`` of them on the goal."""
    return grid.STEP_REWARD * HORIZON + (grid.GOAL_REWARD - grid.STEP_REWARD) * steps_on_goal


def random_expected_steps_on_goal() -> float:
    """Expected steps uniform actions spend on the goal in one episode, the goal uniform over the
    goal cells: the walk's exact distribution over cells, step by step."""
    cells = SIZE * SIZE
    xy = np.stack(np.divmod(np.arange(cells), SIZE), axis=1)[:, ::-1]  # cell i = (i % SIZE, i // SIZE)
    to = np.clip(xy[:, None, :] + MOVES[None], 0, SIZE - 1)
    index = to[..., 0] + SIZE * to[..., 1]  # [cells, actions]
    step = np.zeros((cells, cells))
    np.add.at(step, (np.repeat(np.arange(cells), len(MOVES)), index.ravel()), 1.0 / len(MOVES))
    where = np.zeros(cells)
    where[0] = 1.0
    goals = goal_cells()
    on_goal = 0.0
    for _ in range(HORIZON):
        where = where @ step
        on_goal += where[goals[:, 0] + SIZE * goals[:, 1]].mean()
    return float(on_goal)


class GridPolicy:
    """Base of the grid-world baselines: ``exact_per_episode`` is set by ``_expect``."""

    constant = ""

    def __init__(self, *, tasks: GridworldTasks, episodes: int) -> None:
        if not isinstance(tasks, GridworldTasks):
            raise TypeError(f"grid-world baselines need GridworldTasks, got {type(tasks).__name__}")
        self.goals = tasks.goals  # [tasks, 2]
        self._expect(check_count("episodes", episodes))

    def _expect(self, episodes: int) -> None:
        raise NotImplementedError

    def _set_exact(self, per_episode: np.ndarray) -> None:
        self.exact_per_episode = np.asarray(per_episode, dtype=np.float64)
        self.exact = float(self.exact_per_episode.sum())

    def reset(self, *, num_tasks: int, episodes: int, rng: np.random.Generator) -> None:
        if num_tasks != self.goals.shape[0]:
            raise ValueError(f"policy built for {self.goals.shape[0]} tasks, trial has {num_tasks}")
        if episodes != self.exact_per_episode.shape[0]:
            self._expect(episodes)
        self.rng = rng

    def observe(self, *args: np.ndarray) -> None:
        pass


class RandomMoves(GridPolicy):
    def _expect(self, episodes: int) -> None:
        self._set_exact(np.full(episodes, _episode_return(random_expected_steps_on_goal())))

    def act(self, obs: np.ndarray, episode: int, step: int) -> np.ndarray:
        return self.rng.integers(0, len(MOVES), size=obs.shape[0])


class Oracle(GridPolicy):
    def _expect(self, episodes: int) -> None:
        d = goal_cells().sum(axis=1)
        self._set_exact(np.full(episodes, _episode_return(np.maximum(0, HORIZON + 1 - d)).mean()))

    def act(self, obs: np.ndarray, episode: int, step: int) -> np.ndarray:
        return toward(np.rint(obs).astype(np.int64), self.goals)


class BayesOptimal(GridPolicy):
    """The planned moves until the goal is found (a +1), then the oracle's play on the goal seen."""

    def _expect(self, episodes: int) -> None:
        self.plan = plan(size=SIZE, horizon=HORIZON, episodes=episodes)
        self._set_exact(self.plan.episode_returns)
        self.constant = f"exact plan, search over {self.plan.states} states"

    def reset(self, *, num_tasks: int, episodes: int, rng: np.random.Generator) -> None:
        super().reset(num_tasks=num_tasks, episodes=episodes, rng=rng)
        self.found = np.zeros(num_tasks, dtype=bool)
        self.seen = np.zeros((num_tasks, 2), dtype=np.int64)  # the goal, where found

    def act(self, obs: np.ndarray, episode: int, step: int) -> np.ndarray:
        if step >= self.plan.horizon:
            raise ValueError(f"bayes-optimal planned {self.plan.horizon}-step episodes, got step {step + 1}")
        planned = self.plan.actions[episode, step]
        return np.where(self.found, toward(np.rint(obs).astype(np.int64), self.seen), planned)

    def observe(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray,
        live: np.ndarray,
    ) -> None:
        hit = live & ~self.found & (rewards > 0)
        self.seen[hit] = np.rint(next_obs[hit]).astype(np.int64)
        self.found |= hit


NAMES = ("random", "oracle", "bayes-optimal")
_POLICIES = {"random": RandomMoves, "oracle": Oracle, "bayes-optimal": BayesOptimal}


def make_policy(name: str, *, tasks: GridworldTasks, episodes: int) -> GridPolicy:
    if name not in _POLICIES:
        raise ValueError(f"unknown gridworld baseline {name!r}; allowed: {', '.join(NAMES)}")
    return _POLICIES[name](tasks=tasks, episodes=episodes)


FAMILY = BaselineFamily(env_type=GridworldEnv, names=NAMES, make_policy=make_policy)
