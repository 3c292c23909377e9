"""``walker-params`` and ``hopper-params``: a robot's physics scaled per task, as rand_param_envs does.

rand_param_envs (``base.py: RandomEnv``, which oyster's ``walker_rand_params_wrapper.py`` and
``hopper_rand_params_wrapper.py`` wrap for PEARL) multiplies four arrays of the MuJoCo model
elementwise, each entry by its own factor drawn independently per task:

- ``body_mass`` ``[nbody]`` and ``body_inertia`` ``[nbody, 3]``: ``1.5 ** U[-3, 3]``;
- ``dof_damping`` ``[nv]``: ``1.3 ** U[-3, 3]`` (base 1.3 in its code, not 1.5);
- ``geom_friction`` ``[ngeom, 3]``: ``1.5 ** U[-3, 3]``, the floor's geom included;

with ``log_scale_limit`` 3. The factors multiply the model's *default* arrays, never the current
ones, so tasks do not compound. It wrote them into a frozen mujoco-py 0.5 / MuJoCo 1.31 model;
here they go into today's ``env.unwrapped.model`` arrays, restored from a copy of the defaults
taken when the env is built. Derived constants (``mj_setConst``) are not recomputed, as the
source did not either. A task holds the factors, one field per array (``[tasks, *array_shape]``),
so the default task is all ones and equals the unscaled Gymnasium env.

Reward (rand_param_envs' ``_step``): ``v_x + 1 - 1e-3 |a|^2``, ``v_x = (qpos[0]' - qpos[0]) / dt``,
the alive bonus 1 on every step (Walker2d-v5 and Hopper-v5 pay it only while healthy).
Termination as the source and Gymnasium: the walker unless 0.8 < z < 2 and -1 < angle < 1; the
hopper unless the state is finite, ``|qpos[2:], qvel| < 100``, z > 0.7 and ``|angle| < 0.2``.
Observation ``qpos[1:]``, ``clip(qvel, -10, 10)`` (17 and 11). Horizon 200 (oyster's
``max_path_length``).

The control step: rand_param_envs' models integrate at ``timestep`` 0.004 with 4 frames (its
``RandomEnv.__init__`` passes 4; the 5 the walker gives it is swallowed), so ``dt`` = 0.016 s.
Gymnasium's models integrate at 0.002 with 4 frames (dt 0.008). ``frame_skip`` (default 8)
restores the source's dt on Gymnasium's finer integration; ``frame_skip=4`` is Gymnasium's own
rate. Gymnasium's walker has friction 1.9 on both feet; rand_param_envs' right foot has 0.9.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from metarl.envs.gym_adapter import GymTaskAdapter
from metarl.envs.mujoco_tasks import HORIZON, check_positive, cost_terms
from metarl.errors import ConfigError
from metarl.tasks import TaskBatch, TaskDistribution, check_count

PARAM_ARRAYS = ("body_mass", "body_inertia", "dof_damping", "geom_friction")
ALIVE_BONUS = 1.0
FRAME_SKIP = 8  # x Gymnasium's 0.002 s = rand_param_envs' dt, 4 x 0.004 s


@dataclasses.dataclass(frozen=True)
class ModelScaleTasks(TaskBatch):
    """Per-task factors on the model's default arrays (1 = Gymnasium's value)."""

    body_mass: np.ndarray  # [tasks, nbody]
    body_inertia: np.ndarray  # [tasks, nbody, 3]
    dof_damping: np.ndarray  # [tasks, nv]
    geom_friction: np.ndarray  # [tasks, ngeom, 3]

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, value in self.arrays().items():
            if np.any(value <= 0):
                raise ConfigError(f"ModelScaleTasks.{name} factors must be > 0, got {value[value <= 0][0]}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelScaleDistribution(TaskDistribution):
    """Each entry of each array scaled by ``base ** U[-log_scale_limit, log_scale_limit]``
    (``damping_base`` for ``dof_damping``), independently: rand_param_envs' ``sample_tasks``.
    Subclasses fix ``shapes``, the robot's array shapes (checked against the model when built)."""

    task_type = ModelScaleTasks
    shapes: ClassVar[dict[str, tuple[int, ...]]]
    log_scale_limit: float = 3.0
    base: float = 1.5
    damping_base: float = 1.3

    def __post_init__(self) -> None:
        check_positive(type(self).__name__, base=self.base, damping_base=self.damping_base)
        if not self.log_scale_limit >= 0:
            raise ConfigError(f"{type(self).__name__}.log_scale_limit must be >= 0, got {self.log_scale_limit!r}")

    def _base(self, name: str) -> float:
        return self.damping_base if name == "dof_damping" else self.base

    def sample(self, n: int, rng: np.random.Generator) -> ModelScaleTasks:
        n, limit = check_count("n", n), self.log_scale_limit
        return ModelScaleTasks(**{name: self._base(name) ** rng.uniform(-limit, limit, size=(n, *self.shapes[name]))
                                  for name in PARAM_ARRAYS})

    def default(self) -> ModelScaleTasks:
        return ModelScaleTasks(**{name: np.ones((1, *self.shapes[name])) for name in PARAM_ARRAYS})

    def describe(self) -> dict[str, str]:
        limit = self.log_scale_limit
        return {name: f"{list(self.shapes[name])} factors, each {self._base(name)}^U[-{limit}, {limit}]"
                for name in PARAM_ARRAYS}


@dataclasses.dataclass(frozen=True, kw_only=True)
class WalkerParamsDistribution(ModelScaleDistribution):
    shapes: ClassVar[dict[str, tuple[int, ...]]] = {
        "body_mass": (8,), "body_inertia": (8, 3), "dof_damping": (9,), "geom_friction": (8, 3)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class HopperParamsDistribution(ModelScaleDistribution):
    shapes: ClassVar[dict[str, tuple[int, ...]]] = {
        "body_mass": (5,), "body_inertia": (5, 3), "dof_damping": (6,), "geom_friction": (5, 3)}


class ScaledModel(gym.Wrapper):
    """Holds a copy of the model's default arrays; ``set_scales`` writes ``default * factor`` into
    the model. Reward rand_param_envs': ``v_x + 1`` plus Gymnasium's control cost."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        model = env.unwrapped.model
        self.defaults = {name: getattr(model, name).copy() for name in PARAM_ARRAYS}

    def set_scales(self, task: dict[str, np.ndarray]) -> None:
        model = self.env.unwrapped.model
        for name, default in self.defaults.items():
            factor = np.asarray(task[name])
            if factor.shape != default.shape:
                raise ConfigError(f"{name} factors have shape {list(factor.shape)}; this model's "
                                  f"{name} has {list(default.shape)}")
            getattr(model, name)[:] = default * factor

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, _, terminated, truncated, info = self.env.step(action)
        return obs, float(info["x_velocity"] + ALIVE_BONUS + cost_terms(info)), terminated, truncated, info


def _set_scales(env: ScaledModel, task: dict[str, np.ndarray]) -> None:
    env.set_scales(task)


class _ParamsEnv(GymTaskAdapter):
    gym_id: ClassVar[str]
    default_max_episode_steps = HORIZON

    def __init__(self, *, frame_skip: int = FRAME_SKIP, **kwargs: Any) -> None:
        frame_skip = check_count("frame_skip", frame_skip)
        gym_id = self.gym_id
        super().__init__(
            make_env=lambda: ScaledModel(gym.make(gym_id, frame_skip=frame_skip, disable_env_checker=True)),
            configure=_set_scales, **kwargs,
        )

    def _check_tasks(self, tasks: TaskBatch) -> None:
        for name, shape in self.distribution_type.shapes.items():
            got = getattr(tasks, name).shape[1:]
            if got != shape:
                raise ConfigError(f"{self.family}: {name} factors must have shape [tasks, "
                                  f"{', '.join(map(str, shape))}], got {list(getattr(tasks, name).shape)}")


class WalkerParamsEnv(_ParamsEnv):
    """Walker2d-v5 (obs 17, action 6) with scaled mass, inertia, damping and friction per task."""

    family = "walker-params"
    distribution_type = WalkerParamsDistribution
    gym_id = "Walker2d-v5"


class HopperParamsEnv(_ParamsEnv):
    """Hopper-v5 (obs 11, action 3) with scaled mass, inertia, damping and friction per task."""

    family = "hopper-params"
    distribution_type = HopperParamsDistribution
    gym_id = "Hopper-v5"
