"""MuJoCo task families: their rewards recomputed from Gymnasium's own HalfCheetah-v5 / Ant-v5."""

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from metarl.envs import (
    AntDirEnv,
    DirectionDistribution,
    DirectionTasks,
    HalfCheetahDirEnv,
    HalfCheetahVelEnv,
    VelocityDistribution,
    VelocityTasks,
    make_env,
)

pytest.importorskip("mujoco")


def lockstep(env, make_ref, steps: int, seed: int = 0, *, ref_obs=lambda ref, obs: obs, scale: float = 1.0):
    """Step ``env`` and plain Gymnasium envs (seeded like the adapter's sub-envs) together.

    ``make_ref`` is a Gymnasium id or a callable building one reference env; ``ref_obs(ref, obs)``
    the observation ``env`` should show for the reference's ``obs``; actions are U[-scale, scale].
    Yields ``(action, reward, infos, refs)`` after each step; ``infos`` maps each sub-env still in
    its first episode to its reference's info.
    """
    build = (lambda: gym.make(make_ref)) if isinstance(make_ref, str) else make_ref
    refs = [build() for _ in range(env.num_envs)]
    obs, _ = env.reset(seed=seed)
    for i, ref in enumerate(refs):
        np.testing.assert_array_equal(obs[i], ref_obs(ref, ref.reset(seed=seed + i)[0]))
    rng = np.random.default_rng(seed)
    done = np.zeros(env.num_envs, dtype=bool)
    for _ in range(steps):
        action = scale * rng.uniform(-1, 1, size=(env.num_envs, *env.single_action_space.shape))
        action = action.astype(np.float32)
        obs, reward, terminated, truncated, _ = env.step(action)
        infos = {}
        for i in np.flatnonzero(~done):  # compare each sub-env up to the end of its episode
            raw, _, ref_terminated, _, infos[i] = refs[i].step(action[i])
            np.testing.assert_array_equal(obs[i], ref_obs(refs[i], raw))
            assert terminated[i] == ref_terminated
        done |= terminated | truncated
        yield action, reward, infos, refs


def test_halfcheetah_vel_reward() -> None:
    tasks = VelocityTasks(velocity=[0.0, 1.5])
    env = HalfCheetahVelEnv(tasks=tasks, episodes_per_task=2)
    for action, reward, infos, _ in lockstep(env, "HalfCheetah-v5", steps=20):
        for i, info in infos.items():
            expected = -abs(info["x_velocity"] - tasks.velocity[i // 2]) - 0.05 * np.sum(action[i] ** 2)
            assert reward[i] == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_halfcheetah_dir_reward() -> None:
    tasks = DirectionTasks(direction=[1.0, -1.0])
    env = HalfCheetahDirEnv(tasks=tasks)
    for action, reward, infos, _ in lockstep(env, "HalfCheetah-v5", steps=20):
        for i, info in infos.items():
            expected = tasks.direction[i] * info["x_velocity"] - 0.05 * np.sum(action[i] ** 2)
            assert reward[i] == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_ant_dir_reward_keeps_ant_healthy_and_contact_terms() -> None:
    tasks = DirectionTasks(direction=[-1.0, 1.0])
    env = AntDirEnv(tasks=tasks)
    for action, reward, infos, _ in lockstep(env, "Ant-v5", steps=15):
        for i, info in infos.items():
            contact = info["reward_contact"]  # -5e-4 * |clip(cfrc_ext, -1, 1)|^2
            healthy = info["reward_survive"]  # 1 while the torso is within z in [0.2, 1], else 0
            assert healthy in (0.0, 1.0)
            expected = (tasks.direction[i] * info["x_velocity"] + healthy
                        - 0.5 * np.sum(action[i] ** 2) + contact)
            assert reward[i] == pytest.approx(expected, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", ["halfcheetah-vel", "halfcheetah-dir", "ant-dir"])
def test_horizon_200_and_a_different_task_changes_the_reward(name: str) -> None:
    distribution = {"halfcheetah-vel": VelocityDistribution(), "halfcheetah-dir":
                    DirectionDistribution(), "ant-dir": DirectionDistribution()}[name]
    tasks = distribution.sample(2, np.random.default_rng(0))
    if name != "halfcheetah-vel":
        tasks = DirectionTasks(direction=[1.0, -1.0])
    env = make_env(name, tasks=tasks)
    assert env.max_episode_steps == 200
    env.reset(seed=0)
    action = np.zeros((1, *env.single_action_space.shape), np.float32)
    env.set_tasks(tasks.take(0))
    env.reset(seed=0)
    first = [env.step(action)[1][0] for _ in range(10)]
    env.set_tasks(tasks.take(1))
    env.reset(seed=0)
    second = [env.step(action)[1][0] for _ in range(10)]
    assert not np.allclose(first, second)
    if name.startswith("halfcheetah"):
        env.reset(seed=0)
        truncated = [env.step(action)[3][0] for _ in range(200)]
        assert truncated == [False] * 199 + [True]


def test_direction_distribution_is_balanced() -> None:
    rng = np.random.default_rng(0)
    for n in [1, 2, 7, 40]:
        directions = DirectionDistribution().sample(n, rng).direction
        assert set(directions.tolist()) <= {-1.0, 1.0}
        assert abs((directions == 1).sum() - (directions == -1).sum()) == n % 2
    velocities = VelocityDistribution().sample(1000, rng).velocity
    assert velocities.min() >= 0 and velocities.max() <= 2 and velocities.std() > 0.5


def _rllab_com_velocity(model, data) -> tuple[np.ndarray, np.ndarray]:
    """The robot's mass centre and its velocity the way rllab computed them (``_compute_subtree``):
    every body's velocity from ``mj_objectVelocity`` in the world frame, momentum-weighted."""
    import mujoco

    mass = model.body_mass[1:]
    velocity = np.zeros((model.nbody, 6))
    for body in range(model.nbody):
        mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, body, velocity[body], 0)
    centre = (data.xipos[1:] * mass[:, None]).sum(0) / mass.sum()
    return centre, (velocity[1:, 3:] * mass[:, None]).sum(0) / mass.sum()


@pytest.mark.parametrize("name", ["halfcheetah-dir-rllab", "halfcheetah-vel-rllab"])
def test_halfcheetah_rllab_is_rllabs_cheetah(name: str) -> None:
    """One 0.01 s physics step a control step, the mass centre's velocity rewarded and observed state,
    against raw MuJoCo on Gymnasium's model stepped from the same states."""
    import mujoco
    from gymnasium.envs.mujoco import half_cheetah_v5

    xml = str(Path(half_cheetah_v5.__file__).parent / "assets" / "half_cheetah.xml")
    model = mujoco.MjModel.from_xml_path(xml)
    assert model.opt.timestep == 0.01
    direction = name == "halfcheetah-dir-rllab"
    tasks = DirectionTasks(direction=[1.0, -1.0]) if direction else VelocityTasks(velocity=[0.3, 1.7])
    env = make_env(name, tasks=tasks)
    obs, _ = env.reset(seed=3)
    datas = []
    for sub in env._envs:
        data = mujoco.MjData(model)
        data.qpos[:], data.qvel[:] = sub.unwrapped.data.qpos, sub.unwrapped.data.qvel
        mujoco.mj_forward(model, data)
        np.testing.assert_allclose(obs[len(datas)], np.concatenate([data.qpos[1:], data.qvel,
                                                                    _rllab_com_velocity(model, data)[0]]))
        datas.append(data)
    rng = np.random.default_rng(0)
    for _ in range(30):
        action = rng.uniform(-1, 1, size=(2, 6))
        obs, reward, _, _, _ = env.step(action.astype(np.float32))
        for i, data in enumerate(datas):
            data.ctrl[:] = action[i].astype(np.float32)
            mujoco.mj_step(model, data)
            mujoco.mj_forward(model, data)
            centre, velocity = _rllab_com_velocity(model, data)
            np.testing.assert_allclose(obs[i], np.concatenate([data.qpos[1:], data.qvel, centre]), atol=1e-9)
            run = tasks.direction[i] * velocity[0] if direction else -abs(velocity[0] - tasks.velocity[i])
            expected = run - 0.05 * np.sum(action[i].astype(np.float32) ** 2)
            assert reward[i] == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_halfcheetah_dir_rllab_resets_with_rllabs_noise() -> None:
    env = make_env("halfcheetah-dir-rllab", tasks=DirectionTasks(direction=[1.0]), episodes_per_task=64)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (64, 20)
    assert 0.008 < obs[:, :8].std() < 0.012  # qpos[1:] ~ N(0, 0.01); Gymnasium's U(-0.1, 0.1) has 0.058
    assert 0.085 < obs[:, 8:17].std() < 0.115  # qvel ~ N(0, 0.1)
