"""Surrogate objectives of MAML for RL, per task, over ``[tasks, episodes, H]`` tensors.

Inner losses (minimised by the adaptation step):

- ``plain``: ``-mean(log pi(a|s) * A)``, the REINFORCE surrogate of the MAML paper. Its gradient is
  the policy gradient; differentiating the adapted parameters through it treats the inner
  episodes as fixed data, which misses that they were sampled by the policy being meta-learned.
- ``lvc`` (ProMP, Rothfuss et al. 2019): ``-mean(pi/stop(pi) * A)``. Same value of the gradient,
  but its Hessian adds ``grad log pi grad log pi^T A`` per step: a low-variance approximation of
  the missing sampling term, first-order accurate in the step size.
- ``dice``: the plain inner loss plus, on the outer objective, the magic box (Foerster et al.
  2018) of the inner episodes' log-probability: ``(box(sum log pi_inner) - 1) * (value - b)``. It
  adds nothing to the objective's value and gives the score-function term ``(value - b) grad log
  P(inner episodes)``, so the meta-gradient is the exact gradient of the expected
  post-adaptation objective (unbiased, higher variance).
"""

from __future__ import annotations

import torch

ESTIMATORS = ("plain", "dice", "lvc")


def magic_box(x: torch.Tensor) -> torch.Tensor:
    """DiCE's operator: evaluates to 1, its derivative is ``box(x) * dx``."""
    return torch.exp(x - x.detach())


def task_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the real steps of each task: ``[tasks, E, H]`` -> ``[tasks]``."""
    dims = tuple(range(1, x.dim()))
    return (x * mask).sum(dims) / mask.sum(dims).clamp(min=1.0)


def normalize_advantages(advantages: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> tuple[
        torch.Tensor, torch.Tensor]:
    """Per task, zero mean and unit variance over real steps; returns ``(normalised, std [tasks])``."""
    mean = task_mean(advantages, mask)
    shape = (-1,) + (1,) * (advantages.dim() - 1)
    var = task_mean((advantages - mean.view(shape)) ** 2, mask)
    std = var.sqrt() + eps
    return (advantages - mean.view(shape)) / std.view(shape) * mask, std


def inner_loss(log_probs: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, estimator: str) -> torch.Tensor:
    """Per-task inner loss ``[tasks]`` (see the module docstring); ``advantages`` are constants."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    weight = magic_box(log_probs) if estimator == "lvc" else log_probs
    return -task_mean(weight * advantages.detach(), mask)


def outer_surrogate(
    log_probs: torch.Tensor, old_log_probs: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
    *, clip: float | None = None,
) -> torch.Tensor:
    """Per-task importance-weighted surrogate ``[tasks]`` (maximised); PPO-clipped when ``clip``."""
    ratio = torch.exp(log_probs - old_log_probs.detach())
    adv = advantages.detach()
    objective = ratio * adv
    if clip is not None:
        objective = torch.minimum(objective, ratio.clamp(1.0 - clip, 1.0 + clip) * adv)
    return task_mean(objective, mask)


def sampling_term(inner_log_prob: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """``(box(S_i) - 1) * (value_i - b_i)`` per task: zero in value, score-function gradient.

    ``inner_log_prob [tasks]``: total log-probability of each task's inner episodes under the
    parameters that sampled them (a function of the meta-parameters). ``value [tasks]``: the
    task's post-adaptation objective estimate. ``b_i`` is the mean value of the *other* tasks
    (independent of task i's episodes, so the estimator stays unbiased).
    """
    value = value.detach()
    n = value.shape[0]
    baseline = (value.sum() - value) / (n - 1) if n > 1 else torch.zeros_like(value)
    return (magic_box(inner_log_prob) - 1.0) * (value - baseline)
