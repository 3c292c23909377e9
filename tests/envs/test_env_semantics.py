"""Seeding, task-to-sub-env assignment and autoreset, checked against Gymnasium where it has a twin."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from metarl.envs import (
    BanditTasks,
    MountainCarEnv,
    MountainCarTasks,
    Navigation2DEnv,
    NavigationTasks,
    PendulumEnv,
    PendulumTasks,
    TabularMDPTasks,
    make_distribution,
    make_env,
)

STOCHASTIC = ["bandit", "tabular-mdp", "pendulum", "mountaincar"]


def _rollout(env, seed: int, steps: int = 30) -> tuple[np.ndarray, np.ndarray]:
    env.action_space.seed(99)
    obs, _ = env.reset(seed=seed)
    all_obs, rewards = [obs], []
    for _ in range(steps):
        obs, reward, *_ = env.step(env.action_space.sample())
        all_obs.append(obs)
        rewards.append(reward)
    return np.stack(all_obs), np.stack(rewards)


@pytest.mark.parametrize("name", [*STOCHASTIC, "navigation2d"])
def test_same_seed_same_rollout(name: str) -> None:
    tasks = make_distribution(name).sample(3, np.random.default_rng(0))
    first = _rollout(make_env(name, tasks=tasks, episodes_per_task=4), seed=5)
    second = _rollout(make_env(name, tasks=tasks, episodes_per_task=4), seed=5)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


@pytest.mark.parametrize("name", STOCHASTIC)
def test_different_seed_different_rollout(name: str) -> None:
    tasks = make_distribution(name).sample(3, np.random.default_rng(0))
    env = make_env(name, tasks=tasks, episodes_per_task=4)
    first, second = _rollout(env, seed=5), _rollout(env, seed=6)
    assert not (np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1]))


def test_navigation_sub_env_runs_task_i_over_episodes() -> None:
    goals = np.array([[0.3, 0.0], [0.0, -0.2], [-0.1, 0.4]])
    env = Navigation2DEnv(tasks=NavigationTasks(goals=goals), episodes_per_task=4)
    env.reset(seed=0)
    _, reward, *_ = env.step(np.zeros((12, 2), np.float32))
    np.testing.assert_allclose(reward, -np.linalg.norm(np.repeat(goals, 4, axis=0), axis=1))


def test_bandit_sub_env_runs_task_i_over_episodes() -> None:
    probs = np.eye(3)  # task k pays only on arm k
    env = make_env("bandit", tasks=BanditTasks(probs=probs), episodes_per_task=5)
    env.reset(seed=0)
    for arm in range(3):
        _, reward, *_ = env.step(np.full(15, arm))
        np.testing.assert_array_equal(reward, np.repeat(np.eye(3)[arm], 5))
        env.reset()


def test_tabular_mdp_sub_env_runs_task_i_over_episodes() -> None:
    means = np.stack([np.full((2, 2), 100.0 * k) for k in range(3)])
    moves = np.zeros((3, 2, 2, 2))
    moves[:, :, :, 1] = 1.0
    env = make_env("tabular-mdp", tasks=TabularMDPTasks(reward_means=means, transitions=moves),
                   episodes_per_task=4)
    env.reset(seed=0)
    _, reward, *_ = env.step(np.zeros(12, dtype=np.int64))
    np.testing.assert_array_equal(np.round(reward / 100.0), np.arange(12) // 4)


def test_pendulum_sub_env_runs_task_i_over_episodes() -> None:
    tasks = PendulumTasks(mass=[0.6, 1.0, 1.4], length=[1.3, 1.0, 0.7], gravity=[9.0, 10.0, 11.5])
    env = PendulumEnv(tasks=tasks, episodes_per_task=3)
    env.reset(seed=1)
    start = env._state.copy()
    action = np.full((9, 1), 0.7, np.float32)
    obs, reward, *_ = env.step(action)
    for i in range(9):
        k = i // 3
        ref = gym.make("Pendulum-v1").unwrapped
        ref.reset(seed=0)
        ref.m, ref.l, ref.g = float(tasks.mass[k]), float(tasks.length[k]), float(tasks.gravity[k])
        ref.state = start[i].copy()
        ref_obs, ref_reward, *_ = ref.step(action[i])
        np.testing.assert_array_equal(obs[i], ref_obs)
        assert reward[i] == pytest.approx(ref_reward, abs=1e-9)


def test_mountaincar_sub_env_runs_task_i_over_episodes() -> None:
    tasks = MountainCarTasks(power=[0.001, 0.0015, 0.002], goal_position=[0.4, 0.45, 0.5])
    env = MountainCarEnv(tasks=tasks, episodes_per_task=2)
    env.reset(seed=1)
    refs = []
    for i in range(6):
        ref = gym.make("MountainCarContinuous-v0").unwrapped
        ref.reset(seed=0)
        ref.power, ref.goal_position = float(tasks.power[i // 2]), float(tasks.goal_position[i // 2])
        ref.state = env._state[i].copy()
        refs.append(ref)
    finished, finish_step = np.zeros(6, dtype=bool), np.zeros(6, dtype=int)
    for t in range(150):
        action = np.where(env._state[:, 1:2] >= 0, 1.0, -1.0).astype(np.float32)
        obs, reward, terminated, *_ = env.step(action)
        for i in np.flatnonzero(~finished):
            ref_obs, ref_reward, ref_term, *_ = refs[i].step(action[i])
            np.testing.assert_array_equal(obs[i], ref_obs, err_msg=f"env {i} step {t}")
            assert (reward[i], terminated[i]) == (ref_reward, ref_term)
        finish_step[terminated & ~finished] = t
        finished |= terminated
    assert finished.all() and len(set(finish_step.tolist())) > 1  # the tasks matter


def _sync_vector(make, mode: AutoresetMode) -> SyncVectorEnv:
    return SyncVectorEnv([make], autoreset_mode=mode)


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
@pytest.mark.parametrize("name", ["pendulum", "mountaincar"])
def test_autoreset_matches_gymnasium_sync_vector_env(name: str, mode: AutoresetMode) -> None:
    """One sub-env draws its resets from one stream, as a Gymnasium env does, so the batched env
    equals SyncVectorEnv over the Gymnasium env across truncations, terminations and resets."""
    gym_id, limit = {"pendulum": ("Pendulum-v1", 7), "mountaincar": ("MountainCarContinuous-v0", 130)}[name]
    ours = make_env(name, max_episode_steps=limit, autoreset_mode=mode)
    theirs = _sync_vector(lambda: gym.make(gym_id, max_episode_steps=limit), mode)
    obs, _ = ours.reset(seed=3)
    ref_obs, _ = theirs.reset(seed=3)
    rng = np.random.default_rng(0)
    ends = 0
    for t in range(400 if name == "mountaincar" else 30):
        if name == "pendulum":
            action = rng.uniform(-2, 2, size=(1, 1)).astype(np.float32)
        else:
            action = np.where(ref_obs[:, 1:2] >= 0, 1.0, -1.0).astype(np.float32)
        obs, reward, terminated, truncated, info = ours.step(action)
        ref_obs, ref_reward, ref_terminated, ref_truncated, ref_info = theirs.step(action)
        np.testing.assert_array_equal(obs, ref_obs, err_msg=f"step {t}")
        np.testing.assert_allclose(reward, ref_reward, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(terminated, ref_terminated)
        np.testing.assert_array_equal(truncated, ref_truncated)
        assert ("final_obs" in info) == ("final_obs" in ref_info)
        if "final_obs" in info:
            np.testing.assert_array_equal(info["_final_obs"], ref_info["_final_obs"])
            np.testing.assert_array_equal(info["final_obs"][0], ref_info["final_obs"][0])
        ends += int(terminated[0] or truncated[0])
    assert ends >= 2


def test_next_step_autoreset_ignores_the_action_and_pays_nothing() -> None:
    env = Navigation2DEnv(tasks=NavigationTasks(goals=[[0.1, 0.0], [0.5, 0.5]]), max_episode_steps=3)
    env.reset(seed=0)
    obs, reward, terminated, truncated, _ = env.step(np.array([[0.1, 0.0], [0.0, 0.0]], np.float32))
    assert terminated.tolist() == [True, False]
    np.testing.assert_allclose(obs[0], [0.1, 0.0], atol=1e-7)  # the final observation
    obs, reward, terminated, truncated, _ = env.step(np.full((2, 2), 0.1, np.float32))
    np.testing.assert_array_equal(obs[0], [0.0, 0.0])  # reset; the action was ignored
    assert reward[0] == 0.0 and not terminated[0] and not truncated[0]
    assert reward[1] == pytest.approx(-np.linalg.norm([0.4, 0.4]))


def test_same_step_autoreset_returns_reset_obs_and_final_obs_in_info() -> None:
    env = Navigation2DEnv(tasks=NavigationTasks(goals=[[0.1, 0.0], [0.5, 0.5]]),
                          max_episode_steps=3, autoreset_mode="same_step")
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(np.array([[0.1, 0.0], [0.0, 0.0]], np.float32))
    assert terminated.tolist() == [True, False]
    np.testing.assert_array_equal(obs[0], [0.0, 0.0])
    np.testing.assert_allclose(info["final_obs"][0], [0.1, 0.0], atol=1e-7)
    assert info["_final_obs"].tolist() == [True, False]
    assert reward[0] == pytest.approx(0.0, abs=1e-7)
