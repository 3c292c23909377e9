"""Every task family as a single-task Gymnasium environment: ``gymnasium.make("metarl/Pendulum-v0")``.

``SingleTaskEnv`` runs one task on a batched env with one sub-environment, so the single-task and
the batched versions share every line of dynamics. Registration stores only strings (the entry
point and the family name), so importing this module imports neither the families nor MuJoCo.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from metarl.envs.registry import FAMILIES, make_env
from metarl.tasks import TaskBatch


class SingleTaskEnv(gym.Env):
    """One task of family ``family`` as a ``gymnasium.Env``.

    ``task`` is a TaskBatch of one (the family's default task when omitted); ``family_kwargs``
    go to the family's constructor (e.g. ``arms=10``, ``max_episode_steps=50``). The episode
    ends by the family's own termination and time limit; stepping after it ends without a
    ``reset`` raises.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, family: str, task: TaskBatch | None = None, **family_kwargs: Any) -> None:
        if task is not None and (not isinstance(task, TaskBatch) or len(task) != 1):
            got = f"{len(task)} tasks" if isinstance(task, TaskBatch) else type(task).__name__
            raise ValueError(f"{family}: task must be a TaskBatch of one task, got {got}")
        self.family = family
        self.batched = make_env(
            family, tasks=task, autoreset_mode=AutoresetMode.DISABLED, **family_kwargs
        )
        self.task = self.batched.tasks
        self.observation_space = self.batched.single_observation_space
        self.action_space = self.batched.single_action_space
        self.max_episode_steps = self.batched.max_episode_steps

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        obs, _ = self.batched.reset(seed=seed, options=options)
        return obs[0], {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, _ = self.batched.step(np.asarray(action)[None])
        return obs[0], float(reward[0]), bool(terminated[0]), bool(truncated[0]), {}

    def close(self) -> None:
        self.batched.close()


def register_all() -> None:
    """Register ``metarl/<Name>-v0`` for every family (idempotent)."""
    for fam in FAMILIES.values():
        if fam.gym_id not in gym.registry:
            gym.register(
                id=fam.gym_id,
                entry_point="metarl.envs.gym_registration:SingleTaskEnv",
                kwargs={"family": fam.name},
            )


register_all()
