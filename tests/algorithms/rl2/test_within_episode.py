"""RL²'s evaluation within episode 1: return per time step for the agent and its baselines, played
on the same tasks from the same reset seeds, and the paired differences."""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from metarl.algorithms import rl2
from metarl.algorithms.rl2.evaluation import episode_step_rewards
from metarl.results import EvaluationResult

TINY = dict(trials_per_iteration=8, hidden_size=8, iterations=1, validation_tasks=4, minibatches=2, ppo_epochs=1,
            episodes_per_trial=2, max_episode_steps=5)
OPTIONS = rl2.RL2EvalOptions(deterministic=False, classic=False)  # sampled actions: the policy's stream counts too


@pytest.fixture(scope="module")
def learners():
    return (rl2.build_learner(rl2.make_config("pendulum", **TINY)),
            rl2.build_learner(rl2.make_config("pendulum", memory=False, seed=7, **TINY)))


def test_step_rewards_of_hand_made_trials():
    # two trials; episode 1 lasts 3 steps in the first and 1 in the second, then episode 2
    trials = SimpleNamespace(
        rewards=torch.tensor([[1.0, 2.0, 3.0, 10.0, 20.0], [5.0, 30.0, 40.0, 0.0, 0.0]]),
        episode_index=torch.tensor([[0, 0, 0, 1, 1], [0, 1, 1, 2, 2]]),
        mask=torch.tensor([[1.0, 1, 1, 1, 1], [1, 1, 1, 0, 0]]))
    assert episode_step_rewards(trials).tolist() == [[1, 2, 3], [5, 0, 0]]
    assert episode_step_rewards(trials, episode=1).tolist() == [[10, 20], [30, 40]]
    assert episode_step_rewards(trials, steps=4).tolist() == [[1, 2, 3, 0], [5, 0, 0, 0]]


def test_a_run_against_itself_differs_by_exactly_zero(learners):
    learner, _ = learners
    result = rl2.evaluate(learner, num_tasks=6, seed=3, baselines={"self": learner}, options=OPTIONS)
    for paired in (result.paired["minus self"], result.within_episode.paired["minus self"]):
        assert set(paired.mean) == {0.0} and set(paired.ci95) == {0.0}
    assert result.within_episode.baselines["self"] == result.within_episode.curve
    assert result.baselines["self"] == result.curve


def test_agent_and_baseline_start_every_episode_from_the_same_states(learners):
    learner, memoryless = learners
    tasks = learner.tasks.test_tasks(6)
    a, b = learner.play(tasks, seed=3, deterministic=False), memoryless.play(tasks, seed=3, deterministic=False)
    starts = torch.tensor([0, TINY["max_episode_steps"]])  # pendulum episodes run to the time limit
    assert torch.equal(a.obs[:, starts], b.obs[:, starts])
    assert not torch.equal(a.obs[:, 1:], b.obs[:, 1:])  # ... and then the two policies act differently
    other_seed = learner.play(tasks, seed=4, deterministic=False)
    assert not torch.equal(a.obs[:, starts], other_seed.obs[:, starts])


def test_within_episode_curves_sum_to_episode_1_and_pair_per_task(learners):
    learner, memoryless = learners
    result = rl2.evaluate(learner, num_tasks=8, seed=2, baselines={"memoryless": memoryless}, options=OPTIONS)
    steps = result.within_episode
    assert steps.episode == 1 and steps.x == [1, 2, 3, 4, 5]
    assert math.isclose(sum(steps.curve.mean), result.curve.mean[0], rel_tol=1e-6)  # float32 sums
    assert math.isclose(sum(steps.baselines["memoryless"].mean), result.baselines["memoryless"].mean[0],
                        rel_tol=1e-6)
    # by hand from the two players' trials (the evaluation replays exactly these)
    tasks = learner.tasks.test_tasks(8)
    own = learner.play(tasks, seed=2, deterministic=False).rewards[:, :5].double()
    theirs = memoryless.play(tasks, seed=2, deterministic=False).rewards[:, :5].double()
    diff = (own - theirs).numpy()
    np.testing.assert_allclose(steps.paired["minus memoryless"].mean, diff.mean(0), rtol=1e-12)
    np.testing.assert_allclose(steps.paired["minus memoryless"].ci95, 1.96 * diff.std(0, ddof=1) / math.sqrt(8),
                               rtol=1e-12)
    assert "minus memoryless" in result.paired  # the per-episode paired difference stays


def test_within_episode_round_trips_json_and_old_results_still_load(learners, tmp_path):
    learner, memoryless = learners
    result = rl2.evaluate(learner, num_tasks=4, seed=0, baselines={"ff": memoryless}, options=OPTIONS)
    data = json.loads(json.dumps(result.to_json()))
    again = EvaluationResult.from_json(data)
    assert again.within_episode == result.within_episode and "within_episode" not in again.details
    assert again.to_json() == data
    del data["within_episode"]  # a result written before the field existed
    old = EvaluationResult.from_json(data)
    assert old.within_episode is None and "within_episode" not in old.to_json()
    assert result.plot(tmp_path / "two.png").stat().st_size > old.plot(tmp_path / "one.png").stat().st_size
