"""Run classic baselines on a batch of tasks and summarise their trials.

A *trial* is ``episodes`` episodes of one task (for bandits an episode is one pull); its score is
the total reward. Every baseline is a ``TrialPolicy`` acting for all tasks at once; the runner
loops over episodes and steps only, never over tasks. All baselines of one call share the
environment's random stream (common random numbers), so their differences are less noisy than
their standard errors suggest.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from gymnasium.vector import AutoresetMode

from metarl.envs.base import BatchedTaskEnv
from metarl.tasks import TaskBatch, check_count


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
    tasks of the return of episode e, the curve to plot next to RL²)."""

    name: str
    returns: np.ndarray
    per_episode: np.ndarray
    constant: str = ""

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
            "constant": self.constant, "per_episode": self.per_episode.tolist(),
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


def _families() -> dict[str, BaselineFamily]:
    from metarl.classic import bandit, mdp, navigation

    fams = {"bandit": bandit.FAMILY, "mdp": mdp.FAMILY, "navigation": navigation.FAMILY}
    return fams | {"tabular-mdp": mdp.FAMILY, "navigation2d": navigation.FAMILY}


def baseline_family(family: str) -> BaselineFamily:
    fams = _families()
    if family not in fams:
        raise ValueError(f"no classic baselines for family {family!r}; known: {', '.join(sorted(fams))}")
    return fams[family]


def evaluate_baselines(
    family: str, *, tasks: TaskBatch, episodes: int, seed: int, names: Sequence[str] | None = None
) -> dict[str, BaselineResult]:
    """Score each baseline of ``family`` (all of them when ``names`` is None) on ``tasks``.

    ``seed`` fixes the environment's stream (shared by all baselines) and each baseline's own
    stream (derived from the seed and the baseline's name, so it does not depend on ``names``).
    """
    fam = baseline_family(family)
    episodes = check_count("episodes", episodes)
    names = list(fam.names if names is None else names)
    unknown = [n for n in names if n not in fam.names]
    if unknown:
        raise ValueError(f"unknown {family} baseline(s) {unknown}; allowed: {', '.join(fam.names)}")
    env_seed = int(np.random.SeedSequence([seed, 0]).generate_state(1)[0])
    results = {}
    for name in names:
        policy = fam.make_policy(name, tasks=tasks, episodes=episodes)
        env = fam.env_type(tasks=tasks, autoreset_mode=AutoresetMode.DISABLED, seed=env_seed)
        rng = np.random.default_rng([seed, 1, zlib.crc32(name.encode())])
        returns = run_trials(env, policy, episodes=episodes, rng=rng)
        results[name] = BaselineResult(
            name=name, returns=returns.sum(axis=1), per_episode=returns.mean(axis=0),
            constant=policy.constant,
        )
    return results
