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
METAWORLD = {name for name, fam in FAMILIES.items() if fam.requires == "metaworld"}
EXPECTED_IDS = {
    "metarl/Bandit-v0", "metarl/TabularMDP-v0", "metarl/Navigation2D-v0", "metarl/Navigation2DSparse-v0",
    "metarl/Pendulum-v0",
    "metarl/MountainCarContinuous-v0", "metarl/MountainCarHills-v0", "metarl/HalfCheetahVel-v0",
    "metarl/HalfCheetahDir-v0", "metarl/HalfCheetahDirRllab-v0", "metarl/HalfCheetahVelRllab-v0",
    "metarl/HalfCheetahVelOyster-v0",
    "metarl/AntDir-v0", "metarl/AntDirCircle-v0", "metarl/AntGoal-v0", "metarl/HumanoidDir-v0",
    "metarl/WalkerParams-v0", "metarl/HopperParams-v0", "metarl/Gridworld-v0",
    "metarl/MetaWorldML1-v0", "metarl/MetaWorldML10-v0", "metarl/MetaWorldML45-v0",
}


def test_all_expected_ids_are_registered() -> None:
    # families registered at run time (tests/plugins, other tests) are not metarl's own
    assert {fam.gym_id for fam in FAMILIES.values() if fam.env_type_object is None} == EXPECTED_IDS
    assert set(gym.registry) >= EXPECTED_IDS
    assert {"halfcheetah-vel", "halfcheetah-vel-oyster", "halfcheetah-dir", "halfcheetah-dir-rllab",
            "halfcheetah-vel-rllab", "ant-dir", "ant-dir-circle", "ant-goal",
            "humanoid-dir", "walker-params", "hopper-params"} == MUJOCO
    assert {"metaworld-ml1", "metaworld-ml10", "metaworld-ml45"} == METAWORLD


# ML10 and ML45 draw 750 and 2,500 goals through simulator resets when built (25 s and more); their env
# is ML1's class, checked here, and tests/envs/test_env_metaworld.py builds ML10
@pytest.mark.parametrize("name", sorted(set(FAMILIES) - {"metaworld-ml10", "metaworld-ml45"}))
def test_check_env_and_make(name: str) -> None:
    if name in MUJOCO:
        pytest.importorskip("mujoco")
    if name in METAWORLD:
        pytest.importorskip("metaworld")
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


def test_listing_the_families_and_drawing_their_tasks_does_not_import_mujoco() -> None:
    code = ("import io, sys, contextlib, numpy as np, metarl\n"
            "from metarl.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    main(['envs', '--json'])\n"
            f"names = {sorted(MUJOCO)!r}\n"
            "for name in names:\n"
            "    metarl.make_distribution(name).sample(2, np.random.default_rng(0))\n"
            "print(all(f'\"{name}\"' in out.getvalue() for name in names), 'mujoco' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


def test_the_mujoco_env_classes_still_import_from_mujoco_tasks() -> None:
    from metarl.envs import AntDirEnv, HalfCheetahDirEnv, HalfCheetahVelEnv, mujoco_tasks

    assert (mujoco_tasks.HalfCheetahVelEnv, mujoco_tasks.HalfCheetahDirEnv, mujoco_tasks.AntDirEnv) == (
        HalfCheetahVelEnv, HalfCheetahDirEnv, AntDirEnv)


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


def test_meta_world_families_list_without_metaworld_and_name_the_extra_when_used() -> None:
    import importlib.util

    from metarl.envs.registry import make_distribution
    from metarl.errors import MissingExtraError

    if importlib.util.find_spec("metaworld") is not None:
        pytest.skip("metaworld is installed")
    assert "task" in make_distribution("metaworld-ml1", task="push-v3").describe()
    with pytest.raises(MissingExtraError, match=r"pip install 'metarl\[metaworld\]'"):
        make_distribution("metaworld-ml10").sample(2, np.random.default_rng(0))
