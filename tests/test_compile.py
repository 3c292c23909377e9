"""torch.compile is opt-in and can never take a run down: a failed compile falls back to eager."""

import pytest
import torch

from metarl.algorithms.maml import make_config
from metarl.compile import CompiledOrEager
from metarl.envs.registry import env_factory, make_distribution
from metarl.policies import GaussianMLPPolicy
from metarl.rollout import Sampler, make_sampler


@pytest.fixture(autouse=True)
def _keep_distribution_validation():
    """Dynamo turns torch.distributions' argument checks off for the whole process when it first
    compiles; put the setting back so that later tests see the default."""
    saved = torch.distributions.Distribution._validate_args
    yield
    torch.distributions.Distribution.set_default_validate_args(saved)


def double(x: torch.Tensor) -> torch.Tensor:
    return 2 * x


def test_a_compiled_function_that_fails_when_called_falls_back_to_eager_for_good(monkeypatch):
    calls = {"compiled": 0}

    def broken(fn, **kwargs):
        def run(*args, **kw):
            calls["compiled"] += 1
            raise RuntimeError("no C++ compiler found\nlong details")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    f = CompiledOrEager(double, name="double")
    with pytest.warns(RuntimeWarning, match=r"torch.compile of double failed \(RuntimeError: no C\+\+ compiler"):
        out = f(torch.ones(3))
    torch.testing.assert_close(out, torch.full((3,), 2.0))
    assert f.failure is not None and not f.compiled
    torch.testing.assert_close(f(torch.ones(2)), torch.full((2,), 2.0))
    assert calls["compiled"] == 1  # never retried


def test_torch_compile_itself_raising_falls_back_too(monkeypatch):
    def refuse(fn, **kwargs):
        raise ValueError("backend unavailable")

    monkeypatch.setattr(torch, "compile", refuse)
    f = CompiledOrEager(double, name="double")
    with pytest.warns(RuntimeWarning, match="backend unavailable"):
        torch.testing.assert_close(f(torch.ones(1)), torch.full((1,), 2.0))


def test_disabled_never_compiles(monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda *a, **k: pytest.fail("compiled while disabled"))
    f = CompiledOrEager(double, name="double", enabled=False)
    torch.testing.assert_close(f(torch.ones(1)), torch.full((1,), 2.0))
    assert not f.compiled


def test_compiled_sampler_collects_what_the_eager_one_does():
    """The real compiler where the machine has one, the eager fallback where not: same episodes."""
    torch.manual_seed(0)
    policy = GaussianMLPPolicy(obs_dim=2, act_dim=2, hidden_sizes=(8,))
    tasks = make_distribution("navigation2d").sample(2, __import__("numpy").random.default_rng(0))
    out = {}
    for compile in (False, True):
        sampler = Sampler(env_factory=env_factory("navigation2d", max_episode_steps=5), seed=3, compile=compile)
        out[compile] = sampler.collect(policy, tasks, 2)
    for name in ("obs", "actions", "rewards", "log_probs", "mask"):
        torch.testing.assert_close(getattr(out[True], name), getattr(out[False], name), rtol=1e-5, atol=1e-6)


def test_compile_is_local_only():
    with pytest.raises(ValueError, match="backend='local' only"):
        make_sampler(env_factory=env_factory("navigation2d"), backend="ray", workers=1, compile=True)
    with pytest.raises(ValueError, match="compile=True needs backend='local'"):
        make_config("navigation2d", compile=True, backend="ray")
