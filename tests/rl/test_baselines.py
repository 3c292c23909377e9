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


def test_next_values_are_the_fit_at_the_next_observation_one_step_later():
    """Inside an episode V(next_obs_h) is V(obs_{h+1}); at the last step it is the fit evaluated at
    the final observation with time (h + 1) / 100, written out feature by feature here."""
    from metarl.rl.baselines import linear_baseline_with_next

    gen = torch.Generator().manual_seed(2)
    walk = torch.randn(2, 3, 6, 1, generator=gen, dtype=torch.float64).cumsum(2)  # 5 steps + final obs
    obs, next_obs = walk[:, :, :5], walk[:, :, 1:]
    mask = torch.ones(2, 3, 5, dtype=torch.float64)
    mask[1, :, 4] = 0.0  # task 1's episodes end after 4 steps
    next_obs = next_obs * mask.unsqueeze(-1)
    returns = torch.randn(2, 3, 5, generator=gen, dtype=torch.float64) * mask
    values, next_values = linear_baseline_with_next(obs, next_obs, mask, returns)
    torch.testing.assert_close(values, linear_baseline_values(obs, mask, returns))
    torch.testing.assert_close(next_values[0, :, :4], values[0, :, 1:])
    torch.testing.assert_close(next_values[1, :, :3], values[1, :, 1:4])
    assert (next_values[1, :, 4] == 0).all()
    coeffs = fit_linear_baseline(baseline_features(obs, mask).reshape(2, 15, 6), returns.reshape(2, 15))
    for task, last in ((0, 4), (1, 3)):
        x, t = next_obs[task, :, last, 0], (last + 1) / 100.0
        by_hand = torch.stack([x, x**2, torch.full_like(x, t), torch.full_like(x, t**2), torch.full_like(x, t**3),
                               torch.ones_like(x)], -1) @ coeffs[task]
        torch.testing.assert_close(next_values[task, :, last], by_hand)
