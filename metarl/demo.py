"""``make demo``: the main job, end to end, on the notebook's two task families.

- MAML on ``pendulum`` (mass, length and gravity varied) against a policy pretrained on all tasks
  and a random initialisation, both fine-tuned with the same steps;
- RL² on ``pendulum``, against the memory-less policy (the same PPO and inputs, no memory) and the
  task-aware oracle (a feed-forward policy given the task): there the task shows in the dynamics, so
  RL² adapts *within* episode 1;
- RL² on ``mountaincar-hills``, MountainCarContinuous with the goal on the left or the right hill, told
  only by reward: episode 1 must explore, so RL² adapts *across* episodes. Its preset turns on the
  family's energy term (``shaping=6000``), which pays for pumping the car up either hill and says
  nothing of the side; the returns shown include it.

Each is evaluated on held-out tasks, each claim is stated with its paired 95% interval (and said
plainly not to hold where it does not), one held-out task of each kind is animated before and after
adaptation, and one report is written into ``runs/demo/``. The budgets and seeds are flags, so the
demo and a longer run are the same code: ``python -m metarl.demo --rl2-iterations 400``.

A previous demo in the same place is kept: it is moved aside to ``runs/demo.<timestamp>``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from metarl import api
from metarl.report import Lead, write_report

HILLS = "mountaincar-hills"
# Small budgets, sized so the whole demo fits about twelve minutes on two CPU cores.
MAML_DEMO: dict[str, Any] = {"iterations": 80}
# Truncated backpropagation in 50-step chunks: 8 chunks of a 400-step pendulum trial run side by side
# through the GRU, which halves the update (5.9 s -> 2.9 s per iteration, one loaded core); the
# task shows in the first steps, far inside one chunk, and each chunk starts from the sampled state.
RL2_DEMO: dict[str, Any] = {"iterations": 90, "tbptt": 50}
# 200 iterations of the preset (its energy term included): the side is remembered from about
# iteration 130 (rl2/config.py has the budgets measured).
HILLS_DEMO: dict[str, Any] = {"iterations": 200}
PARTS = ("maml", "rl2", "hills")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m metarl.demo", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/demo", help="demo directory (an existing one is moved aside)")
    p.add_argument("--env", default="pendulum", help="task family of the MAML part and of RL²'s within-episode part")
    p.add_argument("--seed", type=int, default=0, help="training seed")
    p.add_argument("--eval-seed", type=int, default=1, help="seed of the held-out evaluation")
    p.add_argument("--eval-tasks", type=int, default=100, help="held-out test tasks for MAML (each is adapted)")
    p.add_argument("--rl2-eval-tasks", type=int, default=500,
                   help="held-out test tasks for RL² (cheap: one trial each, all in parallel)")
    p.add_argument("--maml-iterations", type=int, default=None, help="MAML meta-iterations (default: demo budget)")
    p.add_argument("--rl2-iterations", type=int, default=None,
                   help="iterations of RL², its memory-less baseline and its oracle (default: demo budget)")
    p.add_argument("--hills-iterations", type=int, default=None,
                   help=f"iterations of RL² on {HILLS} (default: demo budget)")
    p.add_argument("--skip", choices=PARTS, action="append", default=[], help="leave a part out")
    p.add_argument("--no-animations", action="store_true", help="write no GIFs")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def _set_aside(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        backup = out.with_name(f"{out.name}.{time.strftime('%Y%m%d-%H%M%S')}")
        out.rename(backup)
        print(f"previous demo kept in {backup}", flush=True)


def _budget(preset: dict[str, Any], iterations: int | None) -> dict[str, Any]:
    return {**preset, **({"iterations": iterations} if iterations is not None else {})}


def run_demo(args: argparse.Namespace) -> Path:
    out = Path(args.out)
    _set_aside(out)
    out.mkdir(parents=True, exist_ok=True)
    runs, leads, verdicts = [], [], []
    if "maml" not in args.skip:
        run = _train("maml", args, args.env, out / "maml", _budget(MAML_DEMO, args.maml_iterations))
        result = _evaluate(run, args.eval_tasks, args, {})
        from metarl.demo_claims import maml_lead

        lead, holds = maml_lead(result, out)
        leads += [lead, *_animation(run, out / "maml_adapts.gif", args, "MAML", result)]
        runs.append(run)
        verdicts.append(("MAML beats both baselines", holds))
    if "rl2" not in args.skip:
        budget = _budget(RL2_DEMO, args.rl2_iterations)
        run = _train("rl2", args, args.env, out / "rl2", budget)
        memoryless = _train("rl2", args, args.env, out / "rl2-memoryless", {**budget, "memory": False})
        # Given the task, memory adds nothing on a fully observed state, and the feed-forward net
        # trains in under half the GRU's time.
        oracle = _train("rl2", args, args.env, out / "rl2-oracle", {**budget, "task_aware": True, "memory": False})
        result = _evaluate(run, args.rl2_eval_tasks, args, {"memory-less": memoryless, "oracle": oracle})
        from metarl.demo_claims import rl2_within_episode_lead

        lead, holds = rl2_within_episode_lead(result, out, memoryless="memory-less", oracle="oracle")
        leads.append(lead)
        runs += [run, memoryless, oracle]
        verdicts.append(("RL² beats the memory-less policy within episode 1", holds))
    if "hills" not in args.skip:
        run = _train("rl2", args, HILLS, out / "rl2-hills", _budget(HILLS_DEMO, args.hills_iterations))
        result = _evaluate(run, args.rl2_eval_tasks, args, {})
        from metarl.demo_claims import rl2_across_episodes_lead

        lead, holds = rl2_across_episodes_lead(result, out)
        leads += [lead, *_animation(run, out / "rl2_hills_adapts.gif", args, "RL²")]
        runs.append(run)
        verdicts.append(("RL² earns more in episode 2 than in episode 1", holds))
    path = write_report(runs, out, lead=leads, title="metarl demo: two kinds of adaptation")
    for claim, holds in verdicts:
        print(f"   {'holds' if holds else 'NOT shown at this budget'}: {claim}", flush=True)
    return path


def _evaluate(run: Path, tasks: int, args: argparse.Namespace, baselines: dict[str, Path]) -> Any:
    print(f"   evaluating {run.name} on {tasks} held-out tasks", flush=True)
    return api.evaluate(run, num_tasks=tasks, seed=args.eval_seed, baselines=baselines)


def _animation(run: Path, path: Path, args: argparse.Namespace, name: str, evaluated: Any = None) -> list[Lead]:
    """A GIF of one held-out task, one episode before adaptation and one after, from one reset."""
    if args.no_animations:
        return []
    from metarl.adapting import adapt_run

    learner = api.load(run)
    task, why = _shown_task(learner, evaluated, seed=args.eval_seed)
    result = adapt_run(learner, task, seed=args.eval_seed, animation=path)
    values = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.task.items())
    sentence = (f"{name} on one held-out task ({values}; {why}): one episode before adaptation (return "
                f"{result.before.total:.1f}), then one after it (return {result.after.total:.1f}), from the same "
                f"reset; `metarl adapt {run} --task NAME=VALUE --animate` does this for any task.")
    return [Lead(title=f"Watch {name} adapt ({learner.config.env})", image=path.name, sentence=sentence)]


SHOWN_CANDIDATES = 4  # each is adapted and played once more (~0.6 s): one episode is noisy


def _shown_task(learner: Any, evaluated: Any = None, *, seed: int = 0) -> tuple[dict[str, Any], str]:
    """The task to animate and why it was chosen. For a family with a goal side, the first held-out
    task with the goal on the left (the side a policy that does not adapt does not try first).
    Where the evaluation recorded each task's gain (MAML's ``gain_by_task``), of the tasks that
    gained most there, the one whose single episode changes most: on pendulum the mean gain comes
    from the few heavy, long pendulums, a typical task shows no change to see, and one episode is
    noisier than the evaluation's 40. The claims' numbers are over all held-out tasks."""
    gains = getattr(evaluated, "details", {}).get("gain_by_task")
    arrays = learner.learner.tasks.test_tasks(len(gains) if gains else 32).arrays()
    tasks = [{k: v[i].item() for k, v in arrays.items()} for i in range(len(next(iter(arrays.values()))))]
    if "goal_side" in arrays:
        left = [t for t in tasks if t["goal_side"] < 0]
        return (left or tasks)[0], "the first held-out task with the goal on the left"
    if gains:
        import tempfile

        from metarl.adapting import adapt_run

        top = sorted(range(len(gains)), key=gains.__getitem__, reverse=True)[:SHOWN_CANDIDATES]
        with tempfile.TemporaryDirectory() as tmp:
            played = {i: adapt_run(learner, tasks[i], seed=seed, out=Path(tmp) / f"{i}.pt") for i in top}
        best = max(top, key=lambda i: played[i].after.total - played[i].before.total)
        return tasks[best], (f"of the {SHOWN_CANDIDATES} evaluated held-out tasks that gained most, the one whose "
                             "single episode changes most")
    return tasks[0], "the first held-out task"


def _train(algorithm: str, args: argparse.Namespace, env: str, out: Path, overrides: dict[str, Any]) -> Path:
    started = time.monotonic()
    print(f"== meta-training {out.name} on {env} ==", flush=True)
    run = api.train(algorithm, env=env, out=out, seed=args.seed, quiet=args.quiet, **overrides)
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
