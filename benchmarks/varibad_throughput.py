"""VariBAD's training frames per second on the grid world, beside RL² at the same sizes, one run.

Both learners are driven directly (one warm-up iteration, then the median of ``--iterations``), at
one thread, without the Trainer's validation, checkpoints and logging: VariBAD's preset (16 trials
of 4 episodes x 15 steps per iteration: sampling with the belief update at every step, PPO on
state and belief, then the VAE's ELBO updates from its trial buffer) and RL²'s ``gridworld``
preset with as many trials per iteration, so both see the same frames per iteration. The split
is the learners' own metrics: VariBAD ``time_sampling`` / ``time_policy`` / ``time_vae``, RL²
``time_sampling`` / ``time_update``.

    python benchmarks/varibad_throughput.py [--iterations 20] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import torch

from metarl.algorithms import rl2, varibad

PARTS = {"varibad": ("time_sampling", "time_policy", "time_vae"), "rl2": ("time_sampling", "time_update")}


def measure(build: Callable[[], object], parts: tuple[str, ...], iterations: int) -> dict[str, float]:
    learner = build()
    learner.train_iteration(0)
    config = learner.config  # type: ignore[attr-defined]
    frames = float(config.trials_per_iteration * config.max_trial_length)  # the grid's episodes never end early
    rates: list[float] = []
    split: dict[str, list[float]] = {p: [] for p in parts}
    for it in range(1, iterations + 1):
        start = time.perf_counter()
        metrics = learner.train_iteration(it)
        elapsed = time.perf_counter() - start
        rates.append(frames / elapsed)
        for p in parts:
            split[p].append(metrics[p])
    return {"frames_per_s": statistics.median(rates), "spread": (max(rates) - min(rates)) / 2,
            **{p: statistics.median(v) for p, v in split.items()}}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 timed iterations each")
    parser.add_argument("--iterations", type=int, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    iterations = args.iterations or (3 if args.quick else 20)
    # past the VAE's pre-collection, so that every timed iteration updates the VAE
    vb_config = varibad.make_config("gridworld", precollect_frames=0, iterations=iterations + 1)
    trials = vb_config.trials_per_iteration
    runs = {
        "varibad": lambda: varibad.build_learner(vb_config),
        "rl2": lambda: rl2.build_learner(rl2.make_config("gridworld", trials_per_iteration=trials,
                                                         iterations=iterations + 1)),
    }
    results = {name: measure(build, PARTS[name], iterations) for name, build in runs.items()}
    frames = trials * vb_config.max_trial_length
    print(f"grid world, {trials} trials ({frames} frames) per iteration, 1 thread, median of {iterations}")
    print(f"{'learner':<9} {'frames/s':>9} {'spread':>7}  split (s per iteration)")
    for name, r in results.items():
        split = ", ".join(f"{p[5:]} {r[p]:.3f}" for p in PARTS[name])
        print(f"{name:<9} {r['frames_per_s']:>9.0f} {r['spread']:>7.0f}  {split}")
    ratio = results["varibad"]["frames_per_s"] / results["rl2"]["frames_per_s"]
    print(f"VariBAD at {ratio:.2f}x RL²'s frames per second")
    print(json.dumps({"benchmark": "varibad_throughput", "iterations": iterations, "trials": trials,
                      "varibad_vs_rl2": ratio, **results}))
    return results


if __name__ == "__main__":
    main()
