"""Bounds for 2D navigation (MAML paper, Table 4): what no learning and perfect knowledge score.

- random: uniform velocities in [-0.1, 0.1]^2;
- stay: action 0, the point never leaves the origin (about -38.3 per episode);
- oracle: knows the goal and moves straight at it as fast as the box allows (the largest step
  along the goal's direction inside [-0.1, 0.1]^2), shortened so it lands on the goal instead of
  overshooting (about -0.5 per episode).

None of them adapts, so every episode of a trial has the same expected return.
"""

from __future__ import annotations

import numpy as np

from metarl.classic.trials import BaselineFamily
from metarl.envs.navigation import MAX_VELOCITY, Navigation2DEnv, NavigationTasks


class FixedPolicy:
    """Base of the non-adaptive navigation policies (``observe`` is a no-op)."""

    constant = ""

    def __init__(self, *, tasks: NavigationTasks) -> None:
        if not isinstance(tasks, NavigationTasks):
            raise TypeError(f"navigation baselines need NavigationTasks, got {type(tasks).__name__}")
        self.goals = tasks.goals  # [tasks, 2]

    def reset(self, *, num_tasks: int, episodes: int, rng: np.random.Generator) -> None:
        if num_tasks != self.goals.shape[0]:
            raise ValueError(f"policy built for {self.goals.shape[0]} tasks, trial has {num_tasks}")
        self.rng = rng

    def observe(self, *args: np.ndarray) -> None:
        pass


class RandomVelocity(FixedPolicy):
    def act(self, obs: np.ndarray, episode: int, step: int) -> np.ndarray:
        return self.rng.uniform(-MAX_VELOCITY, MAX_VELOCITY, size=obs.shape)


class Stay(FixedPolicy):
    def act(self, obs: np.ndarray, episode: int, step: int) -> np.ndarray:
        return np.zeros_like(obs)


class StraightLineOracle(FixedPolicy):
    def act(self, obs: np.ndarray, episode: int, step: int) -> np.ndarray:
        delta = self.goals - obs  # [tasks, 2]
        largest = np.abs(delta).max(axis=1, keepdims=True)
        return delta * np.minimum(1.0, MAX_VELOCITY / np.maximum(largest, 1e-12))


NAMES = ("random", "stay", "oracle")
_POLICIES = {"random": RandomVelocity, "stay": Stay, "oracle": StraightLineOracle}


def make_policy(name: str, *, tasks: NavigationTasks, episodes: int) -> FixedPolicy:
    if name not in _POLICIES:
        raise ValueError(f"unknown navigation baseline {name!r}; allowed: {', '.join(NAMES)}")
    return _POLICIES[name](tasks=tasks)


FAMILY = BaselineFamily(env_type=Navigation2DEnv, names=NAMES, make_policy=make_policy)
