"""PEARL's networks, all taking a leading task dimension: ``[tasks, batch, dim]`` inputs and one
latent ``z [tasks, latent]`` per task, broadcast over that task's rows, so one forward serves the
whole meta-batch.

Initialised as oyster's ``rlkit.torch.networks.Mlp``: ReLU hidden layers with biases 0.1 and
weights U(-1/sqrt(n), 1/sqrt(n)) where n is the layer's *output* width (rlkit's ``fanin_init`` reads
``weight.size(0)``, which for ``nn.Linear`` is the output size; kept as oyster runs it), and the
last layer U(-init_w, init_w) (3e-3; the policy's heads 1e-3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Distribution, Independent, Normal

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
TANH_EPS = 1e-6


def with_latent(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``x [tasks, ..., D]`` with ``z [tasks, L]`` appended to every row of its task: ``[tasks, ..., D + L]``."""
    expanded = z.view(z.shape[0], *([1] * (x.dim() - 2)), z.shape[-1]).expand(*x.shape[:-1], z.shape[-1])
    return torch.cat([x, expanded], dim=-1)


def _oyster_init(layer: nn.Linear, *, last: bool, init_w: float) -> None:
    with torch.no_grad():
        if last:
            layer.weight.uniform_(-init_w, init_w)
            layer.bias.uniform_(-init_w, init_w)
        else:
            bound = 1.0 / math.sqrt(layer.weight.shape[0])
            layer.weight.uniform_(-bound, bound)
            layer.bias.fill_(0.1)


class Trunk(nn.Module):
    """ReLU hidden layers ``in -> hidden...``; ``out_dim`` > 0 adds a linear output layer."""

    def __init__(self, *, in_dim: int, hidden_sizes: Sequence[int], out_dim: int = 0, init_w: float = 3e-3) -> None:
        super().__init__()
        sizes = [in_dim, *hidden_sizes]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        for layer in self.hidden:
            _oyster_init(layer, last=False, init_w=init_w)
        self.out = nn.Linear(sizes[-1], out_dim) if out_dim else None
        if self.out is not None:
            _oyster_init(self.out, last=True, init_w=init_w)
        self.width = sizes[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            x = F.relu(layer(x))
        return x if self.out is None else self.out(x)


class ContextEncoder(nn.Module):
    """Each context transition ``[tasks, N, context_dim]`` to the mean and variance (softplus) of
    one Gaussian factor of q(z | c): ``(mean, var)``, both ``[tasks, N, latent]``."""

    def __init__(self, *, context_dim: int, latent_size: int, hidden_sizes: Sequence[int]) -> None:
        super().__init__()
        self.latent_size = latent_size
        self.net = Trunk(in_dim=context_dim, hidden_sizes=hidden_sizes, out_dim=2 * latent_size)

    def forward(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(context)
        return out[..., : self.latent_size], F.softplus(out[..., self.latent_size:])


class QNetwork(nn.Module):
    """Q(s, a, z): ``obs [tasks, B, D]``, ``actions [tasks, B, A]``, ``z [tasks, L]`` -> ``[tasks, B]``."""

    def __init__(self, *, obs_dim: int, act_dim: int, latent_dim: int, hidden_sizes: Sequence[int]) -> None:
        super().__init__()
        self.net = Trunk(in_dim=obs_dim + act_dim + latent_dim, hidden_sizes=hidden_sizes, out_dim=1)

    def forward(self, obs: torch.Tensor, actions: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.net(with_latent(torch.cat([obs, actions], dim=-1), z))[..., 0]


class VNetwork(nn.Module):
    """V(s, z): ``obs [tasks, B, D]``, ``z [tasks, L]`` -> ``[tasks, B]``."""

    def __init__(self, *, obs_dim: int, latent_dim: int, hidden_sizes: Sequence[int]) -> None:
        super().__init__()
        self.net = Trunk(in_dim=obs_dim + latent_dim, hidden_sizes=hidden_sizes, out_dim=1)

    def forward(self, obs: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.net(with_latent(obs, z))[..., 0]


class PolicySample(NamedTuple):
    """A reparameterised tanh-Gaussian sample: ``action = tanh(pre_tanh)`` ``[..., A]`` in [-1, 1],
    its ``log_prob [...]`` (tanh-corrected as oyster: minus log(1 - a^2 + 1e-6)), and the Gaussian's
    ``mean`` and clamped ``log_std`` (for the regularisers)."""

    action: torch.Tensor
    log_prob: torch.Tensor
    mean: torch.Tensor
    log_std: torch.Tensor
    pre_tanh: torch.Tensor


class TanhGaussianPolicy(nn.Module):
    """pi(a | s, z): a Gaussian squashed by tanh, in [-1, 1] per action dimension, mapped onto the
    env's bounds (``action_low``, ``action_high``) only when acting, as oyster's ``NormalizedBoxEnv``.

    For the sampler (``distribution(obs [tasks, E, D], {"z": [tasks, L]})``) the policy's action is
    the *pre-tanh* Gaussian sample and ``env_action`` squashes and maps it; the buffers keep
    ``tanh`` of it, the [-1, 1] action the critics see. Deterministic acting is the Gaussian's mode,
    so tanh(mean), as oyster's ``MakeDeterministic``.
    """

    discrete = False

    def __init__(self, *, obs_dim: int, act_dim: int, latent_dim: int, hidden_sizes: Sequence[int],
                 action_low: torch.Tensor, action_high: torch.Tensor) -> None:
        super().__init__()
        self.trunk = Trunk(in_dim=obs_dim + latent_dim, hidden_sizes=hidden_sizes)
        self.mean_head = nn.Linear(self.trunk.width, act_dim)
        self.log_std_head = nn.Linear(self.trunk.width, act_dim)
        for head in (self.mean_head, self.log_std_head):
            _oyster_init(head, last=True, init_w=1e-3)
        # not persistent: the bounds come from the env
        self.register_buffer("action_low", torch.as_tensor(action_low, dtype=torch.float32), persistent=False)
        self.register_buffer("action_high", torch.as_tensor(action_high, dtype=torch.float32), persistent=False)

    def gaussian(self, obs: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, log_std)`` of the pre-tanh Gaussian, ``[tasks, ..., A]``."""
        h = self.trunk(with_latent(obs, z))
        return self.mean_head(h), self.log_std_head(h).clamp(LOG_STD_MIN, LOG_STD_MAX)

    def sample(self, obs: torch.Tensor, z: torch.Tensor, noise: torch.Tensor) -> PolicySample:
        """A reparameterised sample with the given standard-normal ``noise`` (shape of the action)."""
        mean, log_std = self.gaussian(obs, z)
        pre_tanh = mean + log_std.exp() * noise
        action = torch.tanh(pre_tanh)
        normal = Normal(mean, log_std.exp()).log_prob(pre_tanh)
        log_prob = (normal - torch.log(1.0 - action * action + TANH_EPS)).sum(-1)
        return PolicySample(action=action, log_prob=log_prob, mean=mean, log_std=log_std, pre_tanh=pre_tanh)

    def distribution(self, obs: torch.Tensor, params: Mapping[str, torch.Tensor] | None = None) -> Distribution:
        """The pre-tanh Gaussian for the sampler; ``params["z"]`` holds one latent per task."""
        if params is None or "z" not in params:
            raise ValueError("a PEARL policy acts with a task embedding: pass params={'z': z [tasks, latent]}")
        mean, log_std = self.gaussian(obs, params["z"])
        return Independent(Normal(mean, log_std.exp()), 1)

    def env_action(self, pre_tanh: torch.Tensor) -> torch.Tensor:
        """tanh, then [-1, 1] onto the env's bounds (clipped, as ``NormalizedBoxEnv``)."""
        unit = (torch.tanh(pre_tanh) + 1.0) * 0.5
        return (self.action_low + unit * (self.action_high - self.action_low)).clamp(self.action_low,
                                                                                      self.action_high)
