"""VariBAD's task-aware oracle (``task_aware``): its own policy and PPO, told the task where it
would read the belief, trains no VAE; its agent acts as the sampler does; it is a baseline of a
VariBAD run on the same tasks."""

from __future__ import annotations

import json

import numpy as np
import torch

from metarl.algorithms import varibad
from metarl.cli import main
from metarl.rl.memory_agent import make_agent
from tests.algorithms.varibad.test_learner import TINY


def _oracle(**overrides) -> varibad.VariBADLearner:
    return varibad.build_learner(varibad.make_config("gridworld", **{**TINY, "task_aware": True, **overrides}))


def test_the_policy_reads_the_standardised_goal_where_the_belief_was_and_no_vae_trains():
    learner = _oracle()
    vae_before = {k: v.clone() for k, v in learner.vae.state_dict().items()}
    learner.train_iteration(0)
    assert len(learner.buffer) == 0
    assert all(torch.equal(v, vae_before[k]) for k, v in learner.vae.state_dict().items())
    tasks = learner.tasks.train_batch(4, np.random.default_rng(3))
    trials = learner.collect(tasks)
    features = learner.features(tasks)[:, None].expand(*trials.mask.shape, -1)
    with torch.no_grad():  # before policy_batch, which moves the input normalisation
        dist, _ = learner.policy(trials.obs, features)
    torch.testing.assert_close(dist.log_prob(trials.actions), trials.log_probs, atol=1e-5, rtol=1e-5)
    rows = learner.policy_batch(trials, tasks)
    goals = np.asarray(tasks.features(), dtype=np.float64)
    sample = np.asarray(learner.tasks.train_batch(4096, np.random.default_rng(12345)).features(), dtype=np.float64)
    by_hand = (goals - sample.mean(0)) / sample.std(0)
    per_trial = np.repeat(by_hand, trials.mask.sum(1).long().numpy(), axis=0)  # rows are the real steps, trial-major
    np.testing.assert_allclose(rows["belief"].numpy(), per_trial, rtol=1e-5, atol=1e-6)


def test_its_agent_plays_the_trial_the_sampler_plays():
    learner = _oracle()
    learner.train_iteration(0)
    task = learner.tasks.test_tasks(1)
    trial = learner.play(task, seed=0, deterministic=True)
    agent = make_agent(learner, task, adapted=False)
    env = learner.env_factory(tasks=task)
    obs, _ = env.reset(seed=0)
    rewards = []
    for _ in range(learner.config.max_trial_length):
        obs, reward, terminated, truncated, _ = env.step(agent.act(obs, deterministic=True))
        agent.observe(reward, terminated, truncated, next_obs=obs)
        rewards.append(float(reward[0]))
        if terminated[0] or truncated[0]:
            obs, _ = env.reset()
    np.testing.assert_allclose(rewards, trial.rewards[0, : len(rewards)].numpy(), rtol=1e-6)


def test_an_oracle_run_is_a_baseline_of_a_varibad_run(tmp_path, capsys):
    flags = ["--iterations", "1", "--trials-per-iteration", "4", "--encoder-hidden-size", "8", "--validation-tasks",
             "2", "--minibatches", "2", "--precollect-frames", "0", "--vae-buffer-size", "10", "--vae-batch-trials",
             "3", "--quiet"]
    run, oracle = tmp_path / "vb", tmp_path / "oracle"
    assert main(["train", "varibad", "--env", "gridworld", "--out", str(run), *flags]) == 0
    assert main(["train", "varibad", "--env", "gridworld", "--out", str(oracle), "--task-aware", *flags]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(run), "--tasks", "5", "--json", "--baseline", f"oracle={oracle}"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "oracle" in result["baselines"] and "minus oracle" in result["paired"]
