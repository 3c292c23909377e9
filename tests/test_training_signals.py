"""The Trainer in-process: SIGINT / SIGTERM stop it at a clean point with a checkpoint, a second
signal abandons the iteration, the progress line shows what the learner declares, and a Trainer
without a run directory writes nothing."""

from __future__ import annotations

import os
import signal

import pytest

from metarl.runs import RunDirectory, load_checkpoint
from metarl.training import Progress, Trainer, TrainingInterrupted
from tests.test_training import ToyLearner, _rows


class SignalledLearner(ToyLearner):
    """Sends itself ``signals`` (a list of signal numbers) in the middle of iteration ``at``."""

    def __init__(self, at: int, signals: list[int]):
        super().__init__()
        self.at, self.signals, self.done = at, signals, []

    def train_iteration(self, iteration):
        metrics = super().train_iteration(iteration)
        if iteration == self.at:
            for signum in self.signals:
                os.kill(os.getpid(), signum)
        self.done.append(iteration)
        return metrics


class Fallback(Exception):
    """Raised by the test's own handler: without the Trainer's, a SIGTERM would end pytest."""


def _fallback(signum, frame):
    raise Fallback(signum)


@pytest.fixture
def own_handlers():
    previous = {s: signal.signal(s, _fallback) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in previous.items():
        signal.signal(s, handler)


def _trainer(path, learner, iterations=10):
    run = RunDirectory(path=path, config={"algorithm": "toy"}, tensorboard=False)
    return run, Trainer(learner=learner, run=run, iterations=iterations, env="none", validate_every=100,
                        checkpoint_every=100, quiet=True)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_finishes_the_iteration_checkpoints_it_and_stops(tmp_path, own_handlers, signum, code):
    learner = SignalledLearner(at=3, signals=[signum])
    run, trainer = _trainer(tmp_path / "r", learner)
    with pytest.raises(TrainingInterrupted, match=f"{signal.Signals(signum).name}: stopped after iteration 3") as err:
        trainer.run_loop()
    run.close()
    assert learner.done == [0, 1, 2, 3]
    assert err.value.iteration == 3 and err.value.exit_code == code and err.value.run == tmp_path / "r"
    assert load_checkpoint(err.value.checkpoint)["iteration"] == 3
    assert [int(r["iteration"]) for r in _rows(tmp_path / "r")] == [0, 1, 2, 3]
    assert signal.getsignal(signal.SIGTERM) is _fallback and signal.getsignal(signal.SIGINT) is _fallback

    resumed = RunDirectory(path=tmp_path / "r", resume=True, tensorboard=False)
    trainer = Trainer(learner=(again := ToyLearner()), run=resumed, iterations=10, env="none", validate_every=100,
                      checkpoint_every=100, quiet=True)
    assert trainer.resume() == 4
    trainer.run_loop()
    resumed.close()
    _, straight = _trainer(tmp_path / "s", ToyLearner())
    straight.run_loop()
    assert (again.w == straight.learner.w).all()


def test_a_second_signal_abandons_the_iteration_and_keeps_the_last_checkpoint(tmp_path, own_handlers):
    learner = SignalledLearner(at=5, signals=[signal.SIGTERM, signal.SIGTERM])
    run = RunDirectory(path=tmp_path / "r", config={"algorithm": "toy"}, tensorboard=False)
    trainer = Trainer(learner=learner, run=run, iterations=10, env="none", validate_every=100, checkpoint_every=2,
                      quiet=True)
    with pytest.raises(TrainingInterrupted, match="abandoned iteration 5") as err:
        trainer.run_loop()
    run.close()
    assert learner.done == [0, 1, 2, 3, 4]  # iteration 5 never returned
    assert err.value.iteration == 3 and load_checkpoint(err.value.checkpoint)["iteration"] == 3
    assert max(int(r["iteration"]) for r in _rows(tmp_path / "r")) == 4


def test_a_trainer_without_a_run_directory_writes_nothing(tmp_path, monkeypatch, own_handlers):
    monkeypatch.chdir(tmp_path)
    learner = SignalledLearner(at=2, signals=[signal.SIGINT])
    trainer = Trainer(learner=learner, run=None, iterations=6, validate_every=2, checkpoint_every=1, quiet=True)
    with pytest.raises(TrainingInterrupted, match="nothing was saved") as err:
        trainer.run_loop()
    assert err.value.checkpoint is None and err.value.run is None and learner.done == [0, 1, 2]
    metrics = Trainer(learner=ToyLearner(), run=None, iterations=3, quiet=True).run_loop()
    assert "validation_score" in metrics and "loss" in metrics
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="run=None"):
        trainer.resume()


class HeadlineLearner(ToyLearner):
    headline_metrics = ("loss",)


def test_the_progress_line_shows_the_metrics_the_learner_declares(tmp_path, capsys):
    Trainer(learner=HeadlineLearner(), run=None, iterations=10, quiet=False).run_loop()
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("iter 10/10 loss=") and "return_post" not in line
    Trainer(learner=ToyLearner(), run=None, iterations=10, quiet=False).run_loop()
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("iter 10/10 eta")


def test_the_learners_declare_their_headline_metrics():
    from metarl.algorithms.maml.learner import MamlLearner
    from metarl.algorithms.rl2.learner import RL2Learner

    assert MamlLearner.headline_metrics == ("return_pre", "return_post")
    assert RL2Learner.headline_metrics == ("trial_return",)
    assert Progress(total=1, initial=0, quiet=True).keys == ()
