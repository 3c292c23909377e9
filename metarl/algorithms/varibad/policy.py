"""VariBAD's policy: a feed-forward actor-critic on the state and the belief (mean, log-variance).

The policy has no memory of its own; everything it knows of the task is the encoder's posterior
q(m | tau:t), passed as ``[mean, logvar]`` with gradients stopped (the encoder learns only from the
ELBO). Inputs are normalised by running statistics and embedded (tanh) as the reference's
``models/policy.py`` does, then actor and critic each have their own tanh layers.

``BeliefActor`` is what the sampler runs: its state is the encoder's GRU state (and the last
observation), ``step`` acts on (obs, belief), and ``transition`` (the sampler's
``TransitionPolicy`` hook) folds each step's ``(s, a, r, s')`` into the belief.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.distributions import Categorical, Distribution, Independent, Normal

from metarl.algorithms.varibad.encoder import TrialEncoder


class InputNorm(nn.Module):
    """Running per-feature mean and variance (Chan et al.'s update), kept as buffers so that a
    checkpoint holds them: ``forward(x) = (x - mean) / sqrt(var + 1e-8)``. ``enabled=False``: identity."""

    def __init__(self, dim: int, *, enabled: bool = True) -> None:
        super().__init__()
        self.enabled = enabled
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("var", torch.ones(dim))
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        """Fold in the rows of ``x [N, dim]``."""
        if not self.enabled or x.shape[0] == 0:
            return
        x = x.double()
        n, mean, var = x.shape[0], x.mean(0), x.var(0, unbiased=False)
        total = self.count + n
        delta = mean - self.mean.double()
        new_mean = self.mean.double() + delta * n / total
        new_var = (self.var.double() * self.count + var * n + delta.pow(2) * self.count * n / total) / total
        self.mean.copy_(new_mean.float())
        self.var.copy_(new_var.float())
        self.count.copy_(total)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / torch.sqrt(self.var + 1e-8) if self.enabled else x


def _normc_(layer: nn.Linear, gain: float) -> nn.Linear:
    """The reference's ``init_normc_``: each output's weight row normal, scaled to norm ``gain``."""
    with torch.no_grad():
        layer.weight.normal_(0, 1)
        layer.weight *= gain / layer.weight.pow(2).sum(1, keepdim=True).sqrt()
        layer.bias.zero_()
    return layer


def _tanh_stack(in_dim: int, widths: tuple[int, ...]) -> nn.Sequential:
    gain = nn.init.calculate_gain("tanh")
    layers: list[nn.Module] = []
    for width in widths:
        layers += [_normc_(nn.Linear(in_dim, width), gain), nn.Tanh()]
        in_dim = width
    return nn.Sequential(*layers)


class BeliefPolicy(nn.Module):
    """pi(a | s, b) and V(s, b) for ``obs [..., obs_dim]`` and ``belief [..., belief_dim]``.

    ``n_actions`` gives a Categorical policy, ``act_dim`` a diagonal Gaussian with a learnt
    state-independent log-std; embedding sizes of 0 pass the (normalised) input on raw.
    """

    def __init__(self, *, obs_dim: int, belief_dim: int, n_actions: int | None = None, act_dim: int | None = None,
                 layers: tuple[int, ...] = (32,), state_embed: int = 16, belief_embed: int = 16,
                 norm_state: bool = True, norm_belief: bool = True, init_std: float = 1.0) -> None:
        super().__init__()
        if (n_actions is None) == (act_dim is None):
            raise ValueError("give exactly one of n_actions (discrete) or act_dim (continuous)")
        if not layers:
            raise ValueError("the policy needs at least one hidden layer")
        self.discrete = n_actions is not None
        self.state_norm, self.belief_norm = InputNorm(obs_dim, enabled=norm_state), InputNorm(belief_dim,
                                                                                              enabled=norm_belief)
        self.state_embed = nn.Sequential(nn.Linear(obs_dim, state_embed), nn.Tanh()) if state_embed else nn.Identity()
        self.belief_embed = (nn.Sequential(nn.Linear(belief_dim, belief_embed), nn.Tanh()) if belief_embed
                             else nn.Identity())
        width = (state_embed or obs_dim) + (belief_embed or belief_dim)
        self.actor, self.critic = _tanh_stack(width, layers), _tanh_stack(width, layers)
        self.value_head = nn.Linear(layers[-1], 1)
        if self.discrete:
            self.action_head = nn.Linear(layers[-1], n_actions)
            nn.init.orthogonal_(self.action_head.weight, gain=0.01)
            nn.init.zeros_(self.action_head.bias)
        else:
            self.action_head = _normc_(nn.Linear(layers[-1], act_dim), 1.0)
            self.log_std = nn.Parameter(torch.full((act_dim,), math.log(init_std)))

    def forward(self, obs: torch.Tensor, belief: torch.Tensor) -> tuple[Distribution, torch.Tensor]:
        """``(distribution with batch shape [...], value [...])``."""
        x = torch.cat([self.state_embed(self.state_norm(obs)), self.belief_embed(self.belief_norm(belief))], dim=-1)
        head = self.action_head(self.actor(x))
        value = self.value_head(self.critic(x))[..., 0]
        if self.discrete:
            return Categorical(logits=head), value
        std = self.log_std.exp().clamp(min=1e-6).expand_as(head)
        return Independent(Normal(head, std), 1), value


def belief_input(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """What the policy sees of a posterior: ``[..., 2K]``, mean then log-variance, detached."""
    return torch.cat([mean, logvar], dim=-1).detach()


class BeliefActor:
    """The sampler's ``TransitionPolicy``: state ``(h [1, B, H], last_obs [B, obs_dim])``.

    ``step`` reads the belief of ``h`` and acts on it with the observation; ``transition`` then
    advances ``h`` over the step's ``(s, a, r, s')``, ``s'`` the final observation where an episode
    ended, exactly as ``TrialEncoder.forward`` does over the stored trial.
    """

    def __init__(self, *, encoder: TrialEncoder, policy: BeliefPolicy) -> None:
        self.encoder, self.policy, self.discrete = encoder, policy, policy.discrete

    def initial_state(self, batch_size: int, device: torch.device | str) -> Any:
        return self.encoder.initial_state(batch_size, device), None

    def step(self, obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor, prev_done: torch.Tensor,
             state: Any) -> tuple[Distribution, torch.Tensor, Any]:
        hidden, _ = state
        dist, value = self.policy(obs, belief_input(*self.encoder.belief(hidden)))
        return dist, value, (hidden, obs)

    def transition(self, state: Any, *, next_obs: torch.Tensor, action: torch.Tensor, reward: torch.Tensor,
                   done: torch.Tensor) -> Any:
        hidden, obs = state
        hidden = self.encoder.advance(hidden, next_obs=next_obs, actions=action, rewards=reward, obs=obs)
        return hidden, obs


class TaskActor:
    """The oracle's actor (``task_aware``): ``BeliefPolicy`` on observations that carry the task's
    features as their last ``feature_dim`` entries (``metarl.rl.task_features.TaskAwarePolicy`` appends them, as
    does a ``MemoryAgent``), which stand in for the belief. No state beyond an empty ``[B, 0]``."""

    def __init__(self, *, policy: BeliefPolicy, feature_dim: int) -> None:
        self.policy, self.feature_dim, self.discrete = policy, feature_dim, policy.discrete

    def initial_state(self, batch_size: int, device: torch.device | str) -> Any:
        return torch.zeros(batch_size, 0, device=device)

    def step(self, obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor, prev_done: torch.Tensor,
             state: Any) -> tuple[Distribution, torch.Tensor, Any]:
        dist, value = self.policy(obs[..., :-self.feature_dim], obs[..., -self.feature_dim:])
        return dist, value, state
