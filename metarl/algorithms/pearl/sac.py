"""PEARL's gradient step (oyster's ``PEARLSoftActorCritic._take_step``), batched over the meta-batch.

Every input carries the task dimension: RL batch ``[M, B, ...]``, context ``[M, N, C]``, one
z per task ``[M, L]``; each network runs once per step on all M x B rows. The step, in oyster's order:

1. q(z | c) from the context (product of Gaussians), z ~ q by reparameterisation;
2. critic: Q1, Q2 (s, a, z) against ``r * reward_scale + (1 - done) * gamma * V_target(s', z)``,
   plus ``kl_weight * sum_tasks KL(q || N(0, I))``; the encoder learns from these two terms only;
   Q1, Q2 and the encoder step;
3. value: V(s, z) against ``min(Q1, Q2)(s, a~pi, z) - log pi(a | s, z)`` with the stepped Q;
   V steps, and V_target moves toward V by ``tau``;
4. actor: ``mean(log pi - min Q) + 1e-3 mean(mu^2) + 1e-3 mean(log_std^2)``; the policy steps.

The policy, V and the min-Q of steps 3-4 see z detached, as oyster's. This is oyster's SAC with a
state-value network and its target (Haarnoja et al. 2018's first version, fixed entropy weight 1
with the reward scale), not the later twin-target-Q variant.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import NamedTuple

import torch
from torch import nn

from metarl.algorithms.pearl.config import LossConfig
from metarl.algorithms.pearl.inference import kl_to_standard_normal, product_of_gaussians, sample_latent
from metarl.algorithms.pearl.networks import ContextEncoder, QNetwork, TanhGaussianPolicy, VNetwork


class Batch(NamedTuple):
    """RL transitions of M tasks: ``obs``, ``next_obs [M, B, D]``, ``actions [M, B, A]`` (in [-1, 1]),
    ``rewards`` (what the critic learns from), ``terminated [M, B]``."""

    obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor


class Noise(NamedTuple):
    """Standard-normal draws of one step: ``latent [M, L]`` for z, ``action [M, B, A]`` for pi."""

    latent: torch.Tensor
    action: torch.Tensor


class PearlNetworks(nn.Module):
    """The encoder (None without one: the oracle and the multi-task baseline), the policy, Q1, Q2,
    V and the target V (a copy of V, moved by soft updates only)."""

    def __init__(self, *, encoder: ContextEncoder | None, policy: TanhGaussianPolicy, qf1: QNetwork,
                 qf2: QNetwork, vf: VNetwork) -> None:
        super().__init__()
        self.encoder, self.policy, self.qf1, self.qf2, self.vf = encoder, policy, qf1, qf2, vf
        self.target_vf = copy.deepcopy(vf).requires_grad_(False)


def q_target(rewards: torch.Tensor, terminated: torch.Tensor, next_v: torch.Tensor, *, reward_scale: float,
             gamma: float) -> torch.Tensor:
    """``r * reward_scale + (1 - terminated) * gamma * V_target(s', z)``, elementwise."""
    return rewards * reward_scale + (1.0 - terminated) * gamma * next_v


def critic_loss(nets: PearlNetworks, batch: Batch, z: torch.Tensor, *, loss: LossConfig
                ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``mean (Q1 - y)^2 + mean (Q2 - y)^2`` over all M x B rows; z keeps its graph (the encoder
    learns through it), the target V sees it without one."""
    q1 = nets.qf1(batch.obs, batch.actions, z)
    q2 = nets.qf2(batch.obs, batch.actions, z)
    with torch.no_grad():
        target = q_target(batch.rewards, batch.terminated, nets.target_vf(batch.next_obs, z),
                          reward_scale=loss.reward_scale, gamma=loss.gamma)
    value = ((q1 - target) ** 2).mean() + ((q2 - target) ** 2).mean()
    return value, {"q1": q1.detach(), "q_target": target}


def actor_value_losses(nets: PearlNetworks, batch: Batch, z: torch.Tensor, noise: torch.Tensor, *,
                       loss: LossConfig) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """``(value loss, policy loss, stats)`` for a detached ``z``: V against ``min Q - log pi``
    (no gradient into the target), the policy against ``min Q`` through its reparameterised action."""
    sample = nets.policy.sample(batch.obs, z, noise)
    min_q = torch.min(nets.qf1(batch.obs, sample.action, z), nets.qf2(batch.obs, sample.action, z))
    v = nets.vf(batch.obs, z)
    value_loss = ((v - (min_q - sample.log_prob).detach()) ** 2).mean()
    regulariser = loss.policy_mean_reg * (sample.mean ** 2).mean() + loss.policy_std_reg * (sample.log_std ** 2).mean()
    policy_loss = (sample.log_prob - min_q).mean() + regulariser
    return value_loss, policy_loss, {"log_pi": sample.log_prob.detach(), "v": v.detach()}


def posterior(nets: PearlNetworks, context: torch.Tensor, mask: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """q(z | c) per task: ``(mean, var) [M, L]`` from ``context [M, N, C]``."""
    return product_of_gaussians(*nets.encoder(context), mask)


class PearlUpdate:
    """One Adam per part (encoder with Q1 and Q2, V, policy; Adam is elementwise, so one optimizer
    over several networks equals one each at the same lr) and the step described above."""

    def __init__(self, *, nets: PearlNetworks, loss: LossConfig, lr: float) -> None:
        self.nets, self.loss = nets, loss
        critic = [*nets.qf1.parameters(), *nets.qf2.parameters()]
        if nets.encoder is not None:
            critic += list(nets.encoder.parameters())
        self.optimizers = {"critic": torch.optim.Adam(critic, lr=lr),
                           "value": torch.optim.Adam(nets.vf.parameters(), lr=lr),
                           "policy": torch.optim.Adam(nets.policy.parameters(), lr=lr)}

    def latent(self, context: torch.Tensor | None, fixed: torch.Tensor | None, noise: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(z [M, L], kl [M])``: z ~ q(z | context) with its KL, or the given ``fixed`` z (task
        features, or an empty z) with KL 0."""
        if self.nets.encoder is None:
            return fixed, torch.zeros(fixed.shape[0], device=fixed.device)
        mean, var = posterior(self.nets, context)
        return sample_latent(mean, var, noise), kl_to_standard_normal(mean, var)

    def step(self, batch: Batch, *, context: torch.Tensor | None, fixed_z: torch.Tensor | None, noise: Noise
             ) -> dict[str, torch.Tensor]:
        """One gradient step; returns its statistics as 0-d tensors (no device sync here)."""
        opt = self.optimizers
        z, kl = self.latent(context, fixed_z, noise.latent)
        q_loss, q_stats = critic_loss(self.nets, batch, z, loss=self.loss)
        kl_sum = kl.sum()
        opt["critic"].zero_grad(set_to_none=True)
        (q_loss + self.loss.kl_weight * kl_sum).backward()
        opt["critic"].step()
        v_loss, pi_loss, stats = actor_value_losses(self.nets, batch, z.detach(), noise.action, loss=self.loss)
        opt["value"].zero_grad(set_to_none=True)
        opt["policy"].zero_grad(set_to_none=True)
        # the two losses share no parameters but min Q: V's target is detached, the policy's Q grads are dropped
        (v_loss + pi_loss).backward()
        opt["value"].step()
        opt["policy"].step()
        soft_update(self.nets.target_vf, self.nets.vf, self.loss.tau)
        return {"qf_loss": q_loss.detach(), "vf_loss": v_loss.detach(), "policy_loss": pi_loss.detach(),
                "kl": kl_sum.detach() / max(kl.shape[0], 1), "q_mean": q_stats["q1"].mean(),
                "q_target_mean": q_stats["q_target"].mean(), "log_pi_mean": stats["log_pi"].mean(),
                "v_mean": stats["v"].mean()}

    def state_dict(self) -> dict[str, Mapping[str, object]]:
        return {name: opt.state_dict() for name, opt in self.optimizers.items()}

    def load_state_dict(self, state: Mapping[str, Mapping[str, object]]) -> None:
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state[name])


@torch.no_grad()
def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """``target <- (1 - tau) target + tau source``, parameter by parameter (one fused op)."""
    torch._foreach_lerp_(list(target.parameters()), list(source.parameters()), tau)
