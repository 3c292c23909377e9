"""``metarl success RUN``: a trained run scored by Meta-World's evaluation protocol
(``metarl.success.evaluate_success``, the protocol of ``metaworld.evaluation.metalearning_evaluation``).

Per held-out test task a fresh agent of the run plays ``--adaptation-episodes`` episodes (its actions
sampled, every outcome observed), then ``--evaluation-episodes`` that end at their first success
(the mode action; by default observing nothing, as Meta-World's ``eval_action`` does). The success
rate is the mean over tasks of each task's fraction of successful evaluation episodes, with a 95%
interval over tasks and the rate per class. An algorithm whose agent adapts by acting (RL²'s memory,
VariBAD's belief, PEARL's latent) adapts in those adaptation episodes; one that adapts with its own
sampling (MAML's gradient steps: ``AlgorithmSpec.adapts_by_acting`` False) adapts by its evaluation
protocol before the evaluation episodes, and the adaptation-episode count does not apply to it.
The result goes to ``RUN/success_seed{seed}.json``, the name extended by each choice off the default
(``success_seed0_latest_feedback.json``), so that no protocol overwrites another's result.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from metarl.errors import ConfigError
from metarl.results import result_stem
from metarl.success import SuccessEvaluation, evaluate_success
from metarl.tasks import check_count


def _tasks(learner: Any, num_tasks: int | None) -> Any:
    test = getattr(learner.tasks, "test", None)
    if num_tasks is None:
        if test is None:
            raise ConfigError("this run's tasks are drawn, not listed: give --tasks N")
        return test
    return learner.tasks.test_tasks(check_count("tasks", num_tasks))


def run_success(run: str | Path, *, num_tasks: int | None = None, seed: int = 0, adaptation_episodes: int = 10,
                evaluation_episodes: int = 3, checkpoint: str = "best", feedback: bool = False,
                batch_size: int | None = 50, write: bool = True) -> tuple[SuccessEvaluation, dict[str, Any]]:
    """The run's agent by Meta-World's protocol on ``num_tasks`` test tasks (default: the whole test
    list of a benchmark); returns the evaluation and the record written to ``RUN/success_seed{seed}*.json``
    (the name from ``success_stem``)."""
    from metarl import api

    loaded = api.load(run, checkpoint=checkpoint)
    spec, learner = loaded.spec, loaded.learner
    env = None
    try:
        if spec.make_agent is None:
            raise ConfigError(f"{spec.name} has no agent to evaluate (its spec has no make_agent)")
        tasks = _tasks(learner, num_tasks)
        env = learner.env_factory(tasks=tasks.take(np.arange(1)))
        if not getattr(env, "reports_success", False):
            raise ConfigError(f"{learner.config.env} does not report success; Meta-World's protocol needs a family "
                              "whose env reports info['success'] (the metaworld-* families do)")
        batched = spec.batched_agent
        if spec.adapts_by_acting:
            def make(task: Any) -> Any:
                return spec.make_agent(learner, task, adapted=False, seed=seed)
            adapt = adaptation_episodes
        else:
            def make(task: Any) -> Any:
                return spec.make_agent(learner, task, seed=seed)
            adapt = 0
        result = evaluate_success(make, env=env, tasks=tasks, adaptation_episodes=adapt,
                                  evaluation_episodes=evaluation_episodes, seed=seed, batch_size=batch_size,
                                  evaluation_feedback=feedback, batched=batched)
    finally:
        if env is not None:
            env.close()
        loaded.close()
    record = {"algorithm": spec.name, "env": learner.config.env, "seed": seed, "checkpoint": checkpoint,
              "adapts_by_acting": spec.adapts_by_acting, "evaluation_feedback": feedback, **result.to_json()}
    if write:
        stem = success_stem(seed=seed, checkpoint=checkpoint, feedback=feedback,
                            adaptation_episodes=adaptation_episodes, evaluation_episodes=evaluation_episodes)
        api.write_json(Path(run) / f"{stem}.json", record)
    return result, record


def success_stem(*, seed: int, checkpoint: str = "best", feedback: bool = False, adaptation_episodes: int = 10,
                 evaluation_episodes: int = 3) -> str:
    """``success_seed{seed}``, extended by the protocol's choices off Meta-World's defaults
    (``results.result_stem``); the task count is not one (more tasks replace the file)."""
    return result_stem("success", seed=seed, checkpoint=checkpoint, feedback=feedback,
                       adapt=None if adaptation_episodes == 10 else adaptation_episodes,
                       eval=None if evaluation_episodes == 3 else evaluation_episodes)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run directory")
    p.add_argument("--tasks", type=int, default=None, help="test tasks (default: a benchmark's whole test list)")
    p.add_argument("--adaptation-episodes", type=int, default=10, help="episodes per task before evaluating "
                   "(Meta-World's default 10; an agent that adapts with its own sampling ignores it)")
    p.add_argument("--evaluation-episodes", type=int, default=3, help="scored episodes per task (Meta-World's 3)")
    p.add_argument("--feedback", action="store_true", help="agents observe rewards in the evaluation episodes too "
                   "(Meta-World's evaluation gives them observations only)")
    p.add_argument("--batch-size", type=int, default=50, help="tasks played at once (one sub-environment each)")
    p.add_argument("--seed", type=int, default=0, help="seed of the evaluation")
    p.add_argument("--checkpoint", choices=["best", "latest"], default="best")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def main(args: argparse.Namespace) -> int:
    result, record = run_success(args.run, num_tasks=args.tasks, seed=args.seed,
                                 adaptation_episodes=args.adaptation_episodes,
                                 evaluation_episodes=args.evaluation_episodes, checkpoint=args.checkpoint,
                                 feedback=args.feedback, batch_size=args.batch_size)
    if args.json:
        print(json.dumps(record))
        return 0
    print(f"success rate {result.success_rate:.3f} ± {result.ci95:.3f} (95%, {record['num_tasks']} tasks, "
          f"{record['evaluation_episodes']} evaluation episodes after {record['adaptation_episodes']} adaptation "
          f"episodes each); mean return {result.mean_return:.2f}")
    for name, rate in record.get("success_by_group", {}).items():
        print(f"  {name:<28} {rate:.3f}")
    stem = success_stem(seed=args.seed, checkpoint=args.checkpoint, feedback=args.feedback,
                        adaptation_episodes=args.adaptation_episodes, evaluation_episodes=args.evaluation_episodes)
    print(f"written to {Path(args.run) / f'{stem}.json'}")
    return 0
