"""Tasks as data.

A *task* is a small frozen record of parameters (a goal position; a mass and a length; arm
probabilities). A *batch of tasks* is the same record with a leading task dimension on every field,
so ``TaskBatch`` is the only type: one task is a batch of one. Environments receive tasks as
arguments and never sample them, so the same seed yields the same tasks whatever the environments
do with their own random streams.

A ``TaskDistribution`` samples batches from an explicit ``numpy.random.Generator``. A *task set* is
what a learner trains and is evaluated on (``TaskSet``): either ``TaskSplit``, which derives
independent streams for training, validation and testing from one seed (the held-out test tasks are
fixed by the seed and training never draws from their stream), or ``FixedTaskSet``, fixed lists of
train and test tasks as a benchmark defines them (Meta-World's 50 goals per class).

Task data need not be numeric: fields named in ``opaque_fields`` hold arbitrary Python objects (a
simulator state blob), one per task, kept as-is and left out of ``features()``.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np

from metarl.errors import ConfigError, ConfigTypeError


@dataclasses.dataclass(frozen=True)
class TaskBatch:
    """Base record: every field is an array whose leading dimension is the task index.

    Subclasses are frozen dataclasses that only declare their fields, e.g.
    ``goals: np.ndarray  # [tasks, 2]``. Fields are converted to float64 (or to ``int_fields``'s
    integer dtype) and checked for a shared leading dimension and finite values on construction.
    """

    int_fields: ClassVar[tuple[str, ...]] = ()
    opaque_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Placed in the subclass's own dict so that @dataclass keeps it instead of generating a
        # field-tuple comparison, which is ambiguous for arrays.
        super().__init_subclass__(**kwargs)
        cls.__eq__ = TaskBatch.__eq__
        cls.__hash__ = None

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(np.array_equal(a, b) for a, b in zip(self.arrays().values(), other.arrays().values(), strict=True))

    def __post_init__(self) -> None:
        sizes = set()
        for field in dataclasses.fields(self):
            if field.name in self.opaque_fields:
                sizes.add(self._set_opaque(field.name))
                continue
            dtype = np.int64 if field.name in self.int_fields else np.float64
            try:
                value = np.array(getattr(self, field.name), dtype=dtype)
            except (TypeError, ValueError) as err:
                raise ConfigError(
                    f"{type(self).__name__}.{field.name} must be numeric, got {getattr(self, field.name)!r}"
                ) from err
            if value.ndim == 0:
                raise ConfigError(
                    f"{type(self).__name__}.{field.name} needs a leading task dimension, got a scalar"
                )
            if not np.all(np.isfinite(value)):
                raise ConfigError(f"{type(self).__name__}.{field.name} contains NaN or infinity")
            value.setflags(write=False)
            object.__setattr__(self, field.name, value)
            sizes.add(value.shape[0])
        if len(sizes) > 1:
            raise ConfigError(f"{type(self).__name__} fields disagree on the number of tasks: {sizes}")

    def _set_opaque(self, name: str) -> int:
        """Store field ``name`` as a read-only 1-D object array (one entry per task)."""
        raw = getattr(self, name)
        if isinstance(raw, np.ndarray) and raw.dtype == object and raw.ndim == 1:
            value = raw.copy()
        else:
            items = list(raw) if isinstance(raw, list | tuple | np.ndarray) else None
            if items is None:
                raise ConfigError(f"{type(self).__name__}.{name} needs one entry per task, got {type(raw).__name__}")
            value = np.empty(len(items), dtype=object)
            value[:] = items
        value.setflags(write=False)
        object.__setattr__(self, name, value)
        return value.shape[0]

    def __len__(self) -> int:
        return int(getattr(self, dataclasses.fields(self)[0].name).shape[0])

    @property
    def num_tasks(self) -> int:
        return len(self)

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def take(self, index: np.ndarray | Sequence[int] | int | slice) -> Self:
        """The sub-batch at ``index`` (an int keeps the task dimension)."""
        if isinstance(index, int | np.integer):
            index = [int(index)]
        return type(self)(**{k: v[index] for k, v in self.arrays().items()})

    def repeat(self, n: int) -> Self:
        """Each task repeated ``n`` times in a row: task i lands at rows ``i*n .. i*n+n-1``."""
        return type(self)(**{k: np.repeat(v, n, axis=0) for k, v in self.arrays().items()})

    @classmethod
    def concat(cls, batches: Sequence[Self]) -> Self:
        return cls(**{f.name: np.concatenate([getattr(b, f.name) for b in batches]) for f in dataclasses.fields(cls)})

    def features(self) -> np.ndarray:
        """All parameters flattened per task, ``[tasks, task_dim]`` float32: what a task-aware
        oracle policy sees appended to its observation."""
        numeric = [v for k, v in self.arrays().items() if k not in self.opaque_fields]
        if not numeric:
            return np.zeros((len(self), 0), dtype=np.float32)
        return np.concatenate([v.reshape(len(self), -1).astype(np.float32) for v in numeric], axis=1)

    def to_dict(self) -> dict[str, list]:
        """JSON-ready form: field name to nested lists (opaque fields as their ``repr``, which is
        for reading only: ``from_dict`` cannot rebuild them)."""
        return {k: [repr(x) for x in v] if k in self.opaque_fields else v.tolist() for k, v in self.arrays().items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        names = {f.name for f in dataclasses.fields(cls)}
        if set(data) != names:
            raise ConfigError(f"{cls.__name__} expects fields {sorted(names)}, got {sorted(data)}")
        return cls(**{k: np.asarray(v) for k, v in data.items()})


class TaskDistribution(ABC):
    """A distribution over the tasks of one family.

    Subclasses hold the distribution's own hyper-parameters (ranges, number of arms) and implement
    ``sample``; ``default`` is the family's canonical task (Gymnasium's constants, where the family
    comes from Gymnasium).
    """

    task_type: ClassVar[type[TaskBatch]]

    @abstractmethod
    def sample(self, n: int, rng: np.random.Generator) -> TaskBatch:
        """``n`` independent tasks drawn with ``rng``."""

    @abstractmethod
    def default(self) -> TaskBatch:
        """The canonical single task (a batch of one)."""

    def describe(self) -> dict[str, str]:
        """Task parameter name to a short description of how it is drawn, for ``metarl envs``."""
        return {f.name: "" for f in dataclasses.fields(self.task_type)}

    def task_set(self, *, seed: int) -> TaskSet:
        """The tasks a run with seed ``seed`` trains and is tested on: by default a ``TaskSplit`` of
        this distribution; a benchmark with its own fixed train and test lists returns those (a
        ``FixedTaskSet``), so the CLI and ``load`` build it from the config alone."""
        return TaskSplit(distribution=self, seed=seed)


def check_count(name: str, value: int, *, minimum: int = 1) -> int:
    """Validate a count argument, naming it in the error: ``ConfigTypeError`` (a ``TypeError``) for a
    non-integer, ``ConfigError`` (a ``ValueError``) below ``minimum``; both are user errors."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigTypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def task_kwargs(options: Sequence[str]) -> dict[str, Any]:
    """``("arms=10", "low=0.5")`` -> ``{"arms": 10, "low": 0.5}``: a config's ``task_options``, the
    keyword arguments of the family's distribution (numbers parsed, anything else kept a string)."""
    from metarl.errors import ConfigError

    out: dict[str, Any] = {}
    for item in options:
        name, sep, value = str(item).partition("=")
        if not sep or not name:
            raise ConfigError(f"task_options entries must be name=value, got {item!r}")
        for parse in (int, float):
            try:
                out[name] = parse(value)
                break
            except ValueError:
                continue
        else:
            out[name] = value
    return out


_STREAMS = {"train": 0, "validation": 1, "test": 2}


class TaskSet(ABC):
    """The tasks a learner meets: batches for training, a fixed validation set, held-out test tasks.

    Learners only call these four methods, so a distribution with seeded streams (``TaskSplit``)
    and a benchmark's fixed lists (``FixedTaskSet``) are interchangeable.
    """

    task_type: type[TaskBatch]

    @abstractmethod
    def train_rng(self) -> np.random.Generator:
        """The generator training draws its batches with (stateful: one per run, checkpointed)."""

    @abstractmethod
    def train_batch(self, n: int, rng: np.random.Generator) -> TaskBatch:
        """``n`` training tasks for one meta-iteration, drawn with ``rng``."""

    @abstractmethod
    def validation_tasks(self, n: int) -> TaskBatch:
        """The same ``n`` validation tasks on every call (checkpoint selection)."""

    @abstractmethod
    def test_tasks(self, n: int) -> TaskBatch:
        """The same ``n`` held-out tasks on every call, never drawn for training."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class TaskSplit(TaskSet):
    """Train / validation / test tasks of one distribution, all fixed by ``seed``.

    Each split draws from its own stream ``SeedSequence([seed, stream])``, so adding training
    iterations never changes the held-out tasks, and training never draws from the test stream.
    For continuous families the splits are disjoint with probability one; a family with finitely
    many tasks (forward / backward) necessarily shares tasks between splits.
    """

    distribution: TaskDistribution
    seed: int

    def rng(self, split: str) -> np.random.Generator:
        if split not in _STREAMS:
            raise ConfigError(f"unknown split {split!r}; allowed: {sorted(_STREAMS)}")
        return np.random.default_rng([self.seed, _STREAMS[split]])

    @property
    def task_type(self) -> type[TaskBatch]:  # type: ignore[override]
        return self.distribution.task_type

    def train_rng(self) -> np.random.Generator:
        """The generator training draws its task batches from (stateful: keep one per run)."""
        return self.rng("train")

    def train_batch(self, n: int, rng: np.random.Generator) -> TaskBatch:
        return self.distribution.sample(check_count("n", n), rng)

    def validation_tasks(self, n: int) -> TaskBatch:
        return self.distribution.sample(check_count("n", n), self.rng("validation"))

    def test_tasks(self, n: int) -> TaskBatch:
        return self.distribution.sample(check_count("n", n), self.rng("test"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class FixedTaskSet(TaskSet):
    """Fixed lists of tasks, as a benchmark defines them (Meta-World: 50 train and 50 test goals
    per class). Training batches draw from ``train`` with replacement; validation takes the first
    tasks of ``validation`` (by default ``train``: a benchmark without a validation list selects
    checkpoints on training tasks, which the benchmark's protocol allows); the test tasks are the
    first ``n`` of ``test``, so asking for more than there are is an error, not a silent repeat.
    """

    train: TaskBatch
    test: TaskBatch
    validation: TaskBatch | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("test", "validation"):
            other = getattr(self, name)
            if other is not None and type(other) is not type(self.train):
                raise TypeError(f"FixedTaskSet.{name} holds {type(other).__name__}, train {type(self.train).__name__}")

    @property
    def task_type(self) -> type[TaskBatch]:  # type: ignore[override]
        return type(self.train)

    def train_rng(self) -> np.random.Generator:
        return np.random.default_rng([self.seed, _STREAMS["train"]])

    def train_batch(self, n: int, rng: np.random.Generator) -> TaskBatch:
        return self.train.take(rng.integers(len(self.train), size=check_count("n", n)))

    def validation_tasks(self, n: int) -> TaskBatch:
        return _first(self.validation if self.validation is not None else self.train, n, "validation")

    def test_tasks(self, n: int) -> TaskBatch:
        return _first(self.test, n, "test")


def _first(tasks: TaskBatch, n: int, name: str) -> TaskBatch:
    n = check_count("n", n)
    if n > len(tasks):
        raise ConfigError(f"asked for {n} {name} tasks; this task set has {len(tasks)}")
    return tasks.take(np.arange(n))
