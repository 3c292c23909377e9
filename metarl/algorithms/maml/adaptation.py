"""MAML's inner loop as pure functions of per-task parameters.

Parameters are a name -> tensor dict with a leading task dimension (``expand_params``), so one
call adapts every task: the loss is the sum of the per-task losses, and since task i's loss only
involves its own parameter slice, ``d sum / d params[i]`` is task i's own gradient. Each step
differentiates the loss with respect to the parameters it was evaluated at (the *current* adapted
ones, not the meta-parameters), with ``create_graph`` so that the meta-gradient sees the
second-order terms; ``first_order`` drops exactly those.

``policy_inner_step`` is the RL inner step (an estimator's inner loss of an episode batch, and the
step on it), written once for its three users: sampling (detached, no graph), the learner's
differentiable replay of the inner steps, and the KL-curvature product (which differentiates the
step's inner-loss gradient again, ``PolicyStep.grads`` at ``PolicyStep.at``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import torch
from torch.distributions import Distribution

from metarl.algorithms.maml.objectives import inner_loss

Params = Mapping[str, torch.Tensor]
StepSize = float | Mapping[str, torch.Tensor]
LossFn = Callable[[Params], torch.Tensor]


class ParamPolicy(Protocol):
    def distribution(self, obs: torch.Tensor, params: Params | None = None) -> Distribution: ...


class InnerBatch(Protocol):
    """What an inner step reads of an ``EpisodeBatch``: ``obs [tasks, E, H, obs_dim]``, ``actions``,
    ``advantages`` and ``mask [tasks, E, H]``."""

    obs: torch.Tensor
    actions: torch.Tensor
    advantages: torch.Tensor
    mask: torch.Tensor


def check_step_sizes(step_sizes: Sequence[float]) -> list[float]:
    """Step sizes must be positive numbers; one per step."""
    out = []
    for lr in step_sizes:
        if isinstance(lr, bool) or not isinstance(lr, int | float) or not lr > 0:
            raise ValueError(f"inner step sizes must be numbers > 0, got {lr!r}")
        out.append(float(lr))
    if not out:
        raise ValueError("need at least one inner step (K >= 1)")
    return out


def loss_gradient(params: Params, loss: torch.Tensor, *, create_graph: bool,
                  retain_graph: bool | None = None) -> dict[str, torch.Tensor]:
    """``d loss.sum() / d params`` by name; parameters the loss does not use are left out.

    ``create_graph`` keeps the gradient differentiable (second-order meta-gradient, Hessian-vector
    products); ``retain_graph`` defaults to it.
    """
    names = list(params)
    grads = torch.autograd.grad(
        loss.sum(), [params[n] for n in names], create_graph=create_graph,
        retain_graph=create_graph if retain_graph is None else retain_graph, allow_unused=True,
    )
    return {n: g for n, g in zip(names, grads, strict=True) if g is not None}


def apply_step(params: Params, grads: Mapping[str, torch.Tensor], step_size: StepSize) -> dict[str, torch.Tensor]:
    """``params - step_size * grads``; a float or per-parameter tensors (Meta-SGD) broadcast over
    the task dimension; a parameter without a gradient is passed through unchanged."""
    out = {}
    for name, value in params.items():
        if name not in grads:
            out[name] = value
            continue
        lr = step_size[name] if isinstance(step_size, Mapping) else step_size
        out[name] = value - lr * grads[name]
    return out


def inner_step(params: Params, loss: torch.Tensor, step_size: StepSize, *, first_order: bool = False,
               create_graph: bool = True) -> dict[str, torch.Tensor]:
    """``params - step_size * d loss.sum() / d params``.

    ``step_size``: a float, or per-parameter tensors (Meta-SGD) broadcast over the task dimension.
    With ``first_order`` the gradient is a constant for autograd, so the adapted parameters depend
    on the meta-parameters only through the identity (and the learned step sizes).
    ``create_graph=False`` says nothing will differentiate the result (a line-search probe): the
    values are the same, the loss graph is freed.
    """
    grads = loss_gradient(params, loss, create_graph=create_graph and not first_order, retain_graph=create_graph)
    return apply_step(params, grads, step_size)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PolicyStep:
    """One inner step of a policy on an episode batch, every task at once.

    ``at``: the parameters ``[tasks, ...]`` the inner loss was evaluated at (a fresh leaf copy when
    the step was ``detached``, so that ``grads`` can be differentiated with respect to it);
    ``grads``: the inner loss's gradient there (differentiable when made with ``create_graph``);
    ``adapted``: ``at - step_size * grads``; ``log_probs [tasks, E, H]``: the batch's actions under
    ``at`` (DiCE's sampling term sums them).
    """

    at: dict[str, torch.Tensor]
    grads: dict[str, torch.Tensor]
    adapted: dict[str, torch.Tensor]
    log_probs: torch.Tensor


def policy_inner_step(
    policy: ParamPolicy, params: Params, batch: InnerBatch, step_size: StepSize, *, estimator: str,
    create_graph: bool = True, first_order: bool = False, detached: bool = False,
) -> PolicyStep:
    """MAML's inner step, the one definition that sampling, the outer replay and the curvature
    product share: the ``estimator``'s inner loss (``objectives.inner_loss``) of ``batch`` under
    ``params [tasks, ...]``, and a gradient step of ``step_size`` on it.

    - ``detached``: evaluated at a leaf copy of ``params`` with constant step sizes; ``adapted`` is
      a constant (data collection). With ``create_graph`` too, ``grads`` keeps its graph to ``at``
      (what Hessian-vector products of the inner loss need).
    - otherwise ``adapted`` is a differentiable function of ``params`` (and of learned step sizes):
      second-order unless ``first_order``; ``create_graph=False`` for a probe nothing differentiates.
    """
    if detached:
        params = {k: v.detach().requires_grad_(True) for k, v in params.items()}
        if isinstance(step_size, Mapping):
            step_size = {k: v.detach() for k, v in step_size.items()}
    at = dict(params)
    log_probs = policy.distribution(batch.obs, at).log_prob(batch.actions)
    loss = inner_loss(log_probs, batch.advantages, batch.mask, estimator)
    keep = create_graph and not first_order
    grads = loss_gradient(at, loss, create_graph=keep, retain_graph=create_graph)
    adapted = apply_step(at, grads, step_size)
    if detached:
        adapted = {k: v.detach() for k, v in adapted.items()}
    return PolicyStep(at=at, grads=grads, adapted=adapted, log_probs=log_probs)


def adapt(
    params: Params,
    losses: Sequence[LossFn],
    step_sizes: Sequence[StepSize],
    *,
    first_order: bool = False,
    create_graph: bool = True,
) -> list[dict[str, torch.Tensor]]:
    """K steps, step k on ``losses[k]`` evaluated at the step-k parameters.

    Returns the parameters before and after every step (K + 1 dicts). ``step_sizes`` holds one
    entry per step (the evaluation protocol uses 0.1 then 0.05).
    """
    if len(losses) < 1:
        raise ValueError(f"K must be >= 1, got {len(losses)} inner losses")
    if len(step_sizes) != len(losses):
        raise ValueError(f"need one step size per inner step: {len(step_sizes)} for K={len(losses)}")
    trace = [dict(params)]
    for loss_fn, lr in zip(losses, step_sizes, strict=True):
        trace.append(inner_step(trace[-1], loss_fn(trace[-1]), lr, first_order=first_order,
                                create_graph=create_graph))
    return trace


def step_size_schedule(first: float, rest: float, steps: int) -> list[float]:
    """The paper's evaluation schedule: ``first`` for step 1, ``rest`` afterwards."""
    return [first] + [rest] * (steps - 1)
