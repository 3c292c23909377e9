"""A NaN reaching VariBAD's VAE stops training as it stops the other algorithms, naming the
quantity, and keeps the last good checkpoint (which holds the VAE's trial buffer)."""

from __future__ import annotations

import pytest
import torch

from metarl.algorithms import varibad
from metarl.runs import RunDirectory, load_checkpoint
from metarl.training import NumericalError, Trainer

from .test_learner import TINY


def test_a_nan_reward_in_the_vae_buffer_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, faults):
    learner = varibad.build_learner(varibad.make_config("gridworld", **{**TINY, "iterations": 5}))
    original = learner.update_vae

    def poisoned():
        if learner.iteration == 2:  # a stored reward turns NaN before iteration 2's VAE updates
            learner.buffer.rewards[:] = float("nan")
        return original()

    learner.update_vae = poisoned
    run = RunDirectory(path=tmp_path / "run", config={"algorithm": "varibad"}, tensorboard=False)
    trainer = Trainer(learner=learner, run=run, iterations=5, env="gridworld", validate_every=10,
                      checkpoint_every=1, quiet=True)
    faults.injected("nan vae reward")
    with pytest.raises(NumericalError, match="iteration 2") as error:
        trainer.run_loop()
    assert "reward" in str(error.value) or "elbo" in str(error.value) or "vae" in str(error.value), str(error.value)
    latest = load_checkpoint(run.latest_checkpoint())
    assert latest["iteration"] == 1
    state = latest["learner"]
    assert all(torch.isfinite(v).all() for v in state["vae"].values())
    assert all(torch.isfinite(v).all() for v in state["policy"].values())
    assert torch.isfinite(state["buffer"]["rewards"]).all()
    faults.survived("nan vae reward")
