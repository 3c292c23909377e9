"""Env-steps per second: metarl's batched ``pendulum`` against Gymnasium's SyncVectorEnv(Pendulum-v1).

Both step the same pre-generated random torques (``[steps, envs, 1]`` float32, drawn before the
clock starts) at 64 and 1024 sub-environments; each figure is the median over repetitions. The
batched env computes every sub-environment in one NumPy call per step, SyncVectorEnv loops over
Python envs, so the ratio should grow with the number of envs (the goal is >= 50x at 1024).

    python benchmarks/env_throughput.py [--quick]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
from gymnasium.vector import SyncVectorEnv

from metarl.envs import PendulumDistribution, PendulumEnv

SIZES = (64, 1024)


def steps_per_second(env: gym.vector.VectorEnv, actions: np.ndarray) -> float:
    """Env-steps per second of one timed pass of ``actions`` ``[steps, envs, 1]`` through ``env``."""
    env.reset(seed=0)
    env.step(actions[0])  # warm-up: first-call overheads stay out of the clock
    start = time.perf_counter()
    for action in actions:
        env.step(action)
    elapsed = time.perf_counter() - start
    return actions.shape[0] * actions.shape[1] / elapsed


def median_rate(make: Callable[[], gym.vector.VectorEnv], actions: np.ndarray, repeats: int) -> float:
    env = make()
    rates = [steps_per_second(env, actions) for _ in range(repeats)]
    env.close()
    return statistics.median(rates)


def measure(n: int, steps: int, repeats: int) -> dict[str, float]:
    actions = np.random.default_rng(n).uniform(-2, 2, size=(steps, n, 1)).astype(np.float32)
    tasks = PendulumDistribution().default()
    batched = median_rate(lambda: PendulumEnv(tasks=tasks, episodes_per_task=n), actions, repeats)
    sync = median_rate(
        lambda: SyncVectorEnv([lambda: gym.make("Pendulum-v1")] * n), actions, repeats
    )
    return {"envs": n, "batched_steps_per_s": batched, "sync_steps_per_s": sync,
            "ratio": batched / sync}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 steps x 3 repetitions")
    parser.add_argument("--steps", type=int, default=None, help="steps per pass (default 200)")
    parser.add_argument("--repeats", type=int, default=None, help="passes per figure (default 5)")
    args = parser.parse_args()
    steps = args.steps or (20 if args.quick else 200)
    repeats = args.repeats or (3 if args.quick else 5)
    rows = [measure(n, steps, repeats) for n in SIZES]
    print(f"pendulum, {steps} steps, median of {repeats}")
    print(f"{'envs':>6} {'metarl steps/s':>16} {'SyncVectorEnv steps/s':>22} {'ratio':>8}")
    for row in rows:
        print(f"{row['envs']:>6} {row['batched_steps_per_s']:>16,.0f} "
              f"{row['sync_steps_per_s']:>22,.0f} {row['ratio']:>7.1f}x")
    print(json.dumps({"benchmark": "env_throughput", "env": "pendulum", "steps": steps,
                      "repeats": repeats, "results": rows}))


if __name__ == "__main__":
    main()
