"""PEARL's iteration with collection and updates overlapped (``--pipeline``) beside the serial loop,
in the same run, with the ratio: seconds per iteration, in process and with the sampler on one Ray
actor.

The overlap pays where both halves cost about the same and can run at once: the in-process
collection shares the GIL with the updates (the simulator and torch release it, the sampler's
Python does not), while a Ray actor collects in a process of its own. The ideal on two cores is
``(collect + update) / max(collect, update)``; ``time_waiting`` is what the updates left the
collection to finish.

Sizes: oyster's networks (3x300, encoder 3x200, latent 5), meta-batch 16, batch 256, context 64, on
``halfcheetah-vel`` (MuJoCo; the sparse point robot without it) with 5 tasks x (2 prior + 3 extra
posterior) episodes per iteration as oyster's cheetah config collects (400 + 600 steps). Gradient
steps: 5 by default, where the halves weigh about the same on one thread (a step at these sizes is
~0.6 s, the collection ~2.5 s). At oyster's 2000 steps an iteration on a CPU is ~99% updates and
the overlap cannot save more than the other 1%; it pays where the simulator is slow beside the
updates (a GPU learner, Meta-World) -- ``--gradient-steps`` sets the mix.

    python benchmarks/pearl_pipeline.py [--iterations 4] [--gradient-steps 5] [--threads 1] [--quick] [--no-ray]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics

import torch

from metarl.algorithms import pearl

CHEETAH = dict(train_tasks=10, tasks_per_iteration=5, initial_steps=200, steps_prior=400, steps_posterior=0,
               extra_rl_steps_posterior=600, gradient_steps=5, replay_capacity=20_000, validation_tasks=2)
POINT = dict(train_tasks=20, tasks_per_iteration=8, initial_steps=20, steps_prior=100, steps_posterior=400,
             gradient_steps=5, hidden_sizes=(300, 300, 300), encoder_sizes=(200, 200, 200), meta_batch=16,
             batch_size=256, embedding_batch_size=64, replay_capacity=20_000, validation_tasks=2)


def seconds_per_iteration(env: str, overrides: dict, *, pipeline: bool, backend: str, iterations: int) -> dict:
    learner = pearl.build_learner(pearl.make_config(env, **overrides, pipeline=pipeline, backend=backend,
                                                    workers=1))
    try:
        learner.train_iteration(0)  # the initial pool, and warm-up
        runs = [learner.train_iteration(i) for i in range(1, iterations + 1)]
    finally:
        learner.close()
    total = [r["time_sampling"] + r["time_update"] if not pipeline else r["time_update"] + r["time_waiting"]
             for r in runs]
    return {"seconds": statistics.median(total), "collect": statistics.median(r["time_sampling"] for r in runs),
            "update": statistics.median(r["time_update"] for r in runs),
            "waiting": statistics.median(r.get("time_waiting", 0.0) for r in runs)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timed iteration of one gradient step")
    parser.add_argument("--gradient-steps", type=int, default=None, help="gradient steps per iteration (default 5)")
    parser.add_argument("--iterations", type=int, default=4, help="timed iterations per setting (median)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-ray", action="store_true", help="in process only")
    parser.add_argument("--env", choices=("halfcheetah-vel", "navigation2d-sparse"), default=None,
                        help="default: halfcheetah-vel where MuJoCo is installed")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    env = args.env or ("halfcheetah-vel" if importlib.util.find_spec("mujoco") else "navigation2d-sparse")
    overrides = CHEETAH if env == "halfcheetah-vel" else POINT
    iterations = 1 if args.quick else args.iterations
    if args.quick or args.gradient_steps:
        overrides = {**overrides, "gradient_steps": 1 if args.quick else args.gradient_steps}
    backends = ["local"] + ([] if args.no_ray or importlib.util.find_spec("ray") is None else ["ray"])
    out: dict = {"env": env, "threads": args.threads, "iterations": iterations,
                 "gradient_steps": overrides["gradient_steps"]}
    print(f"PEARL iteration on {env} ({overrides['tasks_per_iteration']} tasks collected, "
          f"{overrides['gradient_steps']} gradient steps), {args.threads} thread(s), median of {iterations}")
    print(f"{'sampler':<18}{'serial s/it':>12}{'pipelined':>11}{'ratio':>8}   serial: collect + update; "
          "pipelined: update + waiting")
    for backend in backends:
        serial = seconds_per_iteration(env, overrides, pipeline=False, backend=backend, iterations=iterations)
        piped = seconds_per_iteration(env, overrides, pipeline=True, backend=backend, iterations=iterations)
        ratio = serial["seconds"] / piped["seconds"]
        name = "in process" if backend == "local" else "1 Ray actor"
        print(f"{name:<18}{serial['seconds']:>12.2f}{piped['seconds']:>11.2f}{ratio:>7.2f}x   "
              f"{serial['collect']:.2f} + {serial['update']:.2f}; {piped['update']:.2f} + {piped['waiting']:.2f}")
        out[backend] = {"serial": serial, "pipelined": piped, "ratio": ratio}
    print(json.dumps({"benchmark": "pearl_pipeline", **out}))
    return out


if __name__ == "__main__":
    main()
