"""Seconds per meta-iteration of ``metarl train`` itself, as a user runs it, with the split.

Each run is ``python -m metarl train ALGO --env PRESET --out TMP --iterations N``: the real CLI in
its own process, the preset's config, the Trainer's validation (every 10 iterations), checkpoints
and metrics / TensorBoard logging all included. The times come from the run's own ``metrics.csv``
(``time_iteration`` and the learner's split: ``time_sampling``, ``time_adaptation``, ``time_outer``
for MAML, ``time_sampling``, ``time_update`` for RL²) and from watching it from outside
(``benchmarks/watch.py``: when each iteration's row appears), so nothing is timed that a user's
run does not do, and nothing it does is left out:

- ``time_*``: medians over the iterations after ``--warmup`` (``time_iteration`` over those
  without validation; ``time_other`` is what the Trainer's iteration holds beyond the split);
- ``validation_s``: what an iteration with validation takes beyond its own split and the usual
  ``time_other`` (the validation itself);
- ``wall_per_iteration``: wall-clock seconds between the rows of iterations ``warmup - 1`` and
  ``warmup + 10k - 1`` over ``10k`` (the longest whole number of validation / checkpoint periods
  before the last iteration, whose final checkpoint and summary are not a steady-state cost):
  what a long run costs per iteration, validation, checkpoint and logging included;
- ``startup_s``: process start to the first iteration's start (imports, building the learner).

This is the headline time per iteration; ``maml_iteration.py`` times the outer step alone against
the per-task-loop reference.

The runs are the MAML navigation2d preset (the paper's set-up) and the RL² bandit and pendulum
presets; ``--runs`` takes others, with config flags (``"maml:pendulum"``, ``"rl2:bandit
--trials-per-iteration 64"``). The first iterations of a run are timed, not a long run's: the
outer TRPO step's cost follows its line search (``trpo_backtracks`` is reported with it).

    python benchmarks/train_iteration.py [--iterations 12] [--warmup 1] [--threads N] [--quick]
        [--runs "maml:navigation2d" "rl2:bandit --trials-per-iteration 64" ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import statistics
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/train_iteration.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.watch import Watched, child_env, torch_threads, train_command, watch_train  # noqa: E402

RUNS = ("maml:navigation2d", "rl2:bandit", "rl2:pendulum")
OPTIONAL = ("maml:pendulum",)


def parse_run(text: str) -> tuple[str, str, list[str]]:
    """``"ALGO:ENV [config flags]"`` -> (algorithm, env, flags)."""
    head, *flags = shlex.split(text)
    algorithm, sep, env = head.partition(":")
    if not sep or not algorithm or not env:
        raise SystemExit(f"--runs {text!r}: expected ALGO:ENV followed by config flags, e.g. 'maml:navigation2d'")
    return algorithm, env, flags


def _floats(rows: list[dict[str, str]], key: str) -> list[float]:
    return [float(r[key]) for r in rows if r.get(key, "") != ""]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def wall_window(rows: list[dict[str, str]], seconds: tuple[float, ...], warmup: int,
                period: int) -> dict[str, float | int | None]:
    """Wall-clock seconds per iteration over rows ``warmup .. warmup + length - 1``: ``length`` the
    longest whole number of validation / checkpoint ``period``s before the last row (all of them
    when there is not one whole period). Row ``r``'s checkpoint is written after its row appears,
    so it falls between ``seconds[r]`` and ``seconds[r + 1]``, inside the window."""
    available = len(rows) - 1 - warmup  # the last iteration (final checkpoint, summary) is left out
    length = max(available // period * period or available, 0)
    out: dict[str, float | int | None] = {"window_iterations": length, "window_validations": None,
                                          "window_full_periods": length // period,
                                          "wall_per_iteration": None, "logging_checkpoint_s": None}
    if warmup >= 1 and length >= 1:
        window = rows[warmup:warmup + length]
        wall = (seconds[warmup + length - 1] - seconds[warmup - 1]) / length
        out.update(wall_per_iteration=wall,
                   logging_checkpoint_s=wall - statistics.fmean(_floats(window, "time_iteration")),
                   window_validations=sum(r.get("validation_score", "") != "" for r in window))
    return out


def summarize(watched: Watched, warmup: int) -> dict[str, float | int | None]:
    """The figures of one watched run (see the module docstring); ``None`` where the run was too
    short to show one."""
    rows = list(watched.rows)
    trainer = watched.config.get("trainer", {})
    period = math.lcm(int(trainer.get("validate_every", 10)), int(trainer.get("checkpoint_every", 10)))
    parts = [k for k in rows[0] if k.startswith("time_") and k != "time_iteration"]
    measured = rows[warmup:] or rows
    plain = [r for r in measured if r.get("validation_score", "") == ""] or measured
    validated = [r for r in measured if r.get("validation_score", "") != ""]
    out: dict[str, float | int | None] = {}
    for key in parts:
        out[key] = _median(_floats(measured, key))

    def beyond_split(r: dict[str, str]) -> float:
        return float(r["time_iteration"]) - sum(float(r[k]) for k in parts if r.get(k, "") != "")

    out["time_other"] = _median([beyond_split(r) for r in plain])
    iteration = _floats(plain, "time_iteration")
    out["time_iteration"] = _median(iteration)
    out["time_iteration_spread"] = (max(iteration) - min(iteration)) / 2 if iteration else None
    # the validated iteration's own split is taken out, so the train step's noise across rows is not
    out["validation_s"] = (statistics.fmean(beyond_split(r) for r in validated) - out["time_other"]
                           if validated else None)
    out.update(wall_window(rows, watched.row_seconds, warmup, period))
    out["startup_s"] = watched.row_seconds[0] - float(rows[0]["time_iteration"])
    out["wall_s"] = watched.wall_s
    backtracks = _floats(measured, "trpo_backtracks")  # time_outer grows with the line search's steps
    if backtracks:
        out["trpo_backtracks"] = statistics.median(backtracks)
    steps = _floats(measured, "env_steps")
    if steps and out["time_iteration"]:
        out["env_steps_per_s"] = statistics.median(steps) / out["time_iteration"]
        if out["wall_per_iteration"]:
            out["env_steps_per_s_wall"] = statistics.median(steps) / out["wall_per_iteration"]
    return out


def _show(value: float | int | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(name: str, command: list[str], threads: int, warmup: int, r: dict) -> None:
    shown = " ".join(command[command.index("train"):command.index("--out")] +
                     command[command.index("--iterations"):])
    print(f"{shown}  ({threads} threads; medians over iterations {warmup}..)")
    for key in [k for k in r if k.startswith("time_") and not k.endswith("_spread")]:
        note = "  (the Trainer's, iterations without validation)" if key == "time_iteration" else ""
        print(f"  {key:<22} {_show(r[key]):>9}{note}")
    window = f"{r['window_iterations']} iterations, {r['window_validations']} with validation"
    print(f"  {'validation':<22} {_show(r['validation_s']):>9}  (per validation)")
    print(f"  {'wall per iteration':<22} {_show(r['wall_per_iteration']):>9}  ({window}: validation, checkpoints, "
          f"logging included)")
    print(f"  {'logging + checkpoints':<22} {_show(r['logging_checkpoint_s']):>9}  (per iteration, in that window)")
    print(f"  {'startup':<22} {_show(r['startup_s'], 1):>9}  (process start to the first iteration)")
    if "trpo_backtracks" in r:
        print(f"  {'TRPO backtracks':<22} {r['trpo_backtracks']:>9.0f}  (median; the outer step's cost follows them)")
    if "env_steps_per_s" in r:
        print(f"  {'env-steps/s':<22} {r['env_steps_per_s']:>9.0f}  (per Trainer iteration; "
              f"{_show(r.get('env_steps_per_s_wall'), 0)} per wall-clock iteration)")
    if r["window_full_periods"] == 0:
        print(f"  note: the window holds no whole validation period; {name}'s wall per iteration leaves validation "
              "and checkpoints out (run 12 or more iterations)")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 iterations per run (a smoke run)")
    parser.add_argument("--iterations", type=int, default=None, help="iterations per run (default 12)")
    parser.add_argument("--warmup", type=int, default=1, help="first iterations left out of the medians")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads of the runs (OMP_NUM_THREADS); default: torch's own, as metarl train")
    parser.add_argument("--runs", nargs="+", default=list(RUNS), metavar="'ALGO:ENV [flags]'",
                        help=f"runs to time (default {' '.join(RUNS)}; also e.g. {' '.join(OPTIONAL)})")
    parser.add_argument("--out", type=Path, default=None, help="keep the run directories here (default: a temp dir)")
    args = parser.parse_args(argv)
    iterations = args.iterations or (4 if args.quick else 12)
    if iterations < args.warmup + 2 or args.warmup < 1:
        raise SystemExit(f"--iterations {iterations} --warmup {args.warmup}: need warmup >= 1 and "
                         "iterations >= warmup + 2 (the last iteration is left out of the wall window)")
    env = child_env(args.threads)
    threads = torch_threads(env)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="metarl-bench-") as tmp:
        base = args.out or Path(tmp)
        for spec in args.runs:
            algorithm, family, flags = parse_run(spec)
            name = f"{algorithm}_{family}"
            command = train_command(algorithm, family, base / name, iterations, flags)
            watched = watch_train(command, out=base / name, env=env)
            results[name] = {**summarize(watched, args.warmup), "flags": flags}
            report(name, command, threads, args.warmup, results[name])
    print(json.dumps({"benchmark": "train_iteration", "iterations": iterations, "warmup": args.warmup,
                      "threads": threads, "runs": results}))
    return results


if __name__ == "__main__":
    main()
