"""The gridworld family against VariBAD's GridNavi: hand-computed returns, walls, the time limit, the
goal distribution, and the batched env step for step against a one-env reference of the original."""

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from metarl.envs import GridworldDistribution, GridworldEnv, GridworldTasks, make_env
from metarl.envs.gridworld import goal_cells
from metarl.tasks import TaskSplit

NOOP, UP, RIGHT, DOWN, LEFT = range(5)


def _episode(goal, actions):
    """Observations ``[steps, 2]``, rewards, terminated and truncated of one episode from the start."""
    env = GridworldEnv(tasks=GridworldTasks(goals=[goal]), autoreset_mode=AutoresetMode.DISABLED)
    obs, _ = env.reset(seed=0)
    assert obs.tolist() == [[0.0, 0.0]]
    out = [env.step(np.array([a])) for a in actions]
    return (np.array([o[0][0] for o in out]), np.array([o[1][0] for o in out]),
            np.array([o[2][0] for o in out]), np.array([o[3][0] for o in out]))


@pytest.mark.parametrize(("goal", "actions", "expected"), [
    ((2, 0), [RIGHT, RIGHT] + [NOOP] * 13, -0.1 + 14 * 1.0),  # found at step 2, stays 13 steps
    ((0, 2), [UP, UP] + [NOOP] * 13, -0.1 + 14 * 1.0),
    ((4, 4), [RIGHT] * 4 + [UP] * 4 + [NOOP] * 7, -0.1 * 7 + 8 * 1.0),  # d = 8: 7 steps of -0.1, then 8 on it
    ((2, 0), [RIGHT, RIGHT, RIGHT, LEFT] + [UP] * 11, -0.1 + 1.0 - 0.1 + 1.0 - 0.1 * 11),  # over it, back, away
    ((3, 3), [NOOP] * 15, -0.1 * 15),
])
def test_scripted_returns_match_hand_computation(goal, actions, expected):
    _, rewards, terminated, truncated = _episode(goal, actions)
    assert rewards.sum() == pytest.approx(expected, abs=1e-12)
    assert set(np.round(rewards, 12)) <= {-0.1, 1.0}
    assert not terminated.any() and truncated.tolist() == [False] * 14 + [True]


def test_walls_leave_the_agent_in_place():
    obs, rewards, _, _ = _episode((4, 4), [LEFT, DOWN] + [RIGHT] * 6 + [DOWN, UP] + [UP] * 5)
    np.testing.assert_array_equal(obs[:2], [[0, 0], [0, 0]])  # left and down from the start
    np.testing.assert_array_equal(obs[2:8, 0], [1, 2, 3, 4, 4, 4])  # the east wall
    np.testing.assert_array_equal(obs[8:10], [[4, 0], [4, 1]])
    np.testing.assert_array_equal(obs[10:, 1], [2, 3, 4, 4, 4])  # the north wall, on the goal (4, 4)
    assert rewards[-3:].tolist() == [1.0, 1.0, 1.0] and (rewards[:-3] == -0.1).all()


def test_time_limit_truncates_and_the_next_episode_starts_at_the_origin():
    tasks = GridworldTasks(goals=[[2, 0], [4, 4]])
    env = make_env("gridworld", tasks=tasks, episodes_per_task=2)  # next-step autoreset
    env.reset(seed=0)
    for t in range(15):
        obs, reward, terminated, truncated, _ = env.step(np.full(4, RIGHT))
        assert not terminated.any() and truncated.all() == (t == 14)
    assert obs[:, 0].tolist() == [4.0] * 4 and reward.tolist() == [-0.1] * 4
    obs, reward, terminated, truncated, _ = env.step(np.full(4, UP))  # the reset step
    assert obs.tolist() == [[0.0, 0.0]] * 4 and reward.tolist() == [0.0] * 4
    assert not (terminated | truncated).any()


def test_goals_are_the_21_cells_outside_the_corner_uniformly():
    cells = goal_cells()
    assert len(cells) == 21 and {tuple(c) for c in cells} == {
        (x, y) for x in range(5) for y in range(5) if (x, y) not in {(0, 0), (0, 1), (1, 0), (1, 1)}}
    n = 42_000
    goals = GridworldDistribution().sample(n, np.random.default_rng(12345)).goals
    found, counts = np.unique(goals, axis=0, return_counts=True)
    assert {tuple(c) for c in found} == {tuple(c) for c in cells}
    chi2 = ((counts - n / 21) ** 2 / (n / 21)).sum()
    assert chi2 < 45.31  # the 0.999 quantile of chi-square with 20 degrees of freedom
    split = TaskSplit(distribution=GridworldDistribution(), seed=0)
    assert split.test_tasks(5) == split.test_tasks(5) and split.test_tasks(5) != split.validation_tasks(5)


@pytest.mark.parametrize("goal", [[0, 0], [1, 1], [0, 1], [5, 2], [-1, 3]])
def test_impossible_goals_are_refused(goal):
    with pytest.raises(ValueError, match=f"{goal}".replace("[", r"\[").replace("]", r"\]")):
        GridworldTasks(goals=[[3, 3], goal])


def _reference_step(pos, goal, action):
    """One step of VariBAD's GridNavi.step for one env, written out as the original does it."""
    x, y = pos
    if action == 1:
        y = min(y + 1, 4)
    elif action == 2:
        x = min(x + 1, 4)
    elif action == 3:
        y = max(y - 1, 0)
    elif action == 4:
        x = max(x - 1, 0)
    return (x, y), 1.0 if (x, y) == tuple(goal) else -0.1


def test_batched_env_matches_the_reference_env_by_env():
    rng = np.random.default_rng(7)
    tasks = GridworldDistribution().sample(6, rng)
    env = make_env("gridworld", tasks=tasks, episodes_per_task=3, autoreset_mode="disabled")
    env.reset(seed=1)
    goals = tasks.goals[env.task_index]
    positions = [(0, 0)] * env.num_envs
    for _ in range(15):
        actions = rng.integers(0, 5, size=env.num_envs)
        obs, reward, *_ = env.step(actions)
        stepped = [_reference_step(p, g, a) for p, g, a in zip(positions, goals, actions, strict=True)]
        positions = [s[0] for s in stepped]
        np.testing.assert_array_equal(obs, np.array(positions, dtype=np.float32))
        np.testing.assert_array_equal(reward, [s[1] for s in stepped])
