"""MAML and RL² train on CUDA to the numbers they reach on the CPU from the same seed.

Both runs build their policy on the CPU from the same seed (then move it), draw the same tasks
(NumPy streams), reset the environments identically and draw the action noise from the same CPU
generator (the sampler draws it on the CPU and moves it, so one seed gives the same episodes on any
device); RL² runs with one minibatch, so its ``randperm`` (device RNG) only reorders rows. TF32 is off, so both devices
compute in IEEE float32 (cuDNN's RNNs default to TF32: the GRU's training pass would round to a
10-bit mantissa and the PPO ratios would start ~1e-3 away from 1).

What remains is rounding: CUDA kernels sum in another order, ~1e-7 relative per op. The tolerance
comes from a CPU experiment standing in for it: multiplying every initial weight by
``1 + 1e-5 * N(0, 1)`` (far above rounding) moved, over these three iterations, the returns and
validation score by at most 2e-5 relative and every other metric by at most 1e-3 (TRPO's KL at the
accepted step, through conjugate gradient, is the most sensitive). Hence 1e-3 on returns and 2e-2
elsewhere. MAML runs with ``cg_damping=0.1``: at the preset's 1e-5 the float32 CG solve is so ill
conditioned that a 1e-6 perturbation moved the step's KL by 10% and the returns by 1% within
three iterations, which would hide a device bug in noise instead of testing the code.

Written without a GPU at hand: the comparison was checked by running both halves on the CPU.
"""

import math

import pytest
import torch

from metarl.algorithms import maml, rl2

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

ITERATIONS = 3
MAML_SMALL = {"hidden_sizes": (32, 32), "meta_batch_size": 4, "episodes_per_task": 5, "max_episode_steps": 20,
              "validation_tasks": 4, "iterations": ITERATIONS, "fvp_episodes": 0, "cg_damping": 0.1}
RL2_SMALL = {"trials_per_iteration": 16, "hidden_size": 16, "iterations": ITERATIONS, "validation_tasks": 8,
             "minibatches": 1, "ppo_epochs": 2}
RETURN_RTOL, OTHER_RTOL, ABS_TOL = 1e-3, 2e-2, 1e-4


@pytest.fixture
def ieee_float32():
    """TF32 off through the legacy flags only: they set cuDNN's conv and RNN precisions together,
    whereas setting one of the new per-op flags leaves torch's op-less TF32 check inconsistent."""
    matmul, cudnn = torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.allow_tf32 = matmul, cudnn


def _compare(cpu: tuple[list[dict], float], cuda: tuple[list[dict], float]) -> None:
    (cpu_metrics, cpu_value), (cuda_metrics, cuda_value) = cpu, cuda
    assert math.isclose(cuda_value, cpu_value, rel_tol=RETURN_RTOL, abs_tol=ABS_TOL), (cpu_value, cuda_value)
    for it, (a, b) in enumerate(zip(cpu_metrics, cuda_metrics, strict=True)):
        assert set(a) == set(b)
        for key in a:
            if key.startswith("time") or key.endswith("per_second"):
                continue
            rtol = RETURN_RTOL if "return" in key else OTHER_RTOL
            assert math.isclose(b[key], a[key], rel_tol=rtol, abs_tol=ABS_TOL), (it, key, a[key], b[key])


def _train(learner) -> tuple[list[dict], float]:
    metrics = [learner.train_iteration(i) for i in range(ITERATIONS)]
    return metrics, learner.validate()


@pytest.mark.parametrize("overrides", [{}, {"estimator": "dice", "inner_steps": 2}], ids=["plain", "dice-k2"])
def test_maml_trains_on_cuda_as_on_cpu(ieee_float32, overrides):
    runs = []
    for device in ("cpu", "cuda"):
        torch.manual_seed(0)
        learner = maml.build_learner(maml.make_config("navigation2d", device=device, **{**MAML_SMALL, **overrides}))
        assert next(learner.policy.parameters()).device.type == device
        runs.append(_train(learner))
    assert any(m["trpo_rejected"] == 0.0 for m in runs[0][0])  # the compared runs did learn
    _compare(*runs)


@pytest.mark.parametrize(("env", "overrides"), [
    ("bandit", {}), ("navigation2d", {"max_episode_steps": 20}),
], ids=["bandit", "navigation2d"])
def test_rl2_trains_on_cuda_as_on_cpu(ieee_float32, env, overrides):
    runs = [_train(rl2.build_learner(rl2.make_config(env, device=device, **{**RL2_SMALL, **overrides})))
            for device in ("cpu", "cuda")]
    _compare(*runs)
