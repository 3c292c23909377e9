import dataclasses
import sys

import numpy as np
import pytest
import torch
from torch.distributions import Beta, Categorical, Independent, Normal

from metarl.envs.registry import env_factory
from metarl.policies import GaussianMLPPolicy, expand_params, named_params
from metarl.rollout import Sampler, SliceJob, SliceRunner, make_sampler, sample_action
from metarl.rollout.sharding import (
    concat_trajectories,
    draw_call_seed,
    slice_bounds,
    slice_params,
    slice_seeds,
)
from tests.counting_env import CountingEnv, CountingTasks, counting_factory
from tests.rollout.test_sampler import CountingRecurrent, ObsMeanPolicy

# lengths chosen so the two halves have different padded lengths (2 and 4)
TASKS = CountingTasks(length=[2, 1, 5, 3], task_id=[0, 1, 2, 3])


def assert_same(a, b):
    assert type(a) is type(b)
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, torch.Tensor):
            assert x.dtype == y.dtype and torch.equal(x, y), f.name
        else:
            assert x == y, f.name


def shifted_params(policy, tasks):
    """Per-task parameters whose last bias is shifted by the task index: rows are recognisable."""
    params = {k: v.clone() for k, v in expand_params(named_params(policy), tasks).items()}
    params["mean.layers.1.bias"] += torch.arange(float(tasks))[:, None]
    return params


def test_slice_bounds_are_contiguous_balanced_and_cover_every_task_once():
    assert slice_bounds(5, 2) == [(0, 3), (3, 5)]
    assert slice_bounds(6, 3) == [(0, 2), (2, 4), (4, 6)]
    assert slice_bounds(1, 3) == [(0, 1), (1, 1), (1, 1)]
    for n, w in [(7, 3), (20, 4), (2, 5)]:
        covered = np.concatenate([np.arange(a, b) for a, b in slice_bounds(n, w)])
        assert np.array_equal(covered, np.arange(n))
    with pytest.raises(ValueError, match="shards"):
        slice_bounds(4, 0)


def test_slice_seeds_depend_on_call_and_index_only():
    assert slice_seeds(5, 1) == slice_seeds(5, 1)
    seeds = {slice_seeds(c, i) for c in range(3) for i in range(3)}
    assert len(seeds) == 9


def test_slice_params_cuts_per_task_rows_and_keeps_shared_ones():
    policy = GaussianMLPPolicy(obs_dim=3, act_dim=1, hidden_sizes=(4,))
    per_task = shifted_params(policy, 4)
    mixed = {**per_task, "log_std": policy.log_std.detach()}  # one shared tensor
    out = slice_params(mixed, 1, 3, 4, named_params(policy))
    assert torch.equal(out["mean.layers.1.bias"], per_task["mean.layers.1.bias"][1:3])
    assert torch.equal(out["log_std"], policy.log_std.detach())
    with pytest.raises(ValueError, match="3 task rows, expected 4"):
        slice_params({"log_std": torch.zeros(3, 1)}, 0, 2, 4, named_params(policy))


def test_sharded_deterministic_rollouts_equal_unsharded_ones_padding_included():
    """Deterministic policy + deterministic env: sharding must not change a single number."""
    policy = GaussianMLPPolicy(obs_dim=3, act_dim=1, hidden_sizes=(8,))
    params = shifted_params(policy, 4)
    whole = Sampler(env_factory=counting_factory(), seed=0).collect(policy, TASKS, 2, params=params, deterministic=True)
    for shards in (2, 3, 4, 6):
        cut = Sampler(env_factory=counting_factory(), seed=0, shards=shards)
        assert_same(cut.collect(policy, TASKS, 2, params=params, deterministic=True), whole)
    assert torch.equal(whole.lengths()[:, 0], torch.tensor([2, 1, 4, 3]))
    trials = Sampler(env_factory=counting_factory(), seed=0).collect_trials(CountingRecurrent(), TASKS, 2,
                                                                            deterministic=True)
    cut = Sampler(env_factory=counting_factory(), seed=0, shards=2).collect_trials(CountingRecurrent(), TASKS, 2,
                                                                                   deterministic=True)
    assert_same(cut, trials)


def test_two_shards_equal_the_two_slices_sampled_separately_by_hand():
    policy = GaussianMLPPolicy(obs_dim=3, act_dim=1, hidden_sizes=(8,))
    params = shifted_params(policy, 4)
    sharded = Sampler(env_factory=counting_factory(), seed=11, shards=2).collect(policy, TASKS, 3, params=params)
    call = draw_call_seed(np.random.default_rng(11))
    by_hand = [
        SliceRunner(env=CountingEnv()).run(policy, SliceJob(
            kind="episodes", index=i, tasks=TASKS.take([a, b]), episodes=3,
            params={k: v[[a, b]] for k, v in params.items()}, deterministic=False, seeds=slice_seeds(call, i)))
        for i, (a, b) in enumerate([(0, 1), (2, 3)])
    ]
    assert by_hand[0].horizon == 2 and by_hand[1].horizon == 4
    pad = torch.zeros(2, 3, 2, 1)
    assert torch.equal(sharded.actions, torch.cat([torch.cat([by_hand[0].actions, pad], 2), by_hand[1].actions]))
    assert_same(sharded, concat_trajectories(by_hand))
    assert (sharded.mask[:2, :, 2:] == 0).all()


def test_same_seed_same_episodes_whatever_torch_global_rng_does():
    policy = ObsMeanPolicy()
    torch.manual_seed(0)
    a = Sampler(env_factory=counting_factory(), seed=3, shards=2).collect(policy, TASKS, 4)
    torch.manual_seed(1)
    b = Sampler(env_factory=counting_factory(), seed=3, shards=2).collect(policy, TASKS, 4)
    other = Sampler(env_factory=counting_factory(), seed=4, shards=2).collect(policy, TASKS, 4)
    assert_same(a, b)
    assert not torch.equal(a.actions, other.actions)


def test_consecutive_calls_differ_and_an_explicit_seed_leaves_the_stream_alone():
    sampler = Sampler(env_factory=counting_factory(), seed=3)
    first, second = sampler.collect(ObsMeanPolicy(), TASKS, 2), sampler.collect(ObsMeanPolicy(), TASKS, 2)
    assert not torch.equal(first.actions, second.actions)
    fixed = Sampler(env_factory=counting_factory(), seed=3)
    assert_same(fixed.collect(ObsMeanPolicy(), TASKS, 2, seed=99), fixed.collect(ObsMeanPolicy(), TASKS, 2, seed=99))
    assert_same(fixed.collect(ObsMeanPolicy(), TASKS, 2), first)
    with pytest.raises(ValueError, match="seed"):
        fixed.collect(ObsMeanPolicy(), TASKS, 2, seed=-1)


def test_state_dict_survives_torch_save_and_reproduces_the_next_call(tmp_path):
    sampler = Sampler(env_factory=counting_factory(), seed=5, shards=2)
    sampler.collect(ObsMeanPolicy(), TASKS, 2)
    torch.save(sampler.state_dict(), tmp_path / "s.pt")
    expected_traj = sampler.collect(ObsMeanPolicy(), TASKS, 2)
    expected_trials = sampler.collect_trials(CountingRecurrent(), TASKS, 2)
    resumed = Sampler(env_factory=counting_factory(), seed=123, shards=2)
    resumed.load_state_dict(torch.load(tmp_path / "s.pt", weights_only=True))
    assert_same(resumed.collect(ObsMeanPolicy(), TASKS, 2), expected_traj)
    assert_same(resumed.collect_trials(CountingRecurrent(), TASKS, 2), expected_trials)
    with pytest.raises(ValueError, match="random state"):
        resumed.load_state_dict({"rng": {"bit_generator": "nonsense"}})


def test_sample_action_draws_from_the_given_generator_only():
    loc, scale = torch.tensor([[1.0, -2.0]]).expand(20000, 2), torch.tensor([0.5, 3.0])
    dist = Independent(Normal(loc, scale), 1)
    torch.manual_seed(0)
    global_state = torch.get_rng_state()
    x = sample_action(dist, torch.Generator().manual_seed(1))
    assert torch.equal(torch.get_rng_state(), global_state)
    assert torch.equal(x, sample_action(dist, torch.Generator().manual_seed(1)))
    torch.testing.assert_close(x.mean(0), torch.tensor([1.0, -2.0]), atol=0.06, rtol=0)
    torch.testing.assert_close(x.std(0), scale, atol=0.06, rtol=0)
    probs = torch.tensor([0.1, 0.6, 0.3])
    draws = sample_action(Categorical(probs=probs.expand(4, 5000, 3)), torch.Generator().manual_seed(2))
    assert draws.shape == (4, 5000) and draws.dtype == torch.long
    torch.testing.assert_close(torch.bincount(draws.flatten(), minlength=3) / 20000, probs, atol=0.015, rtol=0)
    beta = Beta(torch.full((3,), 2.0), torch.full((3,), 5.0))  # the fallback path
    assert torch.equal(sample_action(beta, torch.Generator().manual_seed(3)),
                       sample_action(beta, torch.Generator().manual_seed(3)))
    assert torch.equal(torch.get_rng_state(), global_state)


def test_make_sampler_refuses_bad_values_with_clear_errors(monkeypatch):
    nav = env_factory("navigation2d")
    with pytest.raises(ValueError, match="backend must be one of 'local', 'ray', got 'spark'"):
        make_sampler(env_factory=nav, backend="spark")
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        make_sampler(env_factory=nav, workers=0)
    with pytest.raises(ValueError, match="needs backend='ray'"):
        make_sampler(env_factory=nav, address="10.0.0.1:6379")
    with pytest.raises(ValueError, match="unknown env"):
        env_factory("nowhere")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(ImportError, match=r"metarl\[distributed\]"):
        make_sampler(env_factory=nav, backend="ray", workers=2)
    local = make_sampler(env_factory=nav, workers=3, seed=0)
    assert isinstance(local, Sampler) and local.shards == 3


class OffsetRecurrent(CountingRecurrent):
    """Carries one number per task (like RL²'s task features), so each slice needs its own rows."""

    def __init__(self, offsets):
        super().__init__()
        self.offsets = offsets

    def step(self, obs, prev_action, prev_reward, prev_done, state):
        dist, value, state = super().step(obs, prev_action, prev_reward, prev_done, state)
        return Independent(Normal(dist.mean + self.offsets[:, None], 1.0), 1), value, state

    def take_tasks(self, start, stop):
        return OffsetRecurrent(self.offsets[start:stop])


def test_policies_with_per_task_data_get_their_slice_of_it():
    policy = OffsetRecurrent(torch.tensor([0.0, 10.0, 20.0, 30.0]))
    whole = Sampler(env_factory=counting_factory(), seed=0).collect_trials(policy, TASKS, 2, deterministic=True)
    cut = Sampler(env_factory=counting_factory(), seed=0, shards=3).collect_trials(policy, TASKS, 2, deterministic=True)
    assert_same(cut, whole)
    assert torch.equal(whole.actions[:, 0, 0], torch.tensor([0.0, 10.0, 20.0, 30.0]))
