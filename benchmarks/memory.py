"""Resident memory (RSS) of ``metarl train`` over 1000 iterations, MAML, RL² and PEARL: it must stay flat.

Each run is the real CLI in its own process, ``python -m metarl train ALGO --env PRESET --out TMP
--iterations N``, through the whole Trainer: run directory, validation and checkpoints every 10
iterations, metrics.csv and TensorBoard logging; leaks often live there rather than in the
learner. The parent samples the child's RSS (``/proc/<pid>/statm``) each time a new iteration's
row appears in ``metrics.csv`` (``benchmarks/watch.py``) and reports RSS at iterations 10, 100 and
the last, the peak, and the slope of a least-squares line through the samples of the second half
(KiB per iteration); a slope above ``--threshold-kib`` is flagged as growth.

The configs are the presets made small so that 1000 iterations take minutes, not hours (MAML
navigation2d with 4 tasks x 4 episodes and 4 validation tasks; RL² bandit with 32 trials and 32
validation tasks; PEARL on the sparse point robot with 4 train tasks, 5 gradient steps of small
batches and 2000-transition buffers): the code path, not the batch size, is what a leak rides on.
Two things grow by design: ``metrics.csv``'s rows are kept in memory (a few KiB per iteration at
most), and PEARL's replay buffers until they are full.

    python benchmarks/memory.py [--iterations 1000] [--threads N] [--threshold-kib 8] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/memory.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.watch import child_env, torch_threads, train_command, watch_train  # noqa: E402

RUNS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "maml": ("maml", "navigation2d", ("--meta-batch-size", "4", "--episodes-per-task", "4",
                                      "--validation-tasks", "4")),
    "rl2": ("rl2", "bandit", ("--trials-per-iteration", "32", "--validation-tasks", "32")),
    # the replay buffers fill by design: 4 tasks x 2000 transitions, full after ~200 iterations of 40
    # steps, so the second half's slope measures everything else
    "pearl": ("pearl", "navigation2d-sparse", (
        "--gradient-steps", "5", "--meta-batch", "4", "--batch-size", "32", "--embedding-batch-size", "16",
        "--hidden-sizes", "32", "32", "--encoder-sizes", "32", "32", "--initial-steps", "100", "--train-tasks", "4",
        "--tasks-per-iteration", "1", "--steps-prior", "20", "--steps-posterior", "0",
        "--extra-rl-steps-posterior", "20", "--replay-capacity", "2000", "--validation-tasks", "2")),
}


def rss_at(samples: list[tuple[int, float]], rows: int) -> float | None:
    """RSS when at least ``rows`` iterations had been logged (``None`` if the run never got there)."""
    return next((mib for done, mib in samples if done >= rows), None)


def slope_kib(samples: list[tuple[int, float]]) -> float | None:
    """Least-squares slope, KiB per iteration, of RSS over iterations in ``samples``."""
    if len({done for done, _ in samples}) < 2:
        return None
    fit = statistics.linear_regression([float(d) for d, _ in samples], [m for _, m in samples])
    return fit.slope * 1024


def summarize(samples: list[tuple[int, float]], iterations: int, peak: float, threshold_kib: float) -> dict:
    second_half = [(d, m) for d, m in samples if d >= iterations / 2]
    slope = slope_kib(second_half)
    at_10, last = rss_at(samples, 10), samples[-1][1] if samples else None
    return {"rss_iter10_mib": at_10, "rss_iter100_mib": rss_at(samples, 100) if iterations >= 100 else None,
            "rss_last_mib": last, "growth_mib": None if at_10 is None or last is None else last - at_10,
            "slope_kib_per_iteration": slope, "peak_rss_mib": peak, "samples": len(samples),
            "grows": slope is not None and slope > threshold_kib}


def _show(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 iterations instead of 1000")
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads of the runs (OMP_NUM_THREADS); default: torch's own, as metarl train")
    parser.add_argument("--threshold-kib", type=float, default=8.0,
                        help="second-half slope (KiB/iteration) above which RSS counts as growing")
    parser.add_argument("--only", nargs="+", choices=sorted(RUNS), default=list(RUNS))
    parser.add_argument("--set", dest="extra", action="append", default=[], metavar="ALGO=FLAGS",
                        help="more config flags for one run, e.g. --set 'rl2=--hidden-size 16'")
    args = parser.parse_args(argv)
    iterations = args.iterations or (40 if args.quick else 1000)
    extra: dict[str, list[str]] = {}
    for item in args.extra:
        name, _, flags = item.partition("=")
        if name not in RUNS:
            raise SystemExit(f"--set {item!r}: the run must be one of {sorted(RUNS)}")
        extra.setdefault(name, []).extend(flags.split())
    env = child_env(args.threads)
    threads = torch_threads(env)
    results: dict[str, dict] = {}
    print(f"RSS of metarl train over {iterations} iterations ({threads} threads), MiB; slope over the second half")
    print(f"{'run':<18} {'@10':>7} {'@100':>7} {'@last':>7} {'peak':>7} {'KiB/iter':>9}")
    with tempfile.TemporaryDirectory(prefix="metarl-memory-") as tmp:
        for name in args.only:
            algorithm, family, flags = RUNS[name]
            out = Path(tmp) / name
            command = train_command(algorithm, family, out, iterations, [*flags, *extra.get(name, []), "--quiet"])
            watched = watch_train(command, out=out, env=env)
            r = summarize(list(watched.rss), iterations, watched.peak_rss_mib, args.threshold_kib)
            results[name] = {**r, "env": family, "flags": list(command[command.index("--iterations"):])}
            slope = "-" if r["slope_kib_per_iteration"] is None else f"{r['slope_kib_per_iteration']:.2f}"
            print(f"{name + ' ' + family:<18} {_show(r['rss_iter10_mib']):>7} {_show(r['rss_iter100_mib']):>7}"
                  f" {_show(r['rss_last_mib']):>7} {_show(r['peak_rss_mib']):>7} {slope:>9}"
                  f"  {'GROWS' if r['grows'] else 'flat'}")
    print(json.dumps({"benchmark": "memory", "iterations": iterations, "threads": threads,
                      "threshold_kib_per_iteration": args.threshold_kib, **results}))
    return results


if __name__ == "__main__":
    main()
