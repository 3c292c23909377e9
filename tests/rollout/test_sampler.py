import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Independent, Normal

from metarl.envs.registry import env_factory, make_distribution
from metarl.policies import GaussianMLPPolicy, expand_params, named_params
from metarl.rollout import Sampler
from tests.counting_env import CountingEnv, CountingTasks, counting_factory


class ObsMeanPolicy:
    """Gaussian centred on the observation's first entry, so log-probs are checkable by hand."""

    discrete = False

    def distribution(self, obs, params=None):
        return Independent(Normal(obs[..., :1], torch.ones_like(obs[..., :1])), 1)


TASKS = CountingTasks(length=[2, 5, 3], task_id=[0, 1, 2])  # horizon 4 cuts task 1
F, T = False, True


def test_collect_shapes_masks_and_flags_are_exact():
    sampler = Sampler(env_factory=counting_factory(), seed=0)
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
    # next_obs: the count after each step; at the last step the final observation (= last_obs)
    assert torch.equal(traj.next_obs[..., 0], (t + 1).float().expand(3, 2, 4) * traj.mask)
    assert torch.equal(traj.next_obs[..., 1], traj.obs[..., 1])
    last = (traj.lengths() - 1)[..., None, None].expand(3, 2, 1, 3)
    assert torch.equal(traj.next_obs.gather(2, last)[:, :, 0], traj.last_obs)
    # the time limit (task 1) is a truncation only, a termination (tasks 0 and 2) a termination only
    assert not (traj.terminated & traj.truncated).any()
    assert torch.equal(traj.episode_returns()[:, 0], torch.tensor([1.0, 4006.0, 6003.0]))


def test_log_probs_match_the_policy_on_real_steps_and_are_zero_on_padding():
    torch.manual_seed(0)
    traj = Sampler(env_factory=counting_factory(), seed=0).collect(ObsMeanPolicy(), TASKS, episodes_per_task=3)
    expected = ObsMeanPolicy().distribution(traj.obs).log_prob(traj.actions) * traj.mask
    torch.testing.assert_close(traj.log_probs, expected)
    assert (traj.log_probs[traj.mask == 0] == 0).all()


def test_per_task_params_are_applied_per_task_in_one_call():
    tasks = CountingTasks(length=[4, 4], task_id=[0, 1])
    policy = GaussianMLPPolicy(obs_dim=3, act_dim=1, hidden_sizes=(8,), init_std=1e-3, min_std=1e-4)
    params = expand_params(named_params(policy), 2)
    params = {k: v.clone() for k, v in params.items()}
    params["mean.layers.1.bias"][1] += 5.0  # only task 1's policy shifts
    traj = Sampler(env_factory=counting_factory(), seed=0).collect(policy, tasks, 2, params=params,
                                                                   deterministic=True)
    shared = Sampler(env_factory=counting_factory(), seed=0).collect(policy, tasks, 2, deterministic=True)
    torch.testing.assert_close(traj.actions[0], shared.actions[0])
    torch.testing.assert_close(traj.actions[1], shared.actions[1] + 5.0)


def test_discrete_actions_are_integers():
    class Uniform:
        discrete = True

        def distribution(self, obs, params=None):
            return Categorical(logits=torch.zeros(*obs.shape[:-1], 3))

    traj = Sampler(env_factory=counting_factory(discrete=True), seed=0).collect(Uniform(), TASKS, 2)
    assert traj.actions.dtype == torch.long and traj.actions.shape == (3, 2, 4)


def test_bad_counts_are_refused():
    sampler = Sampler(env_factory=counting_factory(), seed=0)
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
    sampler = Sampler(env_factory=counting_factory(), seed=0)
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
    # next_obs at an episode's end is its final observation (count 2), not the next episode's first (0)
    assert torch.equal(trials.next_obs[0, :6, 0], torch.tensor([1.0, 2, 1, 2, 1, 2]))
    assert torch.equal(trials.obs[0, 1:6, 0] == 0, trials.episode_ends()[0, :5])  # autoreset on the same step
    assert not (trials.terminated & trials.truncated).any()
    assert torch.equal(trials.truncated[1, :12], torch.tensor([F, F, F, T] * 3))  # the 4-step limit cuts task 1
    assert torch.equal(trials.next_obs[1, :12, 0], torch.tensor([1.0, 2, 3, 4] * 3))
    assert trials.complete().all()
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
    trials = Sampler(env_factory=counting_factory(), seed=0).collect_trials(policy, TASKS, 2)
    obs, _, prev_reward, prev_done = trials.policy_inputs()
    for k, (seen_obs, seen_reward, seen_done, _) in enumerate(policy.seen):
        live = trials.mask[:, k] > 0
        assert torch.equal(obs[live, k], seen_obs[live])
        assert torch.equal(prev_reward[live, k], seen_reward[live])
        assert torch.equal(prev_done[live, k], seen_done[live])


class Poison:
    """Stands in for the env's generator: any use of it fails the test."""

    def __getattr__(self, name):
        raise AssertionError(f"the sampler used the environment's own generator (.{name})")


def pendulum_episodes(sampler):
    torch.manual_seed(0)
    policy = GaussianMLPPolicy(obs_dim=3, act_dim=1, hidden_sizes=(8,))
    batch = make_distribution("pendulum").sample(2, np.random.default_rng(0))
    return sampler.collect(policy, batch, 3)


def test_the_sampler_owns_its_streams_whatever_happens_to_the_envs_generator():
    """Pendulum draws its start states from the env's generator: reseeding, advancing or poisoning
    that generator between calls must not change what the sampler samples."""
    factory = env_factory("pendulum", max_episode_steps=3)
    reference = Sampler(env_factory=factory, seed=7)
    first, second = pendulum_episodes(reference), pendulum_episodes(reference)
    assert not torch.equal(first.obs[:, :, 0], second.obs[:, :, 0])  # start states do depend on the call seed
    meddled = Sampler(env_factory=factory, seed=7)
    env = meddled.executor.env
    assert isinstance(meddled.rng, np.random.Generator) and meddled.rng is not env._rng
    pendulum_episodes(meddled)
    env._rng = np.random.default_rng(123)
    env._rng.random(10)
    env.reset(seed=5)
    assert torch.equal(pendulum_episodes(meddled).obs, second.obs)
    env._rng = Poison()
    third = pendulum_episodes(reference)
    assert torch.equal(pendulum_episodes(meddled).obs, third.obs)


def test_close_is_idempotent_and_a_closed_sampler_refuses_work():
    with Sampler(env_factory=counting_factory(), seed=0) as sampler:
        assert sampler.collect(ObsMeanPolicy(), TASKS, 1).num_tasks == 3
    sampler.close()  # closing twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        sampler.collect(ObsMeanPolicy(), TASKS, 1)


def test_the_sampler_takes_a_factory_and_refuses_idle_workers():
    with pytest.raises(TypeError, match="env_factory must be an EnvFactory"):
        Sampler(env_factory=CountingEnv())

    class TwoWorkers:
        workers = 2

        def start(self, **kwargs):
            pytest.fail("started although the sampler is refused")

    with pytest.raises(ValueError, match="shards=1 would leave 1 of the executor's 2 workers idle"):
        Sampler(env_factory=counting_factory(), executor=TwoWorkers())


def test_the_env_reports_final_observations_batched_under_same_step_autoreset():
    env = CountingEnv(tasks=CountingTasks(length=[1, 2], task_id=[0, 1]), autoreset_mode="same_step")
    env.reset(seed=0)
    obs, _, term, _, info = env.step(np.zeros((2, 1), dtype=np.float32))
    assert term.tolist() == [True, False] and info["_final_obs"].tolist() == [True, False]
    assert info["final_obs"].shape == (2, 3) and info["final_obs"][0, 0] == 1.0  # counted once, then ended
    assert obs[0, 0] == 0.0 and obs[1, 0] == 1.0  # env 0 already restarted
