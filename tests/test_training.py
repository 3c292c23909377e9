import csv

import numpy as np
import pytest
import torch

from metarl.runs import RunDirectory, load_checkpoint
from metarl.training import NumericalError, Trainer


class ToyLearner:
    """Noisy gradient ascent on -(w - 3)^2 with its own generator: resumable only if the generator
    state travels in the checkpoint."""

    name = "toy"

    def __init__(self, nan_at: int | None = None):
        self.w = torch.zeros(2)
        self.rng = np.random.default_rng(0)
        self.nan_at = nan_at

    def train_iteration(self, iteration):
        noise = torch.as_tensor(self.rng.normal(size=2), dtype=torch.float32)
        self.w = self.w + 0.1 * (2 * (3 - self.w) + noise)
        loss = float(((self.w - 3) ** 2).sum())
        return {"loss": float("nan") if iteration == self.nan_at else loss, "return_post": -loss}

    def validate(self):
        return -float(((self.w - 3) ** 2).sum())

    def state_dict(self):
        return {"w": self.w.clone(), "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state):
        self.w = state["w"].clone()
        self.rng.bit_generator.state = state["rng"]


def _train(path, iterations, resume=False, **kwargs):
    run = RunDirectory(path=path, config={"algorithm": "toy"}, resume=resume, tensorboard=False)
    trainer = Trainer(learner=(learner := ToyLearner(**kwargs)), run=run, iterations=iterations, env="none",
                      validate_every=2, checkpoint_every=3, quiet=True)
    if resume:
        trainer.resume()
    trainer.run_loop()
    return learner


def _rows(path):
    with (path / "metrics.csv").open() as f:
        return [{k: v for k, v in r.items() if k != "time_iteration"} for r in csv.DictReader(f)]


def test_resume_equals_the_uninterrupted_run(tmp_path):
    straight = _train(tmp_path / "a", 10)
    _train(tmp_path / "b", 4)  # stops after iteration 3: checkpoint at iterations 2 and 3
    resumed = _train(tmp_path / "b", 10, resume=True)
    assert torch.equal(straight.w, resumed.w)
    assert _rows(tmp_path / "a") == _rows(tmp_path / "b")
    assert [int(r["iteration"]) for r in _rows(tmp_path / "b")] == list(range(10))


def test_nan_stops_training_naming_iteration_and_quantity(tmp_path):
    with pytest.raises(NumericalError, match="iteration 5: loss is nan"):
        _train(tmp_path / "n", 10, nan_at=5)
    run = RunDirectory(path=tmp_path / "n", resume=True, tensorboard=False)
    assert load_checkpoint(run.latest_checkpoint())["iteration"] == 3
    assert max(int(r["iteration"]) for r in _rows(tmp_path / "n")) == 4


def test_bad_trainer_settings(tmp_path):
    run = RunDirectory(path=tmp_path / "x", config={}, tensorboard=False)
    with pytest.raises(ValueError, match="iterations must be >= 1, got 0"):
        Trainer(learner=ToyLearner(), run=run, iterations=0, env="none")
