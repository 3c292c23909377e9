"""Returns and advantages as pure functions over ``[..., T]`` tensors.

Episodes are contiguous prefixes of real steps (``mask``). ``terminated`` marks a step after which
the MDP ended (nothing to bootstrap); an episode whose last real step is not terminated (truncated
by a time limit, or cut by the sampler) is bootstrapped from ``last_value``, the value of the
observation that followed it.
"""

from __future__ import annotations

import torch


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
    last_value: torch.Tensor,
    terminated: torch.Tensor,
    mask: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016) over ``[..., T]``.

    ``last_value [...]`` is the value after the final real step; it is used unless that step
    terminated. Returns ``(advantages, value_targets)``, both ``[..., T]`` and 0 on padding.
    """
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    next_value = last_value
    for t in range(rewards.shape[-1] - 1, -1, -1):
        real = mask[..., t]
        not_end = 1.0 - terminated[..., t].float()
        delta = rewards[..., t] + gamma * next_value * not_end - values[..., t]
        running = (delta + gamma * lam * not_end * running) * real
        adv[..., t] = running
        # on padding keep carrying last_value back to the last real step
        next_value = torch.where(real > 0, values[..., t], next_value)
        running = torch.where(real > 0, running, torch.zeros_like(running))
    return adv, (adv + values) * mask
