"""The KL Hessian of the adapted policies, as a fast Gauss-Newton product.

TRPO needs ``H v`` for ``H`` the Hessian (w.r.t. the meta-parameters) of the mean KL between the
sampling and the new adapted policies. At the sampling point the KL's gradient w.r.t. the adapted
parameters is zero, so the term with the second derivative of the adaptation map vanishes and
``H = sum_i J_i^T F_i J_i`` exactly: ``J_i`` is task i's Jacobian of the inner steps,
``J = prod_k (I - lr H_k)`` with ``H_k`` the Hessian of the step-k inner loss at the step-k
parameters, and ``F_i`` the KL Hessian at the adapted parameters. Each product is then two inner-
loss Hessian-vector products per step plus one KL one, all first-order graphs, instead of a
double backward through the whole second-order graph (several times cheaper). The products may
use a subsample of the episodes (``episodes``): the line search still checks the full KL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn
from torch.distributions import Distribution, kl_divergence

from metarl.algorithms.maml.adaptation import policy_inner_step
from metarl.algorithms.maml.episodes import EpisodeBatch
from metarl.algorithms.maml.objectives import task_mean

Params = Mapping[str, torch.Tensor]


def _leaf(params: Params) -> dict[str, torch.Tensor]:
    return {k: v.detach().requires_grad_(True) for k, v in params.items()}


def _hvp(grads: dict[str, torch.Tensor], leaf: dict[str, torch.Tensor]) -> Callable[[dict], dict]:
    names = list(leaf)

    def product(vec: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        dot = sum((grads[n] * vec[n]).sum() for n in names if n in grads)
        out = torch.autograd.grad(dot, [leaf[n] for n in names], retain_graph=True, allow_unused=True)
        return {n: torch.zeros_like(leaf[n]) if o is None else o for n, o in zip(names, out, strict=True)}

    return product


def _subsample(batch: EpisodeBatch, episodes: int) -> EpisodeBatch:
    if episodes <= 0 or episodes >= batch.obs.shape[1]:
        return batch
    stride = batch.obs.shape[1] // episodes
    pick = slice(0, stride * episodes, stride)
    return EpisodeBatch(obs=batch.obs[:, pick], actions=batch.actions[:, pick], mask=batch.mask[:, pick],
                        advantages=batch.advantages[:, pick], old_log_probs=batch.old_log_probs[:, pick],
                        value=batch.value, returns=batch.returns)


def gauss_newton_fvp(
    *, policy: nn.Module, trace: Sequence[Params], inner: Sequence[EpisodeBatch], post: EpisodeBatch,
    step_sizes: Sequence[float], estimator: str, first_order: bool, damping: float, episodes: int = 0,
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``v -> (sum_i J_i^T F_i J_i + damping) v`` over the flattened policy parameters.

    ``trace[k]``: per-task parameters before inner step k (``trace[-1]`` the adapted ones);
    ``inner[k]``: step k's episodes; ``post``: the post-adaptation episodes.
    """
    names = [n for n, _ in policy.named_parameters()]
    inner_hvps = []
    if not first_order:
        for params, batch, lr in zip(trace[:-1], inner, step_sizes, strict=True):
            step = policy_inner_step(policy, params, _subsample(batch, episodes), lr, estimator=estimator,
                                     create_graph=True, detached=True)
            inner_hvps.append(_hvp(step.grads, step.at))
    post = _subsample(post, episodes)
    leaf = _leaf(trace[-1])
    with torch.no_grad():
        old: Distribution = policy.distribution(post.obs, trace[-1])
    kl = task_mean(kl_divergence(old, policy.distribution(post.obs, leaf)), post.mask).mean()
    grads = torch.autograd.grad(kl, [leaf[n] for n in names], create_graph=True)
    kl_hvp = _hvp(dict(zip(names, grads, strict=True)), leaf)
    tasks = post.obs.shape[0]
    shapes = [(n, leaf[n].shape[1:]) for n in names]

    def product(v: torch.Tensor) -> torch.Tensor:
        vec, offset = {}, 0
        for n, shape in shapes:
            size = shape.numel()
            vec[n] = v[offset:offset + size].view(shape).expand(tasks, *shape)
            offset += size
        for hvp, lr in zip(inner_hvps, step_sizes, strict=False):
            vec = {n: vec[n] - lr * h for n, h in hvp(vec).items()}
        vec = kl_hvp(vec)
        for hvp, lr in reversed(list(zip(inner_hvps, step_sizes, strict=False))):
            vec = {n: vec[n] - lr * h for n, h in hvp(vec).items()}
        return torch.cat([vec[n].sum(0).reshape(-1) for n in names]) + damping * v

    return product
