"""Returns and advantages as pure functions over ``[..., T]`` tensors.

Episodes are contiguous runs of real steps (``mask``); a row may hold several episodes one after
another, separated by their end flags. ``terminated`` marks a step after which the MDP ended:
nothing follows, so its value is never bootstrapped. ``truncated`` marks a step where the episode
was cut (a time limit, or the sampler's horizon): the MDP would have gone on, so by default
(``truncation="bootstrap"``) its advantage bootstraps from ``next_values``, the value of the
observation the step led to (the episode's final observation). ``truncation="terminal"`` treats a
cut like a termination instead, as rllab did; the MAML paper's results were measured that way.
"""

from __future__ import annotations

from typing import Literal

import torch

Truncation = Literal["bootstrap", "terminal"]
TRUNCATIONS: tuple[str, ...] = ("bootstrap", "terminal")


def check_truncation(truncation: str) -> Truncation:
    """``truncation`` if it is one of ``TRUNCATIONS``, else a ValueError naming the allowed values."""
    if truncation not in TRUNCATIONS:
        raise ValueError(f"truncation={truncation!r} is not allowed: one of {', '.join(map(repr, TRUNCATIONS))}")
    return truncation  # type: ignore[return-value]


def discounted_returns(rewards: torch.Tensor, mask: torch.Tensor, gamma: float) -> torch.Tensor:
    """Reward-to-go ``G_t = sum_k gamma^k r_{t+k}`` within each episode, ``[..., T]``; 0 on padding."""
    out = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in range(rewards.shape[-1] - 1, -1, -1):
        running = (rewards[..., t] + gamma * running) * mask[..., t]
        out[..., t] = running
    return out


def gae(
    *,
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    terminated: torch.Tensor,
    truncated: torch.Tensor,
    mask: torch.Tensor,
    gamma: float,
    lam: float,
    truncation: Truncation = "bootstrap",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016) over ``[..., T]``.

    ``values [..., T]``: V(obs_t); ``next_values [..., T]``: V(next_obs_t), the value of the
    observation step t led to (at an episode's last step its final observation). The TD error is
    ``r_t + gamma * V(next_obs_t) * keep_t - V(obs_t)`` with ``keep_t`` 0 at terminated steps (and at
    truncated ones under ``truncation="terminal"``), 1 elsewhere; the advantage recursion stops at
    every episode end (terminated or truncated), so consecutive episodes in one row do not mix.
    A last real step with neither flag is bootstrapped like a truncation (a cut).
    Returns ``(advantages, value_targets)``, both ``[..., T]`` and 0 on padding.
    """
    check_truncation(truncation)
    ends = terminated | truncated
    cut = terminated | truncated if truncation == "terminal" else terminated
    keep = 1.0 - cut.to(rewards.dtype)
    carry = 1.0 - ends.to(rewards.dtype)
    deltas = (rewards + gamma * next_values * keep - values) * mask
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in range(rewards.shape[-1] - 1, -1, -1):
        running = (deltas[..., t] + gamma * lam * carry[..., t] * running) * mask[..., t]
        adv[..., t] = running
    return adv, (adv + values) * mask
