"""MAML on sinusoid regression (Finn et al. 2017, section 5.1) with the RL learner's adaptation
code: 5-shot query MSE after 1, 5 and 10 steps against the paper and a jointly pretrained model.

    python benchmarks/maml_sinusoid.py [--iterations 15000] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from metarl.algorithms.maml.sinusoid import evaluate_mse, meta_train

PAPER = {"maml": {1: 0.67, 5: 0.38, 10: 0.35}, "pretrained": {1: 2.41, 5: 2.23, 10: 2.19}}
TARGETS = {1: 0.9, 10: 0.5}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=15000)
    parser.add_argument("--pretrain-iterations", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = meta_train(iterations=args.iterations, seed=args.seed)
    seconds = time.perf_counter() - start
    pretrained = meta_train(iterations=args.pretrain_iterations, seed=args.seed, joint=True)
    curves = {"maml": evaluate_mse(model, seed=args.seed), "pretrained": evaluate_mse(pretrained, seed=args.seed)}
    print(f"{'steps':>5} {'MAML':>7} {'paper':>6} {'target':>7} {'pretrained':>11} {'paper':>6}")
    for k in (0, 1, 5, 10):
        target = TARGETS.get(k)
        print(f"{k:>5} {curves['maml'][k]:>7.3f} {PAPER['maml'].get(k, float('nan')):>6.2f} "
              f"{'' if target is None else f'<={target}':>7} {curves['pretrained'][k]:>11.3f} "
              f"{PAPER['pretrained'].get(k, float('nan')):>6.2f}")
    print(f"meta-training: {args.iterations} iterations in {seconds:.0f}s")
    print(json.dumps({"algorithm": "maml", "env": "sinusoid", "k_shot": 5, "mse_by_step": curves["maml"],
                      "baselines": {"pretrained": {"mse_by_step": curves["pretrained"]}},
                      "iterations": args.iterations, "train_seconds": seconds, "paper": PAPER}))


if __name__ == "__main__":
    main()
