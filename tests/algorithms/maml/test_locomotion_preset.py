"""MAML's locomotion presets act through rllab's normalize, so the control cost is on the clipped
action as in the paper's code (at most 0.05 * 6 = 0.3 a step on the half-cheetah)."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from metarl.algorithms import maml
from metarl.algorithms.maml.learner import build_policy
from metarl.envs.mujoco_tasks import CTRL_COST_WEIGHT

pytest.importorskip("mujoco")


@pytest.mark.parametrize("env_name", ["halfcheetah-vel", "halfcheetah-dir", "halfcheetah-dir-rllab",
                                      "halfcheetah-vel-rllab", "ant-dir"])
def test_locomotion_presets_normalize_actions(env_name: str) -> None:
    assert maml.make_config(env_name).policy.normalize_actions


def test_control_cost_is_on_the_clipped_action() -> None:
    config = maml.make_config("halfcheetah-dir", hidden_sizes=(8,))
    ref = gym.make("HalfCheetah-v5", ctrl_cost_weight=CTRL_COST_WEIGHT)
    ref.reset(seed=0)
    policy = build_policy(gym.vector.SyncVectorEnv([lambda: gym.make("HalfCheetah-v5")]), config)
    raw = torch.tensor([3.0, -2.5, 0.5, 1.5, -0.2, 0.0])  # a Gaussian sample beyond the bounds
    action = policy.env_action(raw).numpy()
    np.testing.assert_allclose(action, np.clip(raw.numpy(), -1.0, 1.0))
    _, _, _, _, info = ref.step(action)
    by_hand = -CTRL_COST_WEIGHT * float(np.sum(np.clip(raw.numpy(), -1.0, 1.0) ** 2))
    assert info["reward_ctrl"] == pytest.approx(by_hand, rel=1e-6)
    assert by_hand >= -CTRL_COST_WEIGHT * 6  # unclipped, this sample would cost -0.05 * 17.79


def test_the_mean_head_starts_small_so_clipped_actions_do_not_saturate() -> None:
    from metarl.policies.mlp import GaussianMLPPolicy

    torch.manual_seed(0)
    xavier = GaussianMLPPolicy(obs_dim=17, act_dim=6)
    torch.manual_seed(0)
    small = GaussianMLPPolicy(obs_dim=17, act_dim=6, init_mean_scale=0.01)
    torch.testing.assert_close(small.mean.layers[-1].weight, 0.01 * xavier.mean.layers[-1].weight)
    torch.testing.assert_close(small.mean.layers[0].weight, xavier.mean.layers[0].weight)
    assert maml.make_config("halfcheetah-dir").policy.init_mean_scale == 0.01
    with pytest.raises(ValueError, match="init_mean_scale must be > 0"):
        maml.make_config("halfcheetah-dir", init_mean_scale=0.0)
