"""The RL² learner end to end: config errors, determinism, resuming, evaluation and the CLI."""

import json
import math

import numpy as np
import pytest
import torch

from metarl.algorithms import rl2
from metarl.cli import main
from metarl.envs.registry import make_distribution
from metarl.rl.task_features import TaskFeatures, with_features
from metarl.tasks import TaskSplit

TINY = dict(trials_per_iteration=16, hidden_size=8, iterations=3, validation_tasks=8, minibatches=2, ppo_epochs=1)


def test_bad_configs_name_the_problem():
    with pytest.raises(ValueError, match="episodes_per_trial=0"):
        rl2.make_config("bandit", episodes_per_trial=0)
    with pytest.raises(ValueError, match="max_unroll=1000: set tbptt"):
        rl2.make_config("pendulum", episodes_per_trial=10)
    with pytest.raises(ValueError, match="env 'cartpole' is neither a task family"):
        rl2.make_config("cartpole")
    with pytest.raises(ValueError, match="no field"):
        rl2.make_config("bandit", hidden=3)
    with pytest.raises(ValueError, match="gamma=1.5"):
        rl2.make_config("bandit", gamma=1.5)
    assert rl2.make_config("pendulum", episodes_per_trial=10, tbptt=200).optimizer.tbptt == 200


def test_variants_resolve_to_their_family():
    config = rl2.make_config("bandit-k10-n100")
    assert (config.env, config.task_options, config.episodes_per_trial, config.preset) == (
        "bandit", ("arms=10",), 100, "bandit-k10-n100")
    assert rl2.build_learner(config).env.single_action_space.n == 10


def _run(config, iterations):
    learner = rl2.build_learner(config)
    return learner, [learner.train_iteration(i) for i in range(iterations)]


def _strip_times(metrics):
    return [{k: v for k, v in m.items() if not k.startswith("time") and k != "env_steps_per_second"} for m in metrics]


def test_same_seed_same_run_and_resume_continues_exactly():
    config = rl2.make_config("tabular-mdp", episodes_per_trial=2, tbptt=7, value_norm=True, **TINY)
    first, metrics_a = _run(config, 3)
    _, metrics_b = _run(config, 3)
    assert _strip_times(metrics_a) == _strip_times(metrics_b)
    partial, _ = _run(config, 2)
    state = partial.state_dict()
    resumed = rl2.build_learner(config)
    torch.manual_seed(999)  # whatever happened in between, the state brings the streams back
    resumed.load_state_dict(state)
    assert _strip_times([resumed.train_iteration(2)]) == _strip_times(metrics_a[2:])


def test_validation_does_not_disturb_training_streams():
    config = rl2.make_config("bandit", **TINY)
    plain, metrics = _run(config, 2)
    learner = rl2.build_learner(config)
    learner.train_iteration(0)
    learner.validate()
    assert _strip_times([learner.train_iteration(1)]) == _strip_times(metrics[1:])


def test_evaluate_reports_the_curve_baselines_and_a_plot(tmp_path):
    learner = rl2.build_learner(rl2.make_config("bandit", episodes_per_trial=4, **TINY))
    result = rl2.evaluate(learner, num_tasks=30, seed=0)
    assert result["algorithm"] == "rl2" and result["env"] == "bandit"
    assert len(result["mean_return_by_episode"]) == 4
    assert math.isclose(sum(result["mean_return_by_episode"]), result["mean_trial_return"], rel_tol=1e-9)
    assert result["stderr"] > 0 and "random" in result["baselines"]
    assert len(result["baselines"]["random"]["mean_return_by_episode"]) == 4
    assert result.axis == "episode" and result.x == [1, 2, 3, 4] and len(result.baselines["random"].mean) == 4
    json.dumps(result.to_json())
    result.plot(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 1000


def test_oracle_sees_standardised_task_features():
    dist = make_distribution("mountaincar")
    features = TaskFeatures(TaskSplit(distribution=dist, seed=0))
    feats = features(dist.sample(2000, np.random.default_rng(1)))
    assert np.allclose(feats.mean(0).numpy(), 0, atol=0.1) and np.allclose(feats.std(0).numpy(), 1, atol=0.1)
    obs = torch.zeros(2, 5, 3)
    out = with_features(obs, torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert out.shape == (2, 5, 5) and out[1, 4, 3:].tolist() == [3.0, 4.0]
    oracle = rl2.build_oracle(rl2.make_config("pendulum", episodes_per_trial=1, max_episode_steps=5, **TINY))
    assert oracle.policy.obs_dim == 3 + 3
    assert oracle.train_iteration(0)["trial_return"] < 0


def test_cli_trains_and_evaluates_a_run(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "rl2", "--env", "bandit", "--out", str(out), "--iterations", "2", "--trials-per-iteration", "8",
            "--hidden-size", "8", "--validation-tasks", "4", "--minibatches", "2", "--quiet"]
    assert main(args) == 0
    assert main(["evaluate", str(out), "--tasks", "10", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["num_tasks"] == 10 and len(result["mean_return_by_episode"]) == 10
    assert (out / "evaluation_seed0.png").is_file()
