"""GymTaskAdapter over Gymnasium's classic-control envs, cross-checked both ways."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import SyncVectorEnv

from metarl.envs import (
    GymTaskAdapter,
    MountainCarDistribution,
    MountainCarEnv,
    MountainCarTasks,
    PendulumDistribution,
    PendulumEnv,
    PendulumTasks,
)


def _pendulum_adapter(**kwargs) -> GymTaskAdapter:
    def configure(env: gym.Env, task: dict[str, np.ndarray]) -> None:
        raw = env.unwrapped
        raw.m, raw.l, raw.g = float(task["mass"]), float(task["length"]), float(task["gravity"])

    make = kwargs.pop("make_env", lambda: gym.make("Pendulum-v1"))
    return GymTaskAdapter(make_env=make, configure=configure,
                          distribution_type=PendulumDistribution, family="pendulum-adapter", **kwargs)


def _mountaincar_adapter(**kwargs) -> GymTaskAdapter:
    def configure(env: gym.Env, task: dict[str, np.ndarray]) -> None:
        env.unwrapped.power = float(task["power"])
        env.unwrapped.goal_position = float(task["goal_position"])

    return GymTaskAdapter(make_env=lambda: gym.make("MountainCarContinuous-v0"), configure=configure,
                          distribution_type=MountainCarDistribution, **kwargs)


def test_adapter_equals_sync_vector_env() -> None:
    tasks = PendulumDistribution().default().repeat(4)
    ours = _pendulum_adapter(tasks=tasks, max_episode_steps=200)
    theirs = SyncVectorEnv([lambda: gym.make("Pendulum-v1")] * 4)
    obs, _ = ours.reset(seed=8)
    ref, _ = theirs.reset(seed=8)
    np.testing.assert_array_equal(obs, ref)
    rng = np.random.default_rng(0)
    for _ in range(60):
        action = rng.uniform(-2, 2, size=(4, 1)).astype(np.float32)
        obs, reward, terminated, truncated, _ = ours.step(action)
        ref, ref_reward, ref_terminated, ref_truncated, _ = theirs.step(action)
        np.testing.assert_array_equal(obs, ref)
        np.testing.assert_array_equal(reward, ref_reward)


def test_adapter_over_gymnasium_pendulum_equals_batched_pendulum_per_task() -> None:
    """Gymnasium's own code with m, l, g set is an independent check of PendulumEnv's tasks."""
    tasks = PendulumDistribution().sample(3, np.random.default_rng(1))
    adapter = _pendulum_adapter(tasks=tasks)
    obs, _ = adapter.reset(seed=20)
    singles = [PendulumEnv(tasks=tasks.take(i)) for i in range(3)]
    starts = [env.reset(seed=20 + i)[0][0] for i, env in enumerate(singles)]
    np.testing.assert_array_equal(obs, np.stack(starts))
    rng = np.random.default_rng(2)
    for _ in range(100):
        action = rng.uniform(-2.2, 2.2, size=(3, 1)).astype(np.float32)
        obs, reward, *_ = adapter.step(action)
        for i, env in enumerate(singles):
            ref, ref_reward, *_ = env.step(action[i : i + 1])
            np.testing.assert_array_equal(obs[i], ref[0])
            assert reward[i] == pytest.approx(ref_reward[0], abs=1e-9)


def test_adapter_over_gymnasium_mountaincar_equals_batched_mountaincar_per_task() -> None:
    tasks = MountainCarTasks(power=[0.001, 0.0018], goal_position=[0.5, 0.38])
    adapter = _mountaincar_adapter(tasks=tasks, max_episode_steps=999)
    obs, _ = adapter.reset(seed=3)
    singles = [MountainCarEnv(tasks=tasks.take(i)) for i in range(2)]
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(obs[i], env.reset(seed=3 + i)[0][0])
    done = np.zeros(2, dtype=bool)
    for t in range(400):
        action = np.where(obs[:, 1:2] >= 0, 1.2, -0.9).astype(np.float32)  # partly clipped
        obs, reward, terminated, *_ = adapter.step(action)
        for i in np.flatnonzero(~done):
            ref, ref_reward, ref_terminated, *_ = singles[i].step(action[i : i + 1])
            np.testing.assert_array_equal(obs[i], ref[0], err_msg=f"env {i} step {t}")
            assert (reward[i], terminated[i]) == (ref_reward[0], ref_terminated[0])
        done |= terminated
    assert done.all()


def test_inner_truncation_passes_through_and_the_adapter_limit_applies_on_top() -> None:
    inner_short = _pendulum_adapter(make_env=lambda: gym.make("Pendulum-v1", max_episode_steps=3),
                                    max_episode_steps=5)
    inner_long = _pendulum_adapter(make_env=lambda: gym.make("Pendulum-v1", max_episode_steps=10),
                                   max_episode_steps=5)
    for env, limit in [(inner_short, 3), (inner_long, 5)]:
        env.reset(seed=0)
        flags = [env.step(np.zeros((1, 1), np.float32))[3][0] for _ in range(limit)]
        assert flags == [False] * (limit - 1) + [True]


def test_inner_termination_passes_through() -> None:
    env = _mountaincar_adapter()
    obs, _ = env.reset(seed=0)
    for _ in range(300):
        obs, reward, terminated, truncated, _ = env.step(np.where(obs[:, 1:] >= 0, 1.0, -1.0))
        if terminated[0]:
            break
    assert terminated[0] and not truncated[0] and reward[0] > 99


def test_constructor_seed_makes_the_adapter_deterministic() -> None:
    tasks = PendulumDistribution().sample(2, np.random.default_rng(0))
    first = _pendulum_adapter(tasks=tasks, seed=5).reset()[0]
    second = _pendulum_adapter(tasks=tasks, seed=5).reset()[0]
    third = _pendulum_adapter(tasks=tasks, seed=6).reset()[0]
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, third)


def test_set_tasks_reconfigures_and_grows_the_pool() -> None:
    env = _pendulum_adapter()
    tasks = PendulumTasks(mass=[0.5, 1.5], length=[1.0, 1.0], gravity=[8.0, 12.0])
    env.set_tasks(tasks, episodes_per_task=2)
    assert env.num_envs == 4 and len(env._envs) == 4
    assert [e.unwrapped.g for e in env._envs] == [8.0, 8.0, 12.0, 12.0]


def test_adapter_rejects_bad_construction() -> None:
    with pytest.raises(TypeError, match="callables"):
        GymTaskAdapter(make_env="Pendulum-v1", configure=print,
                       distribution_type=PendulumDistribution)
    with pytest.raises(TypeError, match="distribution_type"):
        GymTaskAdapter(make_env=lambda: gym.make("Pendulum-v1"), configure=print)
