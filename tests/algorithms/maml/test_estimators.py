"""The meta-gradient estimators against the exact gradient on a two-armed bandit small enough to
enumerate: theta is the logit of arm 1, the inner step is REINFORCE on N pulls, the objective is
the expected reward after adaptation, averaged over the inner pulls."""

import itertools
import math

import pytest
import torch

from metarl.algorithms.maml.adaptation import inner_step
from metarl.algorithms.maml.objectives import inner_loss, magic_box, outer_surrogate, sampling_term

REWARD = torch.tensor([0.0, 1.0], dtype=torch.float64)
THETA, LR, INNER_PULLS, POST_PULLS = 0.3, 1.5, 2, 3


def _log_prob(theta: torch.Tensor, arm: torch.Tensor) -> torch.Tensor:
    return torch.where(arm == 1, torch.nn.functional.logsigmoid(theta), torch.nn.functional.logsigmoid(-theta))


def _exact_gradient() -> float:
    theta = torch.tensor(THETA, dtype=torch.float64, requires_grad=True)
    total = torch.zeros((), dtype=torch.float64)
    for pulls in itertools.product([0, 1], repeat=INNER_PULLS):
        arms = torch.tensor(pulls)
        prob = _log_prob(theta, arms).sum().exp()
        score_grad = torch.autograd.grad((_log_prob(theta, arms) * REWARD[arms]).mean(), theta, create_graph=True)[0]
        adapted = theta + LR * score_grad
        total = total + prob * (torch.sigmoid(adapted) * REWARD[1] + torch.sigmoid(-adapted) * REWARD[0])
    return float(torch.autograd.grad(total, theta)[0])


def _estimates(estimator: str, replicates: int = 200_000, seed: int = 0) -> torch.Tensor:
    """Per-replicate meta-gradient estimates ``[replicates]`` computed with the library's losses."""
    gen = torch.Generator().manual_seed(seed)
    theta = torch.tensor(THETA, dtype=torch.float64, requires_grad=True)
    per_rep = theta.expand(replicates)
    params = {"theta": per_rep}
    arms = (torch.rand(replicates, INNER_PULLS, 1, generator=gen, dtype=torch.float64)
            < torch.sigmoid(per_rep.detach()).view(-1, 1, 1)).long()
    logp = _log_prob(params["theta"].view(-1, 1, 1), arms)
    mask = torch.ones_like(logp)
    loss = inner_loss(logp, REWARD[arms], mask, "plain" if estimator == "dice" else estimator)
    adapted = inner_step(params, loss, LR)["theta"]
    post_arms = (torch.rand(replicates, POST_PULLS, 1, generator=gen, dtype=torch.float64)
                 < torch.sigmoid(adapted.detach()).view(-1, 1, 1)).long()
    post_logp = _log_prob(adapted.view(-1, 1, 1), post_arms)
    objective = outer_surrogate(post_logp, post_logp.detach(), REWARD[post_arms], torch.ones_like(post_logp))
    if estimator == "dice":
        objective = objective + sampling_term(logp.sum((1, 2)), REWARD[post_arms].mean((1, 2)))
    return torch.autograd.grad(objective.sum(), per_rep)[0]


def test_exact_gradient_by_finite_differences_of_the_enumeration():
    def value(t):
        total = 0.0
        for pulls in itertools.product([0, 1], repeat=INNER_PULLS):
            p1 = 1 / (1 + math.exp(-t))
            prob = math.prod(p1 if a else 1 - p1 for a in pulls)
            grad = sum((1 - p1) * REWARD[1].item() if a else -p1 * REWARD[0].item() for a in pulls) / INNER_PULLS
            total += prob / (1 + math.exp(-(t + LR * grad)))
        return total

    fd = (value(THETA + 1e-6) - value(THETA - 1e-6)) / 2e-6
    assert _exact_gradient() == pytest.approx(fd, rel=1e-6)


def test_dice_is_unbiased_and_plain_is_biased():
    exact = _exact_gradient()
    for estimator, unbiased in (("dice", True), ("plain", False)):
        est = _estimates(estimator)
        stderr = float(est.std() / math.sqrt(est.numel()))
        error = abs(float(est.mean()) - exact)
        if unbiased:
            assert error < 4 * stderr, (estimator, float(est.mean()), exact, stderr)
        else:
            assert error > 10 * stderr, (estimator, float(est.mean()), exact, stderr)


def test_lvc_removes_most_of_the_plain_bias():
    exact = _exact_gradient()
    plain, lvc = float(_estimates("plain").mean()), float(_estimates("lvc").mean())
    assert abs(lvc - exact) < 0.5 * abs(plain - exact)


def test_magic_box_value_and_derivative():
    x = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    y = magic_box(3 * x)
    assert float(y.detach()) == 1.0
    assert float(torch.autograd.grad(y, x)[0]) == pytest.approx(3.0)
