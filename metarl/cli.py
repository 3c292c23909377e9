"""``metarl``: train | evaluate | report | baselines | envs | bench.

Errors a user can cause (``metarl.errors.UserError``: a bad flag value, an unknown env, a foreign
checkpoint, an existing run directory, a missing optional extra) print one line naming the problem
and exit with status 2; set ``METARL_DEBUG=1`` to see the traceback instead. Anything else is a bug:
full traceback, status 1. Training stopped by SIGINT / SIGTERM exits with 130 / 143 and prints the
command that resumes it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
from pathlib import Path

from metarl import api
from metarl.api import ALGORITHMS, algorithm_module
from metarl.config_cli import add_config_arguments, config_to_dict, overrides_from_args
from metarl.errors import UserError
from metarl.training import TrainingInterrupted


# ----------------------------------------------------------------------------- envs
def cmd_envs(args: argparse.Namespace) -> int:
    from metarl.envs.registry import FAMILIES

    rows = []
    for fam in FAMILIES.values():
        try:
            described = fam.env_type().distribution_type().describe()
        except ImportError as err:
            described = {"(unavailable)": str(err)}
        rows.append({"env": fam.name, "gym_id": fam.gym_id, "summary": fam.summary, "task_parameters": described})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['env']:<18} {row['gym_id']:<34} {row['summary']}")
        for name, text in row["task_parameters"].items():
            print(f"{'':<20}{name}: {text}")
    return 0


# ----------------------------------------------------------------------------- train
def cmd_train(args: argparse.Namespace) -> int:
    overrides = {}
    if not args.resume:
        module = algorithm_module(args.algorithm)
        overrides = overrides_from_args(args, module.CONFIG)
        overrides.pop("env", None)
        if args.dry_run:
            if not args.env:
                raise ValueError("train needs --env")
            print(json.dumps(config_to_dict(module.make_config(args.env, **overrides)), indent=2))
            return 0
    path = api.train(
        args.algorithm, env=args.env, out=args.out, resume=args.resume, quiet=args.quiet,
        validate_every=args.validate_every, checkpoint_every=args.checkpoint_every, **overrides,
    )
    if not args.quiet:
        print(f"run written to {path}")
    return 0


# ----------------------------------------------------------------------------- evaluate
def cmd_evaluate(args: argparse.Namespace) -> int:
    result = api.evaluate(args.run, num_tasks=args.tasks, seed=args.seed, steps=args.steps, checkpoint=args.checkpoint,
                          oracle=args.oracle, pretrain_iterations=args.pretrain_iterations, episodes=args.episodes)
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
        print(f"written to {Path(args.run) / f'evaluation_seed{args.seed}.json'} (and .png)")
    return 0


# ----------------------------------------------------------------------------- report
def cmd_report(args: argparse.Namespace) -> int:
    from metarl.report import write_report

    path = write_report(args.runs, args.out)
    print(path)
    return 0


# ----------------------------------------------------------------------------- bench
def cmd_bench(args: argparse.Namespace) -> int:
    import subprocess

    root = Path(__file__).resolve().parents[1]
    if not (root / "benchmarks" / "__main__.py").is_file():
        raise FileNotFoundError("metarl bench runs the benchmarks/ folder of a source checkout; none found")
    cmd = [sys.executable, "-m", "benchmarks", *(["--quick"] if args.quick else []),
           *(["--only", *args.only] if args.only else [])]
    return subprocess.call(cmd, cwd=root)


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="metarl", description="Meta-reinforcement learning: MAML and RL².")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("envs", help="list task families and their task parameters")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_envs)

    p = sub.add_parser("train", help="meta-train an algorithm into a run directory")
    algos = p.add_subparsers(dest="algorithm", required=True)
    for name in ALGORITHMS:
        ap = algos.add_parser(name, help=f"train {name}")
        ap.add_argument("--env", help="task family (see `metarl envs`)")
        ap.add_argument("--out", help="new run directory")
        ap.add_argument("--resume", metavar="RUN", help="continue RUN from its latest checkpoint")
        ap.add_argument("--quiet", action="store_true", help="no progress output")
        ap.add_argument("--dry-run", action="store_true", help="validate and print the resolved config; train nothing")
        ap.add_argument("--validate-every", type=int, default=10, help="iterations between validations")
        ap.add_argument("--checkpoint-every", type=int, default=10, help="iterations between checkpoints")
        with contextlib.suppress(ImportError, AttributeError):  # an algorithm not installed
            add_config_arguments(ap, algorithm_module(name).CONFIG, skip=("env",))
        ap.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="adaptation on held-out test tasks")
    p.add_argument("run", help="run directory")
    p.add_argument("--tasks", type=int, default=40, help="number of held-out test tasks")
    p.add_argument("--seed", type=int, default=0, help="seed of the evaluation (test tasks, sampling)")
    p.add_argument("--steps", type=int, default=None, help="adaptation steps (MAML; default: the run's)")
    p.add_argument("--checkpoint", choices=["best", "latest"], default="best")
    p.add_argument("--oracle", metavar="RUN", help="RL²: a task-aware run (--task-aware) to compare against")
    p.add_argument("--pretrain-iterations", type=int, default=None,
                   help="MAML: budget of the pretrained baseline (default: the run's iterations; kept in the run)")
    p.add_argument("--episodes", type=int, default=None,
                   help="MAML: episodes per task and adaptation step (default: the run's eval_episodes)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("report", help="Markdown report with plots of one or more runs")
    p.add_argument("runs", nargs="+", help="run directories (several: compared on one plot)")
    p.add_argument("--out", default=None, help="report directory (default: the first run)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("bench", help="speed and memory benchmarks against the competitors (source checkout)")
    p.add_argument("--quick", action="store_true", help="a short smoke run")
    p.add_argument("--only", nargs="+", help="benchmark names (see benchmarks/__main__.py)")
    p.set_defaults(func=cmd_bench)

    try:
        from metarl.classic import command as baselines_command

        p = sub.add_parser("baselines", help="classic bandit / MDP / navigation baselines")
        baselines_command.add_arguments(p)
        p.set_defaults(func=baselines_command.main)
    except ImportError:
        pass
    return parser


# argparse's own errors, should a command raise them; exceptions outside these are bugs.
USER_ERRORS: tuple[type[Exception], ...] = (UserError, argparse.ArgumentError, argparse.ArgumentTypeError)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as err:
        if os.environ.get("METARL_DEBUG"):
            raise
        print(f"metarl: error: {err}", file=sys.stderr)
        return 2
    except TrainingInterrupted as err:
        print(f"metarl: {err}", file=sys.stderr)
        if err.run is not None:
            algorithm = f" {shlex.quote(err.algorithm)}" if err.algorithm else ""
            print(f"metarl: resume with: metarl train{algorithm} --resume {shlex.quote(str(err.run))}",
                  file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("metarl: interrupted; the run keeps its last checkpoint", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
