"""Task families by name: ``make_env("pendulum")``, ``make_distribution("bandit", arms=10)``.

Each family is also a single-task Gymnasium environment (``gymnasium.make("metarl/Pendulum-v0")``),
registered by ``metarl.envs.gym_registration`` on import of ``metarl``.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from metarl.envs.base import BatchedTaskEnv
from metarl.errors import MissingExtraError
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


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family(
            name="bandit", module="metarl.envs.bandit", env_class="BanditEnv",
            gym_id="metarl/Bandit-v0", summary="k-armed Bernoulli bandit, p_i ~ U[0,1] (RL² paper)",
        ),
        Family(
            name="tabular-mdp", module="metarl.envs.tabular_mdp", env_class="TabularMDPEnv",
            gym_id="metarl/TabularMDP-v0",
            summary="random MDP, 10 states x 5 actions, horizon 10 (RL² paper)",
        ),
        Family(
            name="navigation2d", module="metarl.envs.navigation", env_class="Navigation2DEnv",
            gym_id="metarl/Navigation2D-v0", summary="2D point to a goal ~ U[-0.5,0.5]^2 (MAML paper)",
        ),
        Family(
            name="pendulum", module="metarl.envs.pendulum", env_class="PendulumEnv",
            gym_id="metarl/Pendulum-v0", summary="Pendulum-v1 with varied mass, length, gravity",
        ),
        Family(
            name="mountaincar", module="metarl.envs.mountaincar", env_class="MountainCarEnv",
            gym_id="metarl/MountainCarContinuous-v0",
            summary="MountainCarContinuous-v0 with varied engine power and goal position",
        ),
        Family(
            name="halfcheetah-vel", module="metarl.envs.mujoco_tasks", env_class="HalfCheetahVelEnv",
            gym_id="metarl/HalfCheetahVel-v0", requires="mujoco",
            summary="HalfCheetah-v5 at a target velocity ~ U[0,2], horizon 200 (MAML paper)",
        ),
        Family(
            name="halfcheetah-dir", module="metarl.envs.mujoco_tasks", env_class="HalfCheetahDirEnv",
            gym_id="metarl/HalfCheetahDir-v0", requires="mujoco",
            summary="HalfCheetah-v5 forward or backward, horizon 200 (MAML paper)",
        ),
        Family(
            name="ant-dir", module="metarl.envs.mujoco_tasks", env_class="AntDirEnv",
            gym_id="metarl/AntDir-v0", requires="mujoco",
            summary="Ant-v5 forward or backward along x, horizon 200 (ProMP)",
        ),
    ]
}


def family(name: str) -> Family:
    """The family called ``name``, or a ValueError listing the known ones."""
    if name not in FAMILIES:
        raise ValueError(f"unknown env {name!r}; known envs: {', '.join(sorted(FAMILIES))}")
    return FAMILIES[name]


def make_env(name: str, **kwargs: Any) -> BatchedTaskEnv:
    """A batched task environment of family ``name``; kwargs go to its constructor."""
    return family(name).env_type()(**kwargs)


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
    if name in FAMILIES and not overwrite:
        raise ValueError(f"env {name!r} is already registered; pass overwrite=True to replace it")
    fam = Family(name=name, module=env_type.__module__, env_class=env_type.__name__, gym_id=gym_id or "",
                 summary=summary, env_type_object=env_type)
    FAMILIES[name] = fam
    if gym_id:
        gym.register(id=gym_id, entry_point="metarl.envs.gym_registration:SingleTaskEnv",
                     kwargs={"family": name})
    return fam
