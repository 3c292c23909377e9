"""Bad input gets a ValueError or TypeError that names the offending value."""

import numpy as np
import pytest

from metarl.envs import (
    BanditDistribution,
    BanditTasks,
    DirectionTasks,
    MountainCarTasks,
    NavigationTasks,
    PendulumTasks,
    SingleTaskEnv,
    make_distribution,
    make_env,
)


def test_unknown_env_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"'cartpole-meta'.*pendulum"):
        make_env("cartpole-meta")
    with pytest.raises(ValueError, match="cartpole-meta"):
        make_distribution("cartpole-meta")


@pytest.mark.parametrize(
    ("name", "bad_shape"), [("pendulum", (4,)), ("navigation2d", (4, 3)), ("bandit", (4, 1)),
                            ("mountaincar", (3, 1))],
)
def test_wrong_action_shape(name: str, bad_shape: tuple[int, ...]) -> None:
    env = make_env(name, tasks=make_distribution(name).sample(2, np.random.default_rng(0)),
                   episodes_per_task=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=rf"{name}.*shape.*{bad_shape[0]}"):
        env.step(np.zeros(bad_shape, dtype=np.float32 if name != "bandit" else np.int64))


def test_wrong_action_dtype() -> None:
    bandit = make_env("bandit")
    bandit.reset(seed=0)
    with pytest.raises(TypeError, match="float64"):
        bandit.step(np.array([1.0]))
    pendulum = make_env("pendulum")
    pendulum.reset(seed=0)
    with pytest.raises(TypeError, match="<U1"):
        pendulum.step(np.array([["a"]]))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("name", ["pendulum", "mountaincar", "navigation2d"])
def test_non_finite_action(name: str, bad: float) -> None:
    env = make_env(name)
    env.reset(seed=0)
    action = np.zeros((1, *env.single_action_space.shape), np.float32)
    action[0, 0] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        env.step(action)


def test_discrete_action_out_of_range_names_it() -> None:
    env = make_env("bandit", arms=5)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action 7 outside \[0, 4\]"):
        env.step(np.array([7]))


@pytest.mark.parametrize("kwarg", ["episodes_per_task", "max_episode_steps"])
@pytest.mark.parametrize("value", [0, -3])
def test_non_positive_counts(kwarg: str, value: int) -> None:
    with pytest.raises(ValueError, match=rf"{kwarg} must be >= 1, got {value}"):
        make_env("navigation2d", **{kwarg: value})


def test_non_integer_counts_and_bad_sample_sizes() -> None:
    with pytest.raises(TypeError, match="episodes_per_task must be an integer, got 2.5"):
        make_env("pendulum", episodes_per_task=2.5)
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        make_distribution("mountaincar").sample(0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="arms must be >= 2, got 1"):
        BanditDistribution(arms=1)


def test_mismatched_tasks() -> None:
    env = make_env("navigation2d")
    with pytest.raises(TypeError, match="NavigationTasks, got PendulumTasks"):
        env.set_tasks(PendulumTasks(mass=[1.0], length=[1.0], gravity=[10.0]))
    bandit = make_env("bandit", arms=5)
    with pytest.raises(ValueError, match="5 arms, tasks have 3"):
        bandit.set_tasks(BanditTasks(probs=[[0.1, 0.2, 0.3]]))
    with pytest.raises(ValueError, match=r"disagree on the number of tasks"):
        PendulumTasks(mass=[1.0, 2.0], length=[1.0], gravity=[10.0, 10.0])
    with pytest.raises(ValueError, match=r"goals must be \[tasks, 2\], got \(1, 3\)"):
        NavigationTasks(goals=[[0.1, 0.2, 0.3]])


def test_out_of_range_task_parameters_are_named() -> None:
    with pytest.raises(ValueError, match="power must be > 0, got -0.001"):
        MountainCarTasks(power=[-0.001], goal_position=[0.45])
    with pytest.raises(ValueError, match=r"goal_position must be in \(-0.4, 0.6\), got 0.7"):
        MountainCarTasks(power=[0.0015], goal_position=[0.7])
    with pytest.raises(ValueError, match="direction must be -1 or \\+1, got 0.5"):
        DirectionTasks(direction=[1.0, 0.5])
    with pytest.raises(ValueError, match="mass must be > 0, got 0.0"):
        PendulumTasks(mass=[0.0], length=[1.0], gravity=[10.0])


def test_single_task_env_needs_exactly_one_task() -> None:
    two = make_distribution("pendulum").sample(2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="TaskBatch of one task, got 2 tasks"):
        SingleTaskEnv("pendulum", task=two)


def test_bad_autoreset_mode_and_reset_mask() -> None:
    with pytest.raises(ValueError, match="'sometimes'"):
        make_env("pendulum", autoreset_mode="sometimes")
    env = make_env("pendulum", episodes_per_task=3)
    with pytest.raises(ValueError, match=r"reset_mask must have shape \(3,\), got \(2,\)"):
        env.reset(options={"reset_mask": [True, False]})
