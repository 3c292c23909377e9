"""Property tests: valid actions keep observations in the space; invalid ones always raise."""

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from metarl.envs import FAMILIES, make_distribution, make_env

BATCHED = [name for name, fam in FAMILIES.items() if fam.requires is None]
SETTINGS = settings(max_examples=20, deadline=None)


def _env(name: str, tasks: int, episodes: int, seed: int):
    batch = make_distribution(name).sample(tasks, np.random.default_rng(seed))
    return make_env(name, tasks=batch, episodes_per_task=episodes, seed=seed)


def _actions(env, steps: int) -> st.SearchStrategy:
    space = env.single_action_space
    if isinstance(space, gym.spaces.Discrete):
        return arrays(np.int64, (steps, env.num_envs), elements=st.integers(0, space.n - 1))
    low, high = float(space.low.flat[0]), float(space.high.flat[0])
    elements = st.floats(low, high, width=32, allow_nan=False)
    return arrays(np.float32, (steps, env.num_envs, *space.shape), elements=elements)


@pytest.mark.parametrize("name", BATCHED)
@SETTINGS
@given(data=st.data(), tasks=st.integers(1, 3), episodes=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_valid_actions_keep_observations_in_the_space(name, data, tasks, episodes, seed) -> None:
    env = _env(name, tasks, episodes, seed)
    obs, _ = env.reset(seed=seed)
    assert env.observation_space.contains(obs)
    for action in data.draw(_actions(env, steps=25)):
        obs, reward, terminated, truncated, _ = env.step(action)
        assert env.observation_space.contains(obs), obs
        assert np.all(np.isfinite(reward)) and reward.shape == (env.num_envs,)


@pytest.mark.parametrize("name", BATCHED)
@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_invalid_actions_raise(name, data, seed) -> None:
    env = _env(name, 2, 2, seed)
    env.reset(seed=seed)
    space = env.single_action_space
    shape = (env.num_envs, *space.shape)
    if data.draw(st.booleans(), label="wrong shape"):
        bad_shape = data.draw(st.lists(st.integers(0, 5), min_size=0, max_size=3).map(tuple)
                              .filter(lambda s: s != shape), label="shape")
        action = np.zeros(bad_shape, dtype=np.int64 if isinstance(space, gym.spaces.Discrete)
                          else np.float32)
    else:
        bad = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]), label="value")
        action = np.zeros(shape)  # floats: wrong dtype for discrete actions, fine for Boxes
        action.flat[data.draw(st.integers(0, action.size - 1), label="index")] = bad
    with pytest.raises((ValueError, TypeError)):
        env.step(action)
