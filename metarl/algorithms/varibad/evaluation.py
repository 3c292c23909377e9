"""VariBAD on held-out tasks over the BAMDP horizon, and a picture of its belief on one of them.

The result is every trial learner's (``metarl.rl.trial_evaluation``): return per episode of the
trial and per step of episode 1 with 95% intervals, beside the family's classic baselines
(random, oracle, Bayes-optimal on the grid world) and other runs given as ``--baseline RUN``
(VariBAD or RL² runs: anything with ``play``), all on the same test tasks from the same seed.

With the grid's per-cell decoder, ``details["belief_strip"]`` holds the belief on one test task
step by step: the decoder's p(goal = cell | m_t) at the posterior mean, normalised over the cells,
with what the trajectory alone has shown (cells ruled out, the goal once found), the agent's cell
and the true goal; ``evaluation_figures`` draws it as a strip of small grids.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from metarl.algorithms.varibad.decoder import CellRewardDecoder, VAEBatch
from metarl.algorithms.varibad.elbo import cell_evidence
from metarl.errors import ConfigError
from metarl.results import EvaluationResult, save_figure
from metarl.rl.trial_evaluation import trial_evaluation
from metarl.tasks import check_count

if TYPE_CHECKING:
    from metarl.algorithms.varibad.learner import VariBADLearner


@dataclasses.dataclass(frozen=True, kw_only=True)
class VariBADEvalOptions:
    """VariBAD's own evaluation settings (``metarl evaluate RUN --belief-task 3``)."""

    deterministic: bool | None = None
    """act with the policy's mode (default: the run's eval_deterministic)"""
    classic: bool = True
    """play the family's classic baselines on the same tasks"""
    belief_task: int = 0
    """which test task the belief strip shows (grid worlds)"""


def evaluate(
    learner: VariBADLearner, *, num_tasks: int = 1000, seed: int = 0, baselines: Mapping[str, Any] | None = None,
    options: VariBADEvalOptions | None = None, cache_dir: Path | None = None,
) -> EvaluationResult:
    """One trial on each of ``num_tasks`` held-out tasks; ``baselines`` (other runs' learners by
    name, each with ``play``) replay the same tasks from the same seed (module docstring)."""
    options = options or VariBADEvalOptions()
    num_tasks = check_count("num_tasks", num_tasks)
    if not 0 <= options.belief_task < num_tasks:
        raise ConfigError(f"belief_task={options.belief_task} is not one of the {num_tasks} test tasks "
                          f"(0..{num_tasks - 1})")
    cfg = learner.config
    tasks = learner.tasks.test_tasks(num_tasks)
    trials = learner.play(tasks, seed=seed, deterministic=options.deterministic)
    played = {}
    for name, other in (baselines or {}).items():
        if not hasattr(other, "play"):
            raise ConfigError(f"baseline {name} ({getattr(other, 'name', type(other).__name__)}) does not play trials")
        played[name] = other.play(tasks, seed=seed, deterministic=options.deterministic)
    deterministic = cfg.evaluation.eval_deterministic if options.deterministic is None else options.deterministic
    details: dict[str, Any] = dict(preset=cfg.preset, episodes_per_trial=cfg.episodes_per_trial,
                                   deterministic=deterministic, frames_trained=learner.frames)
    if isinstance(learner.vae.reward_decoder, CellRewardDecoder):
        details["belief_strip"] = belief_strip(learner, trials, tasks, index=options.belief_task)
    return trial_evaluation(algorithm="varibad", env=cfg.env, seed=seed, trials=trials, tasks=tasks, played=played,
                            classic=options.classic, details=details)


@torch.no_grad()
def belief_strip(learner: VariBADLearner, trials: Any, tasks: Any, *, index: int) -> dict[str, Any]:
    """Trial ``index``'s belief after each of its t = 0..L steps, as JSON-ready lists: ``belief
    [L + 1][cells]`` (the decoder at the posterior mean, normalised), ``evidence [L + 1][cells]``
    (1 goal found, 0 ruled out, -1 unknown), ``positions [L + 1][D]``, ``cells [cells][D]``,
    ``sizes [D]``, ``goal [D]`` (the task's features, when they are a cell), ``episode_length``."""
    one = trials.map(lambda t: t[index:index + 1])
    length = int(one.mask.sum())
    one = one.map(lambda t: t[:, :length])
    decoder: CellRewardDecoder = learner.vae.reward_decoder
    mean, _ = learner.beliefs(one)
    p = torch.sigmoid(decoder(mean[0]))  # [L + 1, cells]
    belief = p / p.sum(-1, keepdim=True)
    cells, success = decoder.targets(VAEBatch.from_trials(one))
    evidence = cell_evidence(cells, success, one.mask, decoder.cells.num_cells)[0]
    positions = torch.cat([one.obs[0, :1], one.next_obs[0]], dim=0)
    features = np.asarray(tasks.take(np.array([index])).features(), dtype=np.float64)[0]
    goal = features.tolist() if features.shape == (len(decoder.cells.sizes),) else None
    ends = (one.episode_ends()[0]).nonzero().flatten() + 1
    return {"belief": np.round(belief.cpu().numpy(), 4).tolist(), "evidence": evidence.cpu().tolist(),
            "positions": positions.cpu().round().long().tolist(), "cells": decoder.cells.coords().tolist(),
            "sizes": list(decoder.cells.sizes), "goal": goal, "episode_ends": ends.cpu().tolist(),
            "rewards": one.rewards[0].cpu().tolist(), "task": index}


def strip_steps(strip: Mapping[str, Any]) -> list[int]:
    """The steps the figure shows: every step of episode 1 (prior included), then each later
    episode's end."""
    ends = list(strip["episode_ends"])
    first = ends[0] if ends else len(strip["belief"]) - 1
    return list(range(first + 1)) + [e for e in ends[1:]]


def draw_belief_strip(strip: Mapping[str, Any], path: Path) -> Path:
    """The strip as a PNG: one small grid per shown step, shaded by the belief, the agent's cell
    (white dot), the true goal (red star), cells ruled out so far (grey x) and the goal once found
    (a green frame)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = strip["sizes"]
    if len(sizes) != 2:
        raise ValueError(f"the belief strip draws 2-D grids, this one has {len(sizes)} dimensions")
    steps = strip_steps(strip)
    belief, evidence, cells = np.asarray(strip["belief"]), np.asarray(strip["evidence"]), np.asarray(strip["cells"])
    fig, axes = plt.subplots(1, len(steps), figsize=(1.05 * len(steps), 1.55), squeeze=False)
    top = float(belief.max())
    for ax, t in zip(axes[0], steps, strict=True):
        grid = np.zeros(sizes)
        grid[cells[:, 0], cells[:, 1]] = belief[t]
        ax.imshow(grid.T, origin="lower", cmap="viridis", vmin=0.0, vmax=top)
        ruled = cells[evidence[t] == 0]
        ax.scatter(ruled[:, 0], ruled[:, 1], marker="x", s=10, c="0.75", linewidths=0.8)
        found = cells[evidence[t] == 1]
        ax.scatter(found[:, 0], found[:, 1], marker="s", s=60, facecolors="none", edgecolors="lime", linewidths=1.2)
        if strip.get("goal") is not None:
            ax.scatter([strip["goal"][0]], [strip["goal"][1]], marker="*", s=40, c="red")
        x, y = strip["positions"][t]
        ax.scatter([x], [y], marker="o", s=18, c="white", edgecolors="black", linewidths=0.5)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"t={t}", fontsize=7)
    fig.suptitle(f"belief over goal cells on test task {strip.get('task', 0)}: episode 1 step by step, then the end "
                 "of each later episode (dot: agent, star: goal, x: ruled out, green frame: goal found)", fontsize=8)
    save_figure(fig, Path(path))
    return Path(path)


def evaluation_figures(result: EvaluationResult, stem: Path) -> list[tuple[str, Path]]:
    """``AlgorithmSpec.evaluation_figures``: the belief strip, where the result has one."""
    strip = result.details.get("belief_strip")
    if not strip:
        return []
    path = draw_belief_strip(strip, Path(f"{stem}_belief.png"))
    return [("belief over the goal cells, step by step", path)]
