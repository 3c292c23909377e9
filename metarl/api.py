"""The Python API, shaped as Stable-Baselines3 and learn2learn users expect; the CLI is a thin shell
over it, and no line here names an algorithm (they come from the registry).

    import metarl
    learner = metarl.MAML(env="pendulum", seed=0)        # or metarl.make(name, env=..., ...)
    learner.learn(iterations=200, out="runs/p")           # checkpoints, metrics, TensorBoard in runs/p
    agent = learner.adapt(task, episodes=20)              # adapted to one new task
    action = agent.act(obs)
    result = learner.evaluate(num_tasks=40, seed=1)       # an EvaluationResult: .to_json(), .plot(path)
    learner = metarl.load("runs/p")                       # the best checkpoint, ready to adapt
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from metarl.agents import Agent
from metarl.algorithms.registry import AlgorithmSpec, algorithm
from metarl.building import build
from metarl.config_cli import (
    apply_overrides,
    check_resume,
    config_from_dict,
    config_to_dict,
    replace_leaves,
    resume_changes,
)
from metarl.errors import ConfigError, RunDirectoryError
from metarl.results import EvaluationResult, result_stem
from metarl.runs import CheckpointError, RunDirectory, load_checkpoint, read_run_config, seed_everything, write_json
from metarl.tasks import TaskBatch, TaskSet
from metarl.training import Trainer


class MetaLearner:
    """One algorithm on one task family: its config, its learner and, once it has one, its run.

    Build with ``make(name, env=..., **overrides)`` (overrides are config fields; the env's preset
    gives the rest) or ``load(run)``. ``tasks`` replaces the config's seeded task split with a task
    set of your own (a benchmark's fixed lists).
    """

    def __init__(self, *, spec: AlgorithmSpec, config: Any, tasks: TaskSet | None = None,
                 run: Path | None = None) -> None:
        self.spec, self.config, self.tasks, self.run = spec, config, tasks, run
        self._learner: Any = None
        self.iterations_done = 0

    @property
    def learner(self) -> Any:
        """The algorithm's learner (built on first use, so ``learn(iterations=N)`` can size its
        schedules to N)."""
        if self._learner is None:
            seed_everything(self.config.seed)
            self._learner = build(self.spec, self.config, tasks=self.tasks)
        return self._learner

    def learn(self, iterations: int | None = None, *, out: str | Path | None = None, quiet: bool = True,
              validate_every: int = 10, checkpoint_every: int = 10) -> MetaLearner:
        """Meta-train ``iterations`` more meta-iterations (default: the config's). With ``out`` the
        run is written there (config, metrics, checkpoints). An existing run there is continued only
        if it is this learner's own (``load(out)``, or an earlier ``learn(out=out)``); any other is
        refused, as ``metarl train --out`` refuses it."""
        if iterations is not None and self._learner is None:
            self.config = dataclasses.replace(self.config, iterations=int(iterations))
        target = self.iterations_done + (self.config.iterations if iterations is None else int(iterations))
        run = None
        if out is not None:
            out = Path(out)
            resume = self.run is not None and Path(self.run).resolve() == out.resolve()
            run = RunDirectory(path=out, resume=True) if resume else RunDirectory(path=out, config=run_record(
                self.spec, self.config, validate_every=validate_every, checkpoint_every=checkpoint_every))
            if resume:  # what was logged after the iteration this learner holds is redone
                run.rewind(self.iterations_done - 1)
            self.run = out
        trainer = Trainer(learner=self.learner, run=run, iterations=target, env=self.config.env,
                          validate_every=validate_every, checkpoint_every=checkpoint_every, quiet=quiet)
        trainer.start_iteration = self.iterations_done
        try:
            trainer.run_loop()
        finally:
            if run is not None:
                run.close()  # releases the run's lock; the learner stays in memory
        self.iterations_done = target
        return self

    def adapt(self, task: TaskBatch | Mapping[str, Any], *, episodes: int | None = None, seed: int = 0,
              out: str | Path | None = None, **options: Any) -> Agent:
        """An agent adapted to ``task`` (a batch of one, or task parameters by name, the rest from
        the family's default task): MAML's inner steps, RL²'s trial memory, as the algorithm does.
        With ``out`` the agent is also written there (``load_agent(out)`` reads it back)."""
        if self.spec.make_agent is None:
            raise ConfigError(f"{self.spec.name} does not implement adapt()")
        batch = self.task(task)
        agent = self.spec.make_agent(self.learner, batch, episodes=episodes, seed=seed, **options)
        if out is not None:
            from metarl.adapting import save_agent, task_values

            if self.run is None:
                raise ConfigError("adapt(out=...) needs a learner with a run (load(RUN), or learn(out=RUN) first): "
                                  "the saved agent refers to the run's policy")
            save_agent(out, agent, run=self.run, algorithm=self.spec.name,
                       task=task_values(batch), returns={})
        return agent

    def task(self, values: TaskBatch | Mapping[str, Any]) -> TaskBatch:
        """``values`` as a task of this learner's family (see ``adapt``): the parameters not given
        come from the task the learner's env was built with (the family's default task)."""
        if isinstance(values, TaskBatch):
            return values
        default = self.learner.env.tasks.take(0)
        fields = default.arrays()
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError(f"{self.config.env} tasks have no parameter(s) {unknown}; they have {sorted(fields)}")
        return type(default)(**{k: np.asarray([values[k]]) if k in values else v for k, v in fields.items()})

    def evaluate(self, *, num_tasks: int = 40, seed: int = 0, baselines: Mapping[str, MetaLearner] | None = None,
                 **options: Any) -> EvaluationResult:
        """Adaptation on ``num_tasks`` held-out tasks; ``options`` are the algorithm's evaluation
        settings (``metarl evaluate --help`` lists them), ``baselines`` other learners by name."""
        opts = make_options(self.spec, options)
        seed_everything(seed)
        others = {name: other.learner for name, other in (baselines or {}).items()}
        return self.spec.evaluate(self.learner, num_tasks=num_tasks, seed=seed, baselines=others, options=opts,
                                  cache_dir=self.run)

    def close(self) -> None:
        """Release the sampler's workers (Ray actors), if any."""
        if self._learner is not None and hasattr(self._learner, "close"):
            self._learner.close()


def configure(name: str, env: str, *, items: Sequence[str] = (), **overrides: Any) -> Any:
    """The config of algorithm ``name`` on ``env``: its preset, ``overrides`` (field values), then
    ``items`` (``NAME=VALUE`` strings, parsed by the same tyro parser as the CLI's flags: the one
    override syntax of the benchmarks' ``--set``), validated by the algorithm."""
    spec = algorithm(name)
    config = apply_overrides(spec.make_config(env, **overrides), list(items)) if items else \
        spec.make_config(env, **overrides)
    return spec.validate(config) if spec.validate is not None else config


def make(name: str, *, env: str, tasks: TaskSet | None = None, **overrides: Any) -> MetaLearner:
    """A ``MetaLearner`` of algorithm ``name`` on ``env`` (its preset plus ``overrides``)."""
    spec = algorithm(name)
    return MetaLearner(spec=spec, config=spec.make_config(env, **overrides), tasks=tasks)


def run_record(spec: AlgorithmSpec, config: Any, *, validate_every: int, checkpoint_every: int) -> dict[str, Any]:
    """What ``config.json`` holds: the algorithm, the env and the full resolved config."""
    return {"algorithm": spec.name, "env": config.env, "algorithm_config": config_to_dict(config),
            "trainer": {"validate_every": validate_every, "checkpoint_every": checkpoint_every}}


def make_options(spec: AlgorithmSpec, options: Mapping[str, Any]) -> Any:
    """The algorithm's evaluation options from keyword values, with a clear error for unknown ones."""
    if spec.eval_options is None:
        if options:
            raise ConfigError(f"{spec.name} takes no evaluation options, got {sorted(options)}")
        return None
    names = {f.name for f in dataclasses.fields(spec.eval_options)}
    unknown = sorted(set(options) - names)
    if unknown:
        raise ConfigError(f"{spec.name} evaluation has no option(s) {unknown}; it has {sorted(names)}")
    return spec.eval_options(**{k: v for k, v in options.items() if v is not None})


def read_run(run: str | Path) -> tuple[AlgorithmSpec, Any, dict[str, Any]]:
    """The algorithm, the config and the raw ``config.json`` of a run directory."""
    record = read_run_config(run)
    if "algorithm" not in record or "algorithm_config" not in record:
        raise RunDirectoryError(f"{run}/config.json names no algorithm and config: not a metarl training run")
    spec = algorithm(record["algorithm"])
    return spec, config_from_dict(spec.config_type, record["algorithm_config"]), record


def checkpoint_path(run: str | Path, which: str = "best") -> Path:
    """The run's best (or latest) checkpoint file."""
    if which not in ("best", "latest"):
        raise ConfigError(f"checkpoint must be 'best' or 'latest', got {which!r}")
    ckpt_dir = Path(run) / "checkpoints"
    path = ckpt_dir / "best.pt"
    if which == "latest" or not path.is_file():
        pointer = ckpt_dir / "latest.json"
        if not pointer.is_file():
            raise CheckpointError(f"{run} has no checkpoint yet")
        path = ckpt_dir / json.loads(pointer.read_text())["file"]
    return path


def load(run: str | Path, *, checkpoint: str = "best", tasks: TaskSet | None = None) -> MetaLearner:
    """The learner of run ``run`` from its best (or latest) checkpoint, sampling locally whatever
    backend it trained with (evaluating a Ray run needs no cluster)."""
    spec, config, record = read_run(run)
    data = load_checkpoint(checkpoint_path(run, checkpoint), expected_algorithm=spec.name, expected_env=record["env"])
    config = dataclasses.replace(config, backend="local", workers=1, ray_address="") \
        if getattr(config, "backend", "local") != "local" else config
    out = MetaLearner(spec=spec, config=config, tasks=tasks, run=Path(run))
    out.learner.load_state_dict(data["learner"])
    out.iterations_done = int(data["iteration"]) + 1
    return out


def train(
    algorithm_name: str | None = None, *, env: str | None = None, out: str | Path | None = None,
    resume: str | Path | None = None, quiet: bool = False, validate_every: int = 10, checkpoint_every: int = 10,
    config: Any = None, resume_flags: Sequence[str] = (), **overrides: Any,
) -> Path:
    """Meta-train into the new run directory ``out`` (the env's preset plus ``overrides``, or a whole
    ``config``), or continue the run ``resume`` (``overrides`` then may only hold the spec's safe
    fields, such as more ``iterations``; a ``config`` given with ``resume`` is the CLI's, already
    checked by ``config_cli.resume_changes``; ``resume_flags`` are the CLI's flags given with
    ``--resume``, checked the same way once the run's lock is held). Returns the run path."""
    if resume is not None:
        run = RunDirectory(path=resume, resume=True)  # takes the run's lock first: one writer at a time
        with contextlib.ExitStack() as on_error:
            on_error.callback(run.close)
            given = config
            spec, stored, _ = read_run(resume)
            if algorithm_name is not None and spec.name != algorithm_name:
                raise ConfigError(f"{resume} is a {spec.name!r} run, not {algorithm_name!r}")
            if resume_flags:
                given = resume_changes(stored, resume_flags, safe=spec.safe_resume_fields,
                                       prog=f"metarl train {spec.name} --resume")
            config = resume_config(spec, stored, overrides) if given is None else given
            changed = given is not None and config_to_dict(given) != run.config.get("algorithm_config")
            on_error.pop_all()
        if overrides or changed:
            run.update_config(algorithm_config=config_to_dict(config))
    else:
        if algorithm_name is None or env is None or out is None:
            raise ConfigError("train needs an algorithm, env and out (or resume=RUN)")
        spec = algorithm(algorithm_name)
        if config is None:
            config = spec.make_config(env, **overrides)
        elif overrides:
            raise ConfigError(f"give either config or overrides, not both (got {sorted(overrides)})")
        run = RunDirectory(path=out, config=run_record(spec, config, validate_every=validate_every,
                                                       checkpoint_every=checkpoint_every))
    with run:
        seed_everything(config.seed)
        trainer_cfg = run.config.get("trainer", {})
        learner = build(spec, config)
        try:
            trainer = Trainer(
                learner=learner, run=run, iterations=config.iterations, env=config.env,
                validate_every=trainer_cfg.get("validate_every", validate_every),
                checkpoint_every=trainer_cfg.get("checkpoint_every", checkpoint_every), quiet=quiet,
            )
            if resume is not None:
                start = trainer.resume()
                if not quiet:
                    print(f"resuming {run.path} at iteration {start}", file=sys.stderr)
            metrics = trainer.run_loop()
        finally:
            close = getattr(learner, "close", None)
            if close is not None:
                close()
        run.write_json("summary.json", {"run": str(run.path), "iterations": config.iterations,
                                        "best_validation_score": trainer.best_score, "last_metrics": metrics})
    return run.path


def resume_config(spec: AlgorithmSpec, stored: Any, overrides: Mapping[str, Any]) -> Any:
    """The stored config with the overrides given on resume (leaf names): those in
    ``spec.safe_resume_fields`` are applied; any other change is refused, naming each, as the CLI's
    ``--resume`` does (``config_cli.check_resume``), never dropped silently."""
    return check_resume(stored, replace_leaves(stored, **overrides), safe=spec.safe_resume_fields)


def evaluate(
    run: str | Path, *, num_tasks: int = 40, seed: int = 0, checkpoint: str = "best",
    baselines: Mapping[str, str | Path] | Sequence[str | Path] = (), write: bool = True, **options: Any,
) -> EvaluationResult:
    """Adaptation of the run's agent on ``num_tasks`` held-out test tasks, with other runs as
    baselines (by name, or a list of run paths named after their directories; runs of the same
    algorithm, or of one that its spec lists in ``baseline_algorithms``) and the algorithm's evaluation
    ``options``. With ``write`` the result goes to ``RUN/evaluation_seed{seed}.json`` with a PNG
    beside it, and the algorithm's ``evaluation_figures`` as ``RUN/evaluation_seed{seed}_*.png``; the
    name is extended by each choice off the default (``evaluation_stem``), so that evaluating another
    checkpoint or protocol never overwrites an earlier result."""
    learner = load(run, checkpoint=checkpoint)
    named = dict(baselines) if isinstance(baselines, Mapping) else {Path(p).name: p for p in baselines}
    others = {}
    allowed = (learner.spec.name, *learner.spec.baseline_algorithms)
    for name, path in named.items():
        other = load(path, checkpoint=checkpoint)
        if other.config.env != learner.config.env or other.spec.name not in allowed:
            raise ConfigError(f"baseline {name} ({path}) is a {other.spec.name} run on {other.config.env!r}; "
                              f"it must be a {' or '.join(allowed)} run on {learner.config.env!r}")
        others[name] = other
    try:
        result = learner.evaluate(num_tasks=num_tasks, seed=seed, baselines=others, **options)
    finally:
        for other in (learner, *others.values()):
            other.close()
    if write:
        out = Path(run) / evaluation_stem(learner.spec, seed=seed, checkpoint=checkpoint, options=options)
        write_json(out.with_suffix(".json"), result.to_json())
        result.plot(out.with_suffix(".png"))
        if learner.spec.evaluation_figures is not None:
            learner.spec.evaluation_figures(result, out)
    return result


def evaluation_stem(spec: AlgorithmSpec, *, seed: int, checkpoint: str = "best",
                    options: Mapping[str, Any] | None = None) -> str:
    """``evaluation_seed{seed}``, extended by the checkpoint and each evaluation option that differs
    from the algorithm's default (``results.result_stem``): ``evaluation_seed12345_latest_steps1``.
    The task count and the baselines are not part of the name: a later evaluation of the same protocol
    on more tasks, or with other baselines, replaces the file."""
    defaults = spec.eval_options() if spec.eval_options is not None else None
    changed = {name: value for name, value in (options or {}).items()
               if defaults is None or getattr(defaults, name, object()) != value}
    return result_stem("evaluation", seed=seed, checkpoint=checkpoint, **changed)


def load_agent(path: str | Path, *, checkpoint: str = "best") -> Agent:
    """An adapted agent written by ``metarl adapt`` or ``adapt(out=...)``: its run's policy with
    the saved adaptation (MAML's adapted parameters, RL²'s memory)."""
    from metarl.adapting import read_agent_file

    record = read_agent_file(path)
    learner = load(record["run"], checkpoint=checkpoint)
    if learner.spec.name != record["algorithm"]:
        raise CheckpointError(f"{path} holds a {record['algorithm']} agent, but its run {record['run']} is "
                              f"{learner.spec.name}")
    task = learner.task(record["task"])
    agent = learner.spec.make_agent(learner.learner, task, seed=0, adapted=False)
    try:
        agent.load_state_dict(record["agent"])
    except (KeyError, ValueError) as err:
        raise CheckpointError(f"{path} does not fit its run's policy: {err}") from None
    return agent
