"""Normalised action spaces (rllab's ``normalize``): the policy acts in [-1, 1], the env gets its units."""

from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch

from metarl.algorithms.maml import make_config
from metarl.algorithms.maml.learner import build_policy
from metarl.envs.registry import env_factory, make_distribution, make_env
from metarl.policies import GaussianMLPPolicy
from metarl.rollout import Sampler


def test_env_action_maps_the_unit_box_onto_the_bounds_and_clips():
    policy = GaussianMLPPolicy(obs_dim=2, act_dim=2, action_bounds=([-0.1, 0.0], [0.1, 4.0]))
    a = torch.tensor([[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0], [3.0, -7.0]])
    expected = torch.tensor([[-0.1, 0.0], [0.0, 2.0], [0.1, 4.0], [0.1, 0.0]])
    torch.testing.assert_close(policy.env_action(a), expected)
    plain = GaussianMLPPolicy(obs_dim=2, act_dim=2)
    assert plain.env_action(a) is a
    assert "action_low" not in policy.state_dict()  # bounds come from the env, not the checkpoint


def test_sampler_steps_the_env_in_its_units_and_stores_the_policys_actions():
    """Navigation's velocity bound is 0.1: a normalised action of 0.5 moves the point by 0.05."""
    policy = GaussianMLPPolicy(obs_dim=2, act_dim=2, hidden_sizes=(4,), action_bounds=([-0.1, -0.1], [0.1, 0.1]))
    with torch.no_grad():
        for p in policy.mean.parameters():
            p.zero_()
        policy.mean.layers[-1].bias.fill_(0.5)
    tasks = make_distribution("navigation2d").sample(3, np.random.default_rng(0))
    sampler = Sampler(env_factory=env_factory("navigation2d", max_episode_steps=4), seed=0)
    traj = sampler.collect(policy, tasks, 2, deterministic=True)
    torch.testing.assert_close(traj.actions[..., :2, :], torch.full((3, 2, 2, 2), 0.5))
    torch.testing.assert_close(traj.obs[:, :, 1], torch.full((3, 2, 2), 0.05))  # started at the origin


def test_maml_builds_a_normalised_policy_only_for_bounded_spaces():
    env = make_env("navigation2d")
    policy = build_policy(env, make_config("navigation2d"))
    assert policy.normalized
    torch.testing.assert_close(policy.action_high, torch.full((2,), 0.1))
    assert not build_policy(env, make_config("navigation2d", normalize_actions=False)).normalized
    unbounded = SimpleNamespace(single_observation_space=gym.spaces.Box(-np.inf, np.inf, (2,)),
                                single_action_space=gym.spaces.Box(-np.inf, np.inf, (2,)))
    with pytest.raises(ValueError, match="normalize_actions needs a bounded action space"):
        build_policy(unbounded, make_config("navigation2d"))


def test_action_scale_is_garages_normalize_with_expected_action_scale():
    """garage's ``NormalizedEnv.step``: ``clip(lb + (a + s) * 0.5 * (ub - lb) / s, lb, ub)``."""
    low, high, s = np.array([-1.0, -0.1, 0.0]), np.array([1.0, 0.1, 4.0]), 10.0
    policy = GaussianMLPPolicy(obs_dim=2, act_dim=3, action_bounds=(low, high), action_scale=s)
    a = np.random.default_rng(0).normal(scale=8.0, size=(64, 3))
    garage = np.clip(low + (a + s) * (0.5 * (high - low) / s), low, high)
    np.testing.assert_allclose(policy.env_action(torch.as_tensor(a, dtype=torch.float32)).numpy(), garage,
                               rtol=1e-5, atol=1e-6)
    unbounded = GaussianMLPPolicy(obs_dim=2, act_dim=3, action_scale=4.0)
    torch.testing.assert_close(unbounded.env_action(torch.full((2, 3), 2.0)), torch.full((2, 3), 0.5))
    with pytest.raises(ValueError, match="action_scale must be > 0|must be > 0"):
        GaussianMLPPolicy(obs_dim=2, act_dim=3, action_scale=0.0)


def test_the_metaworld_preset_acts_in_garages_units():
    metaworld_like = SimpleNamespace(single_observation_space=gym.spaces.Box(-np.inf, np.inf, (39,)),
                                     single_action_space=gym.spaces.Box(-1.0, 1.0, (4,)))
    policy = build_policy(metaworld_like, make_config("metaworld-ml1"))
    assert policy.normalized and policy.action_scale == 10.0 and policy.mean.layers[0].out_features == 100
    torch.testing.assert_close(policy.env_action(torch.tensor([[10.0, -5.0, 0.0, 30.0]])),
                               torch.tensor([[1.0, -0.5, 0.0, 1.0]]))
