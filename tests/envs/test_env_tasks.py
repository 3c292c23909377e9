"""A different task changes what the agent sees or earns, in every batched family."""

import numpy as np
import pytest

from metarl.envs import (
    BanditTasks,
    GridworldTasks,
    MountainCarTasks,
    NavigationTasks,
    PendulumTasks,
    TabularMDPTasks,
    make_distribution,
    make_env,
)

TASK_PAIRS = {
    "bandit": (BanditTasks(probs=[[0.2, 0.8, 0.5]]), BanditTasks(probs=[[0.8, 0.2, 0.5]])),
    "navigation2d": (NavigationTasks(goals=[[0.3, 0.3]]), NavigationTasks(goals=[[-0.3, 0.1]])),
    "gridworld": (GridworldTasks(goals=[[0, 2]]), GridworldTasks(goals=[[2, 0]])),
    "pendulum": (PendulumTasks(mass=[1.0], length=[1.0], gravity=[10.0]),
                 PendulumTasks(mass=[0.6], length=[1.4], gravity=[8.5])),
    "mountaincar": (MountainCarTasks(power=[0.0015], goal_position=[0.45]),
                    MountainCarTasks(power=[0.001], goal_position=[0.5])),
}


def _tabular_pair() -> tuple[TabularMDPTasks, TabularMDPTasks]:
    pair = make_distribution("tabular-mdp").sample(2, np.random.default_rng(0))
    return pair.take(0), pair.take(1)


def _run(name: str, task, steps: int) -> tuple[np.ndarray, np.ndarray]:
    env = make_env(name, tasks=task, episodes_per_task=64, seed=0)
    obs, _ = env.reset(seed=1)
    env.action_space.seed(2)
    all_obs, rewards = [obs], []
    for t in range(steps):
        if name == "mountaincar":
            action = np.where(obs[:, 1:] >= 0, 1.0, -1.0)
        elif name == "bandit":
            action = np.full(64, t % 3)
        else:
            action = env.action_space.sample()
        obs, reward, *_ = env.step(action)
        all_obs.append(obs)
        rewards.append(reward)
    return np.stack(all_obs), np.stack(rewards)


@pytest.mark.parametrize("name", [*TASK_PAIRS, "tabular-mdp"])
def test_a_different_task_changes_rewards(name: str) -> None:
    first, second = TASK_PAIRS[name] if name in TASK_PAIRS else _tabular_pair()
    steps = {"mountaincar": 200, "bandit": 3}.get(name, 20)
    obs_a, rewards_a = _run(name, first, steps)
    obs_b, rewards_b = _run(name, second, steps)
    assert not np.allclose(rewards_a, rewards_b)
    if name in ("pendulum", "mountaincar", "tabular-mdp"):  # the dynamics change too
        np.testing.assert_array_equal(obs_a[0], obs_b[0])
        assert not np.array_equal(obs_a[-1], obs_b[-1])
