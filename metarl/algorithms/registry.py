"""Algorithms by name, open to packages outside metarl.

An algorithm is one package that declares an ``AlgorithmSpec``: its config type and presets, how a
learner is built from objects, how it is evaluated and what its result means. Nothing generic (the
training loop, the CLI, the API, the report) names an algorithm; they look it up here.

Registration, in the order they are consulted:

- the entry point group ``metarl.algorithms`` of any installed distribution, metarl's own included
  (``pyproject.toml``: ``maml = "metarl.algorithms.maml:ALGORITHM"``), so a package outside metarl
  adds one the same way;
- ``register_algorithm(spec)`` at run time (a module given to the CLI with ``--import MODULE`` may
  call it, or a notebook).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import entry_points
from typing import Any, Protocol

from metarl.errors import ConfigError

ENTRY_POINT_GROUP = "metarl.algorithms"


class RunnableConfig(Protocol):
    """The fields every algorithm's config carries, read by the generic edge that builds the
    environment, the task set and the sampler (``metarl.building``). The built-in configs inherit
    them from ``metarl.algorithms.run_config.RunConfig``."""

    env: str
    seed: int
    iterations: int
    device: str
    backend: str
    workers: int
    ray_address: str
    max_episode_steps: int
    task_options: tuple[str, ...]


class MetaLearnerLike(Protocol):
    name: str

    def train_iteration(self, iteration: int) -> dict[str, float]: ...

    def validate(self) -> float: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


@dataclasses.dataclass(frozen=True, kw_only=True)
class AlgorithmSpec:
    """What an algorithm package declares.

    - ``make_config(env, **overrides)``: the env's preset with overrides, validated.
    - ``build_learner(config, *, env, tasks, sampler)``: a learner from objects (an ``EnvFactory``,
      a ``TaskSet``, a sampler); names are resolved before this is called.
    - ``evaluate(learner, *, num_tasks, seed, baselines, options, cache_dir)`` -> ``EvaluationResult``:
      ``baselines`` are other runs' learners (``--baseline RUN``), ``options`` an instance of
      ``eval_options`` (the algorithm's own evaluation settings) or None.
    - ``make_agent(learner, tasks, *, episodes, seed)``: an adapted ``Agent`` for one task (``adapt``).
    - ``adapts_by_acting``: its agent adapts from the episodes it plays (a memory, a latent), so
      ``make_agent(..., adapted=False)`` is a fresh agent that Meta-World's protocol can adapt by
      playing; False: ``make_agent`` adapts with its own sampling (MAML's gradient steps).
    - ``batched_agent``: ``make_agent(learner, tasks, ...)`` takes several tasks (fresh, with
      ``adapted=False``, where it adapts by acting; adapted, where it adapts by its own sampling) and
      gives one agent with a row each, whose ``act`` and ``observe`` take a ``rows`` mask
      (``MemoryAgent``, MAML's ``AdaptedPolicy``), so Meta-World's protocol steps every task in one forward.
    - ``eval_options``: a dataclass of evaluation settings, or None.
    - ``presets``: env name to the preset's overrides (for listings and ``--help``).
    - ``headline_metrics``: training metrics worth showing (progress line, report), last = main one.
    - ``validate(config) -> config``: the algorithm's checks of a config parsed from flags (errors
      name the field and what is allowed); ``make_config`` already validates what it builds.
    - ``safe_resume_fields``: config fields that may change on ``--resume`` (``iterations``).
    - ``baseline_algorithms``: other algorithms whose runs ``evaluate`` can play beside its own
      (``--baseline RUN``); runs of the algorithm itself always can.
    - ``evaluation_figures(result, stem) -> [(caption, path), ...]``: pictures of an evaluation beyond
      its curves, drawn from ``result`` alone and written as ``{stem}_*.png`` (``metarl evaluate``
      writes them beside the result, ``metarl report`` into the report); None: none.
    """

    name: str
    summary: str
    config_type: type
    make_config: Callable[..., Any]
    build_learner: Callable[..., MetaLearnerLike]
    evaluate: Callable[..., Any]
    make_agent: Callable[..., Any] | None = None
    adapts_by_acting: bool = True
    batched_agent: bool = False
    eval_options: type | None = None
    presets: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    headline_metrics: tuple[str, ...] = ()
    validate: Callable[[Any], Any] | None = None
    safe_resume_fields: tuple[str, ...] = ("iterations",)
    baseline_algorithms: tuple[str, ...] = ()
    evaluation_figures: Callable[..., Sequence[tuple[str, Any]]] | None = None


_ALGORITHMS: dict[str, AlgorithmSpec] = {}
_LOADED_ENTRY_POINTS = False


def register_algorithm(spec: AlgorithmSpec, *, overwrite: bool = False) -> AlgorithmSpec:
    """Make ``spec`` available by ``spec.name`` to the API, the CLI and the report."""
    if not isinstance(spec, AlgorithmSpec):
        raise TypeError(f"register_algorithm takes an AlgorithmSpec, got {type(spec).__name__}")
    if spec.name in _ALGORITHMS and _ALGORITHMS[spec.name] is not spec and not overwrite:
        raise ConfigError(f"algorithm {spec.name!r} is already registered; pass overwrite=True to replace it")
    _ALGORITHMS[spec.name] = spec
    return spec


def _load_entry_points() -> None:
    global _LOADED_ENTRY_POINTS
    if _LOADED_ENTRY_POINTS:
        return
    _LOADED_ENTRY_POINTS = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _ALGORITHMS:
            continue
        try:
            spec = ep.load()
        except ImportError:  # an algorithm whose optional dependencies are missing stays unlisted
            continue
        register_algorithm(spec() if callable(spec) and not isinstance(spec, AlgorithmSpec) else spec)


def algorithms() -> dict[str, AlgorithmSpec]:
    """All registered algorithms by name."""
    _load_entry_points()
    return dict(_ALGORITHMS)


def algorithm(name: str) -> AlgorithmSpec:
    """The algorithm called ``name``, or a ConfigError listing the known ones."""
    known = algorithms()
    if name not in known:
        raise ConfigError(f"unknown algorithm {name!r}; known: {', '.join(sorted(known)) or '(none)'}")
    return known[name]


def import_plugins(modules: Sequence[str] = ()) -> None:
    """Import ``modules`` (the CLI's ``--import``), whose import registers families or algorithms,
    and every ``metarl.families`` entry point of installed packages."""
    from metarl.envs.registry import load_entry_points

    load_entry_points()
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as err:
            raise ConfigError(f"--import {name}: cannot import it ({err})") from err
