import pytest
import torch

from metarl.rl.returns import check_truncation, discounted_returns, gae

F, T = False, True


def test_discounted_returns_by_hand():
    rewards = torch.tensor([[1.0, 2.0, 3.0, 7.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    torch.testing.assert_close(discounted_returns(rewards, mask, 0.5), torch.tensor([[2.75, 3.5, 3.0, 0.0]]))


def three_step_episodes():
    """Row 0: cut by the time limit after 3 steps, V(final obs) = 2; row 1: terminated after 3 steps,
    with a huge value at its final observation that must never be used. Padding at t = 3."""
    rewards = torch.tensor([[1.0, 2.0, 3.0, 0.0], [1.0, 2.0, 3.0, 0.0]])
    values = torch.tensor([[0.5, 0.5, 0.5, 0.0], [0.5, 0.5, 0.5, 0.0]])
    next_values = torch.tensor([[0.5, 0.5, 2.0, 0.0], [0.5, 0.5, 100.0, 0.0]])
    mask = torch.tensor([[1.0, 1, 1, 0], [1.0, 1, 1, 0]])
    terminated = torch.tensor([[F, F, F, F], [F, F, T, F]])
    truncated = torch.tensor([[F, F, T, F], [F, F, F, F]])
    return dict(rewards=rewards, values=values, next_values=next_values, terminated=terminated,
                truncated=truncated, mask=mask)


# gamma 0.5, lambda 1: advantage = discounted return (+ gamma^k V(final obs) if bootstrapped) - value
BOOTSTRAPPED = [1 + 1 + 0.75 + 0.125 * 2 - 0.5, 2 + 1.5 + 0.25 * 2 - 0.5, 3 + 0.5 * 2 - 0.5, 0.0]  # 2.5, 3.5, 3.5
NOT_BOOTSTRAPPED = [2.75 - 0.5, 3.5 - 0.5, 3.0 - 0.5, 0.0]  # 2.25, 3.0, 2.5


def test_a_time_limit_cut_is_bootstrapped_from_the_final_observation_and_a_termination_never():
    batch = three_step_episodes()
    adv, targets = gae(**batch, gamma=0.5, lam=1.0)
    torch.testing.assert_close(adv, torch.tensor([BOOTSTRAPPED, NOT_BOOTSTRAPPED]))
    torch.testing.assert_close(targets, (adv + batch["values"]) * batch["mask"])
    assert adv[0, 0] == 2.5 and adv[1, 0] == 2.25  # the same numbers as written out above


def test_terminal_truncation_treats_the_time_limit_like_a_termination():
    adv, _ = gae(**three_step_episodes(), gamma=0.5, lam=1.0, truncation="terminal")
    torch.testing.assert_close(adv, torch.tensor([NOT_BOOTSTRAPPED, NOT_BOOTSTRAPPED]))


def test_one_step_td_errors_at_lambda_zero():
    adv, _ = gae(**three_step_episodes(), gamma=0.5, lam=0.0)
    torch.testing.assert_close(adv[0, :3], torch.tensor([1 + 0.25 - 0.5, 2 + 0.25 - 0.5, 3 + 1.0 - 0.5]))
    torch.testing.assert_close(adv[1, :3], torch.tensor([1 + 0.25 - 0.5, 2 + 0.25 - 0.5, 3 - 0.5]))
    adv, _ = gae(**three_step_episodes(), gamma=0.5, lam=0.0, truncation="terminal")
    torch.testing.assert_close(adv[0, 2], torch.tensor(3 - 0.5))


def test_consecutive_episodes_in_one_row_do_not_mix():
    """Episode A (2 steps, cut by the time limit, V(final) = 10) then episode B (2 steps, terminated).
    gamma = lambda = 1: A's advantages see A's rewards and its bootstrap only, nothing of B."""
    rewards = torch.tensor([[1.0, 2.0, 30.0, 40.0]])
    values = torch.tensor([[1.0, 1.0, 5.0, 5.0]])
    next_values = torch.tensor([[1.0, 10.0, 5.0, 99.0]])  # step 1 -> A's final obs, not B's first
    mask = torch.ones(1, 4)
    adv, _ = gae(rewards=rewards, values=values, next_values=next_values, terminated=torch.tensor([[F, F, F, T]]),
                 truncated=torch.tensor([[F, T, F, F]]), mask=mask, gamma=1.0, lam=1.0)
    torch.testing.assert_close(adv, torch.tensor([[1 + 2 + 10 - 1.0, 2 + 10 - 1.0, 30 + 40 - 5.0, 40 - 5.0]]))


def test_a_last_step_with_no_flag_is_a_cut_and_bootstraps():
    rewards, values = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0]])
    none = torch.zeros(1, 2, dtype=torch.bool)
    adv, _ = gae(rewards=rewards, values=values, next_values=torch.tensor([[0.0, 4.0]]), terminated=none,
                 truncated=none, mask=torch.ones(1, 2), gamma=0.5, lam=1.0)
    torch.testing.assert_close(adv, torch.tensor([[1 + 1 + 0.25 * 4, 2 + 0.5 * 4]]))


def test_truncation_mode_must_be_one_of_the_two():
    with pytest.raises(ValueError, match="truncation='timeout' is not allowed: one of 'bootstrap', 'terminal'"):
        gae(**three_step_episodes(), gamma=0.5, lam=1.0, truncation="timeout")
    assert check_truncation("terminal") == "terminal"
