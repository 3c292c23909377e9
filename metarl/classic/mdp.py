"""Random-tabular-MDP baselines of the RL² paper (Table 2): random, greedy, PSRL.

The learning baselines share one conjugate posterior per task, matching the task distribution:
reward mean of (s, a) ~ N(1, 1) observed with unit noise, so after n rewards summing to r the
posterior is N((1 + r) / (1 + n), 1 / (1 + n)); next state ~ Dirichlet(1 + visit counts). At the
start of each episode they plan by finite-horizon value iteration, batched over tasks:

- greedy: on the posterior-mean model (mean rewards, mean transition probabilities);
- PSRL (Osband et al. 2013): on one model sampled from the posterior per task and episode.
"""

from __future__ import annotations

import numpy as np

from metarl.classic.bandit import argmax_random_ties
from metarl.classic.trials import BaselineFamily
from metarl.envs.tabular_mdp import TabularMDPEnv, TabularMDPTasks
from metarl.tasks import check_count


def finite_horizon_q(rewards: np.ndarray, transitions: np.ndarray, horizon: int) -> np.ndarray:
    """Optimal ``Q [tasks, horizon, states, actions]``; ``Q[:, t]`` is for step t of an episode
    (``horizon - t`` steps to go). ``rewards [tasks, S, A]``, ``transitions [tasks, S, A, S]``."""
    q = np.empty((rewards.shape[0], horizon, *rewards.shape[1:]))
    value = np.zeros(rewards.shape[:2])
    for t in reversed(range(horizon)):
        q[:, t] = rewards + np.einsum("tsaz,tz->tsa", transitions, value)
        value = q[:, t].max(axis=-1)
    return q


class RandomActions:
    """Uniform actions; learns nothing."""

    constant = ""

    def __init__(self, *, states: int, actions: int, horizon: int) -> None:
        self.actions = actions

    def reset(self, *, num_tasks: int, episodes: int, rng: np.random.Generator) -> None:
        self.rng, self.num_tasks = rng, num_tasks

    def act(self, obs: np.ndarray, episode: int, step: int) -> np.ndarray:
        return self.rng.integers(0, self.actions, size=self.num_tasks)

    def observe(self, *args: np.ndarray) -> None:
        pass


class PosteriorPlanner:
    """Conjugate posterior of every task, and a plan made from it at each episode's first step.
    Subclasses choose the model planned on (``model``)."""

    constant = ""

    def __init__(self, *, states: int, actions: int, horizon: int) -> None:
        self.states, self.actions = states, actions
        self.horizon = check_count("horizon", horizon)

    def reset(self, *, num_tasks: int, episodes: int, rng: np.random.Generator) -> None:
        s, a = self.states, self.actions
        self.rng = rng
        self.visits = np.zeros((num_tasks, s, a))
        self.reward_sum = np.zeros((num_tasks, s, a))
        self.next_counts = np.zeros((num_tasks, s, a, s))

    def observe(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray,
        live: np.ndarray,
    ) -> None:
        rows, state, nxt = np.arange(obs.shape[0]), obs.argmax(axis=1), next_obs.argmax(axis=1)
        self.visits[rows, state, actions] += live
        self.reward_sum[rows, state, actions] += np.where(live, rewards, 0.0)
        self.next_counts[rows, state, actions, nxt] += live

    def reward_posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance ``[tasks, S, A]`` of each reward mean."""
        precision = 1.0 + self.visits
        return (1.0 + self.reward_sum) / precision, 1.0 / precision

    def model(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def act(self, obs: np.ndarray, episode: int, step: int) -> np.ndarray:
        if step == 0:
            self.q = finite_horizon_q(*self.model(), self.horizon)
        rows = np.arange(obs.shape[0])
        return argmax_random_ties(self.q[rows, step, obs.argmax(axis=1)], self.rng)


class GreedyPlanner(PosteriorPlanner):
    def model(self) -> tuple[np.ndarray, np.ndarray]:
        alpha = 1.0 + self.next_counts
        return self.reward_posterior()[0], alpha / alpha.sum(axis=-1, keepdims=True)


class PSRL(PosteriorPlanner):
    def model(self) -> tuple[np.ndarray, np.ndarray]:
        mean, var = self.reward_posterior()
        rewards = mean + np.sqrt(var) * self.rng.standard_normal(mean.shape)
        gammas = self.rng.standard_gamma(1.0 + self.next_counts)
        return rewards, gammas / gammas.sum(axis=-1, keepdims=True)


NAMES = ("random", "greedy", "psrl")
_POLICIES = {"random": RandomActions, "greedy": GreedyPlanner, "psrl": PSRL}


def make_policy(
    name: str, *, tasks: TabularMDPTasks, episodes: int, horizon: int = 10
) -> RandomActions | PosteriorPlanner:
    """The baseline ``name`` for ``tasks`` with episodes of ``horizon`` steps (the env's default)."""
    if name not in _POLICIES:
        raise ValueError(f"unknown tabular-MDP baseline {name!r}; allowed: {', '.join(NAMES)}")
    if not isinstance(tasks, TabularMDPTasks):
        raise TypeError(f"tabular-MDP baselines need TabularMDPTasks, got {type(tasks).__name__}")
    return _POLICIES[name](states=tasks.num_states, actions=tasks.num_actions, horizon=horizon)


FAMILY = BaselineFamily(env_type=TabularMDPEnv, names=NAMES, make_policy=make_policy)
