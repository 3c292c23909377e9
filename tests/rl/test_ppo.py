"""PPO's clipped objective against a hand computation, and its bound on the probability ratio."""

import math

import pytest
import torch
from torch.distributions import Independent, Normal

from metarl.rl.ppo import MAX_LOG_RATIO, ppo_objective


def _objective(mean: torch.Tensor, old_log_probs: torch.Tensor, advantages: torch.Tensor):
    dist = Independent(Normal(mean, torch.full_like(mean, 0.5)), 1)
    actions = torch.zeros_like(mean)
    n = mean.shape[0]
    return ppo_objective(dist, torch.zeros(n), actions=actions, old_log_probs=old_log_probs, advantages=advantages,
                         targets=torch.zeros(n), mask=torch.ones(n), clip_range=0.2, value_coef=0.0,
                         entropy_coef=0.0)


def test_clipped_surrogate_by_hand() -> None:
    mean = torch.tensor([[0.1], [-0.3], [0.0]], requires_grad=True)
    old = torch.tensor([0.0, -0.5, 0.4])
    adv = torch.tensor([1.0, -2.0, 0.5])
    _, stats = _objective(mean, old, adv)
    log_p = [-0.5 * (m / 0.5) ** 2 - math.log(0.5 * math.sqrt(2 * math.pi)) for m in (0.1, -0.3, 0.0)]
    terms = []
    for lp, o, a in zip(log_p, old.tolist(), adv.tolist(), strict=True):
        r = math.exp(lp - o)
        terms.append(min(r * a, min(max(r, 0.8), 1.2) * a))
    assert stats["policy_loss"] == pytest.approx(-sum(terms) / 3, rel=1e-5)
    kl = sum(math.exp(lp - o) - 1 - (lp - o) for lp, o in zip(log_p, old.tolist(), strict=True)) / 3
    assert stats["approx_kl"] == pytest.approx(kl, rel=1e-5)


def test_a_ratio_beyond_float32_stays_finite_and_gives_no_gradient() -> None:
    # the second sample's stored log-probability is 300 below its current one: exp(300) overflows
    mean = torch.tensor([[0.1], [0.0]], requires_grad=True)
    log_p0 = -0.5 * (0.1 / 0.5) ** 2 - math.log(0.5 * math.sqrt(2 * math.pi))
    old = torch.tensor([log_p0, -300.0])
    loss, stats = _objective(mean, old, torch.tensor([1.0, -1.0]))
    loss.backward()
    assert math.isfinite(float(loss.detach())) and math.isfinite(stats["approx_kl"])
    assert torch.isfinite(mean.grad).all()
    assert mean.grad[1].item() == 0.0  # beyond the bound: no gradient
    assert mean.grad[0].item() != 0.0
    assert stats["approx_kl"] > math.exp(MAX_LOG_RATIO) / 2 * 0.99


def test_a_ratio_that_underflows_keeps_the_kl_estimate_finite() -> None:
    # stored log-probability 150 above the current one: exp(-150) is 0 in float32 and log(0) = -inf
    mean = torch.tensor([[0.0], [0.0]], requires_grad=True)
    _, stats = _objective(mean, torch.tensor([0.0, 150.0]), torch.tensor([1.0, 1.0]))
    assert math.isfinite(stats["approx_kl"])
