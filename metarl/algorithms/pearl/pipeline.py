"""Collection overlapped with the updates (``--pipeline``): iteration k's episodes are collected in
a background thread, with the networks as they were before iteration k's gradient steps, while those
steps run on the buffers as they were after iteration k - 1. The data an update sees is one
iteration older than in the serial loop, as with any asynchronous sampler.

Why a thread is enough: during the overlap the updates spend their time in torch kernels and the
collection in the simulator, in torch (the policy's forward) or waiting on Ray actors, all of which
release the GIL, so on two cores the two halves run side by side.

Why it stays deterministic: the collection reads only its own snapshot of the networks, its own
random stream (``collect_generator``), the sampler and the train-task stream, none of which the
updates touch; it writes no buffer the updates read. Its buffer writes go to a ``BufferLog`` (the
encoder buffer's also to a private staging copy, which the posterior phase samples), and are applied
to the real buffers, in their original order, after both halves have finished. Thread timing
therefore changes nothing: the same seed gives the same run, and a resumed one continues exactly.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from metarl.algorithms.pearl.buffer import TaskReplayBuffer


class BufferLog:
    """Stands in for a replay buffer during a background collection: records ``clear`` and ``add``
    in order (``apply_to`` replays them on the real buffer), and keeps them in ``staging`` too where
    the collection reads back what it wrote (the encoder buffer's ``sample_all``)."""

    def __init__(self, staging: TaskReplayBuffer | None = None) -> None:
        self.staging = staging
        self.ops: list[tuple[str, np.ndarray, Mapping[str, torch.Tensor] | None, torch.Tensor | None]] = []

    def add(self, tasks: np.ndarray, transitions: Mapping[str, torch.Tensor], mask: torch.Tensor) -> None:
        self.ops.append(("add", np.asarray(tasks), transitions, mask))
        if self.staging is not None:
            self.staging.add(tasks, transitions, mask)

    def clear(self, tasks: np.ndarray) -> None:
        self.ops.append(("clear", np.asarray(tasks), None, None))
        if self.staging is not None:
            self.staging.clear(tasks)

    def sample_all(self, tasks: np.ndarray, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        if self.staging is None:
            raise RuntimeError("this buffer is write-only while the collection runs in the background")
        return self.staging.sample_all(tasks, n, generator)

    def apply_to(self, buffer: TaskReplayBuffer) -> None:
        for op, tasks, transitions, mask in self.ops:
            if op == "clear":
                buffer.clear(tasks)
            else:
                buffer.add(tasks, transitions, mask)  # type: ignore[arg-type]
        self.ops.clear()


def _timed_collect(view: Any) -> dict[str, float]:
    started = time.perf_counter()
    metrics = view._collect()
    return {**metrics, "time_sampling": time.perf_counter() - started}


class BackgroundCollection:
    """Runs a learner's ``_collect`` on a view of it (a shallow copy whose networks, generator and
    buffers are the snapshot, ``collect_generator`` and ``BufferLog`` s) in one worker thread."""

    def __init__(self, learner: Any) -> None:
        self.snapshot = copy.deepcopy(learner.nets).requires_grad_(False)
        enc = learner.enc_buffer
        staging = TaskReplayBuffer(num_tasks=enc.num_tasks, capacity=enc.capacity, obs_dim=enc.data["obs"].shape[-1],
                                   act_dim=enc.data["actions"].shape[-1], device=enc.device)
        self.rl_log, self.enc_log = BufferLog(), BufferLog(staging)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pearl-collect")
        self.view: Any = None

    def start(self, learner: Any) -> Future[dict[str, float]]:
        """Snapshot the networks and collect iteration ``learner.iteration``'s data in the background."""
        self.snapshot.load_state_dict(learner.nets.state_dict())
        view = copy.copy(learner)
        view.nets, view.policy, view.generator = self.snapshot, self.snapshot.policy, learner.collect_generator
        view.rl_buffer, view.enc_buffer = self.rl_log, self.enc_log
        self.view = view
        return self.executor.submit(_timed_collect, view)

    def finish(self, learner: Any, future: Future[dict[str, float]]) -> dict[str, float]:
        """Wait for the collection, apply its buffer writes to ``learner``'s buffers, return its metrics."""
        metrics = future.result()
        self.rl_log.apply_to(learner.rl_buffer)
        self.enc_log.apply_to(learner.enc_buffer)
        learner.env_steps = self.view.env_steps
        self.view = None
        return metrics

    def close(self) -> None:
        self.executor.shutdown(wait=True)
