"""Bernoulli-bandit baselines of the RL² paper (Table 1), vectorised over tasks.

``bayes-optimal`` is the exact Bayes-optimal policy under the distribution's U(0, 1) prior, by
dynamic programming (``metarl.classic.bayes_optimal``); it only exists for short trials (n <= 20
with any k, n <= 28 at k = 5) and is left out of "all baselines" beyond that.

Every learning baseline keeps per-arm pull and success counts ``[tasks, arms]`` and starts each
arm with one success and one failure (a Beta(1, 1) prior), as the paper did. Ties are broken
uniformly at random, so the first pull is not always arm 0.

UCB1's ``c`` and epsilon-greedy's ``epsilon`` were tuned per (n, k) like the paper's: by
``tune_constants`` on the *validation* split of ``TUNING_SEED`` (never the test tasks of any
evaluation seed); the chosen values are pinned in ``TUNED``. A setting outside the table uses the
nearest tuned setting in log-space, and says so in ``constant``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from gymnasium.vector import AutoresetMode

from metarl.classic.bayes_optimal import TIE_TOLERANCE, BayesTable, bayes_table, infeasible
from metarl.classic.gittins import gittins_table
from metarl.classic.trials import BaselineFamily, run_trials
from metarl.envs.bandit import BanditDistribution, BanditEnv, BanditTasks
from metarl.tasks import TaskSplit, check_count

TUNING_SEED = 20160101
UCB_GRID = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0)
EPSILON_GRID = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)

# (episodes n, arms k) -> tuned constants; produced by ``tune_constants(n, k)`` (2000 tasks for
# n <= 100, 1000 for n = 500).
TUNED: dict[tuple[int, int], dict[str, float]] = {
    (10, 5): {"ucb1": 0.02, "epsilon-greedy": 0.0},
    (10, 10): {"ucb1": 0.02, "epsilon-greedy": 0.0},
    (10, 50): {"ucb1": 0.1, "epsilon-greedy": 0.0},
    (100, 5): {"ucb1": 0.2, "epsilon-greedy": 0.005},
    (100, 10): {"ucb1": 0.2, "epsilon-greedy": 0.005},
    (100, 50): {"ucb1": 0.15, "epsilon-greedy": 0.01},
    (500, 5): {"ucb1": 0.25, "epsilon-greedy": 0.05},
    (500, 10): {"ucb1": 0.2, "epsilon-greedy": 0.05},
    (500, 50): {"ucb1": 0.2, "epsilon-greedy": 0.05},
}


def argmax_random_ties(values: np.ndarray, rng: np.random.Generator, *, tolerance: float = 0.0) -> np.ndarray:
    """Row-wise argmax of ``[tasks, arms]``, choosing uniformly among the maxima (values within
    ``tolerance`` of the row's maximum count as tied)."""
    best = values >= values.max(axis=1, keepdims=True) - tolerance
    return np.argmax(np.where(best, rng.random(values.shape), -1.0), axis=1)


class BetaArms:
    """Counts shared by the learning baselines; subclasses implement ``choose``."""

    constant = ""

    def __init__(self, *, arms: int) -> None:
        self.arms = check_count("arms", arms, minimum=2)

    def reset(self, *, num_tasks: int, episodes: int, rng: np.random.Generator) -> None:
        self.pulls = np.zeros((num_tasks, self.arms), dtype=np.int64)
        self.successes = np.zeros((num_tasks, self.arms), dtype=np.int64)
        self.horizon, self.rng = episodes, rng

    def observe(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray,
        live: np.ndarray,
    ) -> None:
        rows = np.arange(actions.shape[0])
        self.pulls[rows, actions] += live
        self.successes[rows, actions] += (rewards * live).astype(np.int64)

    def posterior_mean(self) -> np.ndarray:
        return (self.successes + 1.0) / (self.pulls + 2.0)

    def act(self, obs: np.ndarray, episode: int, step: int) -> np.ndarray:
        return self.choose(episode)

    def choose(self, episode: int) -> np.ndarray:
        raise NotImplementedError


class RandomArm(BetaArms):
    def choose(self, episode: int) -> np.ndarray:
        return self.rng.integers(0, self.arms, size=self.pulls.shape[0])


class Greedy(BetaArms):
    """Pull the arm of highest posterior mean."""

    def choose(self, episode: int) -> np.ndarray:
        return argmax_random_ties(self.posterior_mean(), self.rng)


class EpsilonGreedy(BetaArms):
    """Greedy, except a uniformly random arm with probability ``epsilon``."""

    def __init__(self, *, arms: int, epsilon: float, constant: str = "") -> None:
        super().__init__(arms=arms)
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.epsilon, self.constant = epsilon, constant or f"epsilon={epsilon:g}"

    def choose(self, episode: int) -> np.ndarray:
        greedy = argmax_random_ties(self.posterior_mean(), self.rng)
        explore = self.rng.random(greedy.shape[0]) < self.epsilon
        return np.where(explore, self.rng.integers(0, self.arms, size=greedy.shape[0]), greedy)


class UCB1(BetaArms):
    """Index ``mean + c * sqrt(2 ln t / n_a)`` with the prior's two pseudo-pulls counted in
    ``n_a`` (pulls of arm a) and in ``t`` (all pulls); ``c = 1`` is Auer et al.'s UCB1."""

    def __init__(self, *, arms: int, c: float, constant: str = "") -> None:
        super().__init__(arms=arms)
        if not c >= 0.0:
            raise ValueError(f"c must be >= 0, got {c}")
        self.c, self.constant = c, constant or f"c={c:g}"

    def choose(self, episode: int) -> np.ndarray:
        n_a = self.pulls + 2.0
        total = n_a.sum(axis=1, keepdims=True)
        index = self.posterior_mean() + self.c * np.sqrt(2.0 * np.log(total) / n_a)
        return argmax_random_ties(index, self.rng)


class Thompson(BetaArms):
    """Pull the arm whose Beta(successes + 1, failures + 1) sample is largest."""

    def choose(self, episode: int) -> np.ndarray:
        sample = self.rng.beta(self.successes + 1.0, self.pulls - self.successes + 1.0)
        return np.argmax(sample, axis=1)


class Gittins(BetaArms):
    """Pull the arm of highest finite-horizon Gittins index (``metarl.classic.gittins``)."""

    def reset(self, *, num_tasks: int, episodes: int, rng: np.random.Generator) -> None:
        super().reset(num_tasks=num_tasks, episodes=episodes, rng=rng)
        self.table = gittins_table(episodes)
        self.constant = f"finite horizon {episodes}, bracket {self.table.max_error:.1e}"

    def choose(self, episode: int) -> np.ndarray:
        index = self.table.lookup(self.pulls, self.successes, self.horizon - episode)
        return argmax_random_ties(index, self.rng)


class BayesOptimal(BetaArms):
    """The exact Bayes-optimal policy for arm means i.i.d. U(0, 1), the bandit distribution's
    prior (``metarl.classic.bayes_optimal``): pull an arm of highest Q, ties at random. ``exact``
    is its expected trial return under that prior, what the sampled mean estimates."""

    def __init__(self, *, arms: int, horizon: int) -> None:
        super().__init__(arms=arms)
        self._use(bayes_table(arms, horizon))  # ConfigError here when the trial is too long to solve

    def _use(self, table: BayesTable) -> None:
        self.table, self.exact = table, table.value
        self.constant = f"exact DP over {table.num_states} states"

    def reset(self, *, num_tasks: int, episodes: int, rng: np.random.Generator) -> None:
        super().reset(num_tasks=num_tasks, episodes=episodes, rng=rng)
        if episodes != self.table.horizon:
            self._use(bayes_table(self.arms, episodes))

    def choose(self, episode: int) -> np.ndarray:
        q = self.table.arm_q(self.pulls, self.successes)
        return argmax_random_ties(q, self.rng, tolerance=TIE_TOLERANCE)


def tuned_constant(name: str, episodes: int, arms: int) -> tuple[float, str]:
    """The tuned constant of ``name`` ("ucb1" or "epsilon-greedy") and a label saying where from."""
    def distance(key: tuple[int, int]) -> float:
        return math.log(key[0] / episodes) ** 2 + math.log(key[1] / arms) ** 2

    key = min(TUNED, key=distance)
    symbol = "c" if name == "ucb1" else "epsilon"
    where = "" if key == (episodes, arms) else f", nearest tuned setting n={key[0]} k={key[1]}"
    return TUNED[key][name], f"{symbol}={TUNED[key][name]:g}{where}"


def make_policy(
    name: str, *, tasks: BanditTasks, episodes: int, constant: float | None = None
) -> BetaArms:
    """The baseline ``name`` for ``tasks``; ``constant`` overrides the tuned c / epsilon."""
    arms = tasks.num_arms
    if name in ("ucb1", "epsilon-greedy"):
        value, label = tuned_constant(name, episodes, arms)
        if constant is not None:
            value, label = constant, ""
        if name == "ucb1":
            return UCB1(arms=arms, c=value, constant=label)
        return EpsilonGreedy(arms=arms, epsilon=value, constant=label)
    if name == "bayes-optimal":
        return BayesOptimal(arms=arms, horizon=episodes)
    simple = {"random": RandomArm, "greedy": Greedy, "thompson": Thompson, "gittins": Gittins}
    if name not in simple:
        raise ValueError(f"unknown bandit baseline {name!r}; allowed: {', '.join(NAMES)}")
    return simple[name](arms=arms)


def unavailable(name: str, *, tasks: BanditTasks, episodes: int) -> str:
    """Why ``name`` cannot play trials of ``episodes`` pulls on ``tasks`` ("" when it can): only
    the exact Bayes-optimal policy has a size limit."""
    return infeasible(tasks.num_arms, episodes) if name == "bayes-optimal" else ""


NAMES = ("random", "greedy", "epsilon-greedy", "ucb1", "thompson", "gittins", "bayes-optimal")
FAMILY = BaselineFamily(env_type=BanditEnv, names=NAMES, make_policy=make_policy, unavailable=unavailable)


def tune_constants(
    episodes: int, arms: int, *, num_tasks: int = 2000, seed: int = TUNING_SEED,
    grids: dict[str, Sequence[float]] | None = None,
) -> dict[str, float]:
    """Best c for UCB1 and epsilon for epsilon-greedy at (n=episodes, k=arms), by mean trial
    return on the validation split of ``seed`` (all candidates see the same tasks and rewards)."""
    grids = grids or {"ucb1": UCB_GRID, "epsilon-greedy": EPSILON_GRID}
    tasks = TaskSplit(distribution=BanditDistribution(arms=arms), seed=seed).validation_tasks(num_tasks)
    best = {}
    for name, grid in grids.items():
        scores = [_score(name, value, tasks, episodes, seed) for value in grid]
        best[name] = float(grid[int(np.argmax(scores))])
    return best


def _score(name: str, value: float, tasks: BanditTasks, episodes: int, seed: int) -> float:
    policy = make_policy(name, tasks=tasks, episodes=episodes, constant=value)
    env_seed = int(np.random.SeedSequence([seed, 0]).generate_state(1)[0])
    env = BanditEnv(tasks=tasks, autoreset_mode=AutoresetMode.DISABLED, seed=env_seed)
    returns = run_trials(env, policy, episodes=episodes, rng=np.random.default_rng(seed))
    return float(returns.sum(axis=1).mean())

