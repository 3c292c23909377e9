"""RL² on held-out tasks: trial return, the adaptation curve, and the classic baselines beside it.

The test tasks come from the learner's own ``TaskSplit`` (``test`` stream of the training seed), so
they were never drawn for training; ``seed`` fixes the environment's and the policy's random
streams of the evaluation only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from metarl.tasks import check_count

if TYPE_CHECKING:
    from metarl.algorithms.rl2.learner import RL2Learner

BASELINE_FAMILIES = ("bandit", "tabular-mdp", "navigation2d")


def _stderr(x: np.ndarray, axis: int = 0) -> np.ndarray:
    n = x.shape[axis]
    return x.std(axis=axis, ddof=1) / math.sqrt(n) if n > 1 else np.full(np.delete(x.shape, axis), np.nan)


def classic_baselines(family: str, *, tasks: Any, episodes: int, seed: int) -> dict[str, Any]:
    """The classic baselines' scores on ``tasks`` as JSON-ready dicts; ``{}`` with a note when there
    are none for ``family`` or ``metarl.classic`` is not available."""
    if family not in BASELINE_FAMILIES:
        return {}
    try:
        from metarl.classic import evaluate_baselines
    except ImportError as err:
        return {"_note": f"metarl.classic unavailable ({err}); baselines skipped"}
    out: dict[str, Any] = {}
    for name, result in evaluate_baselines(family, tasks=tasks, episodes=episodes, seed=seed).items():
        entry = result.to_dict()
        entry["mean_return_by_episode"] = entry.get("per_episode", [])
        out[name] = entry
    return out


def evaluate(
    learner: RL2Learner, *, num_tasks: int = 1000, seed: int = 0, baselines: bool = True,
    deterministic: bool | None = None, oracle: RL2Learner | None = None,
) -> dict[str, Any]:
    """Play one trial on each of ``num_tasks`` held-out tasks and summarise it (the JSON of
    ``metarl evaluate --json``).

    Keys: ``mean_trial_return`` and its ``stderr``; ``mean_return_by_episode`` ``[n]`` with
    ``stderr_by_episode`` and ``ci95_by_episode``; ``mean_episode_return``; ``goal_reached_by_episode``
    (fraction of trials whose episode e ended by termination: the goal, for navigation and
    mountaincar); ``baselines`` (classic ones where they exist, and ``oracle`` when given).
    """
    num_tasks = check_count("num_tasks", num_tasks)
    cfg = learner.config
    tasks = learner.split.test_tasks(num_tasks)
    trials = learner.play(tasks, seed=seed, deterministic=deterministic)
    result = summarize(trials)
    result.update({"algorithm": "rl2", "env": cfg.env, "preset": cfg.preset,
                   "episodes_per_trial": cfg.episodes_per_trial, "num_tasks": num_tasks, "seed": seed,
                   "task_aware": cfg.task_aware,
                   "deterministic": cfg.eval_deterministic if deterministic is None else deterministic})
    result["baselines"] = classic_baselines(cfg.env, tasks=tasks, episodes=cfg.episodes_per_trial, seed=seed) \
        if baselines else {}
    if oracle is not None:
        oracle_result = summarize(oracle.play(tasks, seed=seed, deterministic=deterministic))
        result["baselines"]["oracle"] = {"mean": oracle_result["mean_trial_return"], **oracle_result}
    return result


def summarize(trials: Any) -> dict[str, Any]:
    """Trial and per-episode statistics of a ``TrialSequence`` as plain floats and lists."""
    by_episode = trials.episode_returns().double().cpu().numpy()  # [trials, n]
    totals = by_episode.sum(1)
    n = by_episode.shape[1]
    ended_by_goal = trials.terminated & (trials.mask > 0)
    index = trials.episode_index.clamp(max=n - 1)
    reached = _reached(ended_by_goal, index, n)
    stderr_ep = _stderr(by_episode)
    return {
        "mean_trial_return": float(totals.mean()), "stderr": float(_stderr(totals[:, None])[0]),
        "mean_episode_return": float(totals.mean() / n),
        "mean_return_by_episode": by_episode.mean(0).tolist(), "stderr_by_episode": stderr_ep.tolist(),
        "ci95_by_episode": (1.96 * stderr_ep).tolist(), "goal_reached_by_episode": reached.mean(0).tolist(),
        "env_steps": trials.num_steps(),
    }


def _reached(ended: torch.Tensor, index: torch.Tensor, n: int) -> np.ndarray:
    counts = torch.zeros(ended.shape[0], n).scatter_add_(1, index.cpu(), ended.cpu().float())
    return (counts > 0).double().numpy()


def plot_evaluation(result: dict[str, Any], path: str | Path) -> None:
    """PNG of the mean return of episode 1..n within the trial (95% interval), baselines dotted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ys = np.asarray(result["mean_return_by_episode"])
    xs = np.arange(1, len(ys) + 1)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.errorbar(xs, ys, yerr=result.get("ci95_by_episode"), marker="o", capsize=3, label="RL²")
    for name, base in (result.get("baselines") or {}).items():
        curve = base.get("mean_return_by_episode") if isinstance(base, dict) else None
        if curve:
            ax.plot(xs[: len(curve)], curve, linestyle=":", marker=".", label=name)
    ax.set_xlabel("episode within trial")
    ax.set_ylabel("mean return on held-out tasks")
    ax.set_title(f"RL² on {result.get('preset') or result.get('env')}: trial return "
                 f"{result['mean_trial_return']:.2f} ± {result['stderr']:.2f}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
