"""MAML on the pendulum family (mass, length, gravity varied): the documented training command, then
``metarl evaluate`` on held-out tasks, and the issue's two checks read off paired differences.

    python benchmarks/maml_pendulum.py --out runs/maml-pendulum [--tasks 100] [--seed 1]

Returns on pendulum differ far more between start states and tasks than adaptation changes them
(the per-step 95% intervals are +-25 around -200), so the checks use differences paired by task:
each task's return after k steps minus its own return before adapting, and MAML's return minus the
pretrained baseline's on the same task from the same reset seed. A check passes when the 95%
interval of that difference lies above zero. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from metarl import api


def _row(name: str, means: list[float], ci: list[float]) -> str:
    return f"{name:<36}" + "".join(f"{m:>9.1f} ±{c:>5.1f}" for m, c in zip(means, ci, strict=True))


def checks(result: dict) -> dict[str, bool]:
    """The issue's pendulum criteria at the last adaptation step, each as a paired 95% interval > 0."""
    gain, gain_ci = result["gain_by_step"][-1], result["gain_ci95_by_step"][-1]
    pre = result["baselines"]["pretrained"]
    lead, lead_ci = pre["maml_minus_baseline_by_step"][-1], pre["maml_minus_baseline_ci95_by_step"][-1]
    return {"adaptation_gain_above_zero": gain - gain_ci > 0, "above_pretrained_fine_tuned": lead - lead_ci > 0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/maml-pendulum", help="run directory (reused if it has a checkpoint)")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--eval-seed", type=int, default=1)
    parser.add_argument("--tasks", type=int, default=100, help="held-out test tasks")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=None, help="override the preset's meta-iterations")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="override config fields, e.g. --set meta_batch_size=40")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    run, started = Path(args.out), time.perf_counter()
    if not (run / "checkpoints" / "best.pt").is_file():
        extra = {} if args.iterations is None else {"iterations": args.iterations}
        config = api.configure("maml", "pendulum", items=args.set, seed=args.seed, **extra)
        api.train("maml", env="pendulum", out=run, quiet=True, config=config)
    trained = time.perf_counter() - started
    result = api.evaluate(run, num_tasks=args.tasks, seed=args.eval_seed).to_json()
    steps = len(result["mean_return_by_step"])
    print(f"MAML on pendulum, {args.tasks} held-out tasks, {result['episodes_per_step']} episodes per step, "
          f"step sizes {result['step_sizes']}")
    print(f"{'':<36}" + "".join(f"{f'step {k}':>16}" for k in range(steps)))
    print(_row("MAML", result["mean_return_by_step"], result["ci95_by_step"]))
    print(_row("  gain over step 0 (paired)", result["gain_by_step"], result["gain_ci95_by_step"]))
    for name, base in result["baselines"].items():
        print(_row(name, base["mean_return_by_step"], base["ci95_by_step"]))
        print(_row("  MAML minus it (paired)", base["maml_minus_baseline_by_step"],
                   base["maml_minus_baseline_ci95_by_step"]))
    verdict = checks(result)
    for name, ok in verdict.items():
        print(f"{name}: {'met' if ok else 'NOT met'}")
    print(f"training and evaluation: {trained:.0f}s + {time.perf_counter() - started - trained:.0f}s")
    print(json.dumps({**result, "checks": verdict, "train_seconds": trained}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
