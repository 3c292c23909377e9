"""Task families by name: ``make_env(name)``, ``make_distribution(name, **options)``, ``env_factory``.

Each family is also a single-task Gymnasium environment (``gymnasium.make("metarl/Pendulum-v0")``),
registered by ``metarl.envs.gym_registration`` on import of ``metarl``.

Names are for the edges (CLI, API); inside, environments travel as an ``EnvFactory``: the class and
its keyword arguments, picklable, so a Ray worker can build its own copy of a family that exists
only in the user's code.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any

from metarl.envs.base import BatchedTaskEnv
from metarl.errors import ConfigError, MissingExtraError
from metarl.tasks import TaskDistribution


@dataclasses.dataclass(frozen=True, kw_only=True)
class Family:
    """Where a family lives and what it is; the module is imported only when the family is used."""

    name: str
    module: str
    env_class: str
    gym_id: str
    summary: str
    requires: str | None = None  # the optional extra it needs, e.g. "mujoco"
    env_type_object: type[BatchedTaskEnv] | None = None  # set for families registered at run time

    def env_type(self) -> type[BatchedTaskEnv]:
        if self.env_type_object is not None:
            return self.env_type_object
        try:
            module = importlib.import_module(self.module)
        except ImportError as err:
            extra = f"; install it with: pip install 'metarl[{self.requires}]'" if self.requires else ""
            raise MissingExtraError(f"env {self.name!r} needs {err.name}{extra}", name=err.name) from err
        return getattr(module, self.env_class)


FAMILIES: dict[str, Family] = {}
"""Every known family by name: metarl's own (``metarl.envs.builtin``, added when ``metarl.envs`` is
imported), then those registered with ``register_family`` or through ``metarl.families`` entry points."""


def add_family(fam: Family) -> Family:
    """Add a lazily imported family record (what ``metarl.envs.builtin`` declares)."""
    FAMILIES.setdefault(fam.name, fam)
    return fam


def load_entry_points() -> None:
    """Import the ``metarl.families`` entry points of installed packages (each registers its
    families on import, or is a callable that does); once per process."""
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    from importlib.metadata import entry_points

    for ep in entry_points(group="metarl.families"):
        try:
            target = ep.load()
        except ImportError:  # a plugin whose dependencies are missing stays unlisted
            continue
        if callable(target) and not isinstance(target, type):
            target()


_ENTRY_POINTS_LOADED = False


def family(name: str) -> Family:
    """The family called ``name``, or a ConfigError listing the known ones."""
    if name not in FAMILIES:
        load_entry_points()
    if name not in FAMILIES:
        raise ConfigError(f"unknown env {name!r}; known envs: {', '.join(sorted(FAMILIES))}")
    return FAMILIES[name]


def make_env(name: str, **kwargs: Any) -> BatchedTaskEnv:
    """A batched task environment of family ``name``; kwargs go to its constructor."""
    return family(name).env_type()(**kwargs)


@dataclasses.dataclass(frozen=True, kw_only=True)
class EnvFactory:
    """How to build a batched task environment: ``env_type(**kwargs)``, as a picklable value.

    ``factory(**extra)`` builds a fresh environment, ``extra`` overriding ``kwargs`` (e.g. a seed).
    The class pickles by reference (cloudpickle, as Ray uses, by value for classes defined in
    ``__main__``), so workers rebuild the same environment wherever they run.
    """

    env_type: type[BatchedTaskEnv]
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (isinstance(self.env_type, type) and issubclass(self.env_type, BatchedTaskEnv)):
            raise TypeError(f"env_type must be a BatchedTaskEnv subclass, got {self.env_type!r}")
        if not isinstance(self.kwargs, Mapping):
            raise TypeError(f"kwargs must be a mapping of constructor arguments, got {self.kwargs!r}")
        object.__setattr__(self, "kwargs", dict(self.kwargs))  # a private copy: later edits do not leak in

    def __call__(self, **extra: Any) -> BatchedTaskEnv:
        return self.env_type(**{**self.kwargs, **extra})

    @property
    def family(self) -> str:
        """The family name of the environments this builds (``env_type.family``)."""
        return self.env_type.family


def env_factory(name: str, **kwargs: Any) -> EnvFactory:
    """An ``EnvFactory`` for family ``name`` (a ValueError lists the known ones); kwargs go to its constructor."""
    return EnvFactory(env_type=family(name).env_type(), kwargs=kwargs)


def make_distribution(name: str, **kwargs: Any) -> TaskDistribution:
    """The task distribution of family ``name``; kwargs are its hyper-parameters (e.g. ``arms``)."""
    return family(name).env_type().distribution_type(**kwargs)


def register_family(
    env_type: type[BatchedTaskEnv], *, summary: str, gym_id: str | None = None, overwrite: bool = False
) -> Family:
    """Make a user-defined family available by ``env_type.family`` to ``make_env``, the trainers and
    the CLI, and (with ``gym_id``) as a single-task Gymnasium environment."""
    import gymnasium as gym

    name = env_type.family
    if name in FAMILIES and FAMILIES[name].env_type_object is env_type:
        return FAMILIES[name]  # importing the registering module twice is fine
    if name in FAMILIES and not overwrite:
        raise ConfigError(f"env {name!r} is already registered; pass overwrite=True to replace it")
    fam = Family(name=name, module=env_type.__module__, env_class=env_type.__name__, gym_id=gym_id or "",
                 summary=summary, env_type_object=env_type)
    FAMILIES[name] = fam
    if gym_id:
        gym.register(id=gym_id, entry_point="metarl.envs.gym_registration:SingleTaskEnv",
                     kwargs={"family": name})
    return fam
