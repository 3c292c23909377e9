"""The posterior over the task embedding: a product of independent Gaussian factors, one per
context transition, so q(z | c) does not depend on the order of the transitions.

Everything is batched over tasks: factors ``[tasks, N, L]``, an optional ``mask [tasks, N]``
(1 on real transitions), posteriors ``[tasks, L]``. As oyster's ``_product_of_gaussians``, the
product is of the factors alone (the prior N(0, I) is not one of them) and every factor variance
is clamped at 1e-7; a task with no context at all gets the prior.
"""

from __future__ import annotations

import torch

MIN_VARIANCE = 1e-7


def product_of_gaussians(
    mean: torch.Tensor, var: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mean [tasks, L], var [tasks, L])`` of the normalised product of the factors N(mean_n, var_n)
    over n: precisions add, the mean is the precision-weighted mean. Factors where ``mask`` is 0
    contribute nothing; with no factor left the result is N(0, I)."""
    precision = 1.0 / var.clamp(min=MIN_VARIANCE)
    if mask is not None:
        precision = precision * mask.unsqueeze(-1).to(precision.dtype)
    total = precision.sum(-2)
    empty = total <= 0
    post_var = torch.where(empty, torch.ones_like(total), 1.0 / total.masked_fill(empty, 1.0))
    post_mean = torch.where(empty, torch.zeros_like(total), post_var * (precision * mean).sum(-2))
    return post_mean, post_var


def kl_to_standard_normal(mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """``[tasks]``: KL(N(mean, diag var) || N(0, I)), summed over the latent dimensions."""
    return 0.5 * (var + mean * mean - 1.0 - torch.log(var)).sum(-1)


def sample_latent(mean: torch.Tensor, var: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """A reparameterised sample ``mean + sqrt(var) * noise`` (``noise`` standard normal, same shape)."""
    return mean + var.sqrt() * noise
