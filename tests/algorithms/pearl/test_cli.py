"""PEARL through the generic CLI: train (the preset's own command), resume, evaluate against an
oracle run on the same tasks, report."""

from __future__ import annotations

import json

from metarl.cli import main

SMALL = ["--gradient-steps", "5", "--train-tasks", "4", "--tasks-per-iteration", "2", "--hidden-sizes", "16",
         "--encoder-sizes", "16", "--validation-tasks", "2", "--eval-trajectories", "3", "--exploration", "1"]


def test_train_resume_evaluate_with_an_oracle_baseline_and_report(tmp_path, capsys):
    run, oracle = tmp_path / "pearl", tmp_path / "oracle"
    assert main(["train", "pearl", "--env", "navigation2d-sparse", "--out", str(run), "--iterations", "2",
                 "--quiet"]) == 0
    config = json.loads((run / "config.json").read_text())["algorithm_config"]
    assert config["env"] == "navigation2d-sparse" and config["collection"]["steps_posterior"] == 160
    assert main(["train", "pearl", "--resume", str(run), "--iterations", "3", "--quiet"]) == 0
    metrics = (run / "metrics.csv").read_text().splitlines()
    assert len(metrics) == 4 and metrics[0].startswith("iteration,") and "env_steps_total" in metrics[0]
    assert main(["train", "pearl", "--env", "navigation2d-sparse", "--out", str(oracle), "--iterations", "1",
                 "--embedding", "task", "--quiet", *SMALL]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(run), "--tasks", "3", "--json", "--baseline", f"oracle={oracle}",
                 "--trajectories", "4", "--exploration", "2"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["algorithm"] == "pearl" and result["axis"] == "episode" and result["x"] == [1, 2, 3, 4]
    assert result["exploration"] == 2 and result["baselines"]["oracle"]["embedding"] == "task"
    assert "minus oracle" in result["paired"] and len(result["mean_return_by_trajectory"]) == 4
    assert main(["report", str(run)]) == 0


def test_an_rl2_run_is_a_baseline_played_as_one_trial_on_the_same_tasks(tmp_path, capsys):
    """RL²'s returns beside PEARL's are its own trials on PEARL's test tasks (replayed here by
    hand); a trial of another length is refused with the flag that fixes it."""
    import numpy as np
    import torch

    from metarl.api import load

    run, rl2 = tmp_path / "pearl", tmp_path / "rl2"
    assert main(["train", "pearl", "--env", "navigation2d-sparse", "--out", str(run), "--iterations", "1",
                 "--quiet", *SMALL]) == 0
    assert main(["train", "rl2", "--env", "navigation2d-sparse", "--out", str(rl2), "--iterations", "1",
                 "--episodes-per-trial", "3", "--trials-per-iteration", "4", "--hidden-size", "8",
                 "--validation-tasks", "2", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(run), "--tasks", "3", "--json", "--seed", "5", "--baseline", f"rl2={rl2}"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    theirs = result["baselines"]["rl2"]
    assert theirs["algorithm"] == "rl2" and len(theirs["mean_return_by_trajectory"]) == 3
    pearl, agent = load(run).learner, load(rl2).learner
    tasks = pearl.tasks.test_tasks(3)
    by_hand = agent.play(tasks, seed=5).episode_returns().double().mean(0)
    np.testing.assert_allclose(theirs["mean_return_by_trajectory"], by_hand.numpy(), rtol=1e-6)
    assert torch.isfinite(by_hand).all()
    assert main(["evaluate", str(run), "--tasks", "3", "--trajectories", "4", "--baseline", f"rl2={rl2}"]) == 2
    assert "--trajectories 3" in capsys.readouterr().err


def test_a_maml_run_is_a_baseline_one_episode_per_gradient_step(tmp_path, capsys):
    """MAML beside PEARL: trajectory 1 before adapting, trajectory k + 1 after k steps on one
    episode each, as its own post_adaptation_returns gives them (replayed here by hand)."""
    import numpy as np

    from metarl.algorithms.maml.adaptation import step_size_schedule
    from metarl.api import load

    run, maml = tmp_path / "pearl", tmp_path / "maml"
    assert main(["train", "pearl", "--env", "navigation2d-sparse", "--out", str(run), "--iterations", "1",
                 "--quiet", *SMALL]) == 0
    assert main(["train", "maml", "--env", "navigation2d-sparse", "--out", str(maml), "--iterations", "1",
                 "--inner-lr", "0.1", "--meta-batch-size", "2", "--episodes-per-task", "2", "--validation-tasks", "2",
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(run), "--tasks", "3", "--json", "--seed", "4", "--baseline", f"maml={maml}"]) == 0
    theirs = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["baselines"]["maml"]
    assert theirs["algorithm"] == "maml" and len(theirs["mean_return_by_trajectory"]) == 3
    pearl, agent = load(run).learner, load(maml).learner
    lrs = step_size_schedule(*agent.config.evaluation.eval_lrs, 2)
    by_hand = agent.post_adaptation_returns(pearl.tasks.test_tasks(3), lrs=lrs, episodes=1, seed=4).double()
    np.testing.assert_allclose(theirs["mean_return_by_trajectory"], by_hand.mean(1).numpy(), rtol=1e-6)


def test_adapt_follows_the_test_protocol_and_saves_the_latent(tmp_path, capsys):
    """With the task's own z (the oracle run) the agent's episodes earn what the protocol's
    trajectories earn on that task; with the encoder, its context is every step it saw, and
    ``metarl adapt`` writes an agent that acts as the adapted one."""
    import numpy as np
    import pytest

    from metarl import api
    from metarl.adapting import play_episode
    from metarl.algorithms.pearl import play

    run, oracle = tmp_path / "pearl", tmp_path / "oracle"
    for out, extra in ((run, []), (oracle, ["--embedding", "task"])):
        assert main(["train", "pearl", "--env", "navigation2d-sparse", "--out", str(out), "--iterations", "1",
                     "--quiet", *SMALL, *extra]) == 0
    told = api.load(oracle)
    inner = told.learner
    task = inner.tasks.test_tasks(1)
    expected = play(inner, task, trajectories=3, exploration=1, deterministic=True, seed=0)[0].tolist()
    agent = told.spec.make_agent(inner, task, seed=0, adapted=False)
    env = inner.env_factory(tasks=task)
    env.reset(seed=0)
    assert [play_episode(agent, env).total for _ in range(3)] == pytest.approx(expected, abs=1e-5)

    learner = api.load(run)
    agent = learner.spec.make_agent(learner.learner, learner.learner.tasks.test_tasks(1), episodes=2, seed=0)
    state = agent.state_dict()
    steps = learner.learner.env.max_episode_steps
    assert state["episodes"] == 2 and state["context"].shape == (2 * steps, 2 + 2 + 1)
    capsys.readouterr()
    assert main(["adapt", str(run), "--task", "goals=0.5,0.8", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    loaded, fresh = api.load_agent(summary["agent"]), learner.adapt({"goals": [0.5, 0.8]}, seed=0)
    probe = np.array([[0.0, 0.0], [0.3, 0.4]], dtype=np.float32)
    np.testing.assert_array_equal(np.stack([loaded.act(o) for o in probe]), np.stack([fresh.act(o) for o in probe]))
