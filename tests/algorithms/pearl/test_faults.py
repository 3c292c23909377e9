"""A NaN reaching PEARL's Q target stops training as it stops the other algorithms, keeping the
last good checkpoint (which holds the replay buffers)."""

from __future__ import annotations

import pytest
import torch

from metarl.algorithms import pearl
from metarl.runs import RunDirectory, load_checkpoint
from metarl.training import NumericalError, Trainer

from .test_learner import TINY


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_nan_in_the_q_target_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, faults, pipeline):
    learner = pearl.build_learner(pearl.make_config("navigation2d-sparse", **TINY, pipeline=pipeline))
    original = learner._update

    def poisoned(*args):
        if learner.iteration == 2:  # a reward the critic learns from turns NaN before iteration 2's updates
            learner.rl_buffer.data["critic_rewards"][:, :100] = float("nan")
        return original(*args)

    learner._update = poisoned
    run = RunDirectory(path=tmp_path / "run", config={"algorithm": "pearl"}, tensorboard=False)
    trainer = Trainer(learner=learner, run=run, iterations=5, env="navigation2d-sparse", validate_every=10,
                      checkpoint_every=1, quiet=True)
    faults.injected("nan q target")
    with pytest.raises(NumericalError, match="iteration 2"):
        trainer.run_loop()
    latest = load_checkpoint(run.latest_checkpoint())
    assert latest["iteration"] == 1
    assert all(torch.isfinite(v).all() for v in latest["learner"]["nets"].values())
    assert torch.isfinite(latest["learner"]["rl_buffer"]["critic_rewards"]).all()
    learner.close()  # the background collection, if any, is waited for
    faults.survived("nan q target")
