"""The physics families equal Gymnasium's own environments at their default task."""

import gymnasium as gym
import numpy as np
import pytest

from metarl.envs import MountainCarEnv, MountainCarHillsEnv, PendulumEnv


def _powf_matches(u: np.float32) -> bool:
    """Gymnasium squares the float32 torque as a NumPy scalar (C ``powf``), which is one float32
    ulp away from the correctly rounded ``u * u`` for about 0.07% of values; no array operation
    reproduces ``powf``, so those steps' rewards agree only to ~1e-10."""
    u = np.float32(np.clip(u, -2.0, 2.0))
    return bool(u**2 == u * u)


@pytest.mark.parametrize("seed", [0, 1, 7, 123])
def test_pendulum_equals_gymnasium_for_a_full_episode(seed: int) -> None:
    ours, theirs = PendulumEnv(), gym.make("Pendulum-v1")
    obs, _ = ours.reset(seed=seed)
    ref_obs, _ = theirs.reset(seed=seed)
    np.testing.assert_array_equal(obs[0], ref_obs)
    actions = np.random.default_rng(seed).uniform(-2.5, 2.5, size=(200, 1)).astype(np.float32)
    for t, action in enumerate(actions):
        obs, reward, terminated, truncated, _ = ours.step(action[None])
        ref_obs, ref_reward, ref_terminated, ref_truncated, _ = theirs.step(action)
        np.testing.assert_array_equal(obs[0], ref_obs, err_msg=f"step {t}")
        if _powf_matches(action[0]):
            assert reward[0] == ref_reward, f"step {t}"
        assert reward[0] == pytest.approx(ref_reward, abs=1e-9, rel=0)
        assert (terminated[0], truncated[0]) == (ref_terminated, ref_truncated)
    assert truncated[0] and t == 199


def _mountaincar_policy(kind: str, rng: np.random.Generator):
    def act(obs: np.ndarray) -> np.ndarray:
        push = 1.0 if obs[1] >= 0 else -1.0
        if kind == "pump":  # reaches the goal
            return np.array([push], np.float32)
        if kind == "pump-scaled":  # reaches the goal, partly clipped actions
            return np.array([push * rng.uniform(0.5, 1.4)], np.float32)
        if kind == "random":
            return rng.uniform(-1.5, 1.5, size=1).astype(np.float32)
        return np.zeros(1, np.float32)  # "idle": never reaches the goal, truncated at 999

    return act


@pytest.mark.parametrize("env_type", [MountainCarEnv, MountainCarHillsEnv])
@pytest.mark.parametrize(
    ("seed", "kind", "ends"),
    [(0, "pump", "terminated"), (3, "pump-scaled", "terminated"), (5, "random", None),
     (11, "idle", "truncated")],
)
def test_mountaincar_equals_gymnasium_step_for_step(env_type: type, seed: int, kind: str, ends: str | None) -> None:
    """Both mountaincar families at their default task (the hills family's right goal; its 77-step
    limit lifted to Gymnasium's 999)."""
    ours, theirs = env_type(max_episode_steps=999), gym.make("MountainCarContinuous-v0")
    obs, _ = ours.reset(seed=seed)
    ref_obs, _ = theirs.reset(seed=seed)
    np.testing.assert_array_equal(obs[0], ref_obs)
    policy = _mountaincar_policy(kind, np.random.default_rng(seed))
    for t in range(999):
        action = policy(ref_obs)
        obs, reward, terminated, truncated, _ = ours.step(action[None])
        ref_obs, ref_reward, ref_terminated, ref_truncated, _ = theirs.step(action)
        np.testing.assert_array_equal(obs[0], ref_obs, err_msg=f"step {t}")
        assert reward[0] == ref_reward, f"step {t}"
        assert (terminated[0], truncated[0]) == (ref_terminated, ref_truncated), f"step {t}"
        if ref_terminated or ref_truncated:
            break
    if ends == "terminated":
        assert terminated[0] and reward[0] > 99
    elif ends == "truncated":
        assert truncated[0] and t == 998
