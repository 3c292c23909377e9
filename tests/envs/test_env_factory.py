"""EnvFactory: a picklable recipe for a batched task environment."""

import dataclasses
import pickle

import cloudpickle
import numpy as np
import pytest

from metarl.envs.pendulum import PendulumEnv
from metarl.envs.registry import EnvFactory, env_factory, make_env
from tests.counting_env import CountingEnv


def test_env_factory_builds_the_named_family_with_its_kwargs_and_extra_overrides():
    factory = env_factory("pendulum", max_episode_steps=7)
    assert factory == EnvFactory(env_type=PendulumEnv, kwargs={"max_episode_steps": 7})
    assert factory.family == "pendulum"
    env = factory()
    assert isinstance(env, PendulumEnv) and env.max_episode_steps == 7
    assert factory(max_episode_steps=3).max_episode_steps == 3  # extra wins over the stored kwargs
    assert factory().max_episode_steps == 7  # and changes nothing stored
    a, b = factory(), make_env("pendulum", max_episode_steps=7)
    np.testing.assert_array_equal(a.reset(seed=1)[0], b.reset(seed=1)[0])


@pytest.mark.parametrize("dumps, loads", [(pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)])
def test_env_factory_survives_pickle_and_cloudpickle(dumps, loads):
    for factory in (env_factory("bandit", arms=4), EnvFactory(env_type=CountingEnv, kwargs={"discrete": True})):
        again = loads(dumps(factory))
        assert again == factory and again.env_type is factory.env_type
        assert type(again()) is type(factory()) and again().single_action_space == factory().single_action_space


def test_a_class_defined_in_a_function_travels_by_value_with_cloudpickle():
    class Local(CountingEnv):
        family = "local-counting"

    again = cloudpickle.loads(cloudpickle.dumps(EnvFactory(env_type=Local)))
    assert again.family == "local-counting" and isinstance(again(), CountingEnv)


def test_env_factory_is_frozen_keeps_its_own_kwargs_and_refuses_bad_values():
    kwargs = {"max_episode_steps": 5}
    factory = EnvFactory(env_type=CountingEnv, kwargs=kwargs)
    kwargs["max_episode_steps"] = 1
    assert factory().max_episode_steps == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        factory.env_type = PendulumEnv
    with pytest.raises(TypeError, match="env_type must be a BatchedTaskEnv subclass"):
        EnvFactory(env_type=dict)
    with pytest.raises(TypeError, match="kwargs must be a mapping"):
        EnvFactory(env_type=CountingEnv, kwargs=[("discrete", True)])
    with pytest.raises(TypeError):
        EnvFactory(CountingEnv)  # keyword-only
    with pytest.raises(ValueError, match="unknown env 'nowhere'; known envs: "):
        env_factory("nowhere")
