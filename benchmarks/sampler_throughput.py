"""Sampler throughput on ``pendulum``: environment and policy together, 1024 parallel episodes.

Three ways to collect the same experience, measured in one run:

- ``notebook``: what the notebook metarl grew from did: one Gymnasium Pendulum-v1 and a batch-1
  policy forward per step;
- ``sync_vector``: Gymnasium's ``SyncVectorEnv`` of 1024 Pendulum-v1 with the same batched policy;
- ``metarl``: ``Sampler.collect`` (MLP) or ``Sampler.collect_trials`` (GRU) on the batched env;
  for the MLP also with ``compile=True`` (``torch.compile`` of the policy forward, compiled before
  timing), to show whether compilation pays at this size.

Figures are env-steps per second (median of ``--repeats`` runs, spread printed). Goals: metarl at
least 100x the notebook loop and 10x SyncVectorEnv. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch

from metarl.envs.registry import env_factory, make_distribution
from metarl.policies import GaussianMLPPolicy, RecurrentActorCritic
from metarl.rollout import Sampler

NUM_ENVS = 1024


def _median_rate(fn: Callable[[], int], repeats: int) -> tuple[float, float]:
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        steps = fn()
        rates.append(steps / (time.perf_counter() - start))
    return statistics.median(rates), (max(rates) - min(rates)) / 2


def _gru_policy() -> RecurrentActorCritic:
    return RecurrentActorCritic(obs_dim=3, act_dim=1, hidden_size=64)


def _mlp_policy() -> GaussianMLPPolicy:
    return GaussianMLPPolicy(obs_dim=3, act_dim=1, hidden_sizes=(64, 64))


@torch.no_grad()
def notebook_loop(kind: str, steps: int) -> int:
    """One env, a batch-1 forward per step (the recurrent state carried as in the notebook)."""
    env = gym.make("Pendulum-v1")
    obs, _ = env.reset(seed=0)
    if kind == "mlp":
        policy = _mlp_policy()
        for _ in range(steps):
            action = policy.distribution(torch.as_tensor(obs)[None]).sample()[0].numpy()
            obs, _, term, trunc, _ = env.step(action)
            if term or trunc:
                obs, _ = env.reset()
        return steps
    policy = _gru_policy()
    state = policy.initial_state(1, torch.device("cpu"))
    prev_a, prev_r, prev_d = torch.zeros(1, 1), torch.zeros(1), torch.zeros(1)
    for _ in range(steps):
        dist, _, state = policy.step(torch.as_tensor(obs)[None], prev_a, prev_r, prev_d, state)
        prev_a = dist.sample()
        obs, r, term, trunc, _ = env.step(prev_a[0].numpy())
        prev_r, prev_d = torch.tensor([float(r)]), torch.tensor([float(term or trunc)])
        if term or trunc:
            obs, _ = env.reset()
    return steps


@torch.no_grad()
def sync_vector(kind: str, steps: int) -> int:
    envs = gym.vector.SyncVectorEnv([lambda: gym.make("Pendulum-v1") for _ in range(NUM_ENVS)])
    obs, _ = envs.reset(seed=0)
    policy = _mlp_policy() if kind == "mlp" else _gru_policy()
    state = None if kind == "mlp" else policy.initial_state(NUM_ENVS, torch.device("cpu"))
    prev_a, prev_r, prev_d = torch.zeros(NUM_ENVS, 1), torch.zeros(NUM_ENVS), torch.zeros(NUM_ENVS)
    for _ in range(steps):
        o = torch.as_tensor(obs)
        if kind == "mlp":
            action = policy.distribution(o).sample()
        else:
            dist, _, state = policy.step(o, prev_a, prev_r, prev_d, state)
            action = prev_a = dist.sample()
        obs, r, term, trunc, _ = envs.step(action.numpy())
        if kind != "mlp":
            prev_r, prev_d = torch.as_tensor(r, dtype=torch.float32), torch.as_tensor(term | trunc).float()
    envs.close()
    return steps * NUM_ENVS


def metarl_sampler(kind: str, episodes: int, compile: bool = False) -> Callable[[], int]:
    tasks = make_distribution("pendulum").sample(NUM_ENVS // episodes if kind == "mlp" else NUM_ENVS,
                                                 np.random.default_rng(0))
    sampler = Sampler(env_factory=env_factory("pendulum"), seed=0, compile=compile)
    policy = _mlp_policy() if kind == "mlp" else _gru_policy()

    def run() -> int:
        if kind == "mlp":
            return sampler.collect(policy, tasks, episodes).num_steps()
        return sampler.collect_trials(policy, tasks, 1).num_steps()

    return run


def measure(kind: str, *, quick: bool, repeats: int) -> dict[str, float]:
    nb_steps, vec_steps = (300, 20) if quick else (2000, 100)
    nb, nb_spread = _median_rate(lambda: notebook_loop(kind, nb_steps), repeats)
    vec, vec_spread = _median_rate(lambda: sync_vector(kind, vec_steps), repeats)
    ours, ours_spread = _median_rate(metarl_sampler(kind, 16), repeats)
    compiled = {}
    if kind == "mlp":
        run = metarl_sampler(kind, 16, compile=True)
        run()  # the compilation itself is not timed
        rate, spread = _median_rate(run, repeats)
        compiled = {"mlp_compiled_steps_per_s": rate, "mlp_compiled_spread": spread, "mlp_compile_speedup": rate / ours}
    return {**compiled,
        f"{kind}_notebook_steps_per_s": nb, f"{kind}_notebook_spread": nb_spread,
        f"{kind}_sync_vector_steps_per_s": vec, f"{kind}_sync_vector_spread": vec_spread,
        f"{kind}_metarl_steps_per_s": ours, f"{kind}_metarl_spread": ours_spread,
        f"{kind}_ratio_vs_notebook": ours / nb, f"{kind}_ratio_vs_sync_vector": ours / vec,
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest for these sizes)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    repeats = args.repeats or (2 if args.quick else 5)
    results: dict[str, float] = {}
    print(f"{'policy':<6} {'notebook':>12} {'SyncVectorEnv':>14} {'metarl':>12} {'x notebook':>11} {'x sync':>8}")
    for kind in ("mlp", "gru"):
        try:
            r = measure(kind, quick=args.quick, repeats=repeats)
        except ImportError as err:
            print(f"{kind:<6} skipped: {err}")
            continue
        results.update(r)
        print(f"{kind:<6} {r[f'{kind}_notebook_steps_per_s']:>12.0f} {r[f'{kind}_sync_vector_steps_per_s']:>14.0f}"
              f" {r[f'{kind}_metarl_steps_per_s']:>12.0f} {r[f'{kind}_ratio_vs_notebook']:>10.1f}x"
              f" {r[f'{kind}_ratio_vs_sync_vector']:>7.1f}x")
        if "mlp_compiled_steps_per_s" in r and kind == "mlp":
            print(f"{'mlp, torch.compile':<20} {r['mlp_compiled_steps_per_s']:>40.0f}   "
                  f"{r['mlp_compile_speedup']:.2f}x eager metarl")
    print(json.dumps({"benchmark": "sampler_throughput", "num_envs": NUM_ENVS, **results}))
    return results


if __name__ == "__main__":
    main()
