"""VariBAD's encoder q(m | tau:t): a GRU over the trial's transitions, read out as a Gaussian.

Transition k of a trial is ``(s_k, a_k, r_k, s'_k)``; each input is embedded by its own ReLU layer
(size 0 leaves it out), the embeddings concatenated, passed through optional ReLU layers and one
GRU step. The posterior after t transitions is read from the GRU state ``h_t``: ``mean_t =
W_mu f(h_t)``, ``logvar_t = W_var f(h_t)``. ``h_0 = 0`` gives the prior (t = 0), learnt like the
rest (the read-out's biases), so a trial of length L has L + 1 posteriors, ``t = 0..L``.

Two entry points share the weights: ``forward`` over stored trials ``[B, L, ...]`` (one ``nn.GRU``
call) for the ELBO and PPO, and ``advance`` / ``belief`` one step at a time for the sampler.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def relu_stack(in_dim: int, widths: tuple[int, ...]) -> tuple[nn.Sequential, int]:
    """ReLU layers of ``widths`` on ``in_dim`` inputs (an identity for none), and the output width."""
    layers: list[nn.Module] = []
    for width in widths:
        layers += [nn.Linear(in_dim, width), nn.ReLU()]
        in_dim = width
    return nn.Sequential(*layers), in_dim


class TrialEncoder(nn.Module):
    """``obs_dim``: observation width; ``n_actions`` (discrete, one-hot) or ``act_dim``; the rest as
    ``EncoderConfig``. GRU weights orthogonal, biases 0, as the reference initialises them."""

    def __init__(
        self, *, obs_dim: int, n_actions: int | None = None, act_dim: int | None = None, hidden_size: int = 64,
        latent_dim: int = 5, state_embed: int = 8, action_embed: int = 0, reward_embed: int = 8,
        prev_state_embed: int = 0, layers_before: tuple[int, ...] = (), layers_after: tuple[int, ...] = (),
    ) -> None:
        super().__init__()
        if (n_actions is None) == (act_dim is None):
            raise ValueError("give exactly one of n_actions (discrete) or act_dim (continuous)")
        self.n_actions, self.hidden_size, self.latent_dim = n_actions, hidden_size, latent_dim
        action_width = n_actions if n_actions is not None else act_dim
        self.embed_next = nn.Linear(obs_dim, state_embed) if state_embed else None
        self.embed_action = nn.Linear(action_width, action_embed) if action_embed else None
        self.embed_reward = nn.Linear(1, reward_embed) if reward_embed else None
        self.embed_prev = nn.Linear(obs_dim, prev_state_embed) if prev_state_embed else None
        width = state_embed + action_embed + reward_embed + prev_state_embed
        if width == 0:
            raise ValueError("every embedding size is 0: the encoder would see nothing")
        self.before, width = relu_stack(width, layers_before)
        self.gru = nn.GRU(width, hidden_size, batch_first=True)
        for name, param in self.gru.named_parameters():
            nn.init.zeros_(param) if "bias" in name else nn.init.orthogonal_(param)
        self.after, width = relu_stack(hidden_size, layers_after)
        self.fc_mean = nn.Linear(width, latent_dim)
        self.fc_logvar = nn.Linear(width, latent_dim)

    def embed(self, *, next_obs: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor,
              obs: torch.Tensor | None = None) -> torch.Tensor:
        """``[..., width]``: the GRU's input for transitions with ``next_obs [..., obs_dim]``,
        ``actions [...]`` (discrete) or ``[..., act_dim]``, ``rewards [...]``, ``obs [..., obs_dim]``
        (needed only with a ``prev_state_embed``)."""
        parts = []
        if self.embed_next is not None:
            parts.append(F.relu(self.embed_next(next_obs)))
        if self.embed_action is not None:
            a = F.one_hot(actions.long(), self.n_actions).to(next_obs.dtype) if self.n_actions else actions
            parts.append(F.relu(self.embed_action(a.to(next_obs.dtype))))
        if self.embed_reward is not None:
            parts.append(F.relu(self.embed_reward(rewards.unsqueeze(-1).to(next_obs.dtype))))
        if self.embed_prev is not None:
            if obs is None:
                raise ValueError("this encoder embeds s (prev_state_embed > 0): pass obs")
            parts.append(F.relu(self.embed_prev(obs)))
        return self.before(torch.cat(parts, dim=-1))

    def readout(self, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, logvar)``, each ``[..., latent_dim]``, of the GRU states ``hidden [..., H]``."""
        h = self.after(hidden)
        return self.fc_mean(h), self.fc_logvar(h)

    def forward(self, *, next_obs: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor,
                obs: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Over stored trials (``[B, L, ...]`` inputs, from the trial's start): ``(mean, logvar)``
        ``[B, L + 1, latent_dim]`` and the GRU states ``[B, L + 1, H]``; index t is q(m | tau:t),
        index 0 the prior. Padding after a trial's end only produces posteriors nobody reads."""
        b = next_obs.shape[0]
        x = self.embed(next_obs=next_obs, actions=actions, rewards=rewards, obs=obs)
        h0 = next_obs.new_zeros(1, b, self.hidden_size)
        out, _ = self.gru(x, h0)
        hidden = torch.cat([h0.transpose(0, 1), out], dim=1)
        mean, logvar = self.readout(hidden)
        return mean, logvar, hidden

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """Zeros ``[1, B, H]``: the GRU state before the trial's first transition (the prior's)."""
        return torch.zeros(1, batch_size, self.hidden_size, device=device)

    def advance(self, hidden: torch.Tensor, *, next_obs: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor,
                obs: torch.Tensor | None = None) -> torch.Tensor:
        """One transition for ``[B, ...]`` inputs: the GRU state ``[1, B, H]`` after it (through the
        GRU's cell function: the recurrence of ``forward``, at a fraction of a sequence call's cost)."""
        x = self.embed(next_obs=next_obs, actions=actions, rewards=rewards, obs=obs)
        gru = self.gru
        return torch._VF.gru_cell(x, hidden[0], gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0,
                                  gru.bias_hh_l0).unsqueeze(0)

    def belief(self, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, logvar)`` ``[B, latent_dim]`` of the GRU state ``[1, B, H]``."""
        return self.readout(hidden[0])
