"""PPO over trials: GAE across episode boundaries (hand-computed), TBPTT chunks that reproduce the
whole-trial forward pass, the running value normaliser."""

import numpy as np
import torch

from metarl.algorithms.rl2.ppo import RunningNorm, TrialBatch, chunk_batch, ppo_loss, trial_advantages, trial_end
from metarl.policies.recurrent import RecurrentActorCritic


def test_trial_gae_does_not_stop_at_episode_ends_and_stops_at_the_trial_end():
    gamma, lam = 0.9, 0.5
    rewards = torch.tensor([[1.0, 2.0, 3.0, 0.0], [4.0, 5.0, 6.0, 7.0]])
    values = torch.tensor([[0.5, 1.0, 1.5, 0.0], [1.0, 2.0, 3.0, 4.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    adv, targets = trial_advantages(rewards=rewards, values=values, mask=mask, gamma=gamma, lam=lam)

    def by_hand(r, v):
        out, running = [], 0.0
        for t in reversed(range(len(r))):
            next_v = v[t + 1] if t + 1 < len(r) else 0.0  # the trial's end is terminal
            delta = r[t] + gamma * next_v - v[t]
            running = delta + gamma * lam * running
            out.append(running)
        return out[::-1]

    expected0 = by_hand([1.0, 2.0, 3.0], [0.5, 1.0, 1.5]) + [0.0]
    expected1 = by_hand([4.0, 5.0, 6.0, 7.0], [1.0, 2.0, 3.0, 4.0])
    # e.g. row 0, t=2: 3 - 1.5 = 1.5; t=1: 2 + 0.9*1.5 - 1 + 0.45*1.5 = 3.025
    assert abs(expected0[2] - 1.5) < 1e-12 and abs(expected0[1] - 3.025) < 1e-12
    torch.testing.assert_close(adv, torch.tensor([expected0, expected1]))
    torch.testing.assert_close(targets, (adv + values) * mask)


def test_trial_end_marks_the_last_real_step():
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(trial_end(mask).numpy(), [[False, True, False], [False, False, True]])


def _batch(policy, b=3, length=11):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(b, length, 2, generator=g)
    actions = torch.randint(0, 3, (b, length), generator=g)
    prev_action = torch.cat([torch.zeros(b, 1, dtype=torch.long), actions[:, :-1]], 1)
    mask = torch.ones(b, length)
    mask[0, 7:] = 0
    zeros = torch.zeros(b, length)
    with torch.no_grad():
        dist, _, _ = policy.sequence(obs, prev_action, zeros, zeros)
        log_probs = dist.log_prob(actions) * mask
    return TrialBatch(obs=obs, prev_action=prev_action, prev_reward=zeros, prev_done=zeros, actions=actions,
                      log_probs=log_probs, advantages=torch.randn(b, length, generator=g) * mask,
                      targets=zeros, mask=mask)


def test_tbptt_chunks_start_from_the_state_reached_in_the_whole_trial():
    torch.manual_seed(0)
    for cell in ("gru", "lstm"):
        policy = RecurrentActorCritic(obs_dim=2, n_actions=3, hidden_size=8, cell=cell)
        batch = _batch(policy)
        chunks = chunk_batch(batch, policy, 4)  # 11 steps -> 3 chunks of 4; row 0's last chunk is padding
        assert chunks.rows == 3 * 3 - 1
        with torch.no_grad():
            dist, _, _ = policy.sequence(chunks.obs, chunks.prev_action, chunks.prev_reward, chunks.prev_done,
                                         chunks.state)
        torch.testing.assert_close(dist.log_prob(chunks.actions) * chunks.mask, chunks.log_probs)
        assert chunks.mask.sum() == batch.mask.sum()


def test_ppo_loss_at_the_sampling_policy_has_ratio_one_and_a_gradient():
    torch.manual_seed(0)
    policy = RecurrentActorCritic(obs_dim=2, n_actions=3, hidden_size=8)
    batch = _batch(policy)
    loss, stats = ppo_loss(policy, batch, clip_range=0.2, value_coef=0.5, entropy_coef=0.0)
    assert abs(stats["approx_kl"]) < 1e-9 and stats["clip_fraction"] == 0.0
    expected_pg = -(batch.advantages * batch.mask).sum() / batch.mask.sum()
    assert abs(stats["policy_loss"] - float(expected_pg)) < 1e-5
    loss.backward()
    assert policy.policy_head.weight.grad.abs().sum() > 0


def test_running_norm_matches_numpy_over_several_updates():
    rng = np.random.default_rng(0)
    parts = [rng.normal(3.0, 2.0, size=n) for n in (5, 50, 7)]
    norm = RunningNorm()
    for p in parts:
        norm.update(torch.tensor(p))
    allx = np.concatenate(parts)
    assert abs(norm.mean - allx.mean()) < 1e-4 and abs(norm.std - allx.std()) < 1e-3
    x = torch.tensor([1.0, 5.0], dtype=torch.float64)
    torch.testing.assert_close(norm.denormalize(norm.normalize(x)), x)
