"""The mountaincar-hills family: its goal events against Gymnasium's car, and that its time limit
makes the side something to carry from one episode to the next."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from metarl.envs import MountainCarHillsDistribution, MountainCarHillsEnv, MountainCarHillsTasks, make_env
from metarl.envs.mountaincar_hills import pump_toward, scripted_returns


def _gymnasium_car(power: float, state: np.ndarray):
    ref = gym.make("MountainCarContinuous-v0").unwrapped
    ref.reset(seed=0)
    ref.power = power
    ref.state = state.copy()
    return ref


def _hand_impact(state: np.ndarray, action: float, power: float) -> bool:
    """Whether Gymnasium's next step hits the left end moving left at >= 0.025 (the velocity it
    computes before the end stops the car)."""
    x, v = float(state[0]), float(state[1])
    v = min(max(v + min(max(action, -1.0), 1.0) * power - 0.0025 * np.cos(3 * x), -0.07), 0.07)
    return x + v <= -1.2 and v <= -0.025


@pytest.mark.parametrize("seed", [0, 4, 9])
@pytest.mark.parametrize("attempt", [-1, 1])
def test_left_goal_task_against_gymnasiums_car(seed: int, attempt: int) -> None:
    """A left-goal task follows Gymnasium's car until it hits the left end fast (+100, terminated)
    or reaches the right top (terminated, no bonus); a right-goal task at the same states does not
    end at the left end."""
    power = 0.00145
    env = MountainCarHillsEnv(tasks=MountainCarHillsTasks(power=[power, power], goal_side=[-1, 1]),
                              max_episode_steps=300)
    obs, _ = env.reset(seed=seed)
    env._state[1] = env._state[0]  # both sides from one start
    ref = _gymnasium_car(power, env._state[0])
    impacts = 0
    for t in range(300):
        action = pump_toward(obs[:1], np.array([attempt]))[0]
        impact = _hand_impact(ref.state, float(action[0]), power)
        ref_obs, ref_reward, ref_terminated, *_ = ref.step(action)
        obs, reward, terminated, *_ = env.step(np.stack([action, action]))
        np.testing.assert_array_equal(obs[0], ref_obs, err_msg=f"step {t}")
        impacts += impact
        cost = 0.1 * float(action[0]) ** 2
        if impact:
            assert terminated[0] and reward[0] == pytest.approx(100 - cost) and not terminated[1]
            break
        if ref_terminated:  # the right top: the wrong hill for the left task
            assert terminated[0] and reward[0] == pytest.approx(-cost) and ref_reward > 99
            assert terminated[1] and reward[1] == ref_reward
            break
        assert not terminated.any() and reward[0] == pytest.approx(-cost)
    assert (impacts == 1) == (attempt == -1), "the left attempt ends at the left goal, the right one at the top"


def test_a_slow_touch_of_the_left_end_is_not_the_goal() -> None:
    env = MountainCarHillsEnv(tasks=MountainCarHillsTasks(power=[0.0015], goal_side=[-1]))
    env.reset(seed=0)
    env._state[:] = [[-1.19, -0.015]]  # reaches the end at ~ -0.017, slower than 0.025
    obs, reward, terminated, *_ = env.step(np.array([[-1.0]], np.float32))
    assert obs[0, 0] == np.float32(-1.2) and obs[0, 1] == 0 and not terminated[0] and reward[0] < 0


def test_task_validation_names_the_value() -> None:
    with pytest.raises(ValueError, match=r"goal_side must be -1 \(left\) or \+1 \(right\), got 0"):
        MountainCarHillsTasks(power=[0.0015], goal_side=[0])
    with pytest.raises(ValueError, match="power must be > 0, got -0.001"):
        MountainCarHillsTasks(power=[0.0015, -0.001], goal_side=[1, -1])
    with pytest.raises(ValueError, match="numeric"):
        MountainCarHillsTasks(power=[0.0015], goal_side=["left"])


def test_distribution_draws_each_side_half_the_time_and_the_default_is_gymnasiums() -> None:
    tasks = MountainCarHillsDistribution().sample(4000, np.random.default_rng(0))
    assert set(tasks.goal_side.tolist()) == {-1, 1}
    assert abs((tasks.goal_side < 0).mean() - 0.5) < 0.03  # 3.8 standard deviations
    assert tasks.power.min() >= 0.0014 and tasks.power.max() <= 0.0016
    default = MountainCarHillsDistribution().default()
    assert default.power.tolist() == [0.0015] and default.goal_side.tolist() == [1]
    assert make_env("mountaincar-hills").max_episode_steps == 77


def test_the_side_must_be_remembered_across_episodes() -> None:
    """Scripted controllers: a direct attempt fits every task, always-right earns the bonus only on
    right tasks, and remembering the side after a wrong-hill episode earns it on all of them."""
    tasks = MountainCarHillsDistribution().sample(300, np.random.default_rng(1))
    right = tasks.goal_side > 0
    oracle = scripted_returns(tasks, strategy="oracle", episodes=2, seed=2)
    always = scripted_returns(tasks, strategy="right", episodes=2, seed=2)
    remember = scripted_returns(tasks, strategy="remember", episodes=2, seed=2)
    assert (oracle > 90).all()
    np.testing.assert_array_equal(always > 90, np.stack([right, right], axis=1))
    np.testing.assert_array_equal(remember[:, 0] > 90, right)
    assert (remember[:, 1] > 90).all()
    assert remember[:, 1].mean() > remember[:, 0].mean() + 40


def test_left_then_right_does_not_fit_in_one_episode() -> None:
    """A right task tried on the left first: after hitting the left end fast, pumping right does
    not reach the top within the 77 steps, for any drawn power and start."""
    tasks = MountainCarHillsTasks(power=np.linspace(0.0014, 0.0016, 9), goal_side=np.ones(9, dtype=int))
    env = MountainCarHillsEnv(tasks=tasks, episodes_per_task=50, autoreset_mode=AutoresetMode.DISABLED)
    obs, _ = env.reset(seed=3)
    hit = np.zeros(env.num_envs, dtype=bool)
    for _ in range(77):
        power = env.params["power"]
        action = pump_toward(obs, np.where(hit, 1, -1))
        impact = np.array([_hand_impact(s, float(a[0]), p) for s, a, p in zip(env._state, action, power, strict=True)])
        obs, reward, terminated, truncated, _ = env.step(action)
        hit |= impact
        assert not terminated.any()
    assert hit.all() and truncated.all()


def test_energy_shaping_pays_the_change_of_gymnasiums_mechanical_energy() -> None:
    """With shaping c a step pays c (E(s') - E(s)) on top of the unshaped reward, E computed by hand
    from Gymnasium's car states; an episode's terms sum to c (E_T - E_0); shaping 0 is the default."""
    c, power = 6000.0, 0.0015
    tasks = MountainCarHillsTasks(power=[power, power], goal_side=[-1, -1], shaping=[0.0, c])
    env = MountainCarHillsEnv(tasks=tasks)
    obs, _ = env.reset(seed=1)
    env._state[1] = env._state[0]
    ref = _gymnasium_car(power, env._state[0])

    def hand_energy(state: np.ndarray) -> float:
        x, v = float(state[0]), float(state[1])
        return v * v / 2 + 0.0025 / 3 * np.sin(3 * x)

    start, total = hand_energy(ref.state), 0.0
    for _ in range(77):
        action = pump_toward(obs[:1], np.array([1]))[0]
        before = hand_energy(ref.state)
        ref.step(action)
        obs, reward, terminated, truncated, _ = env.step(np.stack([action, action]))
        assert reward[1] - reward[0] == pytest.approx(c * (hand_energy(ref.state) - before), rel=1e-4, abs=1e-7)
        total += reward[1] - reward[0]
        if terminated[0] or truncated[0]:
            break
    assert total == pytest.approx(c * (hand_energy(ref.state) - start), rel=1e-4)
    assert total > 5, f"pumping to the right top gains energy, got {total}"
    assert MountainCarHillsDistribution().default().shaping.tolist() == [0.0]
    assert MountainCarHillsTasks(power=[0.0015], goal_side=[1]).shaping.tolist() == [0.0]
    with pytest.raises(ValueError, match="shaping must be >= 0, got -1"):
        MountainCarHillsTasks(power=[0.0015], goal_side=[1], shaping=[-1.0])
    shaped = MountainCarHillsDistribution(shaping=c)
    assert shaped.default().shaping.tolist() == [c]
    assert (shaped.sample(5, np.random.default_rng(0)).shaping == c).all()


def test_success_is_the_tasks_goal_not_the_wrong_hill() -> None:
    """Both sub-envs pump right to the top: that ends both episodes, but only the right-goal task
    succeeds (info["success"] 1 on that step, 0 before); the left-goal one ends without success."""
    env = MountainCarHillsEnv(tasks=MountainCarHillsTasks(power=[0.0015, 0.0015], goal_side=[1, -1]))
    obs, _ = env.reset(seed=0)
    env._state[1] = env._state[0]
    for _ in range(77):
        obs, reward, terminated, truncated, info = env.step(pump_toward(obs, np.array([1, 1])))
        assert env.reports_success and info["success"].shape == (2,)
        if terminated.any():
            break
        assert not info["success"].any()
    assert terminated.all()
    np.testing.assert_array_equal(info["success"], [1.0, 0.0])
    np.testing.assert_array_equal(reward > 50, [True, False])
