"""render_frames draws with Gymnasium's own renderers: our frames of an episode equal the frames
Gymnasium's env renders while it runs that episode."""

import gymnasium as gym
import numpy as np
import pytest

from metarl.envs import (
    BanditEnv,
    MountainCarEnv,
    MountainCarHillsEnv,
    MountainCarHillsTasks,
    PendulumEnv,
    PendulumTasks,
    make_env,
)
from metarl.errors import ConfigError, NoRendererError


@pytest.fixture(autouse=True)
def _headless(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gymnasium's reference renderers here open SDL too: no display needed."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")


def _pump(obs: np.ndarray) -> np.ndarray:
    return np.where(obs[..., 1:2] >= 0, 1.0, -1.0).astype(np.float32)


@pytest.mark.parametrize("env_type", [MountainCarEnv, MountainCarHillsEnv])
def test_mountaincar_frames_equal_gymnasiums_own(env_type: type) -> None:
    theirs = gym.make("MountainCarContinuous-v0", render_mode="rgb_array")
    ref_obs, _ = theirs.reset(seed=2)
    expected, observed = [theirs.render()], [ref_obs]
    for _ in range(40):
        ref_obs, *_ = theirs.step(_pump(ref_obs))
        expected.append(theirs.render())
        observed.append(ref_obs)
    theirs.close()
    frames = env_type().render_frames(task=0, obs=np.stack(observed))
    assert frames.shape == (41, 400, 600, 3) and frames.dtype == np.uint8
    # frame 0: Gymnasium holds the float64 start, the observation its float32 rounding
    np.testing.assert_array_equal(frames[1:], np.stack(expected)[1:])


def test_pendulum_frames_equal_gymnasiums_own_with_the_torque_arrow() -> None:
    theirs = gym.make("Pendulum-v1", render_mode="rgb_array")
    ref_obs, _ = theirs.reset(seed=5)
    actions = np.random.default_rng(0).uniform(-2.5, 2.5, size=(12, 1)).astype(np.float32)
    expected, observed = [theirs.render()], [ref_obs]
    for action in actions[:-1]:
        ref_obs, *_ = theirs.step(action)
        expected.append(theirs.render())
        observed.append(ref_obs)
    theirs.close()
    frames = PendulumEnv().render_frames(task=0, obs=np.stack(observed), actions=actions)
    assert frames.shape == (12, 500, 500, 3) and frames.dtype == np.uint8
    close = np.abs(frames.astype(int) - np.stack(expected).astype(int)) <= 1  # the angle from cos, sin
    assert close.mean() > 0.9999
    without = PendulumEnv().render_frames(task=0, obs=np.stack(observed))
    assert not np.array_equal(without[1], frames[1]) and np.array_equal(without[0], frames[0])


def test_the_frame_follows_the_state_and_the_task() -> None:
    env = MountainCarHillsEnv(tasks=MountainCarHillsTasks(power=[0.0015, 0.0015], goal_side=[1, -1]))
    obs = np.array([[-0.5, 0.0], [-0.5, 0.0], [0.2, 0.01]], np.float32)
    right, left = env.render_frames(task=0, obs=obs), env.render_frames(task=1, obs=obs)
    np.testing.assert_array_equal(right[0], right[1])
    assert not np.array_equal(right[0], right[2])
    differs = (left[0] != right[0]).any(axis=-1)  # [H, W]: only the flags, at 0 and at 0.45 (x = 550 px)
    assert differs[:, :30].sum() > 100 and differs[:, 540:580].sum() > 100
    assert not differs[:, 30:540].any()
    pendulum = PendulumEnv(tasks=PendulumTasks(mass=[1.0], length=[1.0], gravity=[10.0]))
    up, side = pendulum.render_frames(task=0, obs=np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32))
    assert not np.array_equal(up, side)


def test_render_errors_name_the_problem() -> None:
    assert not BanditEnv.has_renderer() and MountainCarEnv.has_renderer() and PendulumEnv.has_renderer()
    with pytest.raises(NoRendererError, match="family 'bandit' has no renderer"):
        make_env("bandit").render_frames(task=0, obs=np.zeros((3, 1)))
    env = make_env("mountaincar-hills")
    with pytest.raises(ConfigError, match=r"task must be an index in \[0, 1\), got 3"):
        env.render_frames(task=3, obs=np.zeros((2, 2)))
    with pytest.raises(ConfigError, match=r"obs must have shape \[time, 2\], got \(2, 3\)"):
        env.render_frames(task=0, obs=np.zeros((2, 3)))
    with pytest.raises(ConfigError, match=r"actions must have shape \(2, 1\).*got \(3, 1\)"):
        env.render_frames(task=0, obs=np.zeros((2, 2)), actions=np.zeros((3, 1)))
