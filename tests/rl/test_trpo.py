import math

import torch

from metarl.rl.trpo import conjugate_gradient, fisher_vector_product, flat_grad, trpo_step


def test_conjugate_gradient_solves_spd_system():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    a = a @ a.T + 0.5 * torch.eye(6, dtype=torch.float64)
    b = torch.randn(6, generator=gen, dtype=torch.float64)
    x = conjugate_gradient(lambda v: a @ v, b, iterations=20)
    torch.testing.assert_close(x, torch.linalg.solve(a, b))


def _gaussian_kl(mean_old, log_std_old, mean, log_std):
    var_old, var = torch.exp(2 * log_std_old), torch.exp(2 * log_std)
    return (log_std - log_std_old + (var_old + (mean_old - mean) ** 2) / (2 * var) - 0.5).sum()


def test_fisher_vector_product_equals_explicit_hessian():
    mean_old, log_std_old = torch.tensor([0.3, -1.0], dtype=torch.float64), torch.tensor([0.1, -0.2],
                                                                                          dtype=torch.float64)
    params = [torch.tensor([0.4, -0.8], dtype=torch.float64, requires_grad=True),
              torch.tensor([0.0, 0.1], dtype=torch.float64, requires_grad=True)]
    kl = _gaussian_kl(mean_old, log_std_old, *params)
    fvp = fisher_vector_product(kl, params, damping=0.1)
    hess = torch.autograd.functional.hessian(
        lambda z: _gaussian_kl(mean_old, log_std_old, z[:2], z[2:]), torch.cat([p.detach() for p in params]))
    v = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    torch.testing.assert_close(fvp(v), hess @ v + 0.1 * v)


def _linear_gaussian_problem(mean):
    """Maximise mean . g subject to KL(N(0,1) || N(mean,1)) = |mean|^2 / 2 <= max_kl."""
    g = torch.tensor([3.0, -4.0], dtype=torch.float64)

    def objective(create_graph):
        return -(mean * g).sum(), 0.5 * (mean**2).sum()

    return g, objective


def test_trpo_step_lands_on_the_kl_boundary_in_the_gradient_direction():
    mean = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    g, objective = _linear_gaussian_problem(mean)
    stats = trpo_step(params=[mean], objective=objective, max_kl=0.02, damping=0.0)
    assert not stats.rejected and stats.step_fraction == 1.0
    expected = g / g.norm() * math.sqrt(2 * 0.02)  # the KL-constrained optimum
    torch.testing.assert_close(mean.detach(), expected)
    assert flat_grad(objective(False)[0], [mean]).norm() > 0


def test_trpo_rejects_a_step_that_never_improves_and_restores_params():
    mean = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    _, objective = _linear_gaussian_problem(mean)
    calls = {"n": 0}

    def worse_off_grid(create_graph):
        calls["n"] += 1
        loss, kl = objective(create_graph)
        return (loss if create_graph else loss.detach() + 10.0), kl

    stats = trpo_step(params=[mean], objective=worse_off_grid, max_kl=0.01, max_backtracks=5)
    assert stats.rejected and stats.backtracks == 5
    assert torch.equal(mean.detach(), torch.zeros(2, dtype=torch.float64))
    assert calls["n"] == 6


def test_trpo_rejects_a_step_that_violates_the_kl_bound():
    mean = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    _, objective = _linear_gaussian_problem(mean)

    def kl_lies(create_graph):
        loss, kl = objective(create_graph)
        return loss, (kl if create_graph else kl.detach() + 1.0)

    stats = trpo_step(params=[mean], objective=kl_lies, max_kl=0.01)
    assert stats.rejected and torch.count_nonzero(mean.detach()) == 0
    assert stats.metrics()["trpo_rejected"] == 1.0


def test_solve_cg_returns_the_product_of_its_solution():
    from metarl.rl.trpo import solve_cg

    g = torch.Generator().manual_seed(3)
    m = torch.randn(6, 6, generator=g, dtype=torch.float64)
    a = m @ m.T + 0.5 * torch.eye(6, dtype=torch.float64)
    b = torch.randn(6, generator=g, dtype=torch.float64)
    for iterations in (2, 4, 10):
        x, ax = solve_cg(lambda v: a @ v, b, iterations=iterations)
        torch.testing.assert_close(ax, a @ x, rtol=1e-9, atol=1e-9)
