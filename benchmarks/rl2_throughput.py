"""RL² training throughput: env-steps per second of sampling and PPO update together, per preset.

Runs a few iterations of the real learner (after one warm-up iteration) on each preset and prints
the median rate with its spread; the last line is one JSON object. The learner is driven directly,
at one thread, without the Trainer's validation, checkpoints and logging: ``train_iteration.py``
gives the same rate through ``metarl train`` itself (``env_steps_per_s`` and ``_wall``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from metarl.algorithms import rl2

PRESETS = ("bandit", "pendulum")


def measure(preset: str, iterations: int) -> dict[str, float]:
    learner = rl2.build_learner(rl2.make_config(preset, iterations=iterations + 1))
    learner.train_iteration(0)
    rates, sampling, update = [], [], []
    for it in range(1, iterations + 1):
        start = time.perf_counter()
        metrics = learner.train_iteration(it)
        elapsed = time.perf_counter() - start
        rates.append(metrics["env_steps"] / elapsed)
        sampling.append(metrics.get("time_sampling", float("nan")))
        update.append(metrics.get("time_update", float("nan")))
    return {
        f"{preset}_env_steps_per_s": statistics.median(rates),
        f"{preset}_spread": (max(rates) - min(rates)) / 2,
        f"{preset}_time_sampling_s": statistics.median(sampling),
        f"{preset}_time_update_s": statistics.median(update),
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 timed iterations per preset")
    parser.add_argument("--iterations", type=int, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    iterations = args.iterations or (2 if args.quick else 5)
    results: dict[str, float] = {}
    print(f"{'preset':<10} {'env-steps/s':>12} {'spread':>9} {'sampling s':>11} {'update s':>9}")
    for preset in PRESETS:
        r = measure(preset, iterations)
        results.update(r)
        print(f"{preset:<10} {r[f'{preset}_env_steps_per_s']:>12.0f} {r[f'{preset}_spread']:>9.0f}"
              f" {r[f'{preset}_time_sampling_s']:>11.2f} {r[f'{preset}_time_update_s']:>9.2f}")
    print(json.dumps({"benchmark": "rl2_throughput", "iterations": iterations, **results}))
    return results


if __name__ == "__main__":
    main()
