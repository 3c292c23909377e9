"""MAML on 2D navigation: train for a time budget, evaluate on held-out tasks, compare with the
paper (Finn et al. 2017, Table 4) and print one final JSON line.

    python benchmarks/maml_navigation.py --minutes 15 [--threads 2] [--estimator plain]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch

from metarl.algorithms.maml import MamlEvalOptions, build_learner, evaluate
from metarl.algorithms.maml.learner import MamlLearner
from metarl.api import configure
from metarl.runs import seed_everything

PAPER = [-40.41, -11.68, -3.33, -3.23]
TARGETS = {0: None, 1: -15.0, 2: -8.0}


def time_iterations(learner: MamlLearner, n: int) -> None:
    rows = []
    for it in range(n + 1):
        started = time.perf_counter()
        metrics = learner.train_iteration(it)
        metrics["time_iteration"] = time.perf_counter() - started
        if it > 0:  # the first iteration pays one-off costs
            rows.append(metrics)
    split = {k: statistics.median(r[k] for r in rows) for k in rows[0] if k.startswith("time_")}
    print("median seconds per meta-iteration: " + ", ".join(f"{k}={v:.3f}" for k, v in split.items()))
    print(json.dumps({"timing": split, "iterations": n, "threads": torch.get_num_threads()}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--max-iterations", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--estimator", default="plain")
    parser.add_argument("--fvp-episodes", type=int, default=None, help="override the preset's fvp_episodes")
    parser.add_argument("--validate-every", type=int, default=20)
    parser.add_argument("--eval-tasks", type=int, default=40)
    parser.add_argument("--plot", default="maml_navigation.png")
    parser.add_argument("--save", default=None, help="write the best policy's state dict here")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="override config fields, e.g. --set init_std=0.3 inner_lr=0.05")
    parser.add_argument("--timing-only", type=int, default=0, metavar="N",
                        help="only time N meta-iterations at the paper's configuration and print the split")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    extra = {} if args.fvp_episodes is None else {"fvp_episodes": args.fvp_episodes}
    learner = build_learner(configure("maml", "navigation2d", items=args.set, seed=args.seed,
                                      estimator=args.estimator, iterations=args.max_iterations, **extra))
    if args.timing_only:
        time_iterations(learner, args.timing_only)
        return
    start, times, best = time.perf_counter(), [], (-float("inf"), None, -1)
    it = 0
    for it in range(args.max_iterations):
        metrics = learner.train_iteration(it)
        times.append({k: v for k, v in metrics.items() if k.startswith("time_")})
        elapsed = time.perf_counter() - start
        done = elapsed > 60 * args.minutes
        if (it + 1) % args.validate_every == 0 or done:
            score = learner.validate()
            if score > best[0]:
                best = (score, copy.deepcopy(learner.policy.state_dict()), it)
            print(f"iter {it + 1} {elapsed:.0f}s pre {metrics['return_pre']:.2f} post {metrics['return_post']:.2f} "
                  f"val {score:.2f} rejected {metrics['trpo_rejected']:.0f}", flush=True)
        if done:
            break
    train_seconds = time.perf_counter() - start
    learner.policy.load_state_dict(best[1])
    if args.save:
        torch.save(best[1], args.save)
    evaluated = evaluate(learner, num_tasks=args.eval_tasks, seed=args.seed + 1,
                         options=MamlEvalOptions(pretrain_iterations=it + 1))
    evaluated.plot(args.plot)
    result = evaluated.to_json()
    split = {k: statistics.median(t[k] for t in times) for k in times[0]}
    split["time_total"] = sum(split.values())
    print(f"\n{'steps':>6} {'MAML':>9} {'+-95%':>7} {'paper':>8} {'target':>7} {'pretrained':>11} "
          f"{'random':>8} {'oracle':>7}")
    b = result["baselines"]
    for k, (mean, ci) in enumerate(zip(result["mean_return_by_step"], result["ci95_by_step"], strict=True)):
        target = TARGETS.get(k)
        print(f"{k:>6} {mean:>9.2f} {ci:>7.2f} {PAPER[k] if k < len(PAPER) else float('nan'):>8.2f} "
              f"{'' if target is None else f'>={target}':>7} {b['pretrained']['mean_return_by_step'][k]:>11.2f} "
              f"{b['random_init']['mean_return_by_step'][k]:>8.2f} {b['oracle']['mean_return_by_step'][k]:>7.2f}")
    print(f"trained {it + 1} iterations in {train_seconds:.0f}s (best validation at iteration {best[2] + 1}); "
          f"median seconds per iteration: " + ", ".join(f"{k}={v:.3f}" for k, v in split.items()))
    result.update(iterations=it + 1, train_seconds=train_seconds, seconds_per_iteration=split, paper=PAPER,
                  best_iteration=best[2] + 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
