"""RL² on held-out tasks: trial return, the adaptation curve, and the classic baselines beside it.

The test tasks come from the learner's own task set (the ``test`` stream of the training seed), so
they were never drawn for training; ``seed`` fixes the environment's and the policy's random
streams of the evaluation only.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from metarl.results import Curve, EvaluationResult, StepCurves
from metarl.tasks import check_count

if TYPE_CHECKING:
    from metarl.algorithms.rl2.learner import RL2Learner

def _stderr(x: np.ndarray, axis: int = 0) -> np.ndarray:
    n = x.shape[axis]
    return x.std(axis=axis, ddof=1) / math.sqrt(n) if n > 1 else np.full(np.delete(x.shape, axis), np.nan)


def classic_baselines(family: str, *, tasks: Any, episodes: int, seed: int) -> dict[str, Any]:
    """The classic baselines' scores on ``tasks`` as JSON-ready dicts; ``{}`` when the family has none."""
    from metarl.classic import evaluate_baselines, has_baselines

    if not has_baselines(family):
        return {}
    out: dict[str, Any] = {}
    for name, result in evaluate_baselines(family, tasks=tasks, episodes=episodes, seed=seed).items():
        entry = result.to_dict()
        entry["mean_return_by_episode"] = entry.get("per_episode", [])
        out[name] = entry
    return out


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
    details = summarize(trials)
    deterministic = cfg.evaluation.eval_deterministic if options.deterministic is None else options.deterministic
    details.update(preset=cfg.preset, episodes_per_trial=cfg.episodes_per_trial, task_aware=cfg.task_aware,
                   deterministic=deterministic)
    curves: dict[str, Curve] = {}
    baseline_details = classic_baselines(cfg.env, tasks=tasks, episodes=cfg.episodes_per_trial,
                                         seed=seed) if options.classic else {}
    for name, entry in baseline_details.items():
        curves[name] = Curve(mean=entry["mean_return_by_episode"], ci95=[])
    paired: dict[str, Curve] = {}
    own = trials.episode_returns().double().cpu()
    played = {name: other.play(tasks, seed=seed, deterministic=options.deterministic)
              for name, other in (baselines or {}).items()}
    for name, other_trials in played.items():
        theirs = other_trials.episode_returns().double().cpu()
        curves[name] = Curve.from_samples(theirs.T)
        paired[f"minus {name}"] = Curve.from_samples((own - theirs).T)
        baseline_details[name] = {"mean": float(theirs.sum(1).mean()), **summarize(other_trials)}
    if own.shape[1] > 1:
        paired["gain over episode 1"] = Curve.from_samples((own - own[:, :1]).T)
    return EvaluationResult(
        algorithm="rl2", env=cfg.env, num_tasks=num_tasks, seed=seed, axis="episode",
        x=list(range(1, cfg.episodes_per_trial + 1)), curve=Curve.from_samples(own.T), baselines=curves,
        paired=paired, details=details, baseline_details=baseline_details,
        within_episode=first_episode_steps(trials, played))


def _inside(trials: Any, episode: int) -> torch.Tensor:
    """``[trials, L]`` bool: the steps of episode ``episode`` (one contiguous run per row)."""
    return (trials.episode_index == episode) & (trials.mask > 0)


def episode_step_rewards(trials: Any, *, episode: int = 0, steps: int | None = None) -> torch.Tensor:
    """``[trials, steps]`` float64 on the CPU: the reward at each time step of episode ``episode``
    (0-based) of every trial, 0 after that episode ended; ``steps`` defaults to its longest length.

    Row sums are the episode's returns (``trials.episode_returns()[:, episode]``).
    """
    inside = _inside(trials, episode)
    lengths = inside.sum(1, keepdim=True)
    steps = int(lengths.max()) if steps is None else steps
    start = inside.long().argmax(1, keepdim=True)  # the episode's first step (0 where it never ran)
    t = torch.arange(steps, device=inside.device)[None]
    index = (start + t).clamp(max=inside.shape[1] - 1)
    return (trials.rewards.gather(1, index).double() * (t < lengths)).cpu()


def first_episode_steps(trials: Any, baselines: Mapping[str, Any]) -> StepCurves:
    """Return per time step within episode 1 for the agent's ``trials`` and each baseline's
    (played on the same tasks from the same seed), with the paired per-step differences."""
    steps = max(int(_inside(t, 0).sum(1).max()) for t in (trials, *baselines.values()))
    own = episode_step_rewards(trials, steps=steps)
    curves, paired = {}, {}
    for name, other in baselines.items():
        theirs = episode_step_rewards(other, steps=steps)
        curves[name] = Curve.from_samples(theirs.T)
        paired[f"minus {name}"] = Curve.from_samples((own - theirs).T)
    return StepCurves(episode=1, x=list(range(1, steps + 1)), curve=Curve.from_samples(own.T), baselines=curves,
                      paired=paired)


def summarize(trials: Any) -> dict[str, Any]:
    """Trial and per-episode statistics of a ``TrialSequence`` as plain floats and lists."""
    by_episode = trials.episode_returns().double().cpu().numpy()  # [trials, n]
    totals = by_episode.sum(1)
    n = by_episode.shape[1]
    ended_by_goal = trials.terminated & (trials.mask > 0)
    index = trials.episode_index.clamp(max=n - 1)
    reached = _reached(ended_by_goal, index, n)
    stderr_ep = _stderr(by_episode)
    success = trials.episode_success()  # [trials, n] where the env reports success (Meta-World)
    rates = {} if success is None else {
        "success_by_episode": success.double().mean(0).tolist(),
        "success_ci95_by_episode": (1.96 * _stderr(success.double().cpu().numpy())).tolist()}
    return {**rates,
        "mean_trial_return": float(totals.mean()), "stderr": float(_stderr(totals[:, None])[0]),
        "mean_episode_return": float(totals.mean() / n),
        "mean_return_by_episode": by_episode.mean(0).tolist(), "stderr_by_episode": stderr_ep.tolist(),
        "ci95_by_episode": (1.96 * stderr_ep).tolist(), "goal_reached_by_episode": reached.mean(0).tolist(),
        "env_steps": trials.num_steps(),
    }


def _reached(ended: torch.Tensor, index: torch.Tensor, n: int) -> np.ndarray:
    counts = torch.zeros(ended.shape[0], n).scatter_add_(1, index.cpu(), ended.cpu().float())
    return (counts > 0).double().numpy()
