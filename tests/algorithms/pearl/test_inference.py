"""The posterior over z: the product of Gaussians against its closed form computed another way,
its invariance to the order of the context, and the KL against torch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from metarl.algorithms.pearl.inference import kl_to_standard_normal, product_of_gaussians
from metarl.algorithms.pearl.networks import ContextEncoder


def _pairwise_product(mus: np.ndarray, variances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fold the factors in one at a time with the two-Gaussian product formula, in float64."""
    mean, var = mus[0], variances[0]
    for m, v in zip(mus[1:], variances[1:], strict=True):
        mean, var = (mean * v + m * var) / (var + v), var * v / (var + v)
    return mean, var


def test_product_of_gaussians_is_the_precision_weighted_mean():
    rng = np.random.default_rng(0)
    mus, variances = rng.normal(size=(3, 7, 4)), rng.uniform(0.05, 3.0, size=(3, 7, 4))
    mean, var = product_of_gaussians(torch.tensor(mus), torch.tensor(variances))
    for t in range(3):
        want_mean, want_var = _pairwise_product(mus[t], variances[t])
        np.testing.assert_allclose(mean[t].numpy(), want_mean, rtol=1e-10)
        np.testing.assert_allclose(var[t].numpy(), want_var, rtol=1e-10)


def test_masked_factors_are_left_out_and_no_context_is_the_prior():
    rng = np.random.default_rng(1)
    mus, variances = rng.normal(size=(2, 6, 3)), rng.uniform(0.1, 2.0, size=(2, 6, 3))
    mask = torch.tensor([[1, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0]], dtype=torch.float64)
    mean, var = product_of_gaussians(torch.tensor(mus), torch.tensor(variances), mask)
    want_mean, want_var = _pairwise_product(mus[0][[0, 2, 3]], variances[0][[0, 2, 3]])
    np.testing.assert_allclose(mean[0].numpy(), want_mean, rtol=1e-10)
    np.testing.assert_allclose(var[0].numpy(), want_var, rtol=1e-10)
    assert torch.equal(mean[1], torch.zeros(3, dtype=torch.float64))
    assert torch.equal(var[1], torch.ones(3, dtype=torch.float64))


def test_posterior_ignores_the_order_of_the_context():
    torch.manual_seed(0)
    encoder = ContextEncoder(context_dim=5, latent_size=3, hidden_sizes=(16, 16)).double()
    context = torch.randn(4, 9, 5, dtype=torch.float64)
    permuted = context[:, torch.randperm(9)]
    a = product_of_gaussians(*encoder(context))
    b = product_of_gaussians(*encoder(permuted))
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-12)
    changed = context.clone()
    changed[:, 0] += 1.0  # a different context does change it: the check above can fail
    assert not torch.allclose(product_of_gaussians(*encoder(changed))[0], a[0])


@pytest.mark.parametrize("seed", [0, 1])
def test_kl_matches_torch(seed):
    gen = torch.Generator().manual_seed(seed)
    mean = torch.randn(5, 4, generator=gen, dtype=torch.float64)
    var = torch.rand(5, 4, generator=gen, dtype=torch.float64) * 3 + 0.01
    want = kl_divergence(Normal(mean, var.sqrt()), Normal(torch.zeros(4, dtype=torch.float64),
                                                          torch.ones(4, dtype=torch.float64))).sum(-1)
    torch.testing.assert_close(kl_to_standard_normal(mean, var), want, rtol=1e-12, atol=1e-12)
