import torch

from metarl.rl.returns import discounted_returns, gae


def test_discounted_returns_by_hand():
    rewards = torch.tensor([[1.0, 2.0, 3.0, 7.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    torch.testing.assert_close(discounted_returns(rewards, mask, 0.5), torch.tensor([[2.75, 3.5, 3.0, 0.0]]))


def test_gae_bootstraps_truncated_but_not_terminated_episodes():
    rewards = torch.tensor([[1.0, 2.0, 3.0, 0.0], [1.0, 2.0, 3.0, 0.0]])
    values = torch.tensor([[0.5, 0.5, 0.5, 9.0], [0.5, 0.5, 0.5, 9.0]])
    mask = torch.tensor([[1.0, 1, 1, 0], [1.0, 1, 1, 0]])
    terminated = torch.tensor([[False, False, False, False], [False, False, True, False]])
    adv, targets = gae(rewards=rewards, values=values, last_value=torch.tensor([2.0, 2.0]),
                       terminated=terminated, mask=mask, gamma=0.5, lam=1.0)
    # lam = 1: advantage = discounted return (+ gamma^k * last value if truncated) - value
    truncated_row = torch.tensor([1 + 1 + 0.75 + 0.25 - 0.5, 2 + 1.5 + 0.5 - 0.5, 3 + 1 - 0.5, 0])
    terminated_row = torch.tensor([2.75 - 0.5, 3.5 - 0.5, 3 - 0.5, 0])
    torch.testing.assert_close(adv, torch.stack([truncated_row, terminated_row]))
    torch.testing.assert_close(targets, (adv + values) * mask)
    adv0, _ = gae(rewards=rewards, values=values, last_value=torch.tensor([2.0, 2.0]),
                  terminated=terminated, mask=mask, gamma=0.5, lam=0.0)
    # lam = 0: one-step TD errors
    torch.testing.assert_close(adv0[0, :3], torch.tensor([1 + 0.25 - 0.5, 2 + 0.25 - 0.5, 3 + 1.0 - 0.5]))
