"""The Python API: train and evaluate in a few lines; the CLI is a thin shell over these.

    import metarl
    run = metarl.train("maml", env="navigation2d", out="runs/nav", seed=0, iterations=50)
    result = metarl.evaluate(run, num_tasks=40, seed=1)
    result["mean_return_by_step"]
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from metarl.config_cli import config_from_dict, config_to_dict
from metarl.runs import CheckpointError, RunDirectory, load_checkpoint, seed_everything, write_json

ALGORITHMS = {"maml": "metarl.algorithms.maml", "rl2": "metarl.algorithms.rl2"}


def algorithm_module(name: str) -> ModuleType:
    """The package implementing algorithm ``name`` (CONFIG, PRESETS, make_config, build_learner, ...)."""
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; known: {', '.join(sorted(ALGORITHMS))}")
    return importlib.import_module(ALGORITHMS[name])


def train(
    algorithm: str | None = None,
    *,
    env: str | None = None,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    quiet: bool = False,
    validate_every: int = 10,
    checkpoint_every: int = 10,
    **overrides: Any,
) -> Path:
    """Meta-train ``algorithm`` on ``env`` into the new run directory ``out`` (the env's preset plus
    ``overrides``, e.g. ``seed=1, iterations=100``), or continue the run ``resume``. Returns the run path."""
    from metarl.training import Trainer

    if resume is not None:
        run = RunDirectory(path=resume, resume=True)
        stored = run.config.get("algorithm")
        if algorithm is not None and stored != algorithm:
            raise ValueError(f"{resume} is a {stored!r} run, not {algorithm!r}")
        module = algorithm_module(stored)
        config = config_from_dict(module.CONFIG, run.config["algorithm_config"])
    else:
        if algorithm is None or env is None or out is None:
            raise ValueError("train needs an algorithm, env and out (or resume=RUN)")
        module = algorithm_module(algorithm)
        config = module.make_config(env, **overrides)
        run = RunDirectory(path=out, config={
            "algorithm": algorithm, "env": config.env, "algorithm_config": config_to_dict(config),
            "trainer": {"validate_every": validate_every, "checkpoint_every": checkpoint_every},
        })
    seed_everything(config.seed)
    trainer_cfg = run.config.get("trainer", {})
    trainer = Trainer(
        learner=module.build_learner(config), run=run, iterations=config.iterations, env=config.env,
        validate_every=trainer_cfg.get("validate_every", validate_every),
        checkpoint_every=trainer_cfg.get("checkpoint_every", checkpoint_every), quiet=quiet,
    )
    if resume is not None:
        start = trainer.resume()
        if not quiet:
            print(f"resuming {run.path} at iteration {start}", file=sys.stderr)
    try:
        metrics = trainer.run_loop()
    finally:
        run.close()
    run.write_json("summary.json", {"run": str(run.path), "iterations": config.iterations,
                                    "best_validation_score": trainer.best_score, "last_metrics": metrics})
    return run.path


def load_learner(run_path: str | Path, which: str = "best") -> tuple[ModuleType, Any, dict[str, Any]]:
    """Rebuild the learner of a run from its best (or latest) checkpoint."""
    run_path = Path(run_path)
    config_file = run_path / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"{run_path} is not a metarl run (no config.json)")
    run_config = json.loads(config_file.read_text())
    module = algorithm_module(run_config.get("algorithm", "?"))
    config = config_from_dict(module.CONFIG, run_config["algorithm_config"])
    ckpt_dir = run_path / "checkpoints"
    if which not in ("best", "latest"):
        raise ValueError(f"checkpoint must be 'best' or 'latest', got {which!r}")
    path = ckpt_dir / "best.pt"
    if which == "latest" or not path.is_file():
        pointer = ckpt_dir / "latest.json"
        if not pointer.is_file():
            raise CheckpointError(f"{run_path} has no checkpoint yet")
        path = ckpt_dir / json.loads(pointer.read_text())["file"]
    data = load_checkpoint(path, expected_algorithm=run_config["algorithm"], expected_env=run_config["env"])
    learner = module.build_learner(config)
    learner.load_state_dict(data["learner"])
    return module, learner, run_config


def evaluate(
    run: str | Path, *, num_tasks: int = 40, seed: int = 0, steps: int | None = None, checkpoint: str = "best",
    oracle: str | Path | None = None, write: bool = True, pretrain_iterations: int | None = None,
    episodes: int | None = None,
) -> dict[str, Any]:
    """Adaptation of the run's meta-learned agent on ``num_tasks`` held-out test tasks.

    ``oracle``: (RL²) a run trained with ``task_aware=True`` on the same env, evaluated on the same
    tasks as a baseline. ``pretrain_iterations``: (MAML) budget of the pretrained baseline, by
    default the run's own iterations; the trained baseline is kept in the run directory and reused.
    ``episodes``: (MAML) episodes per task and adaptation step, by default the run's ``eval_episodes``.
    With ``write`` the result goes to ``RUN/evaluation_seed{seed}.json`` with a PNG beside it.
    """
    module, learner, run_config = load_learner(run, checkpoint)
    seed_everything(seed)
    kwargs: dict[str, Any] = {"num_tasks": num_tasks, "seed": seed}
    if steps is not None:
        kwargs["steps"] = steps
    maml_only = {k: v for k, v in (("pretrain_iterations", pretrain_iterations), ("episodes", episodes))
                 if v is not None}
    if run_config["algorithm"] == "maml":
        kwargs.update(maml_only, pretrained_cache=Path(run) / f"baseline_pretrained_seed{seed}.pt")
    elif maml_only:
        raise ValueError(f"{next(iter(maml_only))} is a MAML evaluation setting; this is an RL² run")
    if oracle is not None:
        _, oracle_learner, oracle_config = load_learner(oracle, checkpoint)
        if run_config["algorithm"] != "rl2" or oracle_config["algorithm"] != "rl2":
            raise ValueError("an oracle run is an RL² baseline: both runs must be rl2 runs")
        if oracle_config["env"] != run_config["env"] or not oracle_config["algorithm_config"].get("task_aware"):
            raise ValueError(f"{oracle} is not a task-aware run on {run_config['env']!r} (train it with --task-aware)")
        kwargs["oracle"] = oracle_learner
    result = module.evaluate(learner, **kwargs)
    if write:
        out = Path(run) / f"evaluation_seed{seed}"
        write_json(out.with_suffix(".json"), result)
        module.plot_evaluation(result, out.with_suffix(".png"))
    return result
