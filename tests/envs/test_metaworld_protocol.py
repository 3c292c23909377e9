"""``metarl.success.evaluate_success`` against ``metaworld.evaluation.metalearning_evaluation`` on the
same tasks, with Meta-World's scripted door-close policy (deterministic, so both must agree exactly).
Under partial observability that policy closes the door on goals 2 and 4 of the first 6 ML1 test
goals (seed 0) only, so the rate is neither 0 nor 1. Needs ``metarl[metaworld]``."""

from __future__ import annotations

import numpy as np
import pytest

metaworld = pytest.importorskip("metaworld")

from metaworld.evaluation import metalearning_evaluation  # noqa: E402

from metarl.envs.meta_world import ML1Distribution, ML1Env  # noqa: E402
from metarl.success import evaluate_success  # noqa: E402
from tests.envs.test_env_metaworld import Scripted  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Constant")  # Meta-World's scripted policies warn on import
NAME, GOALS = "door-close-v3", 6


class MetaWorldSide:
    """``metaworld.evaluation.MetaLearningAgent`` over one metarl agent per sub-environment."""

    def __init__(self, make, num_envs: int) -> None:
        self.make, self.num_envs = make, num_envs

    def init(self) -> None:
        self.agents = [self.make() for _ in range(self.num_envs)]

    def adapt_action(self, obs):
        return np.stack([a.act(o, deterministic=False) for a, o in zip(self.agents, obs, strict=True)]), {}

    def step(self, timestep) -> None:
        for i, agent in enumerate(self.agents):
            agent.observe(timestep.reward[i], timestep.terminated[i], timestep.truncated[i])
            if timestep.terminated[i] or timestep.truncated[i]:
                agent.reset()

    def adapt(self) -> None:
        pass

    def eval_action(self, obs):
        return np.stack([a.act(o, deterministic=True) for a, o in zip(self.agents, obs, strict=True)])

    def reset(self, mask) -> None:
        for i in np.flatnonzero(mask):
            self.agents[i].reset()


@pytest.fixture(scope="module")
def ours():
    tasks = ML1Distribution(task=NAME, benchmark_seed=0).task_set(seed=0).test.take(np.arange(GOALS))
    env = ML1Env(tasks=tasks.take(0))
    result = evaluate_success(lambda task: Scripted(NAME), env=env, tasks=tasks, adaptation_episodes=1,
                              evaluation_episodes=2, seed=0)
    env.close()
    return result


def test_success_rate_equals_metaworld_evaluation_exactly(ours):
    # one sub-env for the one class, and num_evals visits each of its GOALS test goals once
    envs = metaworld.make_ml_envs_test(NAME, seed=0, meta_batch_size=1, total_tasks_per_cls=GOALS)
    rate, mean_return, per_class = metalearning_evaluation(MetaWorldSide(lambda: Scripted(NAME), 1), envs,
                                                           num_evals=GOALS, adaptation_episodes=1,
                                                           evaluation_episodes=2)
    envs.close()
    assert ours.success_rate == rate == 2 / 6
    assert ours.by_group() == {NAME: per_class[NAME]}
    assert ours.mean_return == pytest.approx(mean_return, rel=1e-12)
    assert ours.task_success.tolist() == [0, 0, 1, 0, 1, 0]
    assert ours.ci95 == pytest.approx(1.96 * np.std([0, 0, 1, 0, 1, 0], ddof=1) / np.sqrt(6))
    # adaptation episodes run all 500 steps, and success at any step counts there too
    assert ours.adaptation_success[:, 0].tolist() == [False, False, True, False, True, False]


def test_metaworld_counts_the_first_episodes_to_end_so_two_sub_envs_per_class_inflate_the_rate(ours):
    """With two sub-envs per class Meta-World counts, each round, the episode that ends first; a
    success ends its episode early, so a round scores a success whenever either goal succeeds."""
    envs = metaworld.make_ml_envs_test(NAME, seed=0, meta_batch_size=2, total_tasks_per_cls=GOALS)
    rate, _, _ = metalearning_evaluation(MetaWorldSide(lambda: Scripted(NAME), 2), envs, num_evals=GOALS // 2,
                                         adaptation_episodes=0, evaluation_episodes=1)
    envs.close()
    # sub-env 0 holds goals 0, 2, 4 (two of them succeed), sub-env 1 goals 1, 3, 5 (none does): two
    # rounds of three score a success, whatever the order, against one task in three
    assert rate == 2 / 3 and ours.success_rate == 1 / 3


def test_a_trained_rl2_agent_scores_the_same_in_both_evaluations():
    """A learned agent, not a script: RL² after one iteration on ML1 reach (its memory carried across
    the adaptation episode into the evaluation ones, actions sampled while adapting). Both
    protocols get a fresh agent per task from the same factory, whose action noise is seeded, and
    Meta-World's reset ignores its seed, so the two must agree exactly. Meta-World's evaluation
    episodes give the agent no feedback (``eval_action`` only): with it (``evaluation_feedback``)
    the memory keeps adapting and the episodes differ."""
    from metarl.algorithms.rl2 import make_agent
    from metarl.api import make

    task = "reach-v3"
    learner = make("rl2", env="metaworld-ml1", task_options=("task=" + task,), iterations=1,
                   trials_per_iteration=2, episodes_per_trial=2, hidden_size=8, minibatches=1,
                   validation_tasks=2).learner
    learner.train_iteration(0)
    tasks = learner.tasks.test_tasks(GOALS)
    env = learner.env_factory(tasks=tasks.take(0))
    ours, fed = (evaluate_success(lambda t: make_agent(learner, t, adapted=False), env=env, tasks=tasks,
                                  adaptation_episodes=1, evaluation_episodes=2, seed=0, evaluation_feedback=feedback)
                 for feedback in (False, True))
    env.close()
    envs = metaworld.make_ml_envs_test(task, seed=0, meta_batch_size=1, total_tasks_per_cls=GOALS)
    first = tasks.take(0)
    rate, mean_return, per_class = metalearning_evaluation(
        MetaWorldSide(lambda: make_agent(learner, first, adapted=False), 1), envs, num_evals=GOALS,
        adaptation_episodes=1, evaluation_episodes=2)
    envs.close()
    assert ours.success_rate == rate and ours.by_group() == {task: per_class[task]}
    assert ours.mean_return == pytest.approx(mean_return, rel=1e-6)
    np.testing.assert_array_equal(fed.adaptation_returns, ours.adaptation_returns)
    assert fed.mean_return != pytest.approx(mean_return, rel=1e-6)
