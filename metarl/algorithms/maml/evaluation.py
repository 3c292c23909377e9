"""MAML's evaluation protocol on held-out test tasks, against baselines.

Return before adaptation and after 1..K steps (K may exceed training's; step sizes follow the
paper: ``eval_lrs[0]`` for the first step, ``eval_lrs[-1]`` after; ``eval_episodes`` episodes per
task per step), mean and 95% interval over tasks, for the meta-learned policy and for: a policy
pretrained on all tasks jointly (same outer optimiser, no adaptation) fine-tuned with the same
steps, a random initialisation fine-tuned likewise, and the family's classic baselines (the
straight-line oracle on navigation).

The pretrained baseline gets the meta-training budget (the config's iterations), capped at
``PRETRAIN_CAP`` iterations, unless told otherwise (``pretrain_iterations``). The cap is measured,
not a shortcut: on navigation2d (seed 0, the 40 test tasks, 40 episodes per step) the pretrained
policy fine-tuned for 3 steps scored -22.5, -17.2, -2.4, -12.0, -25.7, -85.2 after 25, 50, 100,
200, 400, 800 iterations of joint training. Fine-tuning a policy trained longer on all tasks gets
worse (its action noise shrinks and its mean commits to the tasks' average), so the 800-iteration
baseline flattered MAML and cost ~7 minutes of evaluation; 100 was the strongest budget tried. It
is kept in the run directory and reused.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from metarl.algorithms.maml.adaptation import step_size_schedule
from metarl.algorithms.maml.learner import MamlLearner
from metarl.config_cli import replace_leaves
from metarl.results import Curve, EvaluationResult
from metarl.runs import save_torch
from metarl.success import success_rates
from metarl.tasks import TaskBatch, check_count
from metarl.training import Progress

PRETRAIN_CAP = 100


def _mean_ci95(values: torch.Tensor) -> tuple[list[float], list[float]]:
    """``values [steps + 1, tasks]`` -> per-step mean and 95% half-interval (normal approx.)."""
    curve = Curve.from_samples(values)
    return curve.mean, curve.ci95


def summarize(curve: torch.Tensor) -> dict[str, list[float]]:
    """``curve [steps + 1, tasks]`` -> mean and 95% half-interval per step, and the gain over step 0.

    The gain is paired (each task's return after k steps minus its own return before adapting), so
    its interval leaves out how much tasks differ from each other: it answers "does adapting help?"
    where the per-step intervals, dominated by that spread, overlap.
    """
    mean, ci = _mean_ci95(curve)
    gain, gain_ci = _mean_ci95(curve - curve[:1])
    return {"mean_return_by_step": mean, "ci95_by_step": ci, "gain_by_step": gain, "gain_ci95_by_step": gain_ci}


@dataclasses.dataclass(frozen=True, kw_only=True)
class MamlEvalOptions:
    """MAML's own evaluation settings (``metarl evaluate RUN --steps 3 --pretrain-iterations 100``)."""

    steps: int | None = None
    """adaptation steps (default: the run's eval_steps; may exceed training's)"""
    episodes: int | None = None
    """episodes per task and adaptation step (default: the run's eval_episodes)"""
    pretrain_iterations: int | None = None
    """budget of the pretrained baseline (default: the run's iterations, at most 100: the strongest
    budget measured on navigation; kept in the run directory)"""
    pretrained: bool = True
    """train and fine-tune the pretrained and random-initialisation baselines"""


def _baseline_learner(learner: MamlLearner, *, seed: int, joint: bool) -> MamlLearner:
    torch.manual_seed(seed)
    config = replace_leaves(learner.config, seed=seed, learn_inner_lr=False)
    return MamlLearner(config=config, env=learner.env_factory, tasks=learner.tasks, sampler=learner.sampler,
                       joint=joint)


def pretrained_baseline(learner: MamlLearner, *, seed: int, iterations: int, cache: Path | None) -> MamlLearner:
    """The policy trained on all tasks jointly for ``iterations``: loaded from ``cache`` when that
    holds one made with the same seed and budget, else trained (and written to ``cache``)."""
    pretrained = _baseline_learner(learner, seed=seed + 1000, joint=True)
    key = {"seed": seed, "iterations": iterations}
    if cache is not None and cache.is_file():
        try:
            data = torch.load(cache, map_location="cpu", weights_only=True)
            if data.get("key") == key:
                pretrained.policy.load_state_dict(data["policy"])
                print(f"pretrained baseline ({iterations} iterations, seed {seed}) loaded from {cache}",
                      file=sys.stderr, flush=True)
                return pretrained
        except Exception:  # noqa: BLE001 - a damaged cache is derived data: train it again
            pass
    where = f"; it will be kept in {cache} for the next evaluation" if cache is not None else ""
    print(f"training the pretrained baseline (one policy on all tasks, no adaptation) for {iterations} "
          f"iterations (the meta-training budget, at most {PRETRAIN_CAP}; --pretrain-iterations sets it){where}",
          file=sys.stderr, flush=True)
    progress = Progress(total=iterations, initial=0, quiet=False, keys=("return_pre",), desc="pretrained baseline")
    try:
        for it in range(iterations):
            progress.update(it, pretrained.train_iteration(it))
    finally:
        progress.close()
    if cache is not None:
        save_torch(cache, {"key": key, "policy": pretrained.policy.state_dict()})
    return pretrained


def evaluate(
    learner: MamlLearner, *, num_tasks: int = 40, seed: int = 0, baselines: Mapping[str, Any] | None = None,
    options: MamlEvalOptions | None = None, cache_dir: Path | None = None,
) -> EvaluationResult:
    """Return before and after each adaptation step on ``num_tasks`` held-out tasks, against the
    baselines of the module docstring (``baselines``: other runs' MAML learners by name, adapted
    the same way). The pretrained baseline is cached in ``cache_dir`` (the run directory)."""
    options = options or MamlEvalOptions()
    c, ev = learner.config, learner.config.evaluation
    episodes = check_count("episodes", ev.eval_episodes if options.episodes is None else options.episodes)
    pretrain_iterations = check_count("pretrain_iterations", min(c.iterations, PRETRAIN_CAP)
                                      if options.pretrain_iterations is None else options.pretrain_iterations)
    num_tasks = check_count("num_tasks", num_tasks)
    steps = check_count("steps", ev.eval_steps if options.steps is None else options.steps)
    tasks = learner.tasks.test_tasks(num_tasks)
    lrs = step_size_schedule(ev.eval_lrs[0], ev.eval_lrs[-1], steps)
    torch.manual_seed(seed)
    details: dict[str, Any] = {"steps": steps, "step_sizes": lrs, "episodes_per_step": episodes,
                               "estimator": c.inner.estimator, "first_order": c.inner.first_order}
    maml_curve, success = learner.post_adaptation(tasks, lrs=lrs, episodes=episodes, seed=seed)
    details.update(summarize(maml_curve))
    if success is not None:  # Meta-World: the fraction of each task's episodes that succeeded, per step
        details.update(success_rates(success.T, per="step", tasks=tasks))
    details["gain_by_task"] = (maml_curve[-1] - maml_curve[0]).tolist()  # [tasks], after the last step
    others: dict[str, MamlLearner] = dict(baselines or {})
    if options.pretrained:
        cache = None if cache_dir is None else Path(cache_dir) / f"baseline_pretrained_seed{seed}.pt"
        others["pretrained"] = pretrained_baseline(learner, seed=seed, iterations=pretrain_iterations, cache=cache)
        others["random_init"] = _baseline_learner(learner, seed=seed + 2000, joint=False)
    curves, paired, detail = {}, {"gain over step 0": Curve.from_samples(maml_curve - maml_curve[:1])}, {}
    if others:
        print(f"adapting {', '.join(others)} on the same {num_tasks} tasks ({steps} steps x {episodes} episodes, "
              "all tasks at once)", file=sys.stderr, flush=True)
    for name, other in others.items():
        curve, theirs = other.post_adaptation(tasks, lrs=lrs, episodes=episodes, seed=seed)
        curves[name], paired[f"minus {name}"] = Curve.from_samples(curve), Curve.from_samples(maml_curve - curve)
        detail[name] = _against(maml_curve, curve)
        if theirs is not None:
            detail[name].update(success_rates(theirs.T, per="step", tasks=tasks))
    if "pretrained" in detail:
        detail["pretrained"]["pretrain_iterations"] = pretrain_iterations
    for name, value in classic_returns(c.env, tasks).items():
        curves[name] = Curve(mean=[value] * (steps + 1), ci95=[])
    for name, curve in curves.items():
        detail.setdefault(name, {"mean_return_by_step": curve.mean, "ci95_by_step": curve.ci95})
    return EvaluationResult(algorithm="maml", env=c.env, num_tasks=num_tasks, seed=seed, axis="adaptation step",
                            x=list(range(steps + 1)), curve=Curve.from_samples(maml_curve), baselines=curves,
                            paired=paired, details=details, baseline_details=detail)


def classic_returns(family: str, tasks: TaskBatch) -> dict[str, float]:
    """Mean episode return of the family's classic (non-adapting) baselines on ``tasks``, if any:
    on navigation the straight-line oracle and the policy that stays put."""
    from metarl.classic import evaluate_baselines, has_baselines

    if not has_baselines(family):
        return {}
    return {name: float(r.per_episode.mean()) for name, r in
            evaluate_baselines(family, tasks=tasks, episodes=1, seed=0).items() if name != "random"}


def _against(maml_curve: torch.Tensor, curve: torch.Tensor) -> dict[str, Any]:
    """A baseline's ``summarize`` plus MAML's lead over it per step, paired by task: both ran on the
    same tasks from the same reset seed, so the difference leaves out how hard each task is."""
    out: dict[str, Any] = summarize(curve)
    lead, lead_ci = _mean_ci95(maml_curve - curve)
    out.update(maml_minus_baseline_by_step=lead, maml_minus_baseline_ci95_by_step=lead_ci)
    return out
