"""MAML's evaluation protocol on held-out test tasks, against baselines.

Return before adaptation and after 1..K steps (K may exceed training's; step sizes follow the
paper: ``eval_lrs[0]`` for the first step, ``eval_lrs[-1]`` after; ``eval_episodes`` episodes per
task per step), mean and 95% interval over tasks, for the meta-learned policy and for: a policy
pretrained on all tasks jointly (same outer optimiser, no adaptation) fine-tuned with the same
steps, a random initialisation fine-tuned likewise, and the oracle where the family has one.

The pretrained baseline gets the meta-training budget (the config's iterations) unless told
otherwise: a baseline trained for a fraction of MAML's budget would flatter MAML. Training it costs
about half a MAML run, so ``metarl evaluate`` keeps it in the run directory and reuses it.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from metarl.algorithms.maml.adaptation import step_size_schedule
from metarl.algorithms.maml.learner import MamlLearner
from metarl.envs.registry import make_env
from metarl.runs import save_torch
from metarl.tasks import TaskBatch, check_count


def _mean_ci95(values: torch.Tensor) -> tuple[list[float], list[float]]:
    """``values [steps + 1, tasks]`` -> per-step mean and 95% half-interval (normal approx.)."""
    n = values.shape[1]
    std = values.std(1, unbiased=True) if n > 1 else torch.zeros(values.shape[0], device=values.device)
    return [float(x) for x in values.mean(1)], [float(x) for x in 1.96 * std / math.sqrt(n)]


def summarize(curve: torch.Tensor) -> dict[str, list[float]]:
    """``curve [steps + 1, tasks]`` -> mean and 95% half-interval per step, and the gain over step 0.

    The gain is paired (each task's return after k steps minus its own return before adapting), so
    its interval leaves out how much tasks differ from each other: it answers "does adapting help?"
    where the per-step intervals, dominated by that spread, overlap.
    """
    mean, ci = _mean_ci95(curve)
    gain, gain_ci = _mean_ci95(curve - curve[:1])
    return {"mean_return_by_step": mean, "ci95_by_step": ci, "gain_by_step": gain, "gain_ci95_by_step": gain_ci}


def navigation_oracle(tasks: TaskBatch, *, horizon: int) -> np.ndarray:
    """Return ``[tasks]`` of heading straight for the goal at full speed (knows the goal)."""
    env = make_env("navigation2d", max_episode_steps=horizon)
    env.set_tasks(tasks, 1)
    obs, _ = env.reset(seed=0)
    total, alive = np.zeros(len(tasks)), np.ones(len(tasks), dtype=bool)
    for _ in range(horizon):
        obs, reward, term, trunc, _ = env.step(np.clip(tasks.goals - obs, -0.1, 0.1).astype(np.float32))
        total += reward * alive
        alive &= ~(term | trunc)
        if not alive.any():
            break
    return total


def _baseline_learner(learner: MamlLearner, *, seed: int, joint: bool) -> MamlLearner:
    torch.manual_seed(seed)
    config = dataclasses.replace(learner.config, seed=seed, learn_inner_lr=False)
    return MamlLearner(config=config, joint=joint)


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
                return pretrained
        except Exception:  # noqa: BLE001 - a damaged cache is derived data: train it again
            pass
    for it in range(iterations):
        pretrained.train_iteration(it)
    if cache is not None:
        save_torch(cache, {"key": key, "policy": pretrained.policy.state_dict()})
    return pretrained


def evaluate(
    learner: MamlLearner, *, num_tasks: int = 40, seed: int = 0, steps: int | None = None,
    pretrain_iterations: int | None = None, baselines: bool = True, pretrained_cache: str | Path | None = None,
    episodes: int | None = None,
) -> dict[str, Any]:
    """The result dict of ``metarl evaluate`` (see the module docstring). ``pretrain_iterations``:
    the pretrained baseline's budget (default: the config's meta-training iterations); ``episodes``:
    per task and adaptation step (default: the config's ``eval_episodes``)."""
    c = learner.config
    episodes = check_count("episodes", c.eval_episodes if episodes is None else episodes)
    pretrain_iterations = check_count("pretrain_iterations", c.iterations if pretrain_iterations is None
                                      else pretrain_iterations)
    num_tasks = check_count("num_tasks", num_tasks)
    steps = check_count("steps", c.eval_steps if steps is None else steps)
    tasks = learner.split.test_tasks(num_tasks)
    lrs = step_size_schedule(c.eval_lrs[0], c.eval_lrs[-1], steps)
    learner.eval_env.reset(seed=seed)
    torch.manual_seed(seed)
    result: dict[str, Any] = {"algorithm": "maml", "env": c.env, "num_tasks": num_tasks, "steps": steps,
                              "step_sizes": lrs, "episodes_per_step": episodes, "seed": seed,
                              "estimator": c.estimator, "first_order": c.first_order}
    maml_curve = learner.post_adaptation_returns(tasks, lrs=lrs, episodes=episodes)
    result.update(summarize(maml_curve))
    result["baselines"] = {}
    if not baselines:
        return result
    pretrained = pretrained_baseline(learner, seed=seed, iterations=pretrain_iterations,
                                     cache=None if pretrained_cache is None else Path(pretrained_cache))
    random_init = _baseline_learner(learner, seed=seed + 2000, joint=False)
    for name, other in (("pretrained", pretrained), ("random_init", random_init)):
        other.eval_env.reset(seed=seed)
        curve = other.post_adaptation_returns(tasks, lrs=lrs, episodes=episodes)
        result["baselines"][name] = _against(maml_curve, curve)
    result["baselines"]["pretrained"]["pretrain_iterations"] = pretrain_iterations
    if c.env == "navigation2d":
        oracle = torch.as_tensor(navigation_oracle(tasks, horizon=c.horizon or 100),
                                 device=maml_curve.device).unsqueeze(0)
        result["baselines"]["oracle"] = _against(maml_curve, oracle.expand(steps + 1, -1).to(maml_curve.dtype))
    return result


def _against(maml_curve: torch.Tensor, curve: torch.Tensor) -> dict[str, Any]:
    """A baseline's ``summarize`` plus MAML's lead over it per step, paired by task: both ran on the
    same tasks from the same reset seed, so the difference leaves out how hard each task is."""
    out: dict[str, Any] = summarize(curve)
    lead, lead_ci = _mean_ci95(maml_curve - curve)
    out.update(maml_minus_baseline_by_step=lead, maml_minus_baseline_ci95_by_step=lead_ci)
    return out


def plot_evaluation(result: dict[str, Any], path: str | Path) -> None:
    """Return against adaptation steps, with 95% intervals, for MAML and every baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    curves = {"MAML": result, **result.get("baselines", {})}
    for name, curve in curves.items():
        mean = curve["mean_return_by_step"]
        ax.errorbar(range(len(mean)), mean, yerr=curve["ci95_by_step"], marker="o", capsize=3, label=name)
    ax.set_xticks(range(len(result["mean_return_by_step"])))
    ax.set_xlabel("adaptation steps")
    ax.set_ylabel("mean episode return")
    ax.set_title(f"MAML on {result['env']} ({result['num_tasks']} test tasks)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
