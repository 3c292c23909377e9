"""Hypothesis throws random task parameters at every (non-MuJoCo) family: valid ones give finite
observations and rewards under random valid actions; invalid ones are refused with a ValueError
that names the field."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metarl.envs.bandit import BanditTasks
from metarl.envs.mountaincar import MountainCarTasks
from metarl.envs.navigation import NavigationTasks
from metarl.envs.pendulum import PendulumTasks
from metarl.envs.registry import make_env
from metarl.envs.tabular_mdp import TabularMDPTasks

positive = st.floats(1e-3, 1e3)
unit = st.floats(0.0, 1.0)


def _run(name, tasks, seed, steps=30):
    env = make_env(name, tasks=tasks)
    env.reset(seed=seed)
    env.single_action_space.seed(seed)
    for _ in range(steps):
        actions = np.stack([env.single_action_space.sample() for _ in range(env.num_envs)])
        obs, reward, *_ = env.step(actions)
        assert np.isfinite(obs).all() and np.isfinite(reward).all()


@settings(max_examples=25, deadline=None)
@given(m=positive, l=positive, g=positive, seed=st.integers(0, 1000))
def test_pendulum_any_positive_physics_stays_finite(m, l, g, seed):
    _run("pendulum", PendulumTasks(mass=[m], length=[l], gravity=[g]), seed)


@settings(max_examples=25, deadline=None)
@given(power=st.floats(1e-5, 1e-1), goal=st.floats(-0.39, 0.59), seed=st.integers(0, 1000))
def test_mountaincar_any_valid_task_stays_finite(power, goal, seed):
    _run("mountaincar", MountainCarTasks(power=[power], goal_position=[goal]), seed)


@settings(max_examples=25, deadline=None)
@given(x=st.floats(-10, 10), y=st.floats(-10, 10), seed=st.integers(0, 1000))
def test_navigation_any_goal_stays_finite(x, y, seed):
    _run("navigation2d", NavigationTasks(goals=[[x, y]]), seed)


@settings(max_examples=25, deadline=None)
@given(probs=st.lists(unit, min_size=2, max_size=8), seed=st.integers(0, 1000))
def test_bandit_any_probabilities_pay_zero_or_one(probs, seed):
    env = make_env("bandit", tasks=BanditTasks(probs=[probs]), autoreset_mode="same_step")
    env.reset(seed=seed)
    for arm in range(len(probs)):
        _, reward, *_ = env.step(np.array([arm]))
        assert reward[0] in (0.0, 1.0)
        if probs[arm] in (0.0, 1.0):
            assert reward[0] == probs[arm]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), concentration=st.floats(0.01, 100))
def test_tabular_mdp_any_dirichlet_stays_in_the_state_space(seed, concentration):
    rng = np.random.default_rng(seed)
    tasks = TabularMDPTasks(reward_means=rng.normal(size=(1, 10, 5)),
                            transitions=rng.dirichlet(np.full(10, concentration), size=(1, 10, 5)))
    _run("tabular-mdp", tasks, seed)


BAD = st.sampled_from([np.nan, np.inf, -np.inf])


@settings(max_examples=20, deadline=None)
@given(field=st.sampled_from(["mass", "length", "gravity"]), value=st.one_of(BAD, st.floats(-1e3, 0.0)))
def test_pendulum_invalid_parameters_are_refused(field, value):
    params = {"mass": [1.0], "length": [1.0], "gravity": [10.0], field: [value]}
    with pytest.raises(ValueError, match=field if np.isfinite(value) else "NaN or infinity"):
        PendulumTasks(**params)


@settings(max_examples=20, deadline=None)
@given(value=st.one_of(BAD, st.floats(-10, -1e-6), st.floats(1.000001, 10)))
def test_bandit_invalid_probabilities_are_refused(value):
    with pytest.raises(ValueError, match="probs"):
        BanditTasks(probs=[[0.5, value]])


@settings(max_examples=20, deadline=None)
@given(goal=st.one_of(BAD, st.floats(-5, -0.4), st.floats(0.6, 5)))
def test_mountaincar_unreachable_goals_are_refused(goal):
    with pytest.raises(ValueError, match="goal_position|NaN"):
        MountainCarTasks(power=[0.0015], goal_position=[goal])


def test_rows_that_are_not_distributions_are_refused():
    with pytest.raises(ValueError, match="transitions rows"):
        TabularMDPTasks(reward_means=np.zeros((1, 2, 1)), transitions=np.full((1, 2, 1, 2), 0.7))
