"""VariBAD trains on CUDA to the numbers it reaches on the CPU from the same seed (the protocol and
tolerances of ``test_cuda_training``). Its own randomness (minibatch orders, buffer draws, the
ELBO's latent noise) comes from a CPU generator moved to the device, and the action noise from the
sampler's CPU generator, so only rounding differs. Written without a GPU at hand: the comparison
was checked by running both halves on the CPU."""

import pytest
import torch

from metarl.algorithms import varibad
from metarl.algorithms.registry import register_algorithm
from tests.cuda.test_cuda_training import _compare, _train, ieee_float32  # noqa: F401 - a fixture

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

SMALL = {"trials_per_iteration": 8, "encoder_hidden_size": 16, "vae_buffer_size": 32, "vae_batch_trials": 6,
         "precollect_frames": 0, "validation_tasks": 8, "minibatches": 2, "iterations": 3}


@pytest.mark.parametrize(("env", "overrides"), [
    ("gridworld", {}), ("navigation2d", {"max_episode_steps": 20, "decode_state": True}),
], ids=["gridworld", "navigation2d"])
def test_varibad_trains_on_cuda_as_on_cpu(ieee_float32, env, overrides):  # noqa: F811
    register_algorithm(varibad.ALGORITHM)
    runs = []
    for device in ("cpu", "cuda"):
        learner = varibad.build_learner(varibad.make_config(env, device=device, **{**SMALL, **overrides}))
        assert next(learner.vae.parameters()).device.type == device == learner.buffer.next_obs.device.type
        runs.append(_train(learner))
    assert all("kl" in m for m in runs[0][0])  # the VAE did update
    _compare(*runs)
