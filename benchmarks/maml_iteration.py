"""MAML's outer TRPO step in isolation at the paper's navigation configuration, against a
per-task-loop reference of the same step.

This drives the learner directly (``learner.train_iteration``, no Trainer, no validation,
checkpoints or logging, at ``--threads 2``): its times are the learner's parts alone, and its
claim is the ratio of the outer steps. What a user's ``metarl train`` costs per iteration, with
the split, is ``train_iteration.py``'s figure, not this one's.

The configuration is the MAML paper's (20 tasks x 20 episodes x 100 steps, one inner step, TRPO
with 10 conjugate-gradient iterations). The goal of at most 1 s per meta-iteration on 2 cores is
judged on ``train_iteration.py``'s wall time per iteration, not here.

The reference is how the older libraries built the outer step (pytorch-maml-rl, garage): a Python
loop over tasks, each adapting its own copy of the parameters, and the KL-Hessian products by double
backward through the whole second-order graph, on all episodes. It runs on the very episodes our
learner sampled, so the ratio compares the outer steps alone.

    python benchmarks/maml_iteration.py [--iterations 7] [--threads 2] [--quick]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch
from torch.distributions import kl_divergence

from metarl.algorithms import maml
from metarl.algorithms.maml import make_config
from metarl.algorithms.maml.episodes import sample_adaptation
from metarl.algorithms.maml.learner import MamlLearner
from metarl.policies.mlp import named_params
from metarl.rl.trpo import trpo_step
from metarl.runs import seed_everything

PARTS = ("time_sampling", "time_adaptation", "time_outer")


def reference_outer_step(learner: MamlLearner) -> float:
    """Seconds of one loop-over-tasks TRPO outer step on freshly sampled episodes (on a copy of the
    policy, so the learner is left as it was)."""
    c, lr = learner.config, learner.config.inner.inner_lr
    tasks = learner.tasks.train_batch(c.sampling.meta_batch_size, learner.train_rng)
    sampled = sample_adaptation(policy=learner.policy, sampler=learner.sampler, tasks=tasks,
                                episodes=c.sampling.episodes_per_task, step_sizes=[lr], gamma=c.loss.gamma,
                                gae_lambda=c.loss.gae_lambda, truncation=c.loss.truncation)
    inner, post = sampled.batches
    policy = copy.deepcopy(learner.policy)
    with torch.no_grad():
        old = [policy.distribution(post.obs[i], {k: v[i] for k, v in sampled.params.items()})
               for i in range(len(tasks))]

    def objective(create_graph: bool) -> tuple[torch.Tensor, torch.Tensor]:
        params = named_params(policy)
        surrogates, kls = [], []
        for i in range(len(tasks)):
            logp = policy.distribution(inner.obs[i], params).log_prob(inner.actions[i])
            loss = -(logp * inner.advantages[i] * inner.mask[i]).sum() / inner.mask[i].sum()
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=create_graph)
            adapted = {k: v - lr * g for (k, v), g in zip(params.items(), grads, strict=True)}
            dist = policy.distribution(post.obs[i], adapted)
            ratio = torch.exp(dist.log_prob(post.actions[i]) - post.old_log_probs[i])
            surrogates.append((ratio * post.advantages[i] * post.mask[i]).sum() / post.mask[i].sum())
            kls.append((kl_divergence(old[i], dist) * post.mask[i]).sum() / post.mask[i].sum())
        return -torch.stack(surrogates).mean(), torch.stack(kls).mean()

    start = time.perf_counter()
    opt = c.optimizer
    trpo_step(params=list(policy.parameters()), objective=objective, max_kl=opt.max_kl, damping=opt.cg_damping,
              cg_iterations=opt.cg_iterations, backtrack_ratio=opt.ls_backtrack_ratio,
              max_backtracks=opt.ls_max_steps)
    return time.perf_counter() - start


def spread(values: list[float]) -> float:
    return (max(values) - min(values)) / 2


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 timed iterations, 1 reference step")
    parser.add_argument("--iterations", type=int, default=None, help="timed meta-iterations (default 7)")
    parser.add_argument("--reference", type=int, default=None, help="timed reference outer steps (default 2)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    iterations = args.iterations or (3 if args.quick else 7)
    learner = maml.build_learner(make_config("navigation2d", seed=args.seed, iterations=iterations + 1))
    learner.train_iteration(0)  # one-off costs (allocator, first-call dispatch)
    rows = []
    for it in range(1, iterations + 1):
        start = time.perf_counter()
        metrics = learner.train_iteration(it)
        rows.append({**{k: metrics[k] for k in PARTS}, "time_iteration": time.perf_counter() - start})
    reference = [reference_outer_step(learner) for _ in range(args.reference or (1 if args.quick else 2))]
    out: dict[str, float] = {}
    print(f"MAML learner alone (no Trainer), navigation2d paper configuration, {torch.get_num_threads()} threads")
    print(f"{'part':<16} {'median s':>9} {'spread':>8}")
    for key in (*PARTS, "time_iteration"):
        values = [r[key] for r in rows]
        out[key] = statistics.median(values)
        out[f"{key}_spread"] = spread(values)
        print(f"{key[5:]:<16} {out[key]:>9.3f} {out[f'{key}_spread']:>8.3f}")
    out["reference_outer"] = statistics.median(reference)
    out["reference_outer_spread"] = spread(reference)
    out["outer_speedup"] = out["reference_outer"] / out["time_outer"]
    print(f"{'reference outer':<16} {out['reference_outer']:>9.3f} {out['reference_outer_spread']:>8.3f}"
          f"   (per-task loop, double-backward HVPs on all episodes)")
    print(f"outer step {out['outer_speedup']:.1f}x the reference; the learner's iteration alone "
          f"{out['time_iteration']:.2f} s (no validation, checkpoints or logging: train_iteration.py times "
          "metarl train's)")
    print(json.dumps({"benchmark": "maml_iteration", "iterations": iterations, "threads": torch.get_num_threads(),
                      **out}))
    return out


if __name__ == "__main__":
    main()
