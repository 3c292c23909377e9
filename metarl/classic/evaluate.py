"""Run classic baselines on a batch of tasks and summarise their trials.

A *trial* is ``episodes`` episodes of one task (for bandits an episode is one pull); its score is
the total reward. Every baseline is a ``TrialPolicy`` acting for all tasks at once; the runner
loops over episodes and steps only, never over tasks. All baselines of one call share the
environment's random stream (common random numbers), so their differences are less noisy than
their standard errors suggest.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
from gymnasium.vector import AutoresetMode

from metarl.classic.trials import BaselineFamily, BaselineResult, TrialPolicy, run_trials
from metarl.errors import ConfigError
from metarl.tasks import TaskBatch, check_count

__all__ = ["BaselineFamily", "BaselineResult", "TrialPolicy", "baseline_family", "evaluate_baselines",
           "has_baselines", "run_trials", "unavailable_baselines"]


def _families() -> dict[str, BaselineFamily]:
    from metarl.classic import bandit, gridworld, mdp, navigation

    fams = {"bandit": bandit.FAMILY, "mdp": mdp.FAMILY, "navigation": navigation.FAMILY, "gridworld": gridworld.FAMILY}
    return fams | {"tabular-mdp": mdp.FAMILY, "navigation2d": navigation.FAMILY}


def has_baselines(family: str) -> bool:
    """Whether the task family ``family`` has classic baselines (what evaluations put beside an agent)."""
    return family in _families()


def baseline_family(family: str) -> BaselineFamily:
    fams = _families()
    if family not in fams:
        raise ConfigError(f"no classic baselines for family {family!r}; known: {', '.join(sorted(fams))}")
    return fams[family]


def unavailable_baselines(family: str, *, tasks: TaskBatch, episodes: int) -> dict[str, str]:
    """The baselines of ``family`` that cannot play trials of ``episodes`` episodes on ``tasks``
    (the bandit's exact Bayes-optimal policy beyond its size limit), each with the reason."""
    fam = baseline_family(family)
    if fam.unavailable is None:
        return {}
    reasons = {name: fam.unavailable(name, tasks=tasks, episodes=episodes) for name in fam.names}
    return {name: why for name, why in reasons.items() if why}


def evaluate_baselines(
    family: str, *, tasks: TaskBatch, episodes: int, seed: int, names: Sequence[str] | None = None
) -> dict[str, BaselineResult]:
    """Score each baseline of ``family`` on ``tasks``: those in ``names``, or when it is None all
    that can run at this size (``unavailable_baselines`` are left out; named, they raise).

    ``seed`` fixes the environment's stream (shared by all baselines) and each baseline's own
    stream (derived from the seed and the baseline's name, so it does not depend on ``names``).
    """
    fam = baseline_family(family)
    episodes = check_count("episodes", episodes)
    if names is None:
        skip = unavailable_baselines(family, tasks=tasks, episodes=episodes)
        names = [n for n in fam.names if n not in skip]
    names = list(names)
    unknown = [n for n in names if n not in fam.names]
    if unknown:
        raise ConfigError(f"unknown {family} baseline(s) {unknown}; allowed: {', '.join(fam.names)}")
    env_seed = int(np.random.SeedSequence([seed, 0]).generate_state(1)[0])
    results = {}
    for name in names:
        policy = fam.make_policy(name, tasks=tasks, episodes=episodes)
        env = fam.env_type(tasks=tasks, autoreset_mode=AutoresetMode.DISABLED, seed=env_seed)
        rng = np.random.default_rng([seed, 1, zlib.crc32(name.encode())])
        returns = run_trials(env, policy, episodes=episodes, rng=rng)
        results[name] = BaselineResult(
            name=name, returns=returns.sum(axis=1), per_episode=returns.mean(axis=0),
            constant=policy.constant, exact=getattr(policy, "exact", None),
            exact_per_episode=getattr(policy, "exact_per_episode", None),
        )
    return results
