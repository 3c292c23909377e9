"""RL²'s trial GAE: the end of a complete trial is terminal; a trial that collection cut short is
bootstrapped from the value after the cut (hand-computed)."""

import pytest
import torch

from metarl.algorithms.rl2.ppo import trial_advantages
from metarl.rollout import Sampler
from tests.counting_env import CountingTasks, counting_factory
from tests.rollout.test_sampler import CountingRecurrent

GAMMA, LAM = 0.9, 0.5


def by_hand(r, v, after):
    """GAE over one trial whose last step is followed by value ``after`` (0: terminal)."""
    out, running = [], 0.0
    for t in reversed(range(len(r))):
        next_v = v[t + 1] if t + 1 < len(r) else after
        running = r[t] + GAMMA * next_v - v[t] + GAMMA * LAM * running
        out.append(running)
    return out[::-1]


def test_a_cut_trial_bootstraps_from_the_value_after_the_cut_and_a_complete_one_does_not():
    rewards = torch.tensor([[1.0, 2.0, 3.0, 0.0], [4.0, 5.0, 6.0, 7.0]])
    values = torch.tensor([[0.5, 1.0, 1.5, 0.0], [1.0, 2.0, 3.0, 4.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    last_values = torch.tensor([8.0, 20.0])
    adv, targets = trial_advantages(rewards=rewards, values=values, mask=mask, gamma=GAMMA, lam=LAM,
                                    complete=torch.tensor([False, True]), last_values=last_values)
    expected0 = by_hand([1.0, 2.0, 3.0], [0.5, 1.0, 1.5], after=8.0) + [0.0]
    expected1 = by_hand([4.0, 5.0, 6.0, 7.0], [1.0, 2.0, 3.0, 4.0], after=0.0)  # its 20 is never used
    assert abs(expected0[2] - (3 + 0.9 * 8 - 1.5)) < 1e-12
    torch.testing.assert_close(adv, torch.tensor([expected0, expected1]))
    torch.testing.assert_close(targets, (adv + values) * mask)
    plain, _ = trial_advantages(rewards=rewards, values=values, mask=mask, gamma=GAMMA, lam=LAM)
    torch.testing.assert_close(plain[1], adv[1])  # complete by default: the same terminal end
    with pytest.raises(ValueError, match="1 trial\\(s\\) were cut .* pass last_values"):
        trial_advantages(rewards=rewards, values=values, mask=mask, gamma=GAMMA, lam=LAM,
                         complete=torch.tensor([False, True]))


def test_sampled_trials_are_complete_and_a_trial_cut_short_is_not():
    tasks = CountingTasks(length=[2, 3], task_id=[0, 1])
    trials = Sampler(env_factory=counting_factory(), seed=0).collect_trials(CountingRecurrent(), tasks, 2)
    assert trials.complete().tolist() == [True, True]
    cut = trials.map(lambda t: t[:, :5])  # trial 0 (2 x 2 steps) is over by then, trial 1 (2 x 3) is not
    assert cut.complete().tolist() == [True, False]
    first_episode = trials.map(lambda t: t[:, :2])  # trial 0 has ended its first episode only
    assert first_episode.complete().tolist() == [False, False]
