"""Peak memory (RSS) of short MAML and RL² training runs, and its growth from the 10th to the last
iteration. Goal: no growth (a leak would show as steady growth per iteration).

Each algorithm runs in its own process so their peaks do not mix. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

import torch

RUNS = {
    "maml": ("navigation2d", {"meta_batch_size": 10, "episodes_per_task": 10}),
    "rl2": ("bandit", {"trials_per_iteration": 128}),
}


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def measure(algorithm: str, iterations: int) -> dict[str, float]:
    """Runs in the child process."""
    from metarl import api

    torch.set_num_threads(1)
    env, overrides = RUNS[algorithm]
    module = api.algorithm_module(algorithm)
    learner = module.build_learner(module.make_config(env, iterations=iterations, **overrides))
    at_10 = 0.0
    for it in range(iterations):
        learner.train_iteration(it)
        if it == 9:
            at_10 = rss_mib()
    last = rss_mib()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rss_iter10_mib": at_10, "rss_last_mib": last, "growth_mib": last - at_10,
            "growth_per_iteration_kib": (last - at_10) * 1024 / max(iterations - 10, 1), "peak_rss_mib": peak}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 iterations instead of 100")
    parser.add_argument("--child", choices=sorted(RUNS), help=argparse.SUPPRESS)
    parser.add_argument("--iterations", type=int, default=None)
    args = parser.parse_args(argv)
    iterations = args.iterations or (30 if args.quick else 100)
    if args.child:
        print(json.dumps(measure(args.child, iterations)))
        return {}
    results = {}
    print(f"{'run':<6} {'RSS@10 MiB':>11} {'RSS@last MiB':>13} {'growth MiB':>11} {'peak MiB':>9}")
    for algorithm in RUNS:
        out = subprocess.run([sys.executable, __file__, "--child", algorithm, "--iterations", str(iterations)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results[algorithm] = r
        print(f"{algorithm:<6} {r['rss_iter10_mib']:>11.1f} {r['rss_last_mib']:>13.1f} {r['growth_mib']:>11.1f}"
              f" {r['peak_rss_mib']:>9.1f}")
    print(json.dumps({"benchmark": "memory", "iterations": iterations, **results}))
    return results


if __name__ == "__main__":
    main()
