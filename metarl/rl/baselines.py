"""The linear feature baseline of rllab / the MAML paper, fitted per task in one batched solve.

Features per step: ``[obs, obs^2, t, t^2, t^3, 1]`` with ``t = step / 100`` (observations clipped to
``[-10, 10]``). The paper fits one such baseline per task on that task's inner episodes by ridge
regression onto the discounted returns; here all tasks are solved at once with
``torch.linalg.solve`` over ``[tasks, F, F]`` systems.
"""

from __future__ import annotations

import torch

TIME_SCALE = 100.0


def baseline_features(obs: torch.Tensor, mask: torch.Tensor, *, first_step: int = 0) -> torch.Tensor:
    """``obs [..., H, D]``, ``mask [..., H]`` -> ``[..., H, 2D + 4]``, zero on padding; position h is
    time step ``first_step + h`` (1 for next observations: ``next_obs[h]`` is seen at step h + 1)."""
    obs = obs.clamp(-10.0, 10.0)
    steps = (torch.arange(obs.shape[-2], dtype=obs.dtype, device=obs.device) + first_step) / TIME_SCALE
    t = steps.expand(*obs.shape[:-1]).unsqueeze(-1)
    feats = torch.cat([obs, obs**2, t, t**2, t**3, torch.ones_like(t)], dim=-1)
    return feats * mask.unsqueeze(-1).to(obs.dtype)


def fit_linear_baseline(
    features: torch.Tensor, targets: torch.Tensor, *, reg: float = 1e-5, attempts: int = 5
) -> torch.Tensor:
    """Ridge regression per task: ``features [tasks, N, F]``, ``targets [tasks, N]`` -> ``[tasks, F]``.

    Padding rows must be all-zero features (they then add nothing). As in rllab the ridge
    coefficient grows tenfold while any system is singular, which happens when a task's episodes
    never visit part of the feature space (e.g. all end at the first step). The systems are solved
    in float64, as rllab's NumPy did: a policy that runs off in a straight line makes the position
    features collinear with the time features, and with Gram entries near 1e7 float32 cannot tell
    the ridge from rounding.
    """
    if features.dim() != 3 or targets.shape != features.shape[:2]:
        raise ValueError(f"features must be [tasks, N, F] and targets [tasks, N], got "
                         f"{tuple(features.shape)} and {tuple(targets.shape)}")
    dtype = features.dtype
    features, targets = features.double(), targets.double()
    gram = features.transpose(1, 2) @ features
    rhs = (features.transpose(1, 2) @ targets.unsqueeze(-1))
    eye = torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
    for _ in range(attempts):
        coeffs, info = torch.linalg.solve_ex(gram + reg * eye, rhs)
        if not bool(info.any()) and bool(torch.isfinite(coeffs).all()):
            return coeffs.squeeze(-1).to(dtype)
        reg = reg * 10.0 if reg > 0 else 1e-8
    raise ValueError(f"linear baseline: the regression stayed singular up to reg={reg / 10:g}")


def linear_baseline_values(
    obs: torch.Tensor, mask: torch.Tensor, returns: torch.Tensor, *, reg: float = 1e-5
) -> torch.Tensor:
    """Fit one baseline per task and predict every step: ``obs [tasks, E, H, D]``, ``mask`` and
    ``returns [tasks, E, H]`` -> values ``[tasks, E, H]`` (0 on padding)."""
    feats = baseline_features(obs, mask)
    tasks, feat_dim = feats.shape[0], feats.shape[-1]
    coeffs = fit_linear_baseline(feats.reshape(tasks, -1, feat_dim), (returns * mask).reshape(tasks, -1), reg=reg)
    return torch.einsum("tehf,tf->teh", feats, coeffs) * mask


def linear_baseline_with_next(
    obs: torch.Tensor, next_obs: torch.Tensor, mask: torch.Tensor, returns: torch.Tensor, *, reg: float = 1e-5
) -> tuple[torch.Tensor, torch.Tensor]:
    """As ``linear_baseline_values``, also evaluated at the next observations: ``(values, next_values)``,
    both ``[tasks, E, H]`` and 0 on padding. ``next_values[..., h]`` is the fitted baseline at
    ``next_obs[..., h]`` with time feature h + 1, the bootstrap value of a step cut by a time limit
    (inside an episode it equals ``values[..., h + 1]``)."""
    feats = baseline_features(obs, mask)
    tasks, feat_dim = feats.shape[0], feats.shape[-1]
    coeffs = fit_linear_baseline(feats.reshape(tasks, -1, feat_dim), (returns * mask).reshape(tasks, -1), reg=reg)
    values = torch.einsum("tehf,tf->teh", feats, coeffs) * mask
    next_values = torch.einsum("tehf,tf->teh", baseline_features(next_obs, mask, first_step=1), coeffs) * mask
    return values, next_values
