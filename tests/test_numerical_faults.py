"""Numerical faults in a real learner stop training loudly and keep the last good checkpoint; a
checkpoint of another env is refused."""

from __future__ import annotations

import pytest
import torch

from metarl.algorithms import rl2
from metarl.runs import CheckpointError, RunDirectory, load_checkpoint
from metarl.training import NumericalError, Trainer


def _trainer(tmp_path, learner):
    run = RunDirectory(path=tmp_path / "run", config={"algorithm": "rl2"}, tensorboard=False)
    return run, Trainer(learner=learner, run=run, iterations=5, env="bandit", validate_every=10,
                        checkpoint_every=1, quiet=True)


def _small_learner():
    return rl2.build_learner(rl2.make_config("bandit", trials_per_iteration=8, validation_tasks=4, iterations=5))


def test_a_nan_parameter_after_an_update_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, faults):
    learner = _small_learner()
    original = learner.train_iteration

    def poisoned_update(iteration):  # the last update of iteration 2 leaves a NaN weight
        metrics = original(iteration)
        if iteration == 2:
            with torch.no_grad():
                next(learner.policy.parameters()).view(-1)[0] = float("nan")
        return metrics

    learner.train_iteration = poisoned_update
    run, trainer = _trainer(tmp_path, learner)
    faults.injected("nan parameter")
    with pytest.raises(NumericalError, match=r"iteration 2: .*policy.* contains NaN or infinity"):
        trainer.run_loop()
    latest = load_checkpoint(run.latest_checkpoint())
    assert latest["iteration"] == 1
    assert all(torch.isfinite(v).all() for v in latest["learner"]["policy"].values())
    faults.survived("nan parameter")


def test_a_nan_loss_stops_training_naming_the_quantity(tmp_path, faults, monkeypatch):
    learner = _small_learner()
    original = learner.train_iteration

    def nan_loss(iteration):
        metrics = original(iteration)
        return {**metrics, "value_loss": float("nan")} if iteration == 3 else metrics

    monkeypatch.setattr(learner, "train_iteration", nan_loss)
    run, trainer = _trainer(tmp_path, learner)
    faults.injected("nan loss")
    with pytest.raises(NumericalError, match="iteration 3: value_loss is nan"):
        trainer.run_loop()
    assert load_checkpoint(run.latest_checkpoint())["iteration"] == 2
    faults.survived("nan loss")


def test_a_checkpoint_of_another_env_is_refused(tmp_path, faults):
    learner = _small_learner()
    run, trainer = _trainer(tmp_path, learner)
    trainer.iterations = 1
    trainer.run_loop()
    faults.injected("foreign checkpoint")
    with pytest.raises(CheckpointError, match="env 'bandit', expected 'tabular-mdp'"):
        load_checkpoint(run.latest_checkpoint(), expected_algorithm="rl2", expected_env="tabular-mdp")
    faults.survived("foreign checkpoint")


def test_a_nan_gradient_mid_update_is_reported_as_a_numerical_fault(tmp_path, faults):
    learner = _small_learner()
    step = learner.optimizer.step

    def poisoned_step(*args, **kwargs):  # a NaN gradient step in the middle of iteration 2's epochs
        out = step(*args, **kwargs)
        if learner.iteration >= 2:
            with torch.no_grad():
                next(learner.policy.parameters()).view(-1)[0] = float("nan")
        return out

    learner.optimizer.step = poisoned_step
    run, trainer = _trainer(tmp_path, learner)
    faults.injected("nan gradient")
    with pytest.raises(NumericalError, match=r"iteration 2: .*policy.* contains NaN or infinity"):
        trainer.run_loop()
    assert load_checkpoint(run.latest_checkpoint())["iteration"] == 1
    faults.survived("nan gradient")


def test_the_cli_reports_a_divergence_in_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    from metarl.algorithms.rl2.learner import RL2Learner
    from metarl.cli import main

    original = RL2Learner.train_iteration

    def diverging(self, iteration):
        metrics = original(self, iteration)
        return {**metrics, "approx_kl": float("inf")} if iteration == 1 else metrics

    monkeypatch.setattr(RL2Learner, "train_iteration", diverging)
    out = tmp_path / "run"
    code = main(["train", "rl2", "--env", "bandit", "--out", str(out), "--iterations", "3", "--trials-per-iteration",
                 "4", "--validation-tasks", "2", "--quiet"])
    err = capsys.readouterr().err
    assert code == 3
    assert "iteration 1: approx_kl is inf; training stopped" in err and str(out) in err
    assert "Traceback" not in err
