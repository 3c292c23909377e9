"""VariBAD's ELBO over the past and the future of whole trials, batched over trials and time.

For trial n of length L_n the encoder gives posteriors q_t = q(m | tau:t), t = 0..L_n (q_0 the
prior). ELBO term t decodes a sample m_t ~ q_t against *every* step j = 0..L_n - 1 of the trial,
past and future (the reference's ``decode_only_past=False``), and pays the KL of q_t to q_{t-1}
(to N(0, I) at t = 0). The loss summed over t and j, averaged over trials:

    loss = reward_coef * mean_n sum_{t, j} rec_r(n, t, j) + state_coef * mean_n sum_{t, j} rec_s(n, t, j)
           + kl_weight * reduce_n sum_t KL(q_t || q_{t-1})

where ``reduce_n`` sums over the batch's trials with ``kl_sum_over_trials`` (what the reference's
``vae.py: compute_loss`` does, while it averages the reconstruction) and averages otherwise.
Everything is one ``[N, L + 1, L]`` tensor per term: no Python loop over trials or steps.

On long trials (MuJoCo: L = 400, so 160,400 decodes per trial) the reconstruction sum over t is
estimated from ``S`` terms drawn uniformly with replacement among each trial's own ``L_n + 1``
(``elbo_terms [N, S]``, the reference's ``vae_subsample_elbos``), scaled by ``(L_n + 1) / S`` so
that it stays an unbiased estimate of the same ELBO: the reference sums the drawn terms unscaled,
which weighs the KL (always over every t) ``(L + 1) / S`` times more than the full ELBO does.
"""

from __future__ import annotations

import torch
from torch import nn

from metarl.algorithms.varibad.decoder import VAEBatch
from metarl.algorithms.varibad.encoder import TrialEncoder


def gaussian_kl(mean_q: torch.Tensor, logvar_q: torch.Tensor, mean_p: torch.Tensor,
                logvar_p: torch.Tensor) -> torch.Tensor:
    """KL(N(mean_q, diag e^logvar_q) || N(mean_p, diag e^logvar_p)), summed over the last axis."""
    return 0.5 * (logvar_p - logvar_q - 1.0 + (logvar_q.exp() + (mean_q - mean_p).pow(2)) / logvar_p.exp()).sum(-1)


def kl_to_previous(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``[N, T + 1]``: KL(q_t || q_{t-1}) for posteriors ``mean, logvar [N, T + 1, K]``, with
    N(0, I) as q_{-1} (term 0 is the prior's KL to the standard normal)."""
    zeros = torch.zeros_like(mean[:, :1])
    prev_mean = torch.cat([zeros, mean[:, :-1]], dim=1)
    prev_logvar = torch.cat([zeros, logvar[:, :-1]], dim=1)
    return gaussian_kl(mean, logvar, prev_mean, prev_logvar)


def elbo_masks(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(terms [N, L + 1], pairs [N, L + 1, L])`` from a step mask ``[N, L]``: ELBO term t exists
    for t <= L_n; pair (t, j) is decoded when term t exists and step j is real."""
    terms = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)
    return terms, terms[:, :, None] * mask[:, None, :]


def all_steps(mask: torch.Tensor) -> torch.Tensor:
    """``[N, L + 1, L]`` int64: every step j for every ELBO term t (past and future)."""
    n, length = mask.shape
    return torch.arange(length, device=mask.device).expand(n, length + 1, length)


def cell_evidence(cells: torch.Tensor, success: torch.Tensor, mask: torch.Tensor, num_cells: int) -> torch.Tensor:
    """What the trajectory alone says of each cell after t transitions: ``[N, L + 1, cells]`` int8,
    1 where a step reached the cell and paid the success reward (the goal), 0 where a step reached
    it without (ruled out), -1 where no step has reached it yet. ``cells``, ``success``: ``[N, L]``
    (``CellRewardDecoder.targets``); padding (``mask`` 0) adds nothing."""
    n, length = cells.shape
    onehot = torch.nn.functional.one_hot(cells, num_cells) * mask[..., None].long()  # [N, L, C]
    seen = torch.cat([torch.zeros_like(onehot[:, :1]), onehot.cumsum(1)], dim=1) > 0
    hit = torch.cat([torch.zeros_like(onehot[:, :1]), (onehot * success[..., None].long()).cumsum(1)], dim=1) > 0
    out = torch.full((n, length + 1, num_cells), -1, dtype=torch.int8, device=cells.device)
    out[seen] = 0
    out[hit] = 1
    return out


class TrialVAE(nn.Module):
    """The encoder and decoders, and the ELBO of ``loss``. ``state_decoder`` None: reward only."""

    def __init__(self, *, encoder: TrialEncoder, reward_decoder: nn.Module, state_decoder: nn.Module | None = None,
                 reward_coef: float = 1.0, state_coef: float = 1.0, kl_weight: float = 0.01,
                 kl_sum_over_trials: bool = True) -> None:
        super().__init__()
        self.encoder, self.reward_decoder, self.state_decoder = encoder, reward_decoder, state_decoder
        self.reward_coef, self.state_coef = reward_coef, state_coef
        self.kl_weight, self.kl_sum_over_trials = kl_weight, kl_sum_over_trials

    def posteriors(self, batch: VAEBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, logvar)`` ``[N, L + 1, K]`` of the batch's trials."""
        mean, logvar, _ = self.encoder(next_obs=batch.next_obs, actions=batch.actions, rewards=batch.rewards,
                                       obs=batch.obs)
        return mean, logvar

    def loss(self, batch: VAEBatch, *, noise: torch.Tensor,
             elbo_terms: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The negative ELBO (module docstring) and its parts per trial (means over the batch).

        ``noise [N, L + 1, K]``: standard normal draws of the reparameterised samples
        ``m_t = mean_t + exp(logvar_t / 2) * noise_t`` (given, so that a caller controls them).
        ``elbo_terms [N, S]``: the terms t whose reconstruction is decoded (``subsample_terms``);
        None decodes all of them.
        """
        mean, logvar = self.posteriors(batch)
        latent = mean + (0.5 * logvar).exp() * noise
        terms, pairs = elbo_masks(batch.mask)
        if elbo_terms is not None:  # the drawn terms, each weighing (L_n + 1) / S of the full sum
            latent = latent.gather(1, elbo_terms[..., None].expand(-1, -1, latent.shape[-1]))
            pairs = pairs.gather(1, elbo_terms[..., None].expand(-1, -1, pairs.shape[-1]))
            pairs = pairs * (terms.sum(1) / elbo_terms.shape[1])[:, None, None]
        steps = all_steps(batch.mask)[:, :latent.shape[1]]
        reward = (self.reward_decoder.reconstruction(latent, batch, steps) * pairs).sum((1, 2))
        kl = (kl_to_previous(mean, logvar) * terms).sum(1)
        total = self.reward_coef * reward.mean() + self.kl_weight * (kl.sum() if self.kl_sum_over_trials else kl.mean())
        stats = {"reward_reconstruction": reward.mean(), "kl": kl.mean()}
        if self.state_decoder is not None:
            state = (self.state_decoder.reconstruction(latent, batch, steps) * pairs).sum((1, 2))
            total = total + self.state_coef * state.mean()
            stats["state_reconstruction"] = state.mean()
        stats["vae_loss"] = total
        return total, stats


def subsample_terms(mask: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    """``[N, count]`` ELBO terms drawn uniformly with replacement from each trial's ``L_n + 1``
    (``mask [N, L]``, on the CPU generator's device; moved to the mask's)."""
    existing = mask.sum(1).cpu() + 1
    draws = torch.rand(mask.shape[0], count, generator=generator)
    return (draws * existing[:, None]).long().clamp(max=mask.shape[1]).to(mask.device)
