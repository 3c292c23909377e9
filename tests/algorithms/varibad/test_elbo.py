"""The ELBO's pieces against independent computations: the Gaussian KL against torch's, the
reconstruction term against a hand-computed case, and the batched loss against a loop over trials."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Independent, Normal, kl_divergence

from metarl.algorithms.varibad.decoder import CellRewardDecoder, GridCells, TransitionRewardDecoder, VAEBatch
from metarl.algorithms.varibad.elbo import (
    TrialVAE,
    all_steps,
    elbo_masks,
    gaussian_kl,
    kl_to_previous,
    subsample_terms,
)
from metarl.algorithms.varibad.encoder import TrialEncoder


def _normal(mean: torch.Tensor, logvar: torch.Tensor) -> Independent:
    return Independent(Normal(mean, (0.5 * logvar).exp()), 1)


def test_gaussian_kl_is_torchs():
    g = torch.Generator().manual_seed(0)
    mq, lq, mp, lp = (torch.randn(7, 5, generator=g, dtype=torch.float64) for _ in range(4))
    expected = kl_divergence(_normal(mq, lq), _normal(mp, lp))
    assert torch.allclose(gaussian_kl(mq, lq, mp, lp), expected, atol=1e-12)


def test_kl_to_previous_posterior_and_to_the_prior_at_t0():
    g = torch.Generator().manual_seed(1)
    mean, logvar = torch.randn(3, 6, 4, generator=g, dtype=torch.float64), torch.randn(3, 6, 4, generator=g,
                                                                                       dtype=torch.float64)
    got = kl_to_previous(mean, logvar)
    standard = _normal(torch.zeros(3, 4, dtype=torch.float64), torch.zeros(3, 4, dtype=torch.float64))
    assert torch.allclose(got[:, 0], kl_divergence(_normal(mean[:, 0], logvar[:, 0]), standard), atol=1e-12)
    for t in range(1, 6):
        expected = kl_divergence(_normal(mean[:, t], logvar[:, t]), _normal(mean[:, t - 1], logvar[:, t - 1]))
        assert torch.allclose(got[:, t], expected, atol=1e-12)


def _identity_cell_decoder(cells: int) -> CellRewardDecoder:
    """A decoder whose logits are the latent itself (latent_dim = cells, no hidden layers)."""
    decoder = CellRewardDecoder(latent_dim=cells, cells=GridCells(low=(0,), sizes=(cells,)), layers=())
    with torch.no_grad():
        decoder.head.weight.copy_(torch.eye(cells))
        decoder.head.bias.zero_()
    return decoder


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


def test_reconstruction_decodes_every_step_from_every_posterior_by_hand():
    """A 2-step trial on a 1-D grid of 3 cells: step 0 reaches cell 2 and pays 1 (the goal),
    step 1 reaches cell 0 and pays -0.1. Every posterior t = 0, 1, 2 decodes both steps."""
    decoder = _identity_cell_decoder(3)
    logits = [[0.3, -1.2, 0.8], [1.5, 0.1, -0.4], [-2.0, 0.7, 2.5]]  # [t][cell]
    latent = torch.tensor([logits])
    batch = VAEBatch(obs=None, next_obs=torch.tensor([[[2.0], [0.0]]]), actions=torch.zeros(1, 2, dtype=torch.long),
                     rewards=torch.tensor([[1.0, -0.1]]), mask=torch.ones(1, 2))
    got = decoder.reconstruction(latent, batch, all_steps(batch.mask))
    assert got.shape == (1, 3, 2)
    for t in range(3):
        assert got[0, t, 0].item() == pytest.approx(-_log_sigmoid(logits[t][2]), rel=1e-6)  # goal: -log p
        assert got[0, t, 1].item() == pytest.approx(-_log_sigmoid(-logits[t][0]), rel=1e-6)  # ruled out: -log(1-p)
    # a trial of one real step (the second is padding): terms t = 0, 1 decode step 0 only
    terms, pairs = elbo_masks(torch.tensor([[1.0, 0.0]]))
    assert terms.tolist() == [[1.0, 1.0, 0.0]]
    total = float((got * pairs).sum().detach())
    assert total == pytest.approx(-_log_sigmoid(logits[0][2]) - _log_sigmoid(logits[1][2]), rel=1e-6)


def _vae(kind: str, *, kl_sum: bool) -> TrialVAE:
    torch.manual_seed(0)
    encoder = TrialEncoder(obs_dim=2, n_actions=5, hidden_size=8, latent_dim=3, state_embed=4, action_embed=3,
                           reward_embed=2, prev_state_embed=2)
    if kind == "cells":
        decoder = CellRewardDecoder(latent_dim=3, cells=GridCells(low=(0, 0), sizes=(5, 5)), layers=(6,))
    else:
        decoder = TransitionRewardDecoder(latent_dim=3, obs_dim=2, action_width=5, discrete=True, state_embed=4,
                                          action_embed=3, layers=(6,), prev_state=True, action=True)
    return TrialVAE(encoder=encoder, reward_decoder=decoder, kl_weight=0.3, kl_sum_over_trials=kl_sum)


def _batch(n: int, length: int, lengths: list[int]) -> VAEBatch:
    g = torch.Generator().manual_seed(2)
    mask = (torch.arange(length)[None] < torch.tensor(lengths)[:, None]).float()
    obs = torch.randint(0, 5, (n, length, 2), generator=g).float()
    next_obs = torch.randint(0, 5, (n, length, 2), generator=g).float()
    rewards = torch.where(torch.rand(n, length, generator=g) < 0.2, 1.0, -0.1) * mask
    actions = torch.randint(0, 5, (n, length), generator=g)
    return VAEBatch(obs=obs * mask[..., None], next_obs=next_obs * mask[..., None], actions=actions * mask.long(),
                    rewards=rewards, mask=mask)


@pytest.mark.parametrize("kind", ["cells", "transition"])
@pytest.mark.parametrize("kl_sum", [True, False])
def test_batched_loss_equals_a_loop_over_trials(kind, kl_sum):
    """Values and gradients: the batched ELBO over trials of different lengths against each trial
    alone (cut to its own length, with its own noise), combined as the module docstring says."""
    lengths = [6, 4, 1]
    batch = _batch(3, 6, lengths)
    noise = torch.randn(3, 7, 3, generator=torch.Generator().manual_seed(3))
    vae = _vae(kind, kl_sum=kl_sum)
    loss, _ = vae.loss(batch, noise=noise)
    grads = torch.autograd.grad(loss, list(vae.parameters()))
    reward_terms, kl_terms = [], []
    for n, length in enumerate(lengths):
        one = batch.take(slice(n, n + 1)).take((slice(None), slice(0, length)))
        _, stats = vae.loss(one, noise=noise[n:n + 1, :length + 1])
        reward_terms.append(stats["reward_reconstruction"])
        kl_terms.append(stats["kl"])
    kl = torch.stack(kl_terms)
    looped = torch.stack(reward_terms).mean() + 0.3 * (kl.sum() if kl_sum else kl.mean())
    assert loss.item() == pytest.approx(looped.item(), rel=1e-5)
    for got, expected in zip(grads, torch.autograd.grad(looped, list(vae.parameters())), strict=True):
        assert torch.allclose(got, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["cells", "transition"])
def test_subsampled_terms_are_an_unbiased_estimate_of_the_full_elbo(kind):
    """One term t per trial, reweighted by (L_n + 1): averaged over every choice of t (enumerated,
    so the expectation is exact) it is the full ELBO; and every term once is the full ELBO itself.
    The reference's unweighted sum of the drawn terms fails the first check."""
    lengths = [6, 6, 6]
    batch = _batch(3, 6, lengths)
    noise = torch.randn(3, 7, 3, generator=torch.Generator().manual_seed(4))
    vae = _vae(kind, kl_sum=True)
    full, _ = vae.loss(batch, noise=noise)
    every, _ = vae.loss(batch, noise=noise, elbo_terms=torch.arange(7).expand(3, 7))
    assert every.item() == pytest.approx(full.item(), rel=1e-6)
    drawn = [vae.loss(batch, noise=noise, elbo_terms=torch.full((3, 1), t))[0] for t in range(7)]
    assert torch.stack(drawn).mean().item() == pytest.approx(full.item(), rel=1e-5)


def test_subsample_terms_stays_within_each_trials_own_terms():
    mask = (torch.arange(8)[None] < torch.tensor([8, 3, 0])[:, None]).float()
    terms = subsample_terms(mask, 500, torch.Generator().manual_seed(0))
    assert terms.shape == (3, 500)
    for n, length in enumerate([8, 3, 0]):
        assert set(terms[n].tolist()) == set(range(length + 1))
