"""RL² on held-out tasks: trial return, the adaptation curve, and the classic baselines beside it.

The test tasks come from the learner's own task set (the ``test`` stream of the training seed), so
they were never drawn for training; ``seed`` fixes the environment's and the policy's random
streams of the evaluation only. The curves, intervals and baselines are those of every trial
learner (``metarl.rl.trial_evaluation``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metarl.results import EvaluationResult
from metarl.rl.trial_evaluation import (
    classic_baselines,
    episode_step_rewards,
    first_episode_steps,
    summarize,
    trial_evaluation,
)
from metarl.tasks import check_count

if TYPE_CHECKING:
    from metarl.algorithms.rl2.learner import RL2Learner

__all__ = ["RL2EvalOptions", "classic_baselines", "episode_step_rewards", "evaluate", "first_episode_steps",
           "summarize"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RL2EvalOptions:
    """RL²'s own evaluation settings (``metarl evaluate RUN --deterministic``)."""

    deterministic: bool | None = None
    """act with the policy's mode (default: the run's eval_deterministic)"""
    classic: bool = True
    """play the family's classic baselines (bandit, MDP, navigation, grid world) on the same tasks"""


def evaluate(
    learner: RL2Learner, *, num_tasks: int = 1000, seed: int = 0, baselines: Mapping[str, Any] | None = None,
    options: RL2EvalOptions | None = None, cache_dir: Path | None = None,
) -> EvaluationResult:
    """Play one trial on each of ``num_tasks`` held-out tasks: return per episode of the trial.

    ``baselines``: other runs' learners by name, played on the same tasks from the same seed (a
    task-aware oracle run, ``--baseline RUN``); the family's classic baselines join them. ``details``
    keeps the per-episode statistics (``mean_trial_return`` and its ``stderr``,
    ``goal_reached_by_episode``: the fraction of trials whose episode e ended by termination;
    ``success_by_episode`` and its ``success_ci95_by_episode``, where the env reports success: the
    fraction of trials whose episode e succeeded at any step, Meta-World's criterion).
    ``within_episode``: the return per time step within episode 1, the agent's and each of
    ``baselines``' (``StepCurves``: how far into its first episode the agent has adapted).
    Every player replays the same ``seed``: the same reset states, episode after episode.
    """
    options = options or RL2EvalOptions()
    num_tasks = check_count("num_tasks", num_tasks)
    cfg = learner.config
    tasks = learner.tasks.test_tasks(num_tasks)
    trials = learner.play(tasks, seed=seed, deterministic=options.deterministic)
    deterministic = cfg.evaluation.eval_deterministic if options.deterministic is None else options.deterministic
    played = {name: other.play(tasks, seed=seed, deterministic=options.deterministic)
              for name, other in (baselines or {}).items()}
    return trial_evaluation(
        algorithm="rl2", env=cfg.env, seed=seed, trials=trials, tasks=tasks, played=played, classic=options.classic,
        details=dict(preset=cfg.preset, episodes_per_trial=cfg.episodes_per_trial, task_aware=cfg.task_aware,
                     deterministic=deterministic))
