"""An adapted agent: what ``learner.adapt(task)`` returns, to act in one task.

Gradient methods adapt their parameters, memory methods their hidden state; both look the same
from outside. ``act`` takes one observation ``[obs_dim]`` (or a batch ``[B, obs_dim]`` for B copies
of the task) and returns actions in the env's units; ``observe`` tells the agent what the step
brought (a memory agent feeds it to its next step; a gradient agent ignores it).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class Agent(Protocol):
    def act(self, obs: np.ndarray, *, deterministic: bool = True) -> np.ndarray:
        """Action ``[act_dim]`` (or ``[B, act_dim]``; ints for discrete actions) for ``obs``."""
        ...

    def observe(self, reward: Any, terminated: Any, truncated: Any, next_obs: np.ndarray | None = None) -> None:
        """The outcome of the last action (scalars, or ``[B]`` arrays); ``next_obs`` the observation
        it led to (the final one where an episode ended), for agents that learn from transitions."""
        ...

    def reset(self) -> None:
        """A new episode starts (a memory agent keeps what it learned of the task)."""
        ...


def as_batch(obs: np.ndarray, obs_dim: int) -> tuple[np.ndarray, bool]:
    """``obs`` as ``[B, obs_dim]`` float32, and whether it was a single observation."""
    arr = np.asarray(obs, dtype=np.float32)
    single = arr.ndim == 1
    arr = arr.reshape(1, -1) if single else arr
    if arr.ndim != 2 or arr.shape[1] != obs_dim:
        raise ValueError(f"obs must have shape [{obs_dim}] or [B, {obs_dim}], got {list(np.shape(obs))}")
    return arr, single
