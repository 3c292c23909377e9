"""The PEARL learner end to end: the collection protocol, the encoder buffer cleared on re-sampling,
determinism and resume (with and without buffers), the baselines' embeddings and the evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metarl.algorithms import pearl
from metarl.algorithms.pearl.learner import fixed_train_tasks

TINY = dict(hidden_sizes=(16,), encoder_sizes=(16,), train_tasks=6, tasks_per_iteration=2, initial_steps=20,
            steps_prior=20, steps_posterior=40, extra_rl_steps_posterior=20, gradient_steps=4, meta_batch=3,
            batch_size=16, embedding_batch_size=16, replay_capacity=500, validation_tasks=3, eval_trajectories=4,
            exploration=2)


def _learner(**overrides):
    return pearl.build_learner(pearl.make_config("navigation2d-sparse", **{**TINY, **overrides}))


class Recorder:
    """Wraps a sampler and records every collect call's z and deterministic flag."""

    def __init__(self, sampler):
        self.sampler, self.calls = sampler, []

    def collect(self, policy, tasks, episodes, **kwargs):
        self.calls.append((len(tasks), kwargs["params"]["z"].clone(), kwargs.get("deterministic", False)))
        return self.sampler.collect(policy, tasks, episodes, **kwargs)

    def __getattr__(self, name):
        return getattr(self.sampler, name)


def _strip(metrics):
    return {k: v for k, v in metrics.items() if not k.startswith("time") and k != "gradient_steps_per_second"}


def test_bad_configs_name_the_problem():
    with pytest.raises(ValueError, match="tasks_per_iteration=7"):
        pearl.make_config("navigation2d-sparse", train_tasks=6, tasks_per_iteration=7)
    with pytest.raises(ValueError, match="embedding='tasks'"):
        pearl.make_config("navigation2d-sparse", embedding="tasks")
    with pytest.raises(ValueError, match="neither a task family"):
        pearl.make_config("cartpole")
    with pytest.raises(ValueError, match="initial_steps=0"):
        pearl.make_config("navigation2d-sparse", initial_steps=0)
    with pytest.raises(ValueError, match="replay_capacity=10"):
        pearl.make_config("navigation2d-sparse", replay_capacity=10)
    oyster = pearl.make_config("navigation2d-sparse-oyster")
    assert (oyster.env, oyster.loss.gamma, oyster.loss.reward_scale, oyster.evaluation.exploration) == (
        "navigation2d-sparse", 0.9, 100.0, 5)


def test_cheetah_vel_presets_are_oysters_config():
    """oyster's configs/cheetah-vel.json, read by hand; the CPU preset keeps its collection and protocol."""
    full, cpu = pearl.make_config("halfcheetah-vel-oyster"), pearl.make_config("halfcheetah-vel-oyster-cpu")
    for config in (full, cpu):
        col, ev = config.collection, config.evaluation
        assert (config.env, config.train_tasks, col.initial_steps, col.tasks_per_iteration) == (
            "halfcheetah-vel-oyster", 100, 2000, 5)
        assert (col.steps_prior, col.steps_posterior, col.extra_rl_steps_posterior) == (400, 0, 600)
        assert (config.optimizer.embedding_batch_size, ev.eval_trajectories, ev.exploration) == (100, 3, 2)
        assert config.horizon == 200
    assert (full.network.hidden_sizes, full.optimizer.gradient_steps, full.optimizer.meta_batch) == (
        (300, 300, 300), 2000, 16)
    assert (cpu.network.hidden_sizes, cpu.optimizer.gradient_steps, cpu.optimizer.meta_batch) == (
        (128, 128, 128), 1000, 8)


def test_collection_phases_follow_oysters_train_loop():
    learner = _learner()
    learner.sampler = rec = Recorder(learner.sampler)
    metrics = learner.train_iteration(0)
    sizes = [c[0] for c in rec.calls]
    # initial pool: 6 tasks x 1 episode; prior: 2 tasks x 1 episode in one call; posterior: 2 calls of
    # 2 tasks; extra: 1 call
    assert sizes == [6, 2, 2, 2, 2]
    assert metrics["env_steps"] == 20 * (6 + 2 + 4 + 2)
    z_prior_post = [rec.calls[1][1], rec.calls[2][1], rec.calls[3][1]]
    assert all(z.shape == (2, 5) for z in z_prior_post)
    assert not torch.equal(z_prior_post[1], z_prior_post[2])  # the posterior is re-inferred after each episode
    collected = np.flatnonzero(learner.enc_buffer.sizes == 60)
    assert len(collected) == 2  # cleared, then prior (20) + posterior (40); the extra steps went to RL only
    assert sorted(learner.enc_buffer.sizes.tolist()) == [20, 20, 20, 20, 60, 60]
    assert sorted(learner.rl_buffer.sizes.tolist()) == [20, 20, 20, 20, 100, 100]
    learner.train_iteration(1)
    again = np.flatnonzero(learner.enc_buffer.sizes == 60)
    assert set(np.flatnonzero(learner.rl_buffer.sizes > 100)) <= set(again)


def test_evaluation_explores_with_the_prior_then_uses_the_posterior():
    learner = _learner()
    learner.train_iteration(0)
    learner.sampler = rec = Recorder(learner.sampler)
    tasks = learner.tasks.test_tasks(5)
    returns = pearl.play(learner, tasks, trajectories=4, exploration=2, deterministic=True, seed=3)
    assert returns.shape == (5, 4) and all(c[2] for c in rec.calls) and len(rec.calls) == 4
    assert torch.equal(returns, pearl.play(learner, tasks, trajectories=4, exploration=2, deterministic=True, seed=3))
    del rec.calls[4:]
    pearl.play(learner, tasks, trajectories=4, exploration=4, deterministic=True, seed=3)
    mixed, prior_only = [c[1] for c in rec.calls[:4]], [c[1] for c in rec.calls[4:]]
    assert all(torch.equal(a, b) for a, b in zip(prior_only[:2], mixed[:2], strict=True))  # the same prior draws
    assert not torch.equal(prior_only[2], mixed[2])  # from trajectory 3 on, z comes from the posterior
    context_free = learner.posterior_latent(torch.zeros(5, 0, learner.context_dim), None, torch.Generator())
    assert context_free.shape == (5, 5)


def test_same_seed_same_run_and_resume_continues_exactly():
    a = _learner()
    metrics_a = [_strip(a.train_iteration(i)) for i in range(3)]
    b = _learner()
    b.train_iteration(0)
    b.train_iteration(1)
    state = b.state_dict()
    resumed = _learner()
    torch.manual_seed(999)
    resumed.load_state_dict(state)
    assert _strip(resumed.train_iteration(2)) == metrics_a[2]
    for (name, x), (_, y) in zip(a.nets.state_dict().items(), resumed.nets.state_dict().items(), strict=True):
        assert torch.equal(x, y), name
    assert a.validate() == resumed.validate()


def test_without_buffers_resume_refills_every_task_first():
    learner = _learner(checkpoint_buffers=False)
    learner.train_iteration(0)
    state = learner.state_dict()
    assert "rl_buffer" not in state and state["initialised"] is False
    resumed = _learner(checkpoint_buffers=False)
    resumed.load_state_dict(state)
    metrics = resumed.train_iteration(1)
    assert metrics["env_steps"] == 20 * (6 + 2 + 4 + 2)  # the initial pool again, then the iteration's own
    assert resumed.rl_buffer.sizes.min() >= 20 and resumed.env_steps == 2 * metrics["env_steps"]


@pytest.mark.parametrize("embedding", ["task", "none"])
def test_baselines_train_and_evaluate_on_the_same_tasks(embedding):
    learner = _learner()
    learner.train_iteration(0)
    other = pearl.build_baseline(learner.config, embedding)
    assert other.nets.encoder is None and other.latent_dim == (2 if embedding == "task" else 0)
    metrics = other.train_iteration(0)
    assert metrics["env_steps"] == 20 * (6 + 2 + 4 + 2)  # the same env-step budget
    if embedding == "task":
        goals = torch.tensor(np.array(other.train_tasks.goals), dtype=torch.float32)
        standard = (goals - goals.mean(0)) / goals.std(0, unbiased=False)
        torch.testing.assert_close(other.train_latents, standard)
    result = pearl.evaluate(learner, num_tasks=4, seed=1, baselines={embedding: other})
    assert result.axis == "episode" and result.x == [1, 2, 3, 4] and len(result.curve.mean) == 4
    assert set(result.baselines) == {embedding} and f"minus {embedding}" in result.paired
    assert result.details["final_return"] == result.curve.mean[-1]


def test_a_fixed_task_sets_train_list_is_used_whole():
    from metarl.envs.navigation import oyster_task_set

    fixed = oyster_task_set()
    assert len(fixed_train_tasks(fixed, 3)) == 80
    learner = pearl.build_learner(pearl.make_config("navigation2d-sparse", **TINY), tasks=fixed)
    assert learner.rl_buffer.num_tasks == 80 and learner.train_tasks == fixed.train


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_trains_on_cuda_with_every_tensor_there():
    learner = _learner(device="cuda")
    learner.train_iteration(0)
    assert learner.rl_buffer.data["obs"].is_cuda and next(learner.nets.parameters()).is_cuda
    assert np.isfinite(learner.validate())
