"""The grid world's baselines: the Bayes-optimal planner against a brute-force Bayes recursion on
small grids, and every baseline's exact value against the env it plays in."""

import functools
import json

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from metarl.classic import evaluate_baselines, gridworld_plan, has_baselines, run_trials
from metarl.classic.gridworld import make_policy
from metarl.classic.gridworld_plan import Grid, plan, steps_on_goal
from metarl.envs.gridworld import GridworldDistribution, GridworldEnv, GridworldTasks, goal_cells
from metarl.errors import ConfigError
from metarl.tasks import TaskSplit


def brute_force(size: int, horizon: int, episodes: int) -> list[float]:
    """Expected return per episode of the Bayes-optimal policy, by the Bellman recursion over
    (step, position, cells the goal may still be in) with all five actions and the goal-known play
    recursed too; integer tenths summed over goals, ties broken towards earlier episodes."""
    moves = [(0, 0), (0, 1), (1, 0), (0, -1), (-1, 0)]
    goals = frozenset((x, y) for x in range(size) for y in range(size) if x >= 2 or y >= 2)
    end = horizon * episodes

    def move(p, a):
        return tuple(min(max(p[i] + moves[a][i], 0), size - 1) for i in range(2))

    def then(t, q, v, reward):  # the next step's (t, position) and v with the reward added
        v = list(v)
        v[t // horizon] += reward
        return t + 1, ((0, 0) if (t + 1) % horizon == 0 else q), v

    def best(options):
        return max(options, key=lambda v: (sum(v), *v))

    @functools.cache
    def known(t, p, g):
        if t == end:
            return (0,) * episodes
        options = []
        for a in range(5):
            q = move(p, a)
            nt, nq, _ = then(t, q, [0] * episodes, 0)
            options.append(tuple(then(t, q, known(nt, nq, g), 10 if q == g else -1)[2]))
        return best(options)

    @functools.cache
    def belief(t, p, maybe):
        if t == end:
            return (0,) * episodes
        options = []
        for a in range(5):
            q = move(p, a)
            rest = maybe - {q}
            nt, nq, _ = then(t, q, [0] * episodes, 0)
            v = then(t, q, belief(nt, nq, rest), -len(rest))[2]
            if q in maybe:
                v = [x + y for x, y in zip(v, then(t, q, known(nt, nq, q), 10)[2], strict=True)]
            options.append(tuple(v))
        return best(options)

    return [v / (10 * len(goals)) for v in belief(0, (0, 0), goals)]


@pytest.mark.parametrize(("size", "horizon", "episodes"), [
    (3, 2, 3), (3, 4, 3), (4, 4, 3), (4, 5, 2), (5, 4, 3), (5, 6, 2), (6, 5, 2),
])
def test_planner_matches_brute_force_on_small_grids(size, horizon, episodes):
    planned = plan(size=size, horizon=horizon, episodes=episodes)
    np.testing.assert_allclose(planned.episode_returns, brute_force(size, horizon, episodes), rtol=0, atol=1e-12)
    assert planned.actions.shape == (episodes, horizon) and planned.states > 0


def test_the_gridnavi_plan_and_its_hand_computed_returns():
    planned = plan()  # 5x5, 4 episodes of 15 steps
    # Episode 1 finds a new cell at every step from step 2 on (14 of the 21), the most any episode
    # can: the goal is sat on sum_{s=2}^{15} (16 - s) = 105 steps over the 21 goals. The 7 left lie
    # on one shortest path, so from episode 2 on every goal is reached as fast as the oracle does.
    first = -1.5 + 1.1 * 105 / 21
    oracle = np.mean([-0.1 * (d - 1) + (16 - d) for d in goal_cells().sum(axis=1)])
    np.testing.assert_allclose(planned.episode_returns, [first, oracle, oracle, oracle], atol=1e-12)
    assert first == pytest.approx(4.0) and oracle == pytest.approx(11.0 + 1.5 / 21)
    assert steps_on_goal(Grid(5), planned.actions, 15)[:, 0].sum() == 105


def _all_goals() -> GridworldTasks:
    return GridworldTasks(goals=goal_cells())


@pytest.mark.parametrize("name", ["bayes-optimal", "oracle"])
def test_deterministic_baselines_earn_their_exact_values_on_every_goal(name):
    tasks = _all_goals()  # each of the 21 goals once: the mean is the expectation
    policy = make_policy(name, tasks=tasks, episodes=4)
    env = GridworldEnv(tasks=tasks, autoreset_mode=AutoresetMode.DISABLED, seed=0)
    returns = run_trials(env, policy, episodes=4, rng=np.random.default_rng(0))
    np.testing.assert_allclose(returns.mean(axis=0), policy.exact_per_episode, atol=1e-12)
    assert policy.exact == pytest.approx(returns.sum(axis=1).mean(), abs=1e-12)


def test_sampled_goals_match_the_exact_values_within_their_intervals():
    tasks = TaskSplit(distribution=GridworldDistribution(), seed=2024).test_tasks(3000)
    results = evaluate_baselines("gridworld", tasks=tasks, episodes=4, seed=5)
    assert set(results) == {"random", "oracle", "bayes-optimal"} and has_baselines("gridworld")
    for r in results.values():
        assert abs(r.mean - r.exact) < 3.3 * r.stderr, (r.name, r.mean, r.exact, r.stderr)  # a 99.9% interval
        assert r.exact == pytest.approx(r.exact_per_episode.sum())
    assert results["random"].exact < results["bayes-optimal"].exact < results["oracle"].exact
    assert results["bayes-optimal"].per_episode[0] < results["bayes-optimal"].per_episode[1]


def test_bayes_optimal_replans_for_other_trial_lengths():
    tasks = _all_goals()
    policy = make_policy("bayes-optimal", tasks=tasks, episodes=4)
    env = GridworldEnv(tasks=tasks, autoreset_mode=AutoresetMode.DISABLED)
    returns = run_trials(env, policy, episodes=1, rng=np.random.default_rng(0))
    assert returns.mean() == pytest.approx(4.0) and policy.exact_per_episode.shape == (1,)


def test_planner_refuses_what_it_cannot_solve(monkeypatch):
    with pytest.raises(ConfigError, match="size must be >= 3"):
        plan(size=2)
    with pytest.raises(ConfigError, match="up to 7x7"):
        plan(size=8)
    monkeypatch.setattr(gridworld_plan, "MAX_STATES", 100)
    with pytest.raises(ConfigError, match="more than 100 states at step 6 of episode 1 .* too large to solve exactly"):
        plan.__wrapped__(size=5, horizon=15, episodes=4)


def test_baselines_command_reports_exact_values(capsys):
    import argparse

    from metarl.classic import command

    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    assert command.main(parser.parse_args(["gridworld", "--tasks", "50", "--json"])) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"random", "oracle", "bayes-optimal"}
    assert len(data["oracle"]["per_episode"]) == 4  # VariBAD's 4 episodes by default
    assert data["bayes-optimal"]["exact_per_episode"][0] == pytest.approx(4.0)
    assert data["bayes-optimal"]["constant"].startswith("exact plan")
