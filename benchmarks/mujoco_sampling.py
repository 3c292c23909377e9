"""Sampling where the simulator is the cost: MuJoCo (``halfcheetah-dir``) and Meta-World (ML10).

A MuJoCo or Meta-World step costs more than the policy's batched forward, so the question is
whether spreading the sub-environments over processes pays on this machine. Measured in one run,
each the same policy (an MLP 100x100, one batched forward per step) over the same number of
sub-environments and steps:

- ``metarl``: ``Sampler.collect`` in this process (the family steps its Gymnasium envs in a loop);
- ``metarl ray xW``: the same call cut into ``W`` slices on ``W`` Ray actors (``--backend ray
  --workers W``, the same episodes as a local sampler with ``W`` slices);
- Gymnasium's ``SyncVectorEnv`` and ``AsyncVectorEnv`` (one process per sub-environment) of the
  same Gymnasium env, ``HalfCheetah-v5``;
- for Meta-World (when ``metarl[metaworld]`` is installed), Meta-World's own vector envs,
  ``gym.make_vec("Meta-World/ML10-train", vector_strategy="sync" | "async")``.

Figures are env-steps per second (median of ``--repeats``), with ratios against the sync loop.
The last line printed is one JSON object.

    python benchmarks/mujoco_sampling.py [--quick] [--workers 2] [--envs 40] [--steps 100]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from metarl.envs.registry import EnvFactory, env_factory, family, make_distribution
from metarl.policies import GaussianMLPPolicy
from metarl.rollout import Sampler, make_sampler

if __package__ in (None, ""):  # run as a script: python benchmarks/mujoco_sampling.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.sampler_throughput import _median_rate  # noqa: E402


def _policy(obs_dim: int, act_dim: int) -> GaussianMLPPolicy:
    torch.manual_seed(0)
    return GaussianMLPPolicy(obs_dim=obs_dim, act_dim=act_dim, hidden_sizes=(100, 100))


def ours(name: str, *, envs: int, steps: int, workers: int) -> Callable[[], int]:
    """``Sampler.collect`` of ``envs`` one-episode tasks cut at ``steps``, local or on Ray."""
    factory = EnvFactory(env_type=family(name).env_type(), kwargs={"max_episode_steps": steps})
    task_set = make_distribution(name).task_set(seed=0)
    tasks = task_set.train_batch(envs, task_set.train_rng())
    sampler = Sampler(env_factory=factory, seed=0) if workers == 1 else \
        make_sampler(env_factory=factory, backend="ray", workers=workers, seed=0)
    probe = env_factory(name)()
    policy = _policy(int(np.prod(probe.single_observation_space.shape)), int(np.prod(probe.single_action_space.shape)))
    probe.close()

    def run() -> int:
        return sampler.collect(policy, tasks, 1).num_steps()

    run()  # warm-up: actors started, envs built
    return run


@torch.no_grad()
def gym_vector(make: Callable[[], gym.vector.VectorEnv], steps: int, *, draw_tasks: bool = False) -> Callable[[], int]:
    """A Gymnasium vector env stepped by the same batched policy for ``steps`` steps; ``draw_tasks``:
    Meta-World's sub-environments first draw their task (``sample_tasks``, as its evaluation does)."""
    vec = make()
    if draw_tasks:
        vec.call("sample_tasks")
    obs_dim = int(np.prod(vec.single_observation_space.shape))
    policy = _policy(obs_dim, int(np.prod(vec.single_action_space.shape)))

    def run() -> int:
        obs, _ = vec.reset(seed=0)
        for _ in range(steps):
            action = policy.distribution(torch.as_tensor(obs, dtype=torch.float32)).sample().numpy()
            obs, *_ = vec.step(action)  # unclipped, as the sampler passes them (MuJoCo clamps)
        return steps * vec.num_envs

    run()
    return run


def cheetah(*, envs: int, steps: int, workers: int, repeats: int) -> dict[str, float]:
    def make(kind: str) -> Callable[[], gym.vector.VectorEnv]:
        fns = [lambda: gym.make("HalfCheetah-v5")] * envs
        return (lambda: gym.vector.SyncVectorEnv(fns)) if kind == "sync" else (lambda: gym.vector.AsyncVectorEnv(fns))

    runs = {"metarl": ours("halfcheetah-dir", envs=envs, steps=steps, workers=1),
            f"metarl_ray_x{workers}": ours("halfcheetah-dir", envs=envs, steps=steps, workers=workers),
            "gym_sync_vector": gym_vector(make("sync"), steps),
            "gym_async_vector": gym_vector(make("async"), steps)}
    return {name: _median_rate(fn, repeats)[0] for name, fn in runs.items()}


def metaworld_ml10(*, steps: int, workers: int, repeats: int) -> dict[str, float] | None:
    try:
        import metaworld  # noqa: F401
    except ImportError:
        return None
    envs = 10  # Meta-World's ML10-train vector env holds one sub-environment per class
    runs = {"metarl": ours("metaworld-ml10", envs=envs, steps=steps, workers=1),
            f"metarl_ray_x{workers}": ours("metaworld-ml10", envs=envs, steps=steps, workers=workers)}
    for kind in ("sync", "async"):
        runs[f"metaworld_{kind}_vector"] = gym_vector(
            lambda kind=kind: gym.make_vec("Meta-World/ML10-train", vector_strategy=kind, seed=0, meta_batch_size=envs),
            steps, draw_tasks=True)
    return {name: _median_rate(fn, repeats)[0] for name, fn in runs.items()}


def _print(title: str, rates: dict[str, float], base: str) -> None:
    print(title)
    for name, rate in rates.items():
        print(f"  {name:<24} {rate:>10.0f} steps/s  {rate / rates[base]:>5.2f}x {base}")


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    parser.add_argument("--workers", type=int, default=2, help="Ray actors (one per core)")
    parser.add_argument("--envs", type=int, default=40, help="MuJoCo sub-environments")
    parser.add_argument("--steps", type=int, default=None, help="steps per episode")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    steps = args.steps or (20 if args.quick else 100)
    repeats = args.repeats or (1 if args.quick else 3)
    results: dict[str, float] = {}
    rates = cheetah(envs=args.envs, steps=steps, workers=args.workers, repeats=repeats)
    _print(f"halfcheetah-dir, {args.envs} sub-environments x {steps} steps", rates, "metarl")
    results.update({f"cheetah_{k}_steps_per_s": v for k, v in rates.items()})
    mw = metaworld_ml10(steps=steps, workers=args.workers, repeats=repeats)
    if mw is None:
        print("metaworld-ml10: skipped (pip install 'metarl[metaworld]')")
    else:
        _print(f"metaworld-ml10, 10 sub-environments x {steps} steps", mw, "metaworld_sync_vector")
        results.update({f"ml10_{k}_steps_per_s": v for k, v in mw.items()})
    print(json.dumps({"benchmark": "mujoco_sampling", "workers": args.workers, **results}))
    return results


if __name__ == "__main__":
    main()
