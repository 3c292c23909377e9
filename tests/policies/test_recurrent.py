"""The recurrent policy inside the sampler: memory across episodes, reset between trials, exact
inputs, and the sequence method reproducing the sampler's log-probabilities."""

import numpy as np
import pytest
import torch
from torch.distributions import Independent, Normal

from metarl.policies.recurrent import RecurrentActorCritic
from metarl.rollout.sampler import Sampler
from tests.counting_env import CountingTasks, counting_factory

TASKS = CountingTasks(length=[2, 3], task_id=[0, 1])


class CounterPolicy:
    """A hand-made recurrent "policy": its state counts the steps since ``initial_state``, its action
    is that count (a Gaussian of tiny std around it), and it records every input it is given."""

    discrete = False

    def __init__(self) -> None:
        self.inputs: list[tuple[torch.Tensor, ...]] = []

    def initial_state(self, batch_size, device):
        return torch.zeros(batch_size, device=device)

    def step(self, obs, prev_action, prev_reward, prev_done, state):
        self.inputs.append((obs.clone(), prev_action.clone(), prev_reward.clone(), prev_done.clone()))
        dist = Independent(Normal(state[:, None], torch.full_like(state[:, None], 1e-6)), 1)
        return dist, torch.zeros_like(state), state + 1


def collect(policy, episodes=3):
    env = counting_factory(max_episode_steps=4)
    return Sampler(env_factory=env, seed=0).collect_trials(policy, TASKS, episodes, deterministic=True)


def test_state_runs_on_across_episodes_and_resets_between_trials():
    policy = CounterPolicy()
    trials = collect(policy)
    lengths = TASKS.length.astype(int) * 3  # three episodes of 2 and of 3 steps: trials of 6 and 9 steps
    for row, n in enumerate(lengths):
        assert trials.mask[row].sum() == n
        np.testing.assert_array_equal(trials.actions[row, :n, 0].numpy(), np.arange(n))
    second = collect(policy)  # a new trial starts from the initial state again
    np.testing.assert_array_equal(second.actions[1, :9, 0].numpy(), np.arange(9))


def test_previous_reward_action_and_done_reach_the_policy():
    policy = CounterPolicy()
    collect(policy)
    # task 1 (episodes of 3 steps): rewards 1000, 1001, 1002 per episode, episode ends at steps 2, 5, 8
    seen_reward = torch.stack([inp[2][1] for inp in policy.inputs[:9]])
    seen_done = torch.stack([inp[3][1] for inp in policy.inputs[:9]])
    seen_obs_count = torch.stack([inp[0][1, 0] for inp in policy.inputs[:9]])
    np.testing.assert_array_equal(seen_reward.numpy(), [0, 1000, 1001, 1002, 1000, 1001, 1002, 1000, 1001])
    np.testing.assert_array_equal(seen_done.numpy(), [0, 0, 0, 1, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(seen_obs_count.numpy(), [0, 1, 2, 0, 1, 2, 0, 1, 2])
    seen_action = torch.stack([inp[1][1, 0] for inp in policy.inputs[:9]])
    np.testing.assert_array_equal(seen_action.numpy(), [0, 0, 1, 2, 3, 4, 5, 6, 7])


@pytest.mark.parametrize("separate_value", [False, True])
@pytest.mark.parametrize("discrete", [True, False])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_sequence_reproduces_the_samplers_log_probs_and_values(discrete, cell, separate_value):
    torch.manual_seed(0)
    env = counting_factory(discrete=discrete, max_episode_steps=4)
    kwargs = {"n_actions": 3} if discrete else {"act_dim": 1, "log_std": "head"}
    policy = RecurrentActorCritic(obs_dim=3, hidden_size=16, cell=cell, reward_scale=1e-3,
                                  separate_value=separate_value, **kwargs)
    trials = Sampler(env_factory=env, seed=1).collect_trials(policy, TASKS, 3)
    dist, values = policy.evaluate_trials(trials)
    mask = trials.mask
    torch.testing.assert_close(dist.log_prob(trials.actions) * mask, trials.log_probs, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(values * mask, trials.values, atol=1e-5, rtol=1e-5)


def test_one_hot_previous_action_and_state_shapes():
    policy = RecurrentActorCritic(obs_dim=1, n_actions=4, hidden_size=8, cell="lstm")
    x = policy.encode(torch.zeros(2, 1), torch.tensor([3, 0]), torch.tensor([1.0, 0.0]), torch.tensor([1.0, 0.0]))
    np.testing.assert_array_equal(x.numpy(), [[0, 0, 0, 0, 1, 1, 1], [0, 1, 0, 0, 0, 0, 0]])
    h, c = policy.initial_state(5, "cpu")
    assert h.shape == c.shape == (1, 5, 8)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_separate_value_cell_shares_nothing_with_the_policy(cell):
    torch.manual_seed(0)
    policy = RecurrentActorCritic(obs_dim=2, n_actions=3, hidden_size=8, cell=cell, separate_value=True)
    inputs = (torch.randn(4, 6, 2), torch.randint(0, 3, (4, 6)), torch.randn(4, 6), torch.zeros(4, 6))
    dist, values, _ = policy.sequence(*inputs)
    with torch.no_grad():
        policy.rnn.weight_hh_l0.add_(1.0)
    dist2, values2, _ = policy.sequence(*inputs)
    torch.testing.assert_close(values2, values)
    assert not torch.allclose(dist2.logits, dist.logits)
    state = policy.initial_state(4, "cpu")
    assert (state[0] if cell == "lstm" else state).shape == (1, 4, 16)


def test_bad_constructor_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="exactly one of n_actions"):
        RecurrentActorCritic(obs_dim=2, n_actions=2, act_dim=1)
    with pytest.raises(ValueError, match="cell must be"):
        RecurrentActorCritic(obs_dim=2, n_actions=2, cell="rnn")


@pytest.mark.parametrize("separate_value", [False, True])
def test_gru_steps_equal_the_sequence_bit_for_bit(separate_value):
    """The sampler's cell-function fast path is the same recurrence as the training-time sequence:
    hidden states bit for bit (the heads' matmuls may round differently on other shapes)."""
    torch.manual_seed(0)
    policy = RecurrentActorCritic(obs_dim=3, act_dim=2, hidden_size=16, separate_value=separate_value)
    b, length = 5, 6
    obs, prev_action = torch.randn(b, length, 3), torch.randn(b, length, 2)
    prev_reward, prev_done = torch.randn(b, length), (torch.rand(b, length) < 0.3).float()
    with torch.no_grad():
        dist, values, final = policy.sequence(obs, prev_action, prev_reward, prev_done)
        state = policy.initial_state(b)
        for t in range(length):
            step_dist, value, state = policy.step(obs[:, t], prev_action[:, t], prev_reward[:, t], prev_done[:, t],
                                                  state)
            torch.testing.assert_close(step_dist.mean, dist.mean[:, t], rtol=1e-6, atol=1e-7)
            torch.testing.assert_close(value, values[:, t], rtol=1e-6, atol=1e-7)
    assert torch.equal(state, final)
