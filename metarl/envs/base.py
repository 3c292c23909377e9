"""The batched task environment: every task x episode stepped at once as arrays.

``BatchedTaskEnv`` is a Gymnasium 1.x ``VectorEnv``: ``step`` takes ``[num_envs, *action_shape]``
and returns ``(obs, reward, terminated, truncated, info)`` with terminated (the MDP ended) kept apart
from truncated (the time limit hit). Sub-environment ``i`` runs task ``i // episodes_per_task`` of
the batch given to ``set_tasks``. Subclasses implement three array hooks and never loop over
sub-environments:

- ``_reset_envs(idx)``: draw the initial state of the sub-environments ``idx`` with ``self._rng``;
- ``_observe()``: ``[num_envs, *obs_shape]`` observation of every sub-environment;
- ``_transition(actions)``: advance all sub-environments, return ``(reward, terminated)``.

A family that can draw itself overrides ``render_frames`` (one task's observations to RGB frames);
the default raises ``NoRendererError``.

Task parameters broadcast to sub-environments are in ``self.params`` (``[num_envs, ...]`` per field).

A family with a success criterion (Meta-World's) sets ``reports_success`` and returns the last
transition's ``{"success": [num_envs]}`` from ``_step_info``; ``step`` passes it on in ``info``
(``info["success"]``, 1.0 where the state reached counts as success) and, while the instance's
``terminate_on_success`` is set, ends an episode at its first success (terminated), as Meta-World's
``AutoTerminateOnSuccessWrapper`` does in evaluation.

A family whose scored reward is sparse may report a denser one that meta-training is allowed to
use in ``info[TRAINING_REWARD]`` (``[num_envs]`` float64, 0 where the step restarted a
sub-environment); the sampler records it as ``Trajectories.training_rewards``. The env's own reward
stays the one every algorithm is evaluated on.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from metarl.errors import ConfigError, NoRendererError
from metarl.tasks import TaskBatch, TaskDistribution, check_count

TRAINING_REWARD = "training_reward"


class BatchedTaskEnv(VectorEnv):
    """Base class of all task families. See the module docstring for the subclass contract."""

    family: ClassVar[str]
    distribution_type: ClassVar[type[TaskDistribution]]
    default_max_episode_steps: ClassVar[int]
    reports_success: ClassVar[bool] = False
    terminate_on_success: bool = False

    def __init__(
        self,
        *,
        tasks: TaskBatch | None = None,
        episodes_per_task: int = 1,
        max_episode_steps: int | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        seed: int | None = None,
    ) -> None:
        self.single_observation_space, self.single_action_space = self._spaces()
        self.max_episode_steps = check_count(
            "max_episode_steps",
            self.default_max_episode_steps if max_episode_steps is None else max_episode_steps,
        )
        self.autoreset_mode = _autoreset_mode(autoreset_mode)
        self.metadata = {"autoreset_mode": self.autoreset_mode}
        self._rng = np.random.default_rng(seed)
        self.set_tasks(tasks if tasks is not None else self.distribution_type().default(), episodes_per_task)

    # ----------------------------------------------------------------- subclass hooks
    @abstractmethod
    def _spaces(self) -> tuple[gym.Space, gym.Space]:
        """Single-environment observation and action spaces."""

    def _check_tasks(self, tasks: TaskBatch) -> None:
        """Raise ValueError if ``tasks`` do not fit this environment (e.g. wrong number of arms)."""

    @abstractmethod
    def _reset_envs(self, idx: np.ndarray) -> None:
        """Initial state for the sub-environments with indices ``idx`` (int array)."""

    @abstractmethod
    def _observe(self) -> np.ndarray:
        """``[num_envs, *obs_shape]`` observations of all sub-environments."""

    @abstractmethod
    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance every sub-environment; ``(reward [num_envs] float64, terminated [num_envs] bool)``."""

    def _step_info(self) -> dict[str, np.ndarray]:
        """Per-step ``[num_envs]`` signals of the last ``_transition`` besides the reward, returned in
        ``step``'s info (``{"success": ...}`` where ``reports_success``); none by default."""
        return {}

    def _env_truncated(self) -> np.ndarray | bool:
        """Truncations the simulator itself reported in the last ``_transition`` (``[num_envs]``
        bool); the adapter passes its Gymnasium envs' through, the time limit applies on top."""
        return False

    # ----------------------------------------------------------------- public API
    def set_tasks(self, tasks: TaskBatch, episodes_per_task: int = 1) -> None:
        """Assign ``tasks`` (a batch of T) so that sub-environment i runs task ``i // episodes_per_task``.

        Changes ``num_envs`` to ``T * episodes_per_task``; call ``reset`` afterwards.
        """
        expected = self.distribution_type.task_type
        if not isinstance(tasks, expected):
            raise TypeError(f"{self.family} needs {expected.__name__}, got {type(tasks).__name__}")
        self._check_tasks(tasks)
        self.episodes_per_task = check_count("episodes_per_task", episodes_per_task)
        self.tasks = tasks
        self.num_envs = len(tasks) * self.episodes_per_task
        self.task_index = np.arange(self.num_envs) // self.episodes_per_task
        self.params = {k: v[self.task_index] for k, v in tasks.arrays().items()}
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._elapsed = np.zeros(self.num_envs, dtype=np.int64)
        self._needs_reset = np.ones(self.num_envs, dtype=bool)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset all sub-environments, or those in ``options["reset_mask"]`` (a bool array)."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            self.single_action_space.seed(seed)
        mask = np.ones(self.num_envs, dtype=bool)
        if options and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"], dtype=bool)
            if mask.shape != (self.num_envs,):
                raise ValueError(f"reset_mask must have shape ({self.num_envs},), got {mask.shape}")
        self._reset_mask(mask)
        return self._observe(), {}

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        actions = self.validate_actions(actions)
        if self._needs_reset.all() and self.autoreset_mode != AutoresetMode.NEXT_STEP:
            raise RuntimeError(f"{self.family}: call reset() before step()")
        restart = self._needs_reset.copy() if self.autoreset_mode == AutoresetMode.NEXT_STEP else None
        reward, terminated = self._transition(actions)
        signals = {k: np.asarray(v, dtype=np.float64) for k, v in self._step_info().items()}
        if self.terminate_on_success and "success" in signals:
            terminated = terminated | (signals["success"] > 0)
        self._elapsed += 1
        truncated = ((self._elapsed >= self.max_episode_steps) | self._env_truncated()) & ~terminated
        info: dict[str, Any] = {}
        if restart is not None and restart.any():
            self._reset_mask(restart)
            reward = np.where(restart, 0.0, reward)
            terminated = terminated & ~restart
            truncated = truncated & ~restart
            signals = {k: np.where(restart, 0.0, v) for k, v in signals.items()}
        done = terminated | truncated
        obs = self._observe()
        if self.autoreset_mode == AutoresetMode.SAME_STEP and done.any():
            info = {"final_obs": obs.copy(), "_final_obs": done.copy()}
            self._reset_mask(done)
            obs = self._observe()
        else:  # without autoreset a finished sub-env stays finished (idle) until it is reset
            self._needs_reset = done if restart is not None else self._needs_reset | done
        for key, value in signals.items():  # Gymnasium's vector convention: the value and its mask
            info[key], info[f"_{key}"] = value, np.ones(self.num_envs, dtype=bool)
        return obs, reward.astype(np.float64), terminated, truncated, info

    def validate_actions(self, actions: Any) -> np.ndarray:
        """Return ``actions`` as an array of the action space's dtype, or raise a clear error."""
        space = self.single_action_space
        try:
            arr = np.asarray(actions)
        except Exception as err:  # ragged lists and the like
            raise ValueError(f"{self.family}: actions are not an array: {err}") from err
        shape = (self.num_envs, *space.shape)
        if arr.shape != shape:
            raise ValueError(f"{self.family}: actions must have shape {shape}, got {arr.shape}")
        if isinstance(space, gym.spaces.Discrete):
            if arr.dtype.kind not in "iu":
                raise TypeError(f"{self.family}: discrete actions must be integers, got dtype {arr.dtype}")
            bad = (arr < space.start) | (arr >= space.start + space.n)
            if bad.any():
                raise ValueError(
                    f"{self.family}: action {arr[bad][0]} outside [{space.start}, {space.start + space.n - 1}]"
                )
            return arr.astype(np.int64)
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"{self.family}: continuous actions must be real numbers, got dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{self.family}: actions contain NaN or infinity")
        return arr.astype(space.dtype, copy=False)

    def render_frames(self, *, task: int, obs: np.ndarray, actions: np.ndarray | None = None) -> np.ndarray:
        """``[time, H, W, 3]`` uint8 frames of task ``task`` (an index into ``self.tasks``) in the
        states ``obs [time, *obs_shape]``; ``actions [time, *action_shape]``, the action taken in each
        state, for families that draw them. Families without a renderer raise ``NoRendererError``."""
        raise NoRendererError(f"family {self.family!r} has no renderer")

    @classmethod
    def has_renderer(cls) -> bool:
        """Whether ``render_frames`` is implemented (what a report checks before animating)."""
        return cls.render_frames is not BatchedTaskEnv.render_frames

    def _render_input(
        self, task: int, obs: np.ndarray, actions: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``obs`` as ``[time, *obs_shape]`` of the observation space's dtype and ``actions`` as
        ``[time, *action_shape]`` float64, or a ConfigError naming what is wrong."""
        if isinstance(task, bool) or not isinstance(task, int | np.integer) or not 0 <= task < len(self.tasks):
            raise ConfigError(f"{self.family}: task must be an index in [0, {len(self.tasks)}), got {task!r}")
        obs = np.asarray(obs, dtype=self.single_observation_space.dtype)
        shape = self.single_observation_space.shape
        if obs.ndim != 1 + len(shape) or obs.shape[1:] != shape or obs.shape[0] == 0:
            dims = ", ".join(map(str, shape))
            raise ConfigError(f"{self.family}: obs must have shape [time, {dims}], got {obs.shape}")
        if actions is not None:
            actions = np.asarray(actions, dtype=np.float64)
            want = (obs.shape[0], *self.single_action_space.shape)
            if actions.shape != want:
                raise ConfigError(f"{self.family}: actions must have shape {want} (one per observation), "
                                  f"got {actions.shape}")
        return obs, actions

    def _reset_mask(self, mask: np.ndarray) -> None:
        idx = np.flatnonzero(mask)
        if idx.size:
            self._reset_envs(idx)
            self._elapsed[idx] = 0
            self._needs_reset[idx] = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(tasks={len(self.tasks)}, episodes_per_task={self.episodes_per_task},"
            f" num_envs={self.num_envs})"
        )


def _autoreset_mode(mode: AutoresetMode | str) -> AutoresetMode:
    """The mode from an ``AutoresetMode``, its value (``"SameStep"``) or its name (``"same_step"``)."""
    for member in AutoresetMode:
        if mode in (member, member.value) or str(mode).upper() == member.name:
            return member
    allowed = ", ".join(f"{m.name.lower()!r}" for m in AutoresetMode)
    raise ValueError(f"autoreset_mode must be one of {allowed} (or an AutoresetMode), got {mode!r}")
