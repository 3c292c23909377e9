"""TRPO's pieces as functions: conjugate gradient, Fisher (KL Hessian) vector products, and the
backtracking line search that keeps a step only if it improves the surrogate within the KL bound.

The objective is given as a closure so that MAML can recompute the adapted policies (its inner
steps) for every candidate meta-parameter: ``objective(create_graph) -> (loss, kl)``, where
``loss`` is minimised and ``kl`` is the mean KL divergence from the pre-step policy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import torch

Objective = Callable[[bool], tuple[torch.Tensor, torch.Tensor]]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TRPOStats:
    """What one TRPO update did; ``rejected`` is True when no backtracking step was acceptable and
    the parameters were left unchanged."""

    loss_before: float
    loss_after: float
    kl: float
    step_fraction: float
    backtracks: int
    rejected: bool

    def metrics(self, prefix: str = "trpo_") -> dict[str, float]:
        return {f"{prefix}{k}": float(v) for k, v in dataclasses.asdict(self).items()}


def flat(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def flat_grad(output: torch.Tensor, params: Sequence[torch.Tensor], **kwargs) -> torch.Tensor:
    """``d output / d params`` as one vector (zeros for parameters the output does not use)."""
    grads = torch.autograd.grad(output, params, allow_unused=True, **kwargs)
    return flat([torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)])


def set_flat(params: Sequence[torch.Tensor], vector: torch.Tensor) -> None:
    """Write ``vector`` into the leaf tensors ``params`` in place."""
    offset = 0
    with torch.no_grad():
        for p in params:
            p.copy_(vector[offset:offset + p.numel()].view_as(p))
            offset += p.numel()


def conjugate_gradient(
    matvec: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor, *, iterations: int = 10, tol: float = 1e-10
) -> torch.Tensor:
    """Approximately solve ``A x = b`` for symmetric positive definite ``A`` given as ``matvec``."""
    return solve_cg(matvec, b, iterations=iterations, tol=tol)[0]


def solve_cg(
    matvec: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor, *, iterations: int = 10, tol: float = 1e-10
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, A x)`` for the conjugate-gradient solution ``x`` of ``A x = b``.

    ``A x`` comes free as ``b - r`` (the residual recursion keeps ``r = b - A x``), which spares
    TRPO the extra product it would otherwise spend on the step's quadratic form.
    """
    x = torch.zeros_like(b)
    r, p = b.clone(), b.clone()
    rr = r @ r
    for _ in range(iterations):
        if rr < tol:
            break
        ap = matvec(p)
        alpha = rr / (p @ ap)
        x = x + alpha * p
        r = r - alpha * ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x, b - r


def fisher_vector_product(
    kl: torch.Tensor, params: Sequence[torch.Tensor], *, damping: float
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``v -> (H_kl + damping I) v`` by double backward through ``kl``'s graph (kept alive)."""
    grad_kl = flat_grad(kl, params, create_graph=True)

    def product(v: torch.Tensor) -> torch.Tensor:
        return flat_grad(grad_kl @ v, params, retain_graph=True) + damping * v

    return product


def trpo_step(
    *,
    params: Sequence[torch.Tensor],
    objective: Objective,
    max_kl: float,
    damping: float = 1e-5,
    cg_iterations: int = 10,
    backtrack_ratio: float = 0.8,
    max_backtracks: int = 15,
    fvp: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> TRPOStats:
    """One trust-region step on the leaf tensors ``params`` (updated in place).

    The natural-gradient direction is scaled to the KL bound, then shrunk by ``backtrack_ratio``
    until the loss decreases and the KL is within ``max_kl``; if no fraction qualifies the
    parameters are restored and the step is reported as rejected. ``fvp`` replaces the default
    KL-Hessian product (double backward through ``objective``'s KL) with a cheaper equivalent.
    """
    if max_kl <= 0:
        raise ValueError(f"max_kl must be > 0, got {max_kl}")
    loss, kl = objective(True)
    grad = flat_grad(loss, params, retain_graph=fvp is None)
    if fvp is None:
        fvp = fisher_vector_product(kl, params, damping=damping)
    direction, product = solve_cg(fvp, -grad, iterations=cg_iterations)
    shs = 0.5 * (direction @ product)
    old = flat([p.detach() for p in params]).clone()
    loss_before = float(loss.detach())
    del loss, kl, fvp
    if not bool(torch.isfinite(shs)) or shs <= 0:
        return TRPOStats(loss_before=loss_before, loss_after=loss_before, kl=0.0, step_fraction=0.0,
                         backtracks=0, rejected=True)
    full_step = direction * torch.sqrt(max_kl / shs)
    fraction = 1.0
    for backtrack in range(max_backtracks):
        set_flat(params, old + fraction * full_step)
        new_loss, new_kl = objective(False)
        new_loss, new_kl = float(new_loss.detach()), float(new_kl.detach())
        if new_loss < loss_before and new_kl <= max_kl:
            return TRPOStats(loss_before=loss_before, loss_after=new_loss, kl=new_kl, step_fraction=fraction,
                             backtracks=backtrack, rejected=False)
        fraction *= backtrack_ratio
    set_flat(params, old)
    return TRPOStats(loss_before=loss_before, loss_after=loss_before, kl=0.0, step_fraction=0.0,
                     backtracks=max_backtracks, rejected=True)
