"""``metarl success RUN``: Meta-World's protocol on a trained run, wired to each algorithm's agent
(a fresh memory agent adapted by the protocol's own episodes; MAML adapted by its evaluation
protocol first), on a family that reports success (``mountaincar-hills``: success = the goal hill)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from metarl.cli import main
from metarl.errors import ConfigError

RL2 = ["--iterations", "1", "--trials-per-iteration", "4", "--validation-tasks", "2", "--hidden-size", "8",
       "--minibatches", "1", "--quiet"]


@pytest.fixture(scope="module")
def rl2_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("success") / "rl2"
    assert main(["train", "rl2", "--env", "mountaincar-hills", "--out", str(run), *RL2]) == 0
    return run


def test_a_memory_run_is_scored_by_the_protocol_with_its_adaptation_episodes(rl2_run, capsys):
    from metarl import api
    from metarl.algorithms.rl2 import make_agent
    from metarl.success import evaluate_success

    assert main(["success", str(rl2_run), "--tasks", "3", "--adaptation-episodes", "1", "--evaluation-episodes",
                 "2", "--seed", "5", "--json"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (record["algorithm"], record["num_tasks"], record["adaptation_episodes"],
            record["evaluation_episodes"], record["evaluation_feedback"]) == ("rl2", 3, 1, 2, False)
    assert json.loads((rl2_run / "success_seed5_adapt1_eval2.json").read_text()) == record
    learner = api.load(rl2_run).learner
    tasks = learner.tasks.test_tasks(3)
    direct = evaluate_success(lambda t: make_agent(learner, t, adapted=False, seed=5),
                              env=learner.env_factory(tasks=tasks.take(np.arange(1))), tasks=tasks,
                              adaptation_episodes=1, evaluation_episodes=2, seed=5, batched=True)
    assert record["task_success"] == direct.task_success.tolist() and record["mean_return"] == direct.mean_return


@pytest.fixture(scope="module")
def maml_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("success") / "maml"
    assert main(["train", "maml", "--env", "mountaincar-hills", "--out", str(run), "--iterations", "1",
                 "--meta-batch-size", "2", "--episodes-per-task", "1", "--inner-lr", "0.1", "--validation-tasks",
                 "2", "--hidden-sizes", "8", "--eval-episodes", "1", "--eval-steps", "1", "--quiet"]) == 0
    return run


def test_a_gradient_run_adapts_by_its_own_protocol_first(maml_run, capsys):
    assert main(["success", str(maml_run), "--tasks", "2", "--evaluation-episodes", "1", "--json"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["adaptation_episodes"] == 0 and record["adapts_by_acting"] is False and record["num_tasks"] == 2


def test_one_adapted_maml_agent_for_many_tasks_equals_one_per_task(maml_run):
    from metarl import api
    from metarl.algorithms.maml import AdaptedPolicy, make_agent
    from metarl.success import evaluate_success

    learner = api.load(maml_run).learner
    tasks = learner.tasks.test_tasks(3)
    batched = make_agent(learner, tasks, seed=4)
    assert batched.num_tasks == 3 and len(batched.returns_by_step) == 2
    # adapted 2 tasks at a time (validation_tasks 2 x eval_episodes 1): never more sub-envs than validation
    assert learner.eval_sampler.executor.runner.env.num_envs <= 2
    rows = [AdaptedPolicy(policy=learner.policy, params={k: v[i:i + 1] for k, v in batched.params.items()},
                          obs_dim=batched.obs_dim, returns_by_step=[]) for i in range(3)]
    assert not all(np.allclose(rows[0].params[k], rows[1].params[k]) for k in rows[0].params)  # adapted apart
    obs = np.random.default_rng(0).normal(size=(3, batched.obs_dim)).astype(np.float32)
    for i in range(3):
        np.testing.assert_allclose(batched.act(obs)[i], rows[i].act(obs[i]), rtol=1e-6, atol=1e-6)
    env = learner.env_factory(tasks=tasks.take(np.arange(1)))
    one = evaluate_success(lambda t: batched, env=env, tasks=tasks, adaptation_episodes=0, evaluation_episodes=2,
                           seed=3, batched=True)
    each = iter(rows)
    apart = evaluate_success(lambda t: next(each), env=env, tasks=tasks, adaptation_episodes=0,
                             evaluation_episodes=2, seed=3)
    np.testing.assert_array_equal(one.success, apart.success)
    np.testing.assert_allclose(one.returns, apart.returns, rtol=1e-6)
    with pytest.raises(ConfigError, match="acts on one observation a task"):
        batched.act(obs[:2])


def test_a_family_without_success_is_a_clear_error(tmp_path, capsys):
    run = tmp_path / "nav"
    assert main(["train", "rl2", "--env", "navigation2d", "--out", str(run), *RL2]) == 0
    assert main(["success", str(run), "--tasks", "2"]) != 0
    assert "does not report success" in capsys.readouterr().err


def _one_and_each(make_agent, learner):
    """``(learner, one fresh agent for 3 test tasks, a fresh agent for each of them)``."""
    tasks = learner.tasks.test_tasks(3)
    return learner, make_agent(learner, tasks, adapted=False), [make_agent(learner, tasks.take(i), adapted=False)
                                                                for i in range(3)]


def _masked_steps(obs_dim: int, steps: int, *, keep: float, every: int, end: float):
    """Random ``(rows, obs [3, obs_dim], reward [3], done [3])`` for a 3-row agent: rows drop out
    (each kept with probability ``keep``) and come back, as episodes end at different steps; every
    ``every``-th step has them all."""
    rng = np.random.default_rng(0)
    for step in range(steps):
        rows = rng.random(3) < keep if step % every else np.ones(3, dtype=bool)
        if not rows.any():
            continue
        obs = rng.normal(size=(3, obs_dim)).astype(np.float32)
        reward, done = rng.normal(size=3).astype(np.float32), rng.random(3) < end
        yield rows, obs, reward, done


def test_one_batched_memory_agent_equals_an_agent_per_task_with_finished_rows_frozen(rl2_run):
    from metarl import api
    from metarl.algorithms.rl2 import make_agent

    learner, batched, single = _one_and_each(make_agent, api.load(rl2_run).learner)
    for rows, obs, reward, done in _masked_steps(batched.obs_dim, 12, keep=0.6, every=4, end=0.2):
        actions = batched.act(obs, deterministic=True, rows=rows)
        batched.observe(reward, done, np.zeros(3, dtype=bool), obs, rows=rows)
        for i in np.flatnonzero(rows):
            np.testing.assert_allclose(actions[i], single[i].act(obs[i], deterministic=True), rtol=1e-5, atol=1e-6)
            single[i].observe(reward[i], done[i], False, obs[i])
    for i in range(3):
        np.testing.assert_allclose(batched.state[:, i].numpy(), single[i].state[:, 0].numpy(), rtol=1e-5, atol=1e-6)


def test_a_belief_run_is_scored_with_its_transitions_observed(tmp_path, capsys):
    run = tmp_path / "varibad"
    assert main(["train", "varibad", "--env", "mountaincar-hills", "--out", str(run), "--iterations", "1",
                 "--trials-per-iteration", "2", "--validation-tasks", "2", "--quiet"]) == 0
    assert main(["success", str(run), "--tasks", "2", "--adaptation-episodes", "1", "--evaluation-episodes", "1",
                 "--json"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (record["algorithm"], record["num_tasks"], record["adaptation_episodes"]) == ("varibad", 2, 1)
    from metarl import api
    from metarl.algorithms.varibad import make_agent
    from metarl.success import evaluate_success

    learner = api.load(run).learner
    tasks = learner.tasks.test_tasks(2)
    per_task = evaluate_success(lambda t: make_agent(learner, t, adapted=False), tasks=tasks, adaptation_episodes=1,
                                env=learner.env_factory(tasks=tasks.take(np.arange(1))), evaluation_episodes=1)
    assert per_task.success.shape == (2, 1)


def test_one_latent_agent_for_many_tasks_keeps_each_rows_context_and_posterior(tmp_path):
    """PEARL's agent with a row per task: each row's context is exactly the steps it observed (rows
    masked out observe nothing), a row's z changes only when its own episode ends, its actions are
    a per-task agent's with the same z, and the masked posterior is the product over that row's
    context alone."""
    from metarl import api
    from metarl.algorithms.pearl import make_agent
    from metarl.algorithms.pearl.inference import product_of_gaussians

    run = tmp_path / "pearl"
    assert main(["train", "pearl", "--env", "mountaincar-hills", "--out", str(run), "--iterations", "1", "--quiet",
                 "--gradient-steps", "2", "--train-tasks", "4", "--tasks-per-iteration", "2", "--hidden-sizes", "8",
                 "--encoder-sizes", "8", "--validation-tasks", "2", "--eval-trajectories", "2",
                 "--exploration", "1"]) == 0
    learner, batched, single = _one_and_each(make_agent, api.load(run).learner)
    for rows, obs, reward, done in _masked_steps(batched.obs_dim, 40, keep=0.7, every=5, end=0.15):
        for i in range(3):
            single[i].z = batched.z[i:i + 1].clone()
        actions = batched.act(obs, deterministic=True, rows=rows)
        before = batched.z.clone()
        batched.observe(reward, done, np.zeros(3, dtype=bool), obs, rows=rows)
        for i in range(3):
            if not (rows[i] and done[i]):
                assert torch.equal(batched.z[i], before[i])
        for i in np.flatnonzero(rows):
            np.testing.assert_allclose(actions[i], single[i].act(obs[i], deterministic=True), rtol=1e-5, atol=1e-6)
            single[i].observe(reward[i], done[i], False, obs[i])
    assert batched.episodes.tolist() == [a.episodes.item() for a in single] and batched.episodes.sum() > 3
    for i in range(3):
        torch.testing.assert_close(batched.context[i], single[i].context[0])
    mask = torch.arange(batched.buffer.shape[1]) < batched.lengths.unsqueeze(1)
    mean, var = product_of_gaussians(*learner.nets.encoder(batched.buffer), mask)
    for i in range(3):
        alone = product_of_gaussians(*learner.nets.encoder(single[i].context[0].unsqueeze(0)))
        torch.testing.assert_close((mean[i:i + 1], var[i:i + 1]), alone, rtol=1e-5, atol=1e-6)


def test_another_protocol_writes_beside_the_first_result(rl2_run):
    from metarl.success_command import run_success

    _, plain = run_success(rl2_run, num_tasks=2, seed=7, adaptation_episodes=1, evaluation_episodes=1)
    _, fed = run_success(rl2_run, num_tasks=2, seed=7, adaptation_episodes=1, evaluation_episodes=1, feedback=True,
                         checkpoint="latest")
    assert json.loads((rl2_run / "success_seed7_adapt1_eval1.json").read_text()) == plain
    assert json.loads((rl2_run / "success_seed7_latest_feedback_adapt1_eval1.json").read_text()) == fed
