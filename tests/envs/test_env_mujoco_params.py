"""walker-params and hopper-params: the model's arrays scaled as rand_param_envs does, checked
against fresh Gymnasium models, and the default task step for step equal to Gymnasium's env."""

import gymnasium as gym
import numpy as np
import pytest

from metarl.envs import (
    HopperParamsDistribution,
    HopperParamsEnv,
    ModelScaleTasks,
    WalkerParamsDistribution,
    WalkerParamsEnv,
)
from metarl.envs.mujoco_params import PARAM_ARRAYS
from metarl.errors import ConfigError
from tests.envs.test_env_mujoco import lockstep

pytest.importorskip("mujoco")

ROBOTS = {"walker": (WalkerParamsEnv, WalkerParamsDistribution, "Walker2d-v5"),
          "hopper": (HopperParamsEnv, HopperParamsDistribution, "Hopper-v5")}


def _defaults(gym_id: str) -> dict[str, np.ndarray]:
    model = gym.make(gym_id).unwrapped.model
    return {name: getattr(model, name).copy() for name in PARAM_ARRAYS}


def _assert_scaled(env, tasks: ModelScaleTasks, defaults: dict[str, np.ndarray]) -> None:
    for i, sub in enumerate(env._envs[: env.num_envs]):
        task = env.task_index[i]
        for name in PARAM_ARRAYS:
            expected = defaults[name] * getattr(tasks, name)[task]
            np.testing.assert_array_equal(getattr(sub.unwrapped.model, name), expected)


@pytest.mark.parametrize("robot", sorted(ROBOTS))
def test_configure_sets_exactly_the_scaled_arrays_and_never_compounds(robot: str) -> None:
    env_type, distribution, gym_id = ROBOTS[robot]
    defaults, rng = _defaults(gym_id), np.random.default_rng(0)
    first, second = distribution().sample(2, rng), distribution().sample(2, rng)
    env = env_type(tasks=first, episodes_per_task=2)
    _assert_scaled(env, first, defaults)
    env.set_tasks(second, episodes_per_task=2)  # the same four models, configured again
    _assert_scaled(env, second, defaults)
    env.set_tasks(distribution().default(), episodes_per_task=4)
    _assert_scaled(env, distribution().default(), defaults)
    for name in PARAM_ARRAYS:
        np.testing.assert_array_equal(getattr(env._envs[3].unwrapped.model, name), defaults[name])
    for name in PARAM_ARRAYS:  # every array really varies where the model's value is not 0
        moved = getattr(first, name)[0] != 1
        assert moved.all() and (defaults[name] != 0).any()


@pytest.mark.parametrize("robot", sorted(ROBOTS))
@pytest.mark.parametrize("frame_skip", [8, 4])
def test_the_default_task_is_gymnasiums_env_with_rand_param_envs_reward(robot: str, frame_skip: int) -> None:
    env_type, distribution, gym_id = ROBOTS[robot]
    env = env_type(tasks=distribution().default(), episodes_per_task=2, frame_skip=frame_skip)
    assert env.max_episode_steps == 200
    # frame_skip 4 is Gymnasium's own env; 8 is rand_param_envs' dt (4 frames of 0.004 s)
    ref = (lambda: gym.make(gym_id)) if frame_skip == 4 else (lambda: gym.make(gym_id, frame_skip=8))
    before, checked = None, 0
    for action, reward, infos, refs in lockstep(env, ref, steps=40):
        x = np.array([r.unwrapped.data.qpos[0] for r in refs])
        if before is not None:
            for i in infos:
                assert refs[i].unwrapped.dt == pytest.approx(0.002 * frame_skip)
                expected = (x[i] - before[i]) / refs[i].unwrapped.dt + 1.0 - 1e-3 * np.square(action[i]).sum()
                assert reward[i] == pytest.approx(expected, rel=1e-6, abs=1e-9)
                checked += 1
        before = x
    assert checked >= 20


def test_a_scaled_task_is_gymnasiums_env_with_the_same_arrays_scaled_by_hand() -> None:
    tasks = WalkerParamsDistribution().sample(1, np.random.default_rng(3))
    env = WalkerParamsEnv(tasks=tasks)

    def scaled_by_hand():
        ref = gym.make("Walker2d-v5", frame_skip=8)
        model = ref.unwrapped.model
        for name in PARAM_ARRAYS:
            getattr(model, name)[:] = getattr(model, name) * getattr(tasks, name)[0]
        return ref

    steps = sum(1 for _ in lockstep(env, scaled_by_hand, steps=30))
    plain = WalkerParamsEnv()
    obs, _ = plain.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        obs, *_ = plain.step(rng.uniform(-1, 1, size=(1, 6)).astype(np.float32))
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        scaled, *_ = env.step(rng.uniform(-1, 1, size=(1, 6)).astype(np.float32))
    assert not np.allclose(obs, scaled)  # the task changes the dynamics


@pytest.mark.parametrize("robot", sorted(ROBOTS))
def test_the_distributions_shapes_are_the_models_and_factors_follow_rand_param_envs(robot: str) -> None:
    _, distribution, gym_id = ROBOTS[robot]
    defaults = _defaults(gym_id)
    assert {name: value.shape for name, value in defaults.items()} == distribution.shapes
    tasks = distribution().sample(400, np.random.default_rng(1))
    for name in PARAM_ARRAYS:
        base = 1.3 if name == "dof_damping" else 1.5  # rand_param_envs: 1.3 ** U for damping
        exponent = np.log(getattr(tasks, name)) / np.log(base)
        assert exponent.min() >= -3 and exponent.max() <= 3
        assert exponent.min() < -2.9 and exponent.max() > 2.9
        assert abs(exponent.mean()) < 0.1 and exponent.std() == pytest.approx(6 / np.sqrt(12), rel=0.05)


def test_tasks_of_the_other_robot_or_bad_factors_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"walker-params: body_mass factors must have shape \[tasks, 8\]"):
        WalkerParamsEnv(tasks=HopperParamsDistribution().default())
    with pytest.raises(ConfigError, match="must be > 0"):
        ModelScaleTasks(body_mass=[[0.0]], body_inertia=[[1.0]], dof_damping=[[1.0]], geom_friction=[[1.0]])
    with pytest.raises(ConfigError, match="log_scale_limit must be >= 0"):
        WalkerParamsDistribution(log_scale_limit=-1.0)
