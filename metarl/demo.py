"""``make demo``: the main job, end to end, on the notebook's task family.

Meta-trains MAML and RL² on ``pendulum`` tasks (mass, length and gravity varied), evaluates both on
held-out test tasks against their baselines (random initialisation and a pretrained policy
fine-tuned with the same steps for MAML; a task-aware oracle for RL²), and writes one report with
plots into ``runs/demo/``. The budget and seeds are flags, so the demo and a longer run are the same
code: ``python -m metarl.demo --maml-iterations 300 --rl2-iterations 400``.

A previous demo in the same place is kept: it is moved aside to ``runs/demo.<timestamp>``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from metarl import api
from metarl.report import write_report

# Small budgets that show adaptation within about ten minutes on two CPU cores.
MAML_DEMO: dict[str, Any] = {"iterations": 80}
RL2_DEMO: dict[str, Any] = {"iterations": 100}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m metarl.demo", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/demo", help="demo directory (an existing one is moved aside)")
    p.add_argument("--env", default="pendulum", help="task family")
    p.add_argument("--seed", type=int, default=0, help="training seed")
    p.add_argument("--eval-seed", type=int, default=1, help="seed of the held-out evaluation")
    p.add_argument("--eval-tasks", type=int, default=100, help="held-out test tasks for MAML (each is adapted)")
    p.add_argument("--rl2-eval-tasks", type=int, default=500,
                   help="held-out test tasks for RL² (cheap: one trial each, all in parallel)")
    p.add_argument("--maml-iterations", type=int, default=None, help="MAML meta-iterations (default: demo budget)")
    p.add_argument("--rl2-iterations", type=int, default=None, help="RL² iterations (default: demo budget)")
    p.add_argument("--skip", choices=["maml", "rl2"], action="append", default=[], help="leave an algorithm out")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def _set_aside(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        backup = out.with_name(f"{out.name}.{time.strftime('%Y%m%d-%H%M%S')}")
        out.rename(backup)
        print(f"previous demo kept in {backup}", flush=True)


def run_demo(args: argparse.Namespace) -> Path:
    out = Path(args.out)
    _set_aside(out)
    out.mkdir(parents=True, exist_ok=True)
    budgets = {"maml": (MAML_DEMO, args.maml_iterations), "rl2": (RL2_DEMO, args.rl2_iterations)}
    runs = []
    for algorithm, (preset, iterations) in budgets.items():
        if algorithm in args.skip:
            continue
        overrides = {**preset, **({"iterations": iterations} if iterations is not None else {})}
        run = _train(algorithm, args, out / algorithm, overrides)
        oracle = None
        if algorithm == "rl2":  # the task-aware oracle: the same PPO, told the task
            oracle = _train(algorithm, args, out / "rl2-oracle", {**overrides, "task_aware": True})
        tasks = args.rl2_eval_tasks if algorithm == "rl2" else args.eval_tasks
        print(f"   evaluating {algorithm} on {tasks} held-out tasks", flush=True)
        api.evaluate(run, num_tasks=tasks, seed=args.eval_seed, baselines={"oracle": oracle} if oracle else {})
        runs.append(run)
    return write_report(runs, out)


def _train(algorithm: str, args: argparse.Namespace, out: Path, overrides: dict[str, Any]) -> Path:
    started = time.monotonic()
    print(f"== meta-training {out.name} on {args.env} ==", flush=True)
    run = api.train(algorithm, env=args.env, out=out, seed=args.seed, quiet=args.quiet, **overrides)
    print(f"   trained in {time.monotonic() - started:.0f}s", flush=True)
    return run


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.monotonic()
    path = run_demo(args)
    print(f"report: {path}  ({time.monotonic() - started:.0f}s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
