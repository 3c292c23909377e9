import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Independent, Normal

from metarl.policies import GaussianMLPPolicy, expand_params, named_params
from metarl.rollout import Sampler
from tests.counting_env import CountingEnv, CountingTasks


class ObsMeanPolicy:
    """Gaussian centred on the observation's first entry, so log-probs are checkable by hand."""

    discrete = False

    def distribution(self, obs, params=None):
        return Independent(Normal(obs[..., :1], torch.ones_like(obs[..., :1])), 1)


TASKS = CountingTasks(length=[2, 5, 3], task_id=[0, 1, 2])  # horizon 4 cuts task 1


def test_collect_shapes_masks_and_flags_are_exact():
    sampler = Sampler(env=CountingEnv(), seed=0)
    traj = sampler.collect(ObsMeanPolicy(), TASKS, episodes_per_task=2)
    assert traj.obs.shape == (3, 2, 4, 3) and traj.actions.shape == (3, 2, 4, 1)
    expected_len = torch.tensor([2, 4, 3])
    assert torch.equal(traj.lengths(), expected_len[:, None].expand(3, 2))
    t = torch.arange(4)
    mask = (t[None] < expected_len[:, None]).float()
    assert torch.equal(traj.mask, mask[:, None].expand(3, 2, 4))
    assert torch.equal(traj.obs[..., 0], t.float().expand(3, 2, 4) * traj.mask)
    assert torch.equal(traj.obs[..., 1], torch.tensor([0.0, 1.0, 2.0])[:, None, None] * traj.mask)
    reward = (t[None] + 1000 * torch.arange(3)[:, None]).float() * mask
    assert torch.equal(traj.rewards, reward[:, None].expand(3, 2, 4))
    # task 0 and 2 terminate at their last step; task 1 is truncated by the 4-step limit
    assert traj.terminated[0, :, 1].all() and traj.terminated[2, :, 2].all()
    assert not traj.terminated[1].any() and traj.truncated[1, :, 3].all()
    assert traj.terminated.sum() == 4 and traj.truncated.sum() == 2
    assert torch.equal(traj.last_obs[..., 0], torch.tensor([2.0, 4.0, 3.0])[:, None].expand(3, 2))
    assert torch.equal(traj.episode_returns()[:, 0], torch.tensor([1.0, 4006.0, 6003.0]))


def test_log_probs_match_the_policy_on_real_steps_and_are_zero_on_padding():
    torch.manual_seed(0)
    traj = Sampler(env=CountingEnv(), seed=0).collect(ObsMeanPolicy(), TASKS, episodes_per_task=3)
    expected = ObsMeanPolicy().distribution(traj.obs).log_prob(traj.actions) * traj.mask
    torch.testing.assert_close(traj.log_probs, expected)
    assert (traj.log_probs[traj.mask == 0] == 0).all()


def test_per_task_params_are_applied_per_task_in_one_call():
    env = CountingEnv(tasks=CountingTasks(length=[4, 4], task_id=[0, 1]))
    policy = GaussianMLPPolicy(obs_dim=3, act_dim=1, hidden_sizes=(8,), init_std=1e-3, min_std=1e-4)
    params = expand_params(named_params(policy), 2)
    params = {k: v.clone() for k, v in params.items()}
    params["mean.layers.1.bias"][1] += 5.0  # only task 1's policy shifts
    traj = Sampler(env=env, seed=0).collect(policy, env.tasks, 2, params=params, deterministic=True)
    shared = Sampler(env=env, seed=0).collect(policy, env.tasks, 2, deterministic=True)
    torch.testing.assert_close(traj.actions[0], shared.actions[0])
    torch.testing.assert_close(traj.actions[1], shared.actions[1] + 5.0)


def test_discrete_actions_are_integers():
    class Uniform:
        discrete = True

        def distribution(self, obs, params=None):
            return Categorical(logits=torch.zeros(*obs.shape[:-1], 3))

    traj = Sampler(env=CountingEnv(discrete=True), seed=0).collect(Uniform(), TASKS, 2)
    assert traj.actions.dtype == torch.long and traj.actions.shape == (3, 2, 4)


def test_bad_counts_are_refused():
    sampler = Sampler(env=CountingEnv(), seed=0)
    with pytest.raises(ValueError, match="episodes_per_task"):
        sampler.collect(ObsMeanPolicy(), TASKS, episodes_per_task=0)


class CountingRecurrent:
    """State = number of steps seen since the trial began; acts with that count as its mean."""

    discrete = False

    def __init__(self):
        self.seen = []

    def initial_state(self, batch_size, device):
        return torch.zeros(batch_size)

    def step(self, obs, prev_action, prev_reward, prev_done, state):
        self.seen.append((obs.clone(), prev_reward.clone(), prev_done.clone(), state.clone()))
        dist = Independent(Normal(state[:, None], torch.ones(len(state), 1)), 1)
        return dist, state * 0.5, state + 1


def test_trials_carry_state_across_episodes_and_reset_between_trials():
    env = CountingEnv(tasks=TASKS)
    sampler = Sampler(env=env, seed=0)
    policy = CountingRecurrent()
    trials = sampler.collect_trials(policy, TASKS, episodes_per_trial=3, deterministic=True)
    lengths = np.array([2, 4, 3])
    assert trials.obs.shape[1] == 12  # the longest trial: 3 episodes x 4 steps
    assert torch.equal(trials.mask.sum(1), torch.tensor(3.0 * lengths, dtype=torch.float32))
    # the state counts steps over the whole trial: it is never reset at episode boundaries
    torch.testing.assert_close(trials.actions[:, :, 0] * trials.mask, torch.arange(12.0)[None] * trials.mask)
    # observations restart at each episode; episode_index counts episodes
    trial0_obs = trials.obs[0, :6, 0]
    assert torch.equal(trial0_obs, torch.tensor([0.0, 1, 0, 1, 0, 1]))
    assert torch.equal(trials.episode_index[0, :6], torch.tensor([0, 0, 1, 1, 2, 2]))
    # previous reward and done flag reach the policy exactly
    _, prev_reward, prev_done, _ = policy.seen[2]
    assert prev_reward[0] == 1.0 and prev_done[0] == 1.0  # step 2 of trial 0 follows episode 0's end
    _, prev_reward, prev_done, _ = policy.seen[1]
    assert prev_reward[0] == 0.0 and prev_done[0] == 0.0
    # a second trial starts again from the initial state
    again = sampler.collect_trials(CountingRecurrent(), TASKS, episodes_per_trial=1, deterministic=True)
    assert again.actions[:, 0, 0].eq(0).all()
    torch.testing.assert_close(trials.episode_returns()[:, 0], torch.tensor([1.0, 4006.0, 6003.0]))
    torch.testing.assert_close(trials.trial_returns(), 3 * torch.tensor([1.0, 4006.0, 6003.0]))


def test_policy_inputs_reproduce_what_the_sampler_fed():
    policy = CountingRecurrent()
    trials = Sampler(env=CountingEnv(), seed=0).collect_trials(policy, TASKS, 2)
    obs, _, prev_reward, prev_done = trials.policy_inputs()
    for k, (seen_obs, seen_reward, seen_done, _) in enumerate(policy.seen):
        live = trials.mask[:, k] > 0
        assert torch.equal(obs[live, k], seen_obs[live])
        assert torch.equal(prev_reward[live, k], seen_reward[live])
        assert torch.equal(prev_done[live, k], seen_done[live])
