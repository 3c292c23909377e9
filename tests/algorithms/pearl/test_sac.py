"""PEARL's SAC step: its targets recomputed by hand on a tiny network, and the update batched over
the meta-batch against a Python loop of per-task losses (same gradients)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metarl.algorithms.pearl.config import LossConfig
from metarl.algorithms.pearl.inference import kl_to_standard_normal, sample_latent
from metarl.algorithms.pearl.networks import ContextEncoder, QNetwork, TanhGaussianPolicy, VNetwork
from metarl.algorithms.pearl.sac import (
    Batch,
    Noise,
    PearlNetworks,
    PearlUpdate,
    actor_value_losses,
    critic_loss,
    posterior,
)

LOSS = LossConfig(reward_scale=5.0, gamma=0.9, tau=0.1, kl_weight=0.3, policy_mean_reg=1e-2, policy_std_reg=2e-2)


def _nets(*, obs=2, act=1, latent=1, hidden=(3,), encoder=False) -> PearlNetworks:
    torch.manual_seed(0)
    enc = ContextEncoder(context_dim=obs + act + 1, latent_size=latent, hidden_sizes=(8,)) if encoder else None
    nets = PearlNetworks(
        encoder=enc, qf1=QNetwork(obs_dim=obs, act_dim=act, latent_dim=latent, hidden_sizes=hidden),
        qf2=QNetwork(obs_dim=obs, act_dim=act, latent_dim=latent, hidden_sizes=hidden),
        vf=VNetwork(obs_dim=obs, latent_dim=latent, hidden_sizes=hidden),
        policy=TanhGaussianPolicy(obs_dim=obs, act_dim=act, latent_dim=latent, hidden_sizes=hidden,
                                  action_low=-torch.ones(act), action_high=torch.ones(act)))
    with torch.no_grad():  # nothing at its initial value: output layers and the target differ from V
        for p in nets.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return nets.double()


def _mlp(module, x: np.ndarray) -> np.ndarray:
    """The trunk by hand: ReLU hidden layers, then the linear output."""
    for layer in module.net.hidden:
        x = np.maximum(x @ layer.weight.detach().numpy().T + layer.bias.detach().numpy(), 0.0)
    return (x @ module.net.out.weight.detach().numpy().T + module.net.out.bias.detach().numpy())[..., 0]


def _batch(m=3, b=4, obs=2, act=1, seed=0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(obs=torch.randn(m, b, obs, generator=g, dtype=torch.float64),
                 actions=torch.rand(m, b, act, generator=g, dtype=torch.float64) * 2 - 1,
                 rewards=torch.randn(m, b, generator=g, dtype=torch.float64),
                 next_obs=torch.randn(m, b, obs, generator=g, dtype=torch.float64),
                 terminated=(torch.rand(m, b, generator=g) < 0.3).double())


def _with_z(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    return np.concatenate([x, np.broadcast_to(z[:, None], (*x.shape[:2], z.shape[-1]))], axis=-1)


def test_q_target_is_scaled_reward_plus_discounted_target_v_unless_terminated():
    nets, batch = _nets(), _batch()
    z = torch.tensor([[0.5], [-1.0], [2.0]], dtype=torch.float64)
    _, stats = critic_loss(nets, batch, z, loss=LOSS)
    next_v = _mlp(nets.target_vf, _with_z(batch.next_obs.numpy(), z.numpy()))
    want = 5.0 * batch.rewards.numpy() + 0.9 * (1 - batch.terminated.numpy()) * next_v
    np.testing.assert_allclose(stats["q_target"].numpy(), want, rtol=1e-12)
    assert not np.allclose(next_v, _mlp(nets.vf, _with_z(batch.next_obs.numpy(), z.numpy())))


def test_value_and_policy_losses_by_hand():
    nets, batch = _nets(), _batch()
    z = torch.tensor([[0.5], [-1.0], [2.0]], dtype=torch.float64)
    noise = torch.randn(3, 4, 1, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    v_loss, pi_loss, _ = actor_value_losses(nets, batch, z, noise, loss=LOSS)
    x = _with_z(batch.obs.numpy(), z.numpy())
    h = x
    for layer in nets.policy.trunk.hidden:
        h = np.maximum(h @ layer.weight.detach().numpy().T + layer.bias.detach().numpy(), 0.0)
    mean = h @ nets.policy.mean_head.weight.detach().numpy().T + nets.policy.mean_head.bias.detach().numpy()
    log_std = np.clip(h @ nets.policy.log_std_head.weight.detach().numpy().T
                      + nets.policy.log_std_head.bias.detach().numpy(), -20, 2)
    pre = mean + np.exp(log_std) * noise.numpy()
    action = np.tanh(pre)
    gauss = -0.5 * ((pre - mean) / np.exp(log_std)) ** 2 - log_std - 0.5 * np.log(2 * np.pi)
    log_pi = (gauss - np.log(1 - action ** 2 + 1e-6)).sum(-1)
    qa = np.concatenate([batch.obs.numpy(), action], axis=-1)
    min_q = np.minimum(_mlp(nets.qf1, _with_z(qa, z.numpy())), _mlp(nets.qf2, _with_z(qa, z.numpy())))
    v = _mlp(nets.vf, x)
    np.testing.assert_allclose(v_loss.item(), np.mean((v - (min_q - log_pi)) ** 2), rtol=1e-10)
    want_pi = np.mean(log_pi - min_q) + 1e-2 * np.mean(mean ** 2) + 2e-2 * np.mean(log_std ** 2)
    np.testing.assert_allclose(pi_loss.item(), want_pi, rtol=1e-10)


def _grads(loss: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
    return list(torch.autograd.grad(loss, params, allow_unused=True))


def test_batched_update_equals_a_loop_over_tasks():
    """One forward over [M, B] rows gives the gradients of the per-task losses averaged over tasks
    (the KL summed): nothing mixes the tasks' rows or latents."""
    nets, batch = _nets(obs=2, act=2, latent=3, hidden=(6, 5), encoder=True), _batch(m=4, b=5, obs=2, act=2)
    context = torch.randn(4, 7, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    eps = torch.randn(4, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    act_noise = torch.randn(4, 5, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    critic_params = [*nets.encoder.parameters(), *nets.qf1.parameters(), *nets.qf2.parameters()]
    actor_params = [*nets.policy.parameters(), *nets.vf.parameters()]

    def losses(index):
        part = Batch(*(x[index] for x in batch))
        mean, var = posterior(nets, context[index])
        z = sample_latent(mean, var, eps[index])
        q, _ = critic_loss(nets, part, z, loss=LOSS)
        v, pi, _ = actor_value_losses(nets, part, z.detach(), act_noise[index], loss=LOSS)
        return q, LOSS.kl_weight * kl_to_standard_normal(mean, var).sum(), v + pi

    q, kl, vp = losses(slice(None))
    batched = (_grads(q + kl, critic_params), _grads(vp, actor_params))
    per_task = [losses(slice(t, t + 1)) for t in range(4)]
    looped = (_grads(sum(q / 4 + kl for q, kl, _ in per_task), critic_params),
              _grads(sum(vp / 4 for *_, vp in per_task), actor_params))
    for got, want in zip(batched, looped, strict=True):
        for a, b in zip(got, want, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    assert any(g.abs().max() > 0 for g in batched[0][: len(list(nets.encoder.parameters()))])


def test_step_moves_target_v_by_tau_and_changes_every_trained_network():
    nets = _nets(obs=2, act=1, latent=1, hidden=(4,))
    update = PearlUpdate(nets=nets, loss=LOSS, lr=1e-2)
    before = {k: v.clone() for k, v in nets.state_dict().items()}
    z = torch.zeros(3, 1, dtype=torch.float64)
    noise = Noise(latent=torch.zeros(3, 1, dtype=torch.float64), action=torch.zeros(3, 4, 1, dtype=torch.float64))
    stats = update.step(_batch(), context=None, fixed_z=z, noise=noise)
    after = nets.state_dict()
    for name in before:
        if name.startswith("target_vf."):
            want = 0.9 * before[name] + 0.1 * after[name.replace("target_vf.", "vf.")]
            torch.testing.assert_close(after[name], want)
        else:
            assert not torch.equal(before[name], after[name]), name
    assert set(stats) >= {"qf_loss", "vf_loss", "policy_loss", "kl"} and float(stats["kl"]) == 0.0


@pytest.mark.parametrize("low,high", [(-0.1, 0.1), (0.0, 2.0)])
def test_env_action_is_tanh_mapped_onto_the_bounds(low, high):
    policy = TanhGaussianPolicy(obs_dim=1, act_dim=1, latent_dim=0, hidden_sizes=(2,),
                                action_low=torch.tensor([low]), action_high=torch.tensor([high]))
    u = torch.tensor([[-50.0], [0.0], [0.5], [50.0]])
    want = low + (np.tanh(u.numpy()) + 1) / 2 * (high - low)
    np.testing.assert_allclose(policy.env_action(u).numpy(), want, rtol=1e-6)
