import csv

import numpy as np
import pytest
import torch

from metarl.runs import CheckpointError, RunDirectory, load_checkpoint
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
    try:
        trainer = Trainer(learner=(learner := ToyLearner(**kwargs)), run=run, iterations=iterations, env="none",
                          validate_every=2, checkpoint_every=3, quiet=True)
        if resume:
            trainer.resume()
        trainer.run_loop()
    finally:
        run.close()
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


def _steps(path, tag):
    """TensorBoard's view of ``tag``: [(step, value)] as EventAccumulator serves it (purges applied)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path / "tb"))
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_resume_falls_back_past_a_corrupt_latest_checkpoint(tmp_path):
    straight = _train(tmp_path / "a", 10)
    _train(tmp_path / "b", 9)  # keeps the checkpoints of iterations 5, 7 (best), 8 (the last)
    ckpts = tmp_path / "b" / "checkpoints"
    assert sorted(p.name for p in ckpts.glob("ckpt_*")) == [f"ckpt_00000{i}.pt" for i in (5, 7, 8)]
    latest = ckpts / "ckpt_000008.pt"
    latest.write_bytes(latest.read_bytes()[:100])  # torn by a disk fault
    with pytest.warns(UserWarning, match=r"from ckpt_000007\.pt.*ckpt_000008\.pt: it is truncated, corrupt"):
        resumed = _train(tmp_path / "b", 10, resume=True)
    assert torch.equal(straight.w, resumed.w)
    assert _rows(tmp_path / "a") == _rows(tmp_path / "b")


def test_resume_with_no_readable_checkpoint_names_every_file_and_never_advises_unsafe_loading(tmp_path):
    import pickle

    _train(tmp_path / "b", 9)
    ckpts = tmp_path / "b" / "checkpoints"
    (ckpts / "ckpt_000008.pt").write_bytes(pickle.dumps({"format_version": 1, "learner": {}}))  # not torch's
    (ckpts / "ckpt_000007.pt").write_bytes(b"")
    (ckpts / "ckpt_000005.pt").write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError, match="no readable checkpoint") as err:
        _train(tmp_path / "b", 10, resume=True)
    message = str(err.value)
    assert all(f"ckpt_00000{i}.pt" in message for i in (5, 7, 8))
    assert "weights_only" not in message
    assert [int(r["iteration"]) for r in _rows(tmp_path / "b")] == list(range(9))  # nothing dropped


def test_tensorboard_shows_each_iteration_once_after_a_resume(tmp_path):
    run = RunDirectory(path=tmp_path / "b", config={"algorithm": "toy"})
    with pytest.raises(NumericalError):  # dies in iteration 5: steps 0..4 logged, checkpoint of 2 (every 3)
        Trainer(learner=ToyLearner(nan_at=5), run=run, iterations=8, env="none", validate_every=100,
                checkpoint_every=3, quiet=True).run_loop()
    run.close()
    for old in (tmp_path / "b" / "tb").iterdir():  # the killed process wrote its events earlier
        stamp = int(old.name.split(".")[3])
        old.rename(old.with_name(old.name.replace(f".{stamp}.", f".{stamp - 100:010d}.")))
    run = RunDirectory(path=tmp_path / "b", resume=True)
    trainer = Trainer(learner=ToyLearner(), run=run, iterations=8, env="none", validate_every=100,
                      checkpoint_every=3, quiet=True)
    assert trainer.resume() == 3
    trainer.run_loop()
    run.close()
    rows = _rows(tmp_path / "b")
    assert _steps(tmp_path / "b", "loss") == [(int(r["iteration"]), pytest.approx(float(r["loss"]))) for r in rows]
    assert [s for s, _ in _steps(tmp_path / "b", "loss")] == list(range(8))


def test_resume_before_any_checkpoint_starts_over_without_duplicate_rows(tmp_path):
    with pytest.raises(NumericalError):  # dies in iteration 1, before the first checkpoint
        _train(tmp_path / "b", 10, nan_at=1)
    assert [int(r["iteration"]) for r in _rows(tmp_path / "b")] == [0]
    resumed = _train(tmp_path / "b", 10, resume=True)
    assert torch.equal(resumed.w, _train(tmp_path / "a", 10).w)
    assert _rows(tmp_path / "b") == _rows(tmp_path / "a")
    assert [int(r["iteration"]) for r in _rows(tmp_path / "b")] == list(range(10))
