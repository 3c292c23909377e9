"""Every family is a single-task Gymnasium env that passes Gymnasium's checker."""

import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from metarl.envs import FAMILIES, PendulumEnv, PendulumTasks, SingleTaskEnv

MUJOCO = {name for name, fam in FAMILIES.items() if fam.requires == "mujoco"}
EXPECTED_IDS = {
    "metarl/Bandit-v0", "metarl/TabularMDP-v0", "metarl/Navigation2D-v0", "metarl/Navigation2DSparse-v0",
    "metarl/Pendulum-v0",
    "metarl/MountainCarContinuous-v0", "metarl/MountainCarHills-v0", "metarl/HalfCheetahVel-v0",
    "metarl/HalfCheetahDir-v0",
    "metarl/AntDir-v0",
}


def test_all_expected_ids_are_registered() -> None:
    assert {fam.gym_id for fam in FAMILIES.values()} == EXPECTED_IDS
    assert set(gym.registry) >= EXPECTED_IDS
    assert {"halfcheetah-vel", "halfcheetah-dir", "ant-dir"} == MUJOCO


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_check_env_and_make(name: str) -> None:
    if name in MUJOCO:
        pytest.importorskip("mujoco")
    env = gym.make(FAMILIES[name].gym_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # infinite Box bounds and the like are advice, not errors
        check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs)
    assert isinstance(reward, float) and isinstance(terminated, bool)
    env.close()


def test_importing_metarl_envs_does_not_import_mujoco() -> None:
    code = "import sys, metarl.envs, gymnasium; gymnasium.make('metarl/Pendulum-v0'); " \
           "print('mujoco' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_single_task_env_equals_the_batched_env_with_its_task() -> None:
    task = PendulumTasks(mass=[1.3], length=[0.8], gravity=[9.0])
    single = gym.make("metarl/Pendulum-v0", task=task)
    batched = PendulumEnv(tasks=task)
    obs, _ = single.reset(seed=4)
    ref, _ = batched.reset(seed=4)
    np.testing.assert_array_equal(obs, ref[0])
    for u in np.linspace(-2, 2, 20, dtype=np.float32):
        obs, reward, *_ = single.step(np.array([u]))
        ref, ref_reward, *_ = batched.step(np.array([[u]]))
        np.testing.assert_array_equal(obs, ref[0])
        assert reward == ref_reward[0]


def test_single_task_env_passes_family_kwargs_and_ends_episodes() -> None:
    env = SingleTaskEnv("bandit", arms=7)
    assert env.action_space.n == 7
    env.reset(seed=0)
    *_, terminated, truncated, _ = env.step(3)
    assert terminated and not truncated
    with pytest.raises(RuntimeError, match="reset"):
        env.step(3)
    short = gym.make("metarl/Navigation2D-v0", max_episode_steps=5)
    short.reset(seed=0)
    for _ in range(5):
        *_, truncated, _ = short.step(np.zeros(2, np.float32))
    assert truncated
