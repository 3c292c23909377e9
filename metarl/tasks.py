"""Tasks as data.

A *task* is a small frozen record of parameters (a goal position; a mass and a length; arm
probabilities). A *batch of tasks* is the same record with a leading task dimension on every field,
so ``TaskBatch`` is the only type: one task is a batch of one. Environments receive tasks as
arguments and never sample them, so the same seed yields the same tasks whatever the environments
do with their own random streams.

A ``TaskDistribution`` samples batches from an explicit ``numpy.random.Generator``. A ``TaskSplit``
derives independent streams for training, validation and testing from one seed, so the held-out
test tasks are fixed by the seed and training never draws from their stream.
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
            dtype = np.int64 if field.name in self.int_fields else np.float64
            try:
                value = np.array(getattr(self, field.name), dtype=dtype)
            except (TypeError, ValueError) as err:
                raise ValueError(
                    f"{type(self).__name__}.{field.name} must be numeric, got {getattr(self, field.name)!r}"
                ) from err
            if value.ndim == 0:
                raise ValueError(
                    f"{type(self).__name__}.{field.name} needs a leading task dimension, got a scalar"
                )
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{type(self).__name__}.{field.name} contains NaN or infinity")
            value.setflags(write=False)
            object.__setattr__(self, field.name, value)
            sizes.add(value.shape[0])
        if len(sizes) > 1:
            raise ValueError(f"{type(self).__name__} fields disagree on the number of tasks: {sizes}")

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
        return np.concatenate(
            [v.reshape(len(self), -1).astype(np.float32) for v in self.arrays().values()], axis=1
        )

    def to_dict(self) -> dict[str, list]:
        """JSON-ready form: field name to nested lists."""
        return {k: v.tolist() for k, v in self.arrays().items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        names = {f.name for f in dataclasses.fields(cls)}
        if set(data) != names:
            raise ValueError(f"{cls.__name__} expects fields {sorted(names)}, got {sorted(data)}")
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


def check_count(name: str, value: int, *, minimum: int = 1) -> int:
    """Validate a count argument, naming it in the error: ``ConfigTypeError`` (a ``TypeError``) for a
    non-integer, ``ConfigError`` (a ``ValueError``) below ``minimum``; both are user errors."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigTypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


_STREAMS = {"train": 0, "validation": 1, "test": 2}


@dataclasses.dataclass(frozen=True, kw_only=True)
class TaskSplit:
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
            raise ValueError(f"unknown split {split!r}; allowed: {sorted(_STREAMS)}")
        return np.random.default_rng([self.seed, _STREAMS[split]])

    def train_rng(self) -> np.random.Generator:
        """The generator training draws its task batches from (stateful: keep one per run)."""
        return self.rng("train")

    def validation_tasks(self, n: int) -> TaskBatch:
        return self.distribution.sample(check_count("n", n), self.rng("validation"))

    def test_tasks(self, n: int) -> TaskBatch:
        return self.distribution.sample(check_count("n", n), self.rng("test"))
