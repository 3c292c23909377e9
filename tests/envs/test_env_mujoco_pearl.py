"""PEARL's MuJoCo families (oyster's cheetah-vel, ant-dir on the circle, ant-goal, humanoid-dir):
observations step for step equal to Gymnasium's own env, rewards recomputed by hand from the
reference's simulator state with the source's formula and constants."""

import gymnasium as gym
import numpy as np
import pytest

from metarl.envs import (
    AngleDistribution,
    AngleTasks,
    AntDirCircleEnv,
    AntGoalEnv,
    GoalDistribution,
    GoalTasks,
    HalfCheetahVelOysterEnv,
    HumanoidDirEnv,
    OysterVelocityDistribution,
    VelocityTasks,
    make_env,
    oyster_velocity_task_set,
)
from tests.envs.test_env_mujoco import lockstep

pytest.importorskip("mujoco")


def _torso_xy(ref) -> np.ndarray:
    return ref.unwrapped.data.body("torso").xpos[:2].copy()


def _ant_contact_cost(ref) -> float:
    return 0.5 * 1e-3 * np.sum(np.square(np.clip(ref.unwrapped.data.cfrc_ext, -1, 1)))


def test_halfcheetah_vel_oyster_observes_the_torso_position_and_pays_oysters_reward() -> None:
    tasks = VelocityTasks(velocity=[0.4, 2.8])
    env = HalfCheetahVelOysterEnv(tasks=tasks)
    assert env.single_observation_space.shape == (20,) and env.max_episode_steps == 200

    def with_torso(ref, obs):  # oyster's _get_obs: qpos[1:], qvel, get_body_com("torso")
        data = ref.unwrapped.data
        np.testing.assert_array_equal(obs, np.concatenate([data.qpos[1:], data.qvel]))
        return np.concatenate([obs, data.body("torso").xpos])

    before = None
    for action, reward, infos, refs in lockstep(env, "HalfCheetah-v5", steps=20, ref_obs=with_torso):
        x = np.array([ref.unwrapped.data.qpos[0] for ref in refs])
        if before is not None:
            for i in infos:
                forward_vel = (x[i] - before[i]) / refs[i].unwrapped.dt
                expected = -abs(forward_vel - tasks.velocity[i]) - 0.5 * 1e-1 * np.sum(np.square(action[i]))
                assert reward[i] == pytest.approx(expected, rel=1e-6, abs=1e-9)
        before = x


def test_oyster_velocities_are_u0_3_and_its_fixed_list_is_the_seed_1337_draw() -> None:
    velocity = OysterVelocityDistribution().sample(4000, np.random.default_rng(0)).velocity
    assert velocity.min() >= 0 and velocity.max() <= 3 and velocity.max() > 2.9
    assert abs(velocity.mean() - 1.5) < 0.05
    task_set = oyster_velocity_task_set()
    np.random.seed(1337)  # rlkit/envs/half_cheetah_vel.py: sample_tasks, n_tasks=130
    oyster = np.random.uniform(0.0, 3.0, size=(130,))
    np.random.seed(None)
    np.testing.assert_array_equal(task_set.train.velocity, oyster[:100])
    np.testing.assert_array_equal(task_set.test_tasks(30).velocity, oyster[-30:])


def test_ant_dir_circle_rewards_the_velocity_along_the_heading() -> None:
    tasks = AngleTasks(angle=[0.7, 4.0])
    env = AntDirCircleEnv(tasks=tasks)
    assert env.single_observation_space.shape == (27,)  # oyster's AntEnv: qpos[2:], qvel
    ref = lambda: gym.make("Ant-v5", include_cfrc_ext_in_observation=False)  # noqa: E731
    before = None
    for action, reward, infos, refs in lockstep(env, ref, steps=15):
        xy = np.array([_torso_xy(r) for r in refs])
        if before is not None:
            for i in infos:
                direct = np.array([np.cos(tasks.angle[i]), np.sin(tasks.angle[i])])
                forward = np.dot((xy[i] - before[i]) / refs[i].unwrapped.dt, direct)
                expected = forward - 0.5 * np.sum(np.square(action[i])) - _ant_contact_cost(refs[i]) + 1.0
                assert reward[i] == pytest.approx(expected, rel=1e-6, abs=1e-9)
        before = xy


def _tip_over(env, z: float) -> None:
    """Put ``env`` (a Gymnasium env) at torso height ``z`` (qpos[2]), its velocities zero."""
    inner = env.unwrapped
    qpos = inner.data.qpos.copy()
    qpos[2] = z
    inner.set_state(qpos, np.zeros(inner.model.nv))


@pytest.mark.parametrize(("name", "gym_id", "kwargs", "z", "survive"), [
    ("ant-dir-circle", "Ant-v5", {"include_cfrc_ext_in_observation": False}, 1.5, 1.0),
    ("humanoid-dir", "Humanoid-v5", {}, 0.5, 5.0),
])
def test_the_survive_reward_is_paid_on_the_terminating_step_too(name, gym_id, kwargs, z, survive) -> None:
    """At heading 0 the reward is Gymnasium's plus the survive reward, which Gymnasium withholds
    on an unhealthy step and oyster pays on every step."""
    env, ref = make_env(name, tasks=AngleTasks(angle=[0.0])), gym.make(gym_id, **kwargs)
    env.reset(seed=0)
    ref.reset(seed=0)
    _tip_over(env._envs[0], z)
    _tip_over(ref, z)
    action = np.zeros(env.single_action_space.shape, np.float32)
    _, reward, terminated, _, _ = env.step(action[None])
    _, ref_reward, ref_terminated, _, info = ref.step(action)
    assert terminated[0] and ref_terminated and info["reward_survive"] == 0.0
    assert reward[0] == pytest.approx(ref_reward + survive, rel=1e-9, abs=1e-9)


def test_ant_goal_pays_the_l1_distance_observes_x_y_and_never_terminates() -> None:
    tasks = GoalTasks(goal=[[1.0, -2.0], [-0.5, 0.5]])
    env = AntGoalEnv(tasks=tasks)
    assert env.single_observation_space.shape == (107,)  # all qpos, qvel, cfrc_ext less the world's zeros

    def ref():
        return gym.make("Ant-v5", exclude_current_positions_from_observation=False, terminate_when_unhealthy=False)

    for action, reward, infos, refs in lockstep(env, ref, steps=15):
        for i in infos:
            distance = np.sum(np.abs(_torso_xy(refs[i]) - tasks.goal[i]))
            expected = -distance - 0.1 * np.sum(np.square(action[i])) - _ant_contact_cost(refs[i])
            assert reward[i] == pytest.approx(expected, rel=1e-6, abs=1e-9)
    env.reset(seed=0)
    _tip_over(env._envs[0], 1.5)  # unhealthy for the ant-dir families; oyster's ant-goal has done = False
    _, _, terminated, _, _ = env.step(np.zeros((2, 8), np.float32))
    assert not terminated.any()


def test_ant_goals_are_uniform_in_the_disc_of_radius_3() -> None:
    goals = GoalDistribution().sample(20000, np.random.default_rng(0)).goal
    radius = np.linalg.norm(goals, axis=1)
    assert radius.max() <= 3.0
    # uniform in area: P(r < 1.5) = 1/4 and E[r] = 2 (a uniform radius would give 1/2 and 1.5)
    assert abs(np.mean(radius < 1.5) - 0.25) < 0.015 and abs(radius.mean() - 2.0) < 0.02
    assert abs(np.mean(goals[:, 0] > 0) - 0.5) < 0.015 and abs(np.mean(goals[:, 1] > 0) - 0.5) < 0.015


def test_humanoid_dir_pays_oysters_reward() -> None:
    tasks = AngleTasks(angle=[np.pi / 2, 3.5])
    env = HumanoidDirEnv(tasks=tasks)
    assert env.single_action_space.high[0] == pytest.approx(0.4)

    def mass_center(ref) -> np.ndarray:  # oyster's humanoid_dir.mass_center
        model, data = ref.unwrapped.model, ref.unwrapped.data
        mass = np.expand_dims(model.body_mass, 1)
        return (np.sum(mass * data.xipos, 0) / np.sum(mass))[:2].copy()

    before, checked = None, 0
    for _, reward, infos, refs in lockstep(env, "Humanoid-v5", steps=12, scale=0.4):
        center = np.array([mass_center(r) for r in refs])
        if before is not None:
            for i in infos:
                data, timestep = refs[i].unwrapped.data, refs[i].unwrapped.model.opt.timestep
                direction = np.array([np.cos(tasks.angle[i]), np.sin(tasks.angle[i])])
                lin_vel = 0.25 * np.sum(direction * (center[i] - before[i])) / timestep
                impact = min(0.5e-6 * np.square(data.cfrc_ext).sum(), 10)
                expected = lin_vel - 0.1 * np.square(data.ctrl).sum() - impact + 5.0
                assert reward[i] == pytest.approx(expected, rel=1e-6, abs=1e-9)
                checked += 1
        before = center
    assert checked >= 10


def test_headings_are_uniform_on_the_circle() -> None:
    angle = AngleDistribution().sample(20000, np.random.default_rng(1)).angle
    assert angle.min() >= 0 and angle.max() < 2 * np.pi
    assert abs(np.cos(angle).mean()) < 0.02 and abs(np.sin(angle).mean()) < 0.02
    assert abs(np.mean(angle < np.pi / 2) - 0.25) < 0.015
