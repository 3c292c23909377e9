"""Every tensor the learners make lands on their device, checked on a CPU-only machine.

A learner is built normally on ``device="cpu"``, then trained and validated under
``torch.device("meta")`` as the default device: a tensor created without an explicit device (what
breaks ``--device cuda``: a CPU tensor meeting CUDA ones) lands on meta instead, and the first op that
mixes it with the learner's CPU tensors, or reads its value, raises. Tensors created with
``device=`` taken from an existing tensor stay on the CPU and the iteration runs as usual.
"""

import math

import pytest
import torch

from metarl.algorithms import maml, rl2
from metarl.algorithms.maml import sinusoid
from metarl.algorithms.maml.evaluation import summarize

MAML_TINY = {"hidden_sizes": (8,), "meta_batch_size": 3, "episodes_per_task": 4, "max_episode_steps": 10,
             "validation_tasks": 2, "eval_episodes": 3, "iterations": 2, "fvp_episodes": 0}
RL2_TINY = {"trials_per_iteration": 8, "hidden_size": 8, "iterations": 2, "validation_tasks": 4, "minibatches": 2,
            "ppo_epochs": 1}


def _off_device(fn):
    """``fn()`` with meta as the default device for tensors created without one."""
    with torch.device("meta"):
        return fn()


def _finite(metrics: dict[str, float], value: float) -> bool:
    return all(math.isfinite(v) for v in metrics.values()) and math.isfinite(value)


def test_the_check_catches_a_tensor_created_without_a_device():
    learner_tensor = torch.ones(3)

    def careless():
        return float((learner_tensor + torch.zeros(3)).sum())

    def careful():
        return float((learner_tensor + torch.zeros(3, device=learner_tensor.device)).sum())

    assert _off_device(careful) == 3.0
    with pytest.raises((RuntimeError, NotImplementedError)):
        _off_device(careless)


@pytest.mark.parametrize("overrides", [
    {}, {"estimator": "dice"}, {"estimator": "lvc"}, {"learn_inner_lr": True}, {"outer": "ppo", "ppo_epochs": 2},
    {"inner_steps": 2, "fvp_episodes": 2},
], ids=["plain", "dice", "lvc", "meta-sgd", "ppo", "k2-subsampled-fvp"])
def test_maml_makes_every_tensor_on_its_device(overrides):
    torch.manual_seed(0)
    learner = maml.build_learner(maml.make_config("navigation2d", **{**MAML_TINY, **overrides}))
    metrics, value = _off_device(lambda: (learner.train_iteration(0), learner.validate()))
    assert _finite(metrics, value)


def test_maml_joint_learner_and_evaluation_summaries_stay_on_device():
    torch.manual_seed(0)
    meta = maml.build_learner(maml.make_config("navigation2d", **MAML_TINY))
    joint = maml.MamlLearner(config=meta.config, env=meta.env_factory, tasks=meta.tasks, sampler=meta.sampler,
                             joint=True)
    metrics, value = _off_device(lambda: (joint.train_iteration(0), joint.validate()))
    assert _finite(metrics, value)
    one_task = torch.tensor([[1.0], [2.0]])  # the single-task interval is made, not computed
    assert _off_device(lambda: summarize(one_task))["ci95_by_step"] == [0.0, 0.0]


def test_sinusoid_evaluation_draws_on_the_generators_device():
    torch.manual_seed(0)
    model = sinusoid.make_model()
    mse = _off_device(lambda: sinusoid.evaluate_mse(model, num_tasks=3, steps=1))
    assert len(mse) == 2 and all(math.isfinite(m) for m in mse)


@pytest.mark.parametrize(("env", "overrides"), [
    ("bandit", {}), ("bandit", {"cell": "lstm", "value_norm": True}), ("bandit", {"task_aware": True}),
    ("navigation2d", {"max_episode_steps": 10, "tbptt": 5}),
], ids=["bandit-gru", "bandit-lstm-value-norm", "bandit-task-aware", "navigation-tbptt"])
def test_rl2_makes_every_tensor_on_its_device(env, overrides):
    learner = rl2.build_learner(rl2.make_config(env, **{**RL2_TINY, **overrides}))
    metrics, value = _off_device(lambda: (learner.train_iteration(0), learner.validate()))
    assert _finite(metrics, value)
