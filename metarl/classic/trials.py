"""The classic baselines' common parts: the trial policy protocol, its result, and the runner.

A *trial* is ``episodes`` episodes of one task (for bandits an episode is one pull); its score is
the total reward. Every baseline is a ``TrialPolicy`` acting for all tasks at once; the runner
loops over episodes and steps only, never over tasks. The family modules (bandit, mdp, navigation,
gridworld) import this module and nothing imports them back, so there is no cycle.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from gymnasium.vector import AutoresetMode

from metarl.envs.base import BatchedTaskEnv


class TrialPolicy(Protocol):
    """A baseline acting in every task of a batch at once, adapting within one trial."""

    constant: str  # the tuned constant it uses, for display ("" if none)

    def reset(self, *, num_tasks: int, episodes: int, rng: np.random.Generator) -> None:
        """Forget everything: a new trial of ``episodes`` episodes starts on ``num_tasks`` tasks."""

    def act(self, obs: np.ndarray, episode: int, step: int) -> np.ndarray:
        """Actions ``[tasks, *action_shape]`` for observations ``[tasks, *obs_shape]``."""

    def observe(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray,
        live: np.ndarray,
    ) -> None:
        """Learn from one step; ``live [tasks]`` is False where the episode had already ended."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class BaselineResult:
    """Trial scores of one baseline: ``returns [tasks]``, ``per_episode [episodes]`` (mean over
    tasks of the return of episode e, the curve to plot next to RL²). ``exact`` is the expected
    trial return under the task distribution where the baseline knows it exactly (the bandit's
    Bayes-optimal policy; its ``exact`` attribute), else None: the sampled ``mean`` estimates it.
    ``exact_per_episode [episodes]`` is the same per episode, where the baseline knows it (its
    ``exact_per_episode`` attribute: the grid world's baselines)."""

    name: str
    returns: np.ndarray
    per_episode: np.ndarray
    constant: str = ""
    exact: float | None = None
    exact_per_episode: np.ndarray | None = None

    @property
    def mean(self) -> float:
        return float(self.returns.mean())

    @property
    def stderr(self) -> float:
        n = self.returns.shape[0]
        return float(self.returns.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean, "stderr": self.stderr, "tasks": int(self.returns.shape[0]),
            "constant": self.constant, "exact": self.exact, "per_episode": self.per_episode.tolist(),
            "exact_per_episode": None if self.exact_per_episode is None else self.exact_per_episode.tolist(),
        }


def run_trials(
    env: BatchedTaskEnv, policy: TrialPolicy, *, episodes: int, rng: np.random.Generator
) -> np.ndarray:
    """Play one trial of ``episodes`` episodes per task; returns ``[tasks, episodes]`` returns.

    ``env`` must have one sub-environment per task and autoreset disabled: each episode starts
    with an explicit reset, and steps after an episode ended are masked out.
    """
    if env.episodes_per_task != 1 or env.autoreset_mode != AutoresetMode.DISABLED:
        raise ValueError("run_trials needs episodes_per_task=1 and autoreset_mode=DISABLED")
    num_tasks = len(env.tasks)
    policy.reset(num_tasks=num_tasks, episodes=episodes, rng=rng)
    returns = np.zeros((num_tasks, episodes))
    for episode in range(episodes):
        obs, _ = env.reset()
        live = np.ones(num_tasks, dtype=bool)
        for step in range(env.max_episode_steps):
            actions = policy.act(obs, episode, step)
            next_obs, reward, terminated, truncated, _ = env.step(actions)
            policy.observe(obs, actions, reward, next_obs, live)
            returns[:, episode] += np.where(live, reward, 0.0)
            live &= ~(terminated | truncated)
            if not live.any():
                break
            obs = next_obs
    return returns


@dataclasses.dataclass(frozen=True, kw_only=True)
class BaselineFamily:
    """What ``evaluate_baselines`` needs from a family module."""

    env_type: type[BatchedTaskEnv]
    names: tuple[str, ...]
    make_policy: Callable[..., TrialPolicy]  # (name, *, tasks, episodes) -> TrialPolicy
    # (name, *, tasks, episodes) -> why that baseline cannot run at this size ("" when it can);
    # None: every baseline always can
    unavailable: Callable[..., str] | None = None
