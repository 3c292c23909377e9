"""Evaluating an agent that plays trials (RL², VariBAD): return per episode of the trial and per step
of its first episode, beside the family's classic baselines and other agents on the same tasks.

Every trial learner offers ``play(tasks, *, seed, deterministic) -> TrialSequence``; that is all
``trial_evaluation`` needs of the agent and of each baseline, so one algorithm's evaluation can
put another algorithm's run beside its own (``--baseline RUN``). Players replay the same ``seed``:
the same reset states, episode after episode, so per-task differences are paired.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from metarl.errors import ConfigError
from metarl.results import Curve, EvaluationResult, StepCurves
from metarl.success import success_rates


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


def trial_evaluation(
    *, algorithm: str, env: str, seed: int, trials: Any, tasks: Any, played: Mapping[str, Any],
    classic: bool = True, details: Mapping[str, Any] | None = None,
) -> EvaluationResult:
    """The ``EvaluationResult`` of ``trials`` (a ``TrialSequence``, one trial per task of ``tasks``).

    ``played``: other agents' trials on the same tasks from the same seed, by name; their curves,
    the paired per-task differences ``"minus NAME"`` and their ``summarize`` go beside the agent's.
    ``classic``: the family's classic baselines join them (exact expectations where known).
    ``details``: the algorithm's own entries, added to ``summarize(trials)``. ``within_episode``
    holds the return per time step of episode 1, the agent's and each of ``played``'s.
    """
    episodes = trials.episodes_per_trial
    out_details = {**summarize(trials, tasks), **(details or {})}
    baseline_details = classic_baselines(env, tasks=tasks, episodes=episodes, seed=seed) if classic else {}
    curves = {name: Curve(mean=entry["mean_return_by_episode"], ci95=[]) for name, entry in baseline_details.items()}
    own = trials.episode_returns().double().cpu()
    paired: dict[str, Curve] = {}
    for name, other in played.items():
        if other.episodes_per_trial != episodes:
            raise ConfigError(f"baseline {name} played trials of {other.episodes_per_trial} episodes, "
                             f"the agent {episodes}: they must be alike to be compared")
        theirs = other.episode_returns().double().cpu()
        curves[name] = Curve.from_samples(theirs.T)
        paired[f"minus {name}"] = Curve.from_samples((own - theirs).T)
        baseline_details[name] = {"mean": float(theirs.sum(1).mean()), **summarize(other, tasks)}
    if own.shape[1] > 1:
        paired["gain over episode 1"] = Curve.from_samples((own - own[:, :1]).T)
    return EvaluationResult(
        algorithm=algorithm, env=env, num_tasks=trials.num_trials, seed=seed, axis="episode",
        x=list(range(1, episodes + 1)), curve=Curve.from_samples(own.T), baselines=curves, paired=paired,
        details=out_details, baseline_details=baseline_details, within_episode=first_episode_steps(trials, played))


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


def summarize(trials: Any, tasks: Any = None) -> dict[str, Any]:
    """Trial and per-episode statistics of a ``TrialSequence`` as plain floats and lists (with the
    success rates per class where ``tasks``, the trials' tasks, name their classes)."""
    by_episode = trials.episode_returns().double().cpu().numpy()  # [trials, n]
    totals = by_episode.sum(1)
    n = by_episode.shape[1]
    ended_by_goal = trials.terminated & (trials.mask > 0)
    index = trials.episode_index.clamp(max=n - 1)
    reached = _reached(ended_by_goal, index, n)
    stderr_ep = _stderr(by_episode)
    success = trials.episode_success()  # [trials, n] where the env reports success
    rates = {} if success is None else success_rates(success, per="episode", tasks=tasks)
    return {
        **rates,
        "mean_trial_return": float(totals.mean()), "stderr": float(_stderr(totals[:, None])[0]),
        "mean_episode_return": float(totals.mean() / n),
        "mean_return_by_episode": by_episode.mean(0).tolist(), "stderr_by_episode": stderr_ep.tolist(),
        "ci95_by_episode": (1.96 * stderr_ep).tolist(), "goal_reached_by_episode": reached.mean(0).tolist(),
        "env_steps": trials.num_steps(),
    }


def _reached(ended: torch.Tensor, index: torch.Tensor, n: int) -> np.ndarray:
    counts = torch.zeros(ended.shape[0], n).scatter_add_(1, index.cpu(), ended.cpu().float())
    return (counts > 0).double().numpy()
