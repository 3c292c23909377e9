"""RL²'s gridworld preset: VariBAD's trial shape, and a short run evaluated beside the grid world's
classic baselines (random, oracle, the exact Bayes-optimal policy)."""

import pytest

from metarl.algorithms import rl2

TINY = dict(trials_per_iteration=8, hidden_size=8, embed_size=0, iterations=2, validation_tasks=4, minibatches=2)


def test_preset_is_varibads_trial():
    config = rl2.make_config("gridworld")
    assert (config.episodes_per_trial, config.max_trial_length) == (4, 60)
    assert (config.loss.gamma, config.loss.clip_range, config.policy.hidden_size) == (0.95, 0.05, 64)


def test_short_run_is_evaluated_beside_the_classic_baselines():
    learner = rl2.build_learner(rl2.make_config("gridworld", **TINY))
    for it in range(2):
        learner.train_iteration(it)
    result = rl2.evaluate(learner, num_tasks=20, seed=0)
    assert len(result["mean_return_by_episode"]) == 4
    assert set(result.baselines) >= {"random", "oracle", "bayes-optimal"}
    bayes = result.baseline_details["bayes-optimal"]
    assert bayes["exact_per_episode"][0] == pytest.approx(4.0) and bayes["exact"] == pytest.approx(37.2142857142857)
