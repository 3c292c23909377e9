"""MAML's inner loop as pure functions of per-task parameters.

Parameters are a name -> tensor dict with a leading task dimension (``expand_params``), so one
call adapts every task: the loss is the sum of the per-task losses, and since task i's loss only
involves its own parameter slice, ``d sum / d params[i]`` is task i's own gradient. Each step
differentiates the loss with respect to the parameters it was evaluated at (the *current* adapted
ones, not the meta-parameters), with ``create_graph`` so that the meta-gradient sees the
second-order terms; ``first_order`` drops exactly those.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

Params = Mapping[str, torch.Tensor]
StepSize = float | Mapping[str, torch.Tensor]
LossFn = Callable[[Params], torch.Tensor]


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


def inner_step(params: Params, loss: torch.Tensor, step_size: StepSize, *, first_order: bool = False,
               create_graph: bool = True) -> dict[str, torch.Tensor]:
    """``params - step_size * d loss.sum() / d params``.

    ``step_size``: a float, or per-parameter tensors (Meta-SGD) broadcast over the task dimension.
    With ``first_order`` the gradient is a constant for autograd, so the adapted parameters depend
    on the meta-parameters only through the identity (and the learned step sizes).
    ``create_graph=False`` says nothing will differentiate the result (a line-search probe): the
    values are the same, the loss graph is freed.
    """
    names = list(params)
    grads = torch.autograd.grad(
        loss.sum(), [params[n] for n in names], create_graph=create_graph and not first_order,
        retain_graph=create_graph, allow_unused=True,
    )
    out = {}
    for name, grad in zip(names, grads, strict=True):
        if grad is None:
            out[name] = params[name]
            continue
        lr = step_size[name] if isinstance(step_size, Mapping) else step_size
        out[name] = params[name] - lr * grad
    return out


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
