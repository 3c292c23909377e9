"""The task-aware oracle's input: a task's standardised parameters, beside the observation.

A meta-learner has to infer the task from its history; its oracle is the same learner told the
task's parameters (``TaskBatch.features()``), so the gap between the two measures what inference
costs. RL²'s (``task_aware=True``, ``rl2.build_oracle``) gets them appended to every observation;
VariBAD's gets them where it would read its belief. Features are standardised with statistics of
the distribution itself (raw parameters range from MountainCar's engine power ~1e-3 to gravity
~10). ``TaskAwarePolicy`` wraps a policy for the sampler, appending each trial's features.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.distributions import Distribution

from metarl.policies.recurrent import RecurrentActorCritic, State
from metarl.tasks import TaskBatch, TaskSet


class TaskFeatures:
    """Standardised task features ``[tasks, task_dim]`` float32: mean 0, std 1 over the distribution
    (``tasks`` a ``TaskSet``: statistics of ``samples`` draws from it) or over a given list (a
    ``TaskBatch``: PEARL's fixed train tasks, the only tasks its oracle trains on)."""

    def __init__(self, tasks: TaskSet | TaskBatch, *, samples: int = 4096) -> None:
        batch = tasks if isinstance(tasks, TaskBatch) else tasks.train_batch(samples, np.random.default_rng(12345))
        feats = batch.features().astype(np.float64)
        self.mean = feats.mean(0)
        std = feats.std(0)
        self.std = np.where(std > 1e-12 * (1 + np.abs(self.mean)), std, 1.0)
        self.dim = feats.shape[1]

    def __call__(self, tasks: TaskBatch, device: torch.device | str = "cpu") -> torch.Tensor:
        return torch.as_tensor((tasks.features() - self.mean) / self.std, dtype=torch.float32, device=device)


def with_features(obs: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """``obs [B, ..., D]`` with ``features [B, F]`` appended on the last axis: ``[B, ..., D + F]``."""
    expanded = features.view(features.shape[0], *([1] * (obs.dim() - 2)), -1).expand(*obs.shape[:-1], -1)
    return torch.cat([obs, expanded], dim=-1)


class TaskAwarePolicy:
    """A ``RecurrentPolicy`` for the sampler: ``policy`` with the trials' task features appended."""

    def __init__(self, policy: RecurrentActorCritic, features: torch.Tensor) -> None:
        self.policy, self.features = policy, features
        self.discrete = policy.discrete

    def initial_state(self, batch_size: int, device: torch.device) -> State:
        return self.policy.initial_state(batch_size, device)

    def take_tasks(self, start: int, stop: int) -> TaskAwarePolicy:
        """This policy for the trials ``start:stop`` only (what one sampling slice runs)."""
        return TaskAwarePolicy(self.policy, self.features[start:stop])

    def step(
        self, obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor,
        prev_done: torch.Tensor, state: State,
    ) -> tuple[Distribution, torch.Tensor, State]:
        return self.policy.step(with_features(obs, self.features), prev_action, prev_reward, prev_done, state)
