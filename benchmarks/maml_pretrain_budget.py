"""How strong MAML's pretrained baseline is as a function of its budget.

Trains one policy on all tasks jointly (the baseline of ``metarl evaluate``, from the same seed as
the evaluation's) and, at each budget in ``--check``, fine-tunes it on the held-out test tasks the
way the evaluation does (the preset's step sizes and episodes per step), printing one JSON line
per budget. This is what ``metarl.algorithms.maml.evaluation.PRETRAIN_CAP`` is chosen from.

    python benchmarks/maml_pretrain_budget.py --env navigation2d --check 25 50 100 200 400 800
"""

from __future__ import annotations

import argparse
import json
import time

import torch

import metarl
from metarl.algorithms.maml.adaptation import step_size_schedule
from metarl.algorithms.maml.evaluation import _baseline_learner


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env", default="navigation2d")
    p.add_argument("--seed", type=int, default=0, help="training seed of the run whose baseline this is")
    p.add_argument("--eval-seed", type=int, default=0, help="metarl evaluate's --seed")
    p.add_argument("--tasks", type=int, default=40)
    p.add_argument("--check", type=int, nargs="+", default=[25, 50, 100, 200, 400, 800])
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    learner = metarl.make("maml", env=args.env, seed=args.seed).learner
    ev = learner.config.evaluation
    tasks = learner.tasks.test_tasks(args.tasks)
    lrs = step_size_schedule(ev.eval_lrs[0], ev.eval_lrs[-1], ev.eval_steps)
    pretrained = _baseline_learner(learner, seed=args.eval_seed + 1000, joint=True)
    started, checks = time.monotonic(), set(args.check)
    for it in range(max(checks)):
        metrics = pretrained.train_iteration(it)
        if it + 1 in checks:
            curve = pretrained.post_adaptation_returns(tasks, lrs=lrs, episodes=ev.eval_episodes, seed=args.eval_seed)
            print(json.dumps({"iterations": it + 1, "train_s": round(time.monotonic() - started, 1),
                              "return_pre": float(metrics["return_pre"]),
                              "return_by_step": [round(x, 2) for x in curve.mean(1).tolist()]}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
