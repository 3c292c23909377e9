"""PEARL on held-out tasks by oyster's protocol (``MetaRLAlgorithm.collect_paths`` / ``_do_eval``).

On every task, trajectories are collected online, one after another: the first ``exploration``
with z drawn from the prior (a new draw each), every later one with z ~ q(z | c), c being *all*
transitions of the task gathered so far (env reward, as the encoder was trained on). Actions are
deterministic given z (tanh of the mean). The curve is the return per trajectory index with its 95%
interval over tasks; ``final`` is the last trajectory's. All tasks run at once; oyster averages two
such runs per task (``num_evals``), here every task runs once and there are more tasks.

Baselines are played on the same tasks from the same seeds; ``paired`` holds the per-task
differences. They are other PEARL runs on the same env (``--baseline oracle=RUN`` for a run trained
with ``embedding=task``, ``--baseline multitask=RUN`` for ``embedding=none``), and RL² or VariBAD
runs on the same family (``--baseline rl2=RUN``): those play one trial of as many episodes as
PEARL's trajectories, their hidden state carried across, so trajectory k is their episode k; and
MAML runs, given the same trajectories: the first is an episode of the meta-learned policy, and
each later one follows a gradient step on the one before it (one episode per step, the run's
evaluation step sizes), so every method sees as much of the task before trajectory k.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from metarl.algorithms.maml.adaptation import step_size_schedule
from metarl.algorithms.pearl.collection import play
from metarl.errors import ConfigError
from metarl.results import Curve, EvaluationResult
from metarl.tasks import check_count

if TYPE_CHECKING:
    from metarl.algorithms.pearl.learner import PearlLearner


@dataclasses.dataclass(frozen=True, kw_only=True)
class PearlEvalOptions:
    """PEARL's evaluation settings (``metarl evaluate RUN --exploration 2 --trajectories 10``)."""

    trajectories: int | None = None
    """trajectories per task (default: the run's eval_trajectories)"""
    exploration: int | None = None
    """first trajectories with z ~ prior (default: the run's exploration, oyster's num_exp_traj_eval)"""
    deterministic: bool | None = None
    """act with tanh(mean) (default: the run's eval_deterministic)"""


def _settings(learner: PearlLearner, options: PearlEvalOptions | None) -> tuple[int, int, bool]:
    ev, options = learner.config.evaluation, options or PearlEvalOptions()
    trajectories = check_count("trajectories", ev.eval_trajectories if options.trajectories is None
                               else options.trajectories)
    exploration = ev.exploration if options.exploration is None else options.exploration
    check_count("exploration", exploration, minimum=0)
    deterministic = ev.eval_deterministic if options.deterministic is None else options.deterministic
    return trajectories, exploration, deterministic


def _summary(returns: torch.Tensor) -> dict[str, Any]:
    curve = Curve.from_samples(returns.double().T)
    return {"final_return": curve.mean[-1], "final_ci95": curve.ci95[-1], "mean_return_by_trajectory": curve.mean,
            "ci95_by_trajectory": curve.ci95}


def _play_baseline(name: str, other: Any, tasks: Any, *, trajectories: int, exploration: int,
                   deterministic: bool, seed: int) -> torch.Tensor:
    """``[tasks, trajectories]`` returns of a baseline: a PEARL learner by the same protocol, a trial
    learner (RL², VariBAD) as one trial, which must hold ``trajectories`` episodes, acting
    (deterministic or not) as its own evaluation does; a MAML learner one episode per gradient step."""
    from metarl.algorithms.pearl.learner import PearlLearner

    if isinstance(other, PearlLearner):
        return play(other, tasks, trajectories=trajectories, exploration=exploration, deterministic=deterministic,
                    seed=seed).double()
    if getattr(other, "name", "") == "maml":
        first, rest = other.config.evaluation.eval_lrs[0], other.config.evaluation.eval_lrs[-1]
        lrs = step_size_schedule(first, rest, trajectories - 1) if trajectories > 1 else []
        return other.post_adaptation_returns(tasks, lrs=lrs, episodes=1, seed=seed).double().T.cpu()
    if not hasattr(other, "play"):
        raise ConfigError(f"baseline {name} ({getattr(other, 'name', type(other).__name__)}) plays neither "
                          "PEARL's protocol nor trials")
    episodes = int(other.config.episodes_per_trial)
    if episodes != trajectories:
        raise ConfigError(f"baseline {name} plays trials of {episodes} episodes and PEARL {trajectories} "
                          f"trajectories per task: evaluate with --trajectories {episodes}, or train the "
                          f"baseline with --episodes-per-trial {trajectories}")
    return other.play(tasks, seed=seed).episode_returns().double().cpu()  # acting as its own run evaluates


def evaluate(
    learner: PearlLearner, *, num_tasks: int = 100, seed: int = 0, baselines: Mapping[str, Any] | None = None,
    options: PearlEvalOptions | None = None, cache_dir: Path | None = None,
) -> EvaluationResult:
    """The protocol above on ``num_tasks`` held-out test tasks (the learner's test stream, never
    trained on), ``baselines`` (other PEARL learners by name) on the same tasks and seeds."""
    num_tasks = check_count("num_tasks", num_tasks)
    trajectories, exploration, deterministic = _settings(learner, options)
    tasks = learner.tasks.test_tasks(num_tasks)
    kwargs = dict(trajectories=trajectories, exploration=exploration, deterministic=deterministic, seed=seed)
    own = play(learner, tasks, **kwargs).double()
    cfg = learner.config
    details = {**_summary(own), "preset": cfg.preset, "embedding": cfg.embedding, "exploration": exploration,
               "deterministic": deterministic, "train_env_steps": learner.env_steps,
               "iterations_trained": learner.iteration}
    curves, paired, baseline_details = {}, {}, {}
    for name, other in (baselines or {}).items():
        theirs = _play_baseline(name, other, tasks, **kwargs)
        curves[name] = Curve.from_samples(theirs.T)
        paired[f"minus {name}"] = Curve.from_samples((own - theirs).T)
        baseline_details[name] = {**_summary(theirs), "algorithm": getattr(other, "name", ""),
                                  "embedding": getattr(other.config, "embedding", None),
                                  "train_env_steps": _env_steps(other)}
    if trajectories > exploration >= 1:
        paired["gain over trajectory 1"] = Curve.from_samples((own - own[:, :1]).T)
    return EvaluationResult(algorithm="pearl", env=cfg.env, num_tasks=num_tasks, seed=seed, axis="episode",
                            x=list(range(1, trajectories + 1)), curve=Curve.from_samples(own.T), baselines=curves,
                            paired=paired, details=details, baseline_details=baseline_details)


def _env_steps(learner: Any) -> int | None:
    """Environment steps a baseline trained on, where it counts them (PEARL, VariBAD's frames)."""
    for attribute in ("env_steps", "frames"):
        value = getattr(learner, attribute, None)
        if value is not None:
            return int(value)
    return None
