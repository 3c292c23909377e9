"""The meta-gradient through K inner steps against finite differences, in float64 on fixed data."""

from types import SimpleNamespace

import pytest
import torch

from metarl.algorithms.maml.adaptation import adapt, check_step_sizes, inner_step, policy_inner_step
from metarl.algorithms.maml.objectives import inner_loss, outer_surrogate
from metarl.policies.mlp import GaussianMLPPolicy, expand_params, named_params

TASKS, EPISODES, H = 3, 2, 4


@pytest.fixture
def problem():
    torch.manual_seed(0)
    policy = GaussianMLPPolicy(obs_dim=2, act_dim=2, hidden_sizes=(6,), activation="tanh").double()
    gen = torch.Generator().manual_seed(1)

    def batch():
        shape = (TASKS, EPISODES, H)
        return {"obs": torch.randn(*shape, 2, generator=gen, dtype=torch.float64),
                "actions": torch.randn(*shape, 2, generator=gen, dtype=torch.float64),
                "adv": torch.randn(*shape, generator=gen, dtype=torch.float64),
                "mask": torch.ones(*shape, dtype=torch.float64)}

    inner = [batch(), batch()]
    post = batch()
    post["old"] = torch.randn(TASKS, EPISODES, H, generator=gen, dtype=torch.float64)
    return policy, inner, post


def _losses(policy, inner, estimator="plain"):
    def make(b):
        return lambda p: inner_loss(policy.distribution(b["obs"], p).log_prob(b["actions"]), b["adv"], b["mask"],
                                    estimator)
    return [make(b) for b in inner]


def _meta_objective(policy, inner, post, flat_theta, steps, first_order=False, lr=0.3):
    """Post-adaptation surrogate as a function of the flattened meta-parameters."""
    names = [n for n, _ in policy.named_parameters()]
    shapes = [p.shape for _, p in policy.named_parameters()]
    theta, offset = {}, 0
    for n, s in zip(names, shapes, strict=True):
        theta[n] = flat_theta[offset:offset + s.numel()].view(s)
        offset += s.numel()
    params = adapt(expand_params(theta, TASKS), _losses(policy, inner[:steps]), [lr] * steps,
                   first_order=first_order)[-1]
    logp = policy.distribution(post["obs"], params).log_prob(post["actions"])
    return outer_surrogate(logp, post["old"], post["adv"], post["mask"]).sum()


def _flat(policy):
    return torch.cat([p.detach().reshape(-1) for p in policy.parameters()])


@pytest.mark.parametrize("steps", [1, 2])
def test_meta_gradient_matches_finite_differences(problem, steps):
    policy, inner, post = problem
    theta = _flat(policy).requires_grad_(True)
    grad = torch.autograd.grad(_meta_objective(policy, inner, post, theta, steps), theta)[0]
    gen = torch.Generator().manual_seed(2)
    eps = 1e-6
    for _ in range(5):
        d = torch.randn(theta.shape, generator=gen, dtype=torch.float64)
        plus = _meta_objective(policy, inner, post, (theta.detach() + eps * d).requires_grad_(True), steps)
        minus = _meta_objective(policy, inner, post, (theta.detach() - eps * d).requires_grad_(True), steps)
        fd = (plus - minus) / (2 * eps)
        torch.testing.assert_close(grad @ d, fd.detach(), rtol=1e-6, atol=1e-8)


def test_first_order_removes_exactly_the_second_order_term(problem):
    """K=1: full = (I - lr H) g', first order = g', with g' the outer gradient at the adapted
    parameters and H the inner loss Hessian at theta, computed here independently."""
    policy, inner, post = problem
    lr = 0.3
    theta = _flat(policy).requires_grad_(True)
    full = torch.autograd.grad(_meta_objective(policy, inner, post, theta, 1, lr=lr), theta)[0]
    first = torch.autograd.grad(_meta_objective(policy, inner, post, theta, 1, first_order=True, lr=lr), theta)[0]
    second = full - first
    assert second.norm() > 1e-3 * full.norm()
    # independent: per task, H_i g'_i with torch.autograd.functional.hvp on a single-task function
    expected = torch.zeros_like(theta)
    names = [n for n, _ in policy.named_parameters()]
    shapes = [p.shape for _, p in policy.named_parameters()]

    def unflat(z):
        out, offset = {}, 0
        for n, s in zip(names, shapes, strict=True):
            out[n] = z[offset:offset + s.numel()].view(s)
            offset += s.numel()
        return out

    b = inner[0]
    for i in range(TASKS):
        def inner_i(z, i=i):
            logp = policy.distribution(b["obs"][i], unflat(z)).log_prob(b["actions"][i])
            return -(logp * b["adv"][i]).mean()
        adapted = theta.detach() - lr * torch.autograd.functional.jacobian(inner_i, theta.detach())

        def outer_i(z, i=i):
            logp = policy.distribution(post["obs"][i], unflat(z)).log_prob(post["actions"][i])
            return (torch.exp(logp - post["old"][i]) * post["adv"][i]).mean()
        g_post = torch.autograd.functional.jacobian(outer_i, adapted)
        expected -= lr * torch.autograd.functional.hvp(inner_i, theta.detach(), g_post)[1]
    torch.testing.assert_close(second, expected, rtol=1e-7, atol=1e-10)
    torch.testing.assert_close(first, full - expected, rtol=1e-7, atol=1e-10)


def test_second_step_differentiated_at_the_adapted_parameters(problem):
    """The common bug: step 2's gradient taken w.r.t. the meta-parameters instead of the step-1
    parameters. That variant gives a different adapted point, so the finite-difference test
    above would catch it; here we check our step 2 uses grad at theta_1 explicitly."""
    policy, inner, _ = problem
    theta = expand_params(named_params(policy), TASKS)
    losses = _losses(policy, inner)
    trace = adapt(theta, losses, [0.3, 0.3])
    names = list(theta)
    g1 = torch.autograd.grad(losses[1](trace[1]).sum(), [trace[1][n] for n in names], retain_graph=True)
    for n, g in zip(names, g1, strict=True):
        torch.testing.assert_close(trace[2][n], trace[1][n] - 0.3 * g)
    wrong = torch.autograd.grad(losses[1](trace[1]).sum(), [theta[n] for n in names], retain_graph=True)
    assert any(not torch.allclose(a, b) for a, b in zip(wrong, g1, strict=True))


def test_adapted_loss_falls(problem):
    policy, inner, _ = problem
    loss = _losses(policy, inner)[0]
    theta = expand_params(named_params(policy), TASKS)
    after = inner_step(theta, loss(theta), 0.05)
    assert (loss(after) < loss(theta)).all()


def test_batched_adaptation_equals_each_task_alone(problem):
    policy, inner, _ = problem
    together = adapt(expand_params(named_params(policy), TASKS), _losses(policy, inner), [0.3, 0.2])[-1]
    for i in range(TASKS):
        alone_batches = [{k: v[i:i + 1] for k, v in b.items()} for b in inner]
        alone = adapt(expand_params(named_params(policy), 1), _losses(policy, alone_batches), [0.3, 0.2])[-1]
        for n in together:
            torch.testing.assert_close(together[n][i], alone[n][0])


def test_learned_per_parameter_step_sizes_get_a_gradient(problem):
    policy, inner, _ = problem
    theta = expand_params(named_params(policy), TASKS)
    lrs = {n: torch.full_like(p, 0.1, requires_grad=True) for n, p in named_params(policy).items()}
    adapted = adapt(theta, _losses(policy, inner[:1]), [lrs])[-1]
    total = sum(v.sum() for v in adapted.values())
    grads = torch.autograd.grad(total, list(lrs.values()))
    assert all(g.abs().sum() > 0 for g in grads)


def test_bad_step_sizes_and_k():
    with pytest.raises(ValueError, match="> 0"):
        check_step_sizes([0.1, 0.0])
    with pytest.raises(ValueError, match="K >= 1"):
        check_step_sizes([])
    with pytest.raises(ValueError, match="K must be >= 1"):
        adapt({}, [], [])


def _episodes(b):
    return SimpleNamespace(obs=b["obs"], actions=b["actions"], advantages=b["adv"], mask=b["mask"])


def _task_alone(policy, b, i):
    """Task ``i``'s REINFORCE loss written out, as a function of one flat parameter vector."""
    names = [n for n, _ in policy.named_parameters()]
    shapes = [p.shape for _, p in policy.named_parameters()]

    def loss(z):
        params, offset = {}, 0
        for n, shape in zip(names, shapes, strict=True):
            params[n] = z[offset:offset + shape.numel()].view(shape)
            offset += shape.numel()
        return -(policy.distribution(b["obs"][i], params).log_prob(b["actions"][i]) * b["adv"][i]).mean()

    return loss, names, shapes


@pytest.mark.parametrize("estimator", ["plain", "lvc"])
def test_policy_inner_step_is_each_tasks_own_gradient_step(problem, estimator):
    """Against each task's loss written out alone (LVC's gradient has the plain one's value)."""
    policy, inner, _ = problem
    b = inner[0]
    step = policy_inner_step(policy, expand_params(named_params(policy), TASKS), _episodes(b), 0.3,
                             estimator=estimator)
    theta = _flat(policy)
    for i in range(TASKS):
        loss, names, shapes = _task_alone(policy, b, i)
        grad = torch.autograd.functional.jacobian(loss, theta)
        ours = torch.cat([step.grads[n][i].reshape(-1) for n in names])
        torch.testing.assert_close(ours, grad)
        torch.testing.assert_close(torch.cat([step.adapted[n][i].reshape(-1) for n in names]), theta - 0.3 * grad)
        expected_logp = policy.distribution(b["obs"][i]).log_prob(b["actions"][i])
        torch.testing.assert_close(step.log_probs[i], expected_logp)


def test_the_three_modes_of_the_policy_inner_step(problem):
    """Sampling's (detached, no graph), the replay's (a function of the parameters) and the
    curvature's (the gradient differentiable at a leaf): same values; the curvature's gradient gives
    each task's inner-loss Hessian-vector product."""
    policy, inner, _ = problem
    b = _episodes(inner[0])
    params = expand_params(named_params(policy), TASKS)
    replay = policy_inner_step(policy, params, b, 0.3, estimator="plain")
    sampling = policy_inner_step(policy, params, b, 0.3, estimator="plain", create_graph=False, detached=True)
    curvature = policy_inner_step(policy, params, b, 0.3, estimator="plain", create_graph=True, detached=True)
    first_order = policy_inner_step(policy, params, b, 0.3, estimator="plain", first_order=True)
    for n in params:
        torch.testing.assert_close(sampling.adapted[n], replay.adapted[n].detach())
        assert not sampling.adapted[n].requires_grad and not sampling.grads[n].requires_grad
        assert replay.adapted[n].requires_grad and replay.grads[n].requires_grad
        assert first_order.adapted[n].requires_grad and not first_order.grads[n].requires_grad
        assert curvature.at[n].is_leaf and curvature.grads[n].requires_grad
    names = list(params)
    gen = torch.Generator().manual_seed(3)
    vec = {n: torch.randn(params[n].shape, generator=gen, dtype=torch.float64) for n in names}
    dot = sum((curvature.grads[n] * vec[n]).sum() for n in names)
    hvp = torch.autograd.grad(dot, [curvature.at[n] for n in names])
    theta = _flat(policy)
    for i in range(TASKS):
        loss, _, _ = _task_alone(policy, inner[0], i)
        v_i = torch.cat([vec[n][i].reshape(-1) for n in names])
        expected = torch.autograd.functional.hvp(loss, theta, v_i)[1]
        torch.testing.assert_close(torch.cat([h[i].reshape(-1) for h in hvp]), expected)
