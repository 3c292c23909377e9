"""The one short learning test: RL² on 5-armed bandits with trials of 10 pulls.

A policy that does not learn from the rewards in its trial scores the random 5.0 in expectation
(any fixed arm choice averages p = 0.5); on 500 validation tasks the standard error is about 0.07,
so 5.6 is out of an untrained agent's reach, and out of any non-meta learner's: a policy without
memory of the trial cannot tell the tasks apart, and every fixed arm choice averages 5.0 over the task
distribution. The paper's RL² reaches 6.7, Gittins 6.6. Pass or fail is on return, never on time.
"""

import pytest
import torch

from metarl.algorithms import rl2


@pytest.mark.slow
def test_short_bandit_run_beats_random_by_a_wide_margin():
    torch.set_num_threads(1)
    config = rl2.make_config("bandit", iterations=60, trials_per_iteration=256, hidden_size=64, validation_tasks=500)
    learner = rl2.build_learner(config)
    untrained = learner.validate()
    for it in range(config.iterations):
        learner.train_iteration(it)
    trained = learner.validate()
    assert abs(untrained - 5.0) < 0.3
    assert trained > 5.6, f"trained {trained:.3f} vs untrained {untrained:.3f}"
