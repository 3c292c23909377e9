"""Replay buffers of many tasks in one object: ``[tasks, capacity, ...]`` tensors on the learner's
device, filled and sampled for a batch of tasks at once.

Each task's rows are a ring (its oldest transitions overwritten once ``capacity`` is reached),
with its own write position and size. Storage is ``torch.empty``: on a CPU the pages of rows never
written are never touched, so a large capacity costs memory only as it fills; nothing outside a
task's ``[0, size)`` is ever read, and the checkpoint (``state_dict``) holds only those rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

FIELDS = ("obs", "actions", "rewards", "critic_rewards", "next_obs", "terminated")


class TaskReplayBuffer:
    """Transitions of ``num_tasks`` tasks: ``obs``, ``next_obs [tasks, capacity, obs_dim]``,
    ``actions [tasks, capacity, act_dim]``, ``rewards`` (the env's), ``critic_rewards`` (the
    reward the critic learns from: the family's training reward, or the env's) and ``terminated`` (0/1), each
    ``[tasks, capacity]``, all float32."""

    def __init__(self, *, num_tasks: int, capacity: int, obs_dim: int, act_dim: int,
                 device: torch.device | str = "cpu") -> None:
        self.num_tasks, self.capacity, self.device = num_tasks, capacity, torch.device(device)
        widths = {"obs": obs_dim, "next_obs": obs_dim, "actions": act_dim}
        self.data = {name: torch.empty(num_tasks, capacity, *((widths[name],) if name in widths else ()),
                                       device=self.device) for name in FIELDS}
        self.sizes = np.zeros(num_tasks, dtype=np.int64)  # host copies: read without a device sync
        self.tops = np.zeros(num_tasks, dtype=np.int64)
        self._sizes = torch.zeros(num_tasks, dtype=torch.long, device=self.device)

    def add(self, tasks: np.ndarray, transitions: Mapping[str, torch.Tensor], mask: torch.Tensor) -> None:
        """Append, for each ``tasks[k]`` (distinct), the rows of ``transitions[name] [K, N, ...]``
        where ``mask [K, N]`` is 1, in order. One indexed write per field, no loop over tasks."""
        tasks = np.asarray(tasks, dtype=np.int64)
        if len(np.unique(tasks)) != len(tasks):
            raise ValueError(f"add takes distinct tasks, got {tasks.tolist()}")
        keep = mask > 0
        counts = keep.sum(1).cpu().numpy()
        if counts.max(initial=0) > self.capacity:
            raise ValueError(f"adding {counts.max()} transitions to one task, more than capacity={self.capacity}")
        position = keep.long().cumsum(1) - 1  # [K, N]: index of each kept row among its task's rows
        tops = torch.as_tensor(self.tops[tasks], device=self.device)
        rows = torch.as_tensor(tasks, device=self.device)[:, None].expand_as(position)[keep]
        cols = ((tops[:, None] + position) % self.capacity)[keep]
        for name in FIELDS:
            self.data[name][rows, cols] = transitions[name][keep].to(self.data[name].dtype)
        self.tops[tasks] = (self.tops[tasks] + counts) % self.capacity
        self.sizes[tasks] = np.minimum(self.sizes[tasks] + counts, self.capacity)
        self._sizes.copy_(torch.as_tensor(self.sizes))

    def clear(self, tasks: np.ndarray) -> None:
        """Forget everything of ``tasks`` (oyster clears a task's encoder buffer when it collects anew)."""
        tasks = np.asarray(tasks, dtype=np.int64)
        self.sizes[tasks] = 0
        self.tops[tasks] = 0
        self._sizes.copy_(torch.as_tensor(self.sizes))

    def sample(self, tasks: torch.Tensor, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """``n`` transitions of each of ``tasks [M]`` (a device tensor; repeats allowed), uniform
        with replacement: every field ``[M, n, ...]``. Each task must hold at least one transition
        (the learner fills every task before its first update)."""
        index = (torch.rand(len(tasks), n, generator=generator, device=self.device)
                 * self._sizes[tasks][:, None]).long()
        rows = tasks[:, None].expand_as(index)
        return {name: value[rows, index] for name, value in self.data.items()}

    def sample_all(self, tasks: np.ndarray, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """``sample`` for host task indices (collection and evaluation; not the hot path)."""
        return self.sample(torch.as_tensor(np.asarray(tasks, dtype=np.int64), device=self.device), n, generator)

    def state_dict(self) -> dict[str, Any]:
        """Only the stored rows (each task's [0, size) in storage order, concatenated over tasks), with the sizes
        and write positions: what ``load_state_dict`` needs to continue bit-exactly."""
        valid = torch.arange(self.capacity, device=self.device)[None] < self._sizes[:, None]
        return {"capacity": self.capacity, "sizes": torch.tensor(self.sizes), "tops": torch.tensor(self.tops),
                **{name: value[valid].cpu() for name, value in self.data.items()}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if int(state["capacity"]) != self.capacity or len(state["sizes"]) != self.num_tasks:
            raise ValueError(f"buffer state of capacity {state['capacity']} for {len(state['sizes'])} tasks does not "
                             f"fit this buffer ({self.capacity} x {self.num_tasks} tasks)")
        self.sizes = np.asarray(state["sizes"], dtype=np.int64).copy()
        self.tops = np.asarray(state["tops"], dtype=np.int64).copy()
        self._sizes.copy_(torch.as_tensor(self.sizes))
        valid = torch.arange(self.capacity, device=self.device)[None] < self._sizes[:, None]
        for name in FIELDS:
            self.data[name][valid] = state[name].to(self.device, self.data[name].dtype)

    def size_of(self, task: int) -> int:
        return int(self.sizes[task])
