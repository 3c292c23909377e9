"""``metarl``: train | evaluate | adapt | success | report | baselines | envs | algorithms | bench.

Algorithms and task families come from the registries (``metarl.algorithms.registry``,
``metarl.envs.registry``); ``--import MODULE`` (before the command, repeatable) imports a module of
yours that registers more, so they work here exactly like metarl's own.

Errors a user can cause (``metarl.errors.UserError``: a bad flag value, an unknown env, a foreign
checkpoint, an existing run directory, a missing optional extra) print one line naming the problem
and exit with status 2; set ``METARL_DEBUG=1`` to see the traceback instead. Anything else is a bug:
full traceback, status 1. Training stopped by SIGINT / SIGTERM exits with 130 / 143 and prints the
command that resumes it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from metarl import api
from metarl.algorithms.registry import algorithm, algorithms, import_plugins
from metarl.config_cli import config_to_dict, flag_specs, get_leaf, help_text, parse_config
from metarl.errors import ConfigError, UserError
from metarl.training import NumericalError, TrainingInterrupted


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
    width = max((len(row["env"]) for row in rows), default=0)
    for row in rows:
        print(f"{row['env']:<{width}} {row['gym_id']:<34} {row['summary']}")
        for name, text in row["task_parameters"].items():
            print(f"{'':<{width + 2}}{name}: {text}")
    return 0


def cmd_algorithms(args: argparse.Namespace) -> int:
    rows = [{"algorithm": s.name, "summary": s.summary, "presets": sorted(s.presets)} for s in algorithms().values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['algorithm']:<10} {row['summary']}\n{'':<11}presets: {', '.join(row['presets'])}")
    return 0


# ----------------------------------------------------------------------------- train
def _fixed(config_type: type) -> tuple[str, ...]:
    """Fields chosen by the outer flags (``--env``), so they get no config flag of their own."""
    paths = {spec.path for spec in flag_specs(config_type)}
    return tuple(name for name in ("env", "preset") if name in paths)


def _given_leaves(config_type: type, argv: Sequence[str]) -> dict[str, str]:
    """Dotted path -> leaf name of every config field whose flag appears in ``argv``."""
    given = {}
    for spec in flag_specs(config_type):
        names = {spec.flag, *([spec.negation] if spec.negation else [])}
        if any(arg in names or arg.split("=", 1)[0] in names for arg in argv):
            given[spec.path] = spec.name
    return given


def _train_config(spec: Any, args: argparse.Namespace) -> Any:
    """The config of ``metarl train``: the flags given (``args.options``, parsed by tyro) as
    overrides of the env's preset, through the algorithm's ``make_config`` (which validates, and
    may insist on values an env without a preset must be given)."""
    if not args.env:
        raise ConfigError(f"metarl train {spec.name} needs --env (see `metarl envs`) or --resume RUN")
    try:
        default = spec.make_config(args.env)
    except ConfigError:  # no preset for this env: the config's own defaults stand in until the flags are read
        default = spec.config_type(env=args.env)
    parsed = parse_config(spec.config_type, default=default, args=args.options,
                          prog=f"metarl train {spec.name} --env {args.env}", fixed=_fixed(spec.config_type))
    overrides = {leaf: get_leaf(parsed, path) for path, leaf in _given_leaves(spec.config_type, args.options).items()}
    return spec.make_config(args.env, **overrides)


def _train_help(spec: Any, args: argparse.Namespace, outer: str) -> str:
    env = args.env or next(iter(spec.presets), None)
    if env is None:
        return outer
    note = "" if args.env else f"(defaults shown are the {env!r} preset's; give --env to see another's)\n"
    return outer + "\nconfig flags " + note + help_text(
        spec.config_type, default=spec.make_config(env), prog=f"metarl train {spec.name}",
        fixed=_fixed(spec.config_type))


def cmd_train(args: argparse.Namespace) -> int:
    spec = algorithm(args.algorithm)
    if args.help:
        print(_train_help(spec, args, args.parser.format_help()))
        return 0
    if args.resume:
        if args.env or args.out:
            raise ConfigError("--resume RUN continues RUN: it takes neither --env nor --out")
        path = api.train(spec.name, resume=args.resume, resume_flags=args.options, quiet=args.quiet)
    else:
        config = _train_config(spec, args)
        if args.dry_run:
            print(json.dumps(config_to_dict(config), indent=2))
            return 0
        if not args.out:
            raise ConfigError("metarl train needs --out (a new run directory)")
        path = api.train(spec.name, env=args.env, out=args.out, config=config, quiet=args.quiet,
                         validate_every=args.validate_every, checkpoint_every=args.checkpoint_every)
    if not args.quiet:
        print(f"run written to {path}")
    return 0


# ----------------------------------------------------------------------------- evaluate
def _baselines(items: Sequence[str]) -> dict[str, str]:
    """``--baseline [NAME=]RUN`` values by name (the run directory's name when none is given)."""
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        name, path = (name, path) if sep else (Path(item).name, item)
        if name in out:
            raise ConfigError(f"two baselines are called {name!r}; name them: --baseline NAME=RUN")
        out[name] = path
    return out


def _options_help(spec: Any) -> str:
    if spec.eval_options is None:
        return f"{spec.name} has no evaluation options\n"
    return help_text(spec.eval_options, default=spec.eval_options(), prog=f"metarl evaluate RUN ({spec.name})")


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.help:
        text = args.parser.format_help()
        specs = [api.read_run(args.run)[0]] if args.run and (Path(args.run) / "config.json").is_file() \
            else list(algorithms().values())
        print(text + "".join(f"\n{s.name} evaluation options:\n{_options_help(s)}" for s in specs))
        return 0
    if not args.run:
        raise ConfigError("metarl evaluate needs a run directory")
    spec, _, _ = api.read_run(args.run)
    options: dict[str, Any] = {}
    if spec.eval_options is not None:
        parsed = parse_config(spec.eval_options, default=spec.eval_options(), args=args.options,
                              prog=f"metarl evaluate {args.run}")
        options = {f.name: getattr(parsed, f.name) for f in dataclasses.fields(parsed)}
    elif args.options:
        raise ConfigError(f"{spec.name} takes no evaluation options, got {args.options}")
    result = api.evaluate(args.run, num_tasks=args.tasks, seed=args.seed, checkpoint=args.checkpoint,
                          baselines=_baselines(args.baseline or []), **options)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(json.dumps(result.to_json(), indent=2))
        stem = api.evaluation_stem(spec, seed=args.seed, checkpoint=args.checkpoint, options=options)
        print(f"written to {Path(args.run) / f'{stem}.json'} (and .png)")
    return 0


# ----------------------------------------------------------------------------- adapt
def cmd_adapt(args: argparse.Namespace) -> int:
    from metarl.adapting import adapt_run, parse_task

    values = parse_task(args.task or [])
    learner = api.load(args.run, checkpoint=args.checkpoint)
    animation = args.animation
    if args.animate and animation is None:
        from metarl.adapting import task_slug

        animation = Path(args.run) / "adapted" / f"{task_slug(values)}.gif"
    result = adapt_run(learner, values, seed=args.seed, episodes=args.episodes, out=args.out, animation=animation)
    summary = {"task": result.task, "return_before": result.before.total, "return_after": result.after.total,
               "agent": str(result.agent_path), "animation": None if animation is None else str(animation)}
    if args.json:
        print(json.dumps(summary))
    else:
        task = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.task.items())
        print(f"task: {task}")
        print(f"return of one episode before adaptation {result.before.total:.2f}, after {result.after.total:.2f} "
              f"(same reset seed {args.seed})")
        print(f"adapted agent written to {result.agent_path} (metarl.api.load_agent reads it)")
        if animation is not None:
            print(f"animation written to {animation}")
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
        raise ConfigError("metarl bench runs the benchmarks/ folder of a source checkout; none found")
    cmd = [sys.executable, "-m", "benchmarks", *(["--quick"] if args.quick else []),
           *(["--only", *args.only] if args.only else [])]
    return subprocess.call(cmd, cwd=root)


# ----------------------------------------------------------------------------- parser
def _add_train(sub: Any) -> None:
    p = sub.add_parser("train", help="meta-train an algorithm into a run directory")
    algos = p.add_subparsers(dest="algorithm", required=True)
    for name, spec in algorithms().items():
        ap = algos.add_parser(name, help=spec.summary, add_help=False,
                              usage=f"metarl train {name} --env ENV --out RUN [config flags] | --resume RUN")
        ap.add_argument("-h", "--help", action="store_true", help="show the outer and the config flags")
        ap.add_argument("--env", help="task family or preset (see `metarl envs`, `metarl algorithms`)")
        ap.add_argument("--out", help="new run directory")
        ap.add_argument("--resume", metavar="RUN",
                        help=f"continue RUN from its latest checkpoint (config flags given with it may change "
                             f"only: {', '.join(spec.safe_resume_fields)})")
        ap.add_argument("--quiet", action="store_true", help="no progress output")
        ap.add_argument("--dry-run", action="store_true", help="validate and print the resolved config; train nothing")
        ap.add_argument("--validate-every", type=int, default=10, help="iterations between validations")
        ap.add_argument("--checkpoint-every", type=int, default=10, help="iterations between checkpoints")
        _add_threads(ap)
        ap.set_defaults(func=cmd_train, parser=ap)


def _add_evaluate(sub: Any) -> None:
    p = sub.add_parser("evaluate", help="adaptation on held-out test tasks", add_help=False,
                       usage="metarl evaluate RUN [--tasks N] [--seed S] [--baseline [NAME=]RUN ...] [options]")
    p.add_argument("-h", "--help", action="store_true", help="show these and the run's algorithm options")
    p.add_argument("run", nargs="?", help="run directory")
    p.add_argument("--tasks", type=int, default=40, help="number of held-out test tasks")
    p.add_argument("--seed", type=int, default=0, help="seed of the evaluation (test tasks, sampling)")
    p.add_argument("--checkpoint", choices=["best", "latest"], default="best")
    p.add_argument("--baseline", action="append", metavar="[NAME=]RUN",
                   help="another run of the same algorithm and env to compare on the same tasks (repeatable; "
                        "e.g. --baseline oracle=runs/oracle)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_threads(p)
    p.set_defaults(func=cmd_evaluate, parser=p)


def _add_adapt(sub: Any) -> None:
    p = sub.add_parser("adapt", help="adapt a trained run to one given task and write the adapted agent")
    p.add_argument("run", help="run directory")
    p.add_argument("--task", action="append", metavar="NAME=VALUE",
                   help="a task parameter (repeatable; the others keep the family's default; metarl envs lists them)")
    p.add_argument("--episodes", type=int, default=None,
                   help="adaptation episodes (default: the algorithm's evaluation protocol)")
    p.add_argument("--seed", type=int, default=0, help="seed of the adaptation and of the episodes' resets")
    p.add_argument("--checkpoint", choices=["best", "latest"], default="best")
    p.add_argument("--out", type=Path, default=None, help="adapted agent file (default RUN/adapted/<task>.pt)")
    p.add_argument("--animate", action="store_true",
                   help="also write a GIF of one episode before and one after adaptation (RUN/adapted/<task>.gif)")
    p.add_argument("--animation", type=Path, default=None, help="the GIF's path (implies --animate)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_threads(p)
    p.set_defaults(func=cmd_adapt)


THREADS_HELP = ("torch CPU threads (0: torch's default, one per core). On a core that other processes "
                "also use, 1 is several times faster: torch's threads wait for each other")


def _add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=0, metavar="N", help=THREADS_HELP)


def _set_threads(args: argparse.Namespace) -> None:
    threads = getattr(args, "threads", 0)
    if not threads:
        return
    if threads < 0:
        raise ConfigError(f"--threads must be >= 1 (0: torch's default), got {threads}")
    import torch

    torch.set_num_threads(threads)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="metarl", description="Meta-reinforcement learning.")
    parser.add_argument("--import", dest="imports", action="append", metavar="MODULE", default=[],
                        help="import MODULE first (it may register task families or algorithms; repeatable)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("envs", help="list task families and their task parameters")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_envs)
    p = sub.add_parser("algorithms", help="list algorithms and their presets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_algorithms)
    _add_train(sub)
    _add_evaluate(sub)
    _add_adapt(sub)
    from metarl import success_command

    p = sub.add_parser("success", help="success rate by Meta-World's evaluation protocol (envs that report success)")
    success_command.add_arguments(p)
    _add_threads(p)
    p.set_defaults(func=success_command.main)

    p = sub.add_parser("report", help="Markdown report with plots of one or more runs")
    p.add_argument("runs", nargs="+", help="run directories (several: compared on one plot)")
    p.add_argument("--out", default=None, help="report directory (default: the first run)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("bench", help="speed and memory benchmarks against the competitors (source checkout)")
    p.add_argument("--quick", action="store_true", help="a short smoke run")
    p.add_argument("--only", nargs="+", help="benchmark names (see benchmarks/__main__.py)")
    p.set_defaults(func=cmd_bench)

    with contextlib.suppress(ImportError):
        from metarl.classic import command as baselines_command

        p = sub.add_parser("baselines", help="classic (non-meta-learned) baselines of the families that have them")
        baselines_command.add_arguments(p)
        p.set_defaults(func=baselines_command.main)
    return parser


def _imports(argv: Sequence[str]) -> list[str]:
    """The ``--import MODULE`` values before the command (needed before the parser is built)."""
    out, it = [], iter(argv)
    for arg in it:
        if arg == "--import":
            out.append(next(it, ""))
        elif arg.startswith("--import="):
            out.append(arg.split("=", 1)[1])
    return out


# argparse's own errors, should a command raise them; exceptions outside these are bugs.
USER_ERRORS: tuple[type[Exception], ...] = (UserError, argparse.ArgumentError, argparse.ArgumentTypeError)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        import_plugins(_imports(argv))
    except ConfigError as err:
        print(f"metarl: error: {err}", file=sys.stderr)
        return 2
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("train", "evaluate"):  # their config / option flags are parsed by tyro
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.options = extra
    try:
        _set_threads(args)
        return int(args.func(args) or 0)
    except USER_ERRORS as err:
        if os.environ.get("METARL_DEBUG"):
            raise
        print(f"metarl: error: {err}", file=sys.stderr)
        return 2
    except NumericalError as err:  # the run diverged: its files are whole, the latest checkpoint the last good one
        if os.environ.get("METARL_DEBUG"):
            raise
        run = getattr(args, "resume", None) or getattr(args, "out", None)
        where = f"; {run}'s latest checkpoint is the last good one" if run else ""
        print(f"metarl: {err}{where} (METARL_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 3
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
    except BrokenPipeError:  # the reader went away (`metarl envs | head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        return 141


if __name__ == "__main__":
    sys.exit(main())
