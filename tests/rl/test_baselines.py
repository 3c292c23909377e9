import numpy as np
import pytest
import torch

from metarl.rl.baselines import baseline_features, fit_linear_baseline, linear_baseline_values


def test_features_by_hand():
    obs = torch.tensor([[[[1.0, -2.0], [3.0, 20.0]]]], dtype=torch.float64)  # [1, 1, 2, 2]
    feats = baseline_features(obs, torch.ones(1, 1, 2, dtype=torch.float64))
    expected_t1 = [3.0, 10.0, 9.0, 100.0, 0.01, 1e-4, 1e-6, 1.0]  # obs clipped to 10
    np.testing.assert_allclose(feats[0, 0, 0], [1, -2, 1, 4, 0, 0, 0, 1])
    np.testing.assert_allclose(feats[0, 0, 1], expected_t1)
    masked = baseline_features(obs, torch.tensor([[[1.0, 0.0]]], dtype=torch.float64))
    assert masked[0, 0, 1].abs().sum() == 0


def test_batched_fit_equals_numpy_ridge_per_task():
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(3, 50, 6, generator=gen, dtype=torch.float64)
    targets = torch.randn(3, 50, generator=gen, dtype=torch.float64)
    coeffs = fit_linear_baseline(feats, targets, reg=1e-3)
    for i in range(3):
        f, y = feats[i].numpy(), targets[i].numpy()
        ridge = np.linalg.solve(f.T @ f + 1e-3 * np.eye(6), f.T @ y)
        np.testing.assert_allclose(coeffs[i].numpy(), ridge, rtol=1e-8)


def test_fit_recovers_a_linear_function_and_ignores_padding():
    gen = torch.Generator().manual_seed(1)
    obs = torch.randn(2, 4, 30, 2, generator=gen, dtype=torch.float64)
    mask = torch.ones(2, 4, 30, dtype=torch.float64)
    mask[:, :, 20:] = 0.0
    truth = torch.randn(2, 8, generator=gen, dtype=torch.float64)
    returns = torch.einsum("tehf,tf->teh", baseline_features(obs, mask), truth)
    returns = returns + 1000.0 * (1 - mask)  # garbage on padding must not matter
    values = linear_baseline_values(obs, mask, returns, reg=1e-10)
    torch.testing.assert_close(values, returns * mask, rtol=1e-5, atol=1e-6)


def test_singular_system_raises_reg_and_bad_shapes_error():
    feats = torch.zeros(1, 5, 4, dtype=torch.float64)
    coeffs = fit_linear_baseline(feats, torch.zeros(1, 5, dtype=torch.float64), reg=0.0)
    assert torch.isfinite(coeffs).all()
    with pytest.raises(ValueError, match="features must be"):
        fit_linear_baseline(torch.zeros(5, 4), torch.zeros(5))


def test_a_straight_line_runaway_is_fitted_not_refused():
    """Every episode runs off at full speed: positions are collinear with time and the Gram matrix
    is ~1e7 in size; float32 could not solve it even with the largest ridge (a crash once seen in
    MAML's evaluation when fine-tuning a near-deterministic pretrained policy)."""
    import torch

    from metarl.rl.baselines import linear_baseline_values

    steps = torch.arange(100, dtype=torch.float32)
    position = (0.0999 * (steps + 1)).clamp(max=9.9)
    obs = torch.stack([position, -position], dim=-1).expand(3, 20, 100, 2).contiguous()
    mask = torch.ones(3, 20, 100)
    returns = -(position.flip(0).cumsum(0).flip(0)).expand(3, 20, 100).contiguous()
    values = linear_baseline_values(obs, mask, returns)
    assert values.dtype == torch.float32 and torch.isfinite(values).all()
    assert (values - returns).abs().max() < 0.05 * returns.abs().max()
