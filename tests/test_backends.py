"""Training through the sampling backends: ``--workers W`` gives the same run on the local
backend and on Ray (the sampling slices and their seeds are the same), and bad backend settings
are refused before any work."""

from __future__ import annotations

import pytest

from metarl.algorithms import maml, rl2
from metarl.runs import seed_everything


def _metrics(module, env, **overrides):
    seed_everything(0)  # as `metarl train` does: MAML's initial weights come from torch's generator
    learner = module.build_learner(module.make_config(env, **overrides))
    out = [learner.train_iteration(i) for i in range(2)]
    close = getattr(learner.sampler, "close", None)
    if close:
        close()
    return [{k: v for k, v in m.items() if not k.startswith("time_") and "per_second" not in k} for m in out]


SMALL = {
    "maml": ("navigation2d", {"meta_batch_size": 4, "episodes_per_task": 4, "validation_tasks": 2, "iterations": 2}),
    "rl2": ("bandit", {"trials_per_iteration": 8, "validation_tasks": 4, "iterations": 2}),
}


@pytest.mark.parametrize("name", ["maml", "rl2"])
def test_ray_training_equals_local_training_with_the_same_slices(name):
    pytest.importorskip("ray")
    module = {"maml": maml, "rl2": rl2}[name]
    env, overrides = SMALL[name]
    local = _metrics(module, env, workers=2, **overrides)
    distributed = _metrics(module, env, workers=2, backend="ray", **overrides)
    assert local == distributed


@pytest.mark.parametrize(("overrides", "match"), [
    ({"backend": "mpi"}, "backend='mpi'"), ({"workers": 0}, "workers=0"),
    ({"ray_address": "ray://x:1"}, "needs backend='ray'"),
])
def test_bad_backend_settings_are_refused(overrides, match):
    with pytest.raises(ValueError, match=match):
        rl2.make_config("bandit", **overrides)
    with pytest.raises(ValueError, match=match):
        maml.make_config("navigation2d", **overrides)
