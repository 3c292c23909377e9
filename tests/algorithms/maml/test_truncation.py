"""MAML's advantages at a time-limit cut: bootstrapped from the baseline at the final observation,
or (rllab's protocol, every preset) taken as terminal; a termination is never bootstrapped."""

import pytest
import torch

from metarl.algorithms import maml
from metarl.algorithms.maml import episodes
from metarl.algorithms.maml.episodes import prepare_batch
from metarl.rl.baselines import linear_baseline_with_next
from metarl.rl.returns import discounted_returns
from metarl.rollout import Sampler
from tests.counting_env import CountingTasks, counting_factory
from tests.rollout.test_sampler import ObsMeanPolicy

GAMMA = 0.9


def counting_episodes():
    """Task 0 terminates after 2 steps; task 1 (length 9) is cut by the 4-step time limit."""
    tasks = CountingTasks(length=[2, 9], task_id=[0, 1])
    return Sampler(env_factory=counting_factory(), seed=0).collect(ObsMeanPolicy(), tasks, 3)


def normalized(adv: list[float]) -> torch.Tensor:
    """Per-task normalisation as prepare_batch does it (all episodes of the task are identical)."""
    a = torch.tensor(adv, dtype=torch.float64)
    return ((a - a.mean()) / (a.var(unbiased=False).sqrt() + 1e-8)).float()


def test_a_time_limit_cut_bootstraps_from_the_baseline_at_the_final_observation_by_hand():
    traj = counting_episodes()
    assert traj.truncated[1, :, 3].all() and traj.terminated[0, :, 1].all()
    boot = prepare_batch(traj, gamma=GAMMA, gae_lambda=1.0, truncation="bootstrap")
    term = prepare_batch(traj, gamma=GAMMA, gae_lambda=1.0, truncation="terminal")
    values, next_values = linear_baseline_with_next(traj.obs, traj.next_obs, traj.mask,
                                                    discounted_returns(traj.rewards, traj.mask, GAMMA))
    final_value = float(next_values[1, 0, 3])  # the baseline at count 4, time feature 4 / 100
    assert abs(final_value) > 1  # something to bootstrap from
    r, v = traj.rewards[1, 0].tolist(), values[1, 0].tolist()  # 1000, 1001, 1002, 1003
    for result, bootstrap in ((boot, True), (term, False)):
        by_hand = [sum(GAMMA ** (k - t) * r[k] for k in range(t, 4)) + bootstrap * GAMMA ** (4 - t) * final_value
                   - v[t] for t in range(4)]
        for e in range(3):
            torch.testing.assert_close(result.advantages[1, e], normalized(by_hand), atol=1e-4, rtol=1e-4)
    assert not torch.allclose(boot.advantages[1], term.advantages[1], atol=1e-2)
    # the terminated task is never bootstrapped: both modes agree exactly
    assert torch.equal(boot.advantages[0], term.advantages[0])
    r0, v0 = traj.rewards[0, 0].tolist(), values[0, 0].tolist()
    by_hand0 = [r0[0] + GAMMA * r0[1] - v0[0], r0[1] - v0[1]]
    torch.testing.assert_close(boot.advantages[0, 0, :2], normalized(by_hand0), atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="truncation='cut' is not allowed"):
        prepare_batch(traj, gamma=GAMMA, gae_lambda=1.0, truncation="cut")


def test_every_preset_keeps_rllabs_terminal_protocol_and_the_default_bootstraps():
    assert maml.MamlConfig().loss.truncation == "bootstrap"
    for env, preset in maml.PRESETS.items():
        assert preset["truncation"] == "terminal", env
        assert maml.make_config(env).loss.truncation == "terminal"
    assert maml.make_config("navigation2d", truncation="bootstrap").loss.truncation == "bootstrap"
    custom = maml.make_config("mountaincar", inner_lr=0.1, meta_batch_size=2, episodes_per_task=2, iterations=1)
    assert custom.loss.truncation == "bootstrap"
    with pytest.raises(ValueError, match="truncation='always' is not allowed: one of 'bootstrap', 'terminal'"):
        maml.make_config("navigation2d", truncation="always")


@pytest.mark.parametrize("truncation", ["bootstrap", "terminal"])
def test_the_configs_truncation_reaches_every_prepare_batch(monkeypatch, truncation):
    seen = []
    original = episodes.prepare_batch

    def recording(traj, **kwargs):
        seen.append(kwargs["truncation"])
        return original(traj, **kwargs)

    monkeypatch.setattr(episodes, "prepare_batch", recording)
    torch.manual_seed(0)
    config = maml.make_config("navigation2d", hidden_sizes=(8,), meta_batch_size=2, episodes_per_task=2,
                              max_episode_steps=5, validation_tasks=2, iterations=1, fvp_episodes=0,
                              truncation=truncation)
    learner = maml.build_learner(config)
    learner.train_iteration(0)
    learner.validate()
    assert seen == [truncation] * 4  # training: pre + post; validation: pre + post
