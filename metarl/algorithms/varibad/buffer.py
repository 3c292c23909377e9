"""The VAE's buffer of recent trials (the reference's ``RolloutStorageVAE``): a ring of whole trials.

The policy learns on-policy from the trials of its own iteration; the VAE learns from the last
``capacity`` trials, whichever policy collected them (the ELBO is a property of the task
distribution, not of the policy). Rows are whole trials padded to the longest trial length;
``lengths`` says how much of each is real. Discrete actions are kept as int16 and observations of
the step's start only where something reads them, so that the buffer (part of every checkpoint,
for an exact resume) stays small: 100 000 grid-world trials are about 80 MB. Storage is
``torch.empty`` and nothing outside the first ``size`` rows is ever read, so on a CPU a large
capacity costs memory only as it fills (and nothing for the task-aware oracle, which adds none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from metarl.algorithms.varibad.decoder import VAEBatch
from metarl.rollout.trajectories import TrialSequence


class TrialBuffer:
    """``capacity`` trials of at most ``length`` steps, on ``device``; the oldest are overwritten."""

    def __init__(self, *, capacity: int, length: int, obs_dim: int, action_shape: tuple[int, ...], discrete: bool,
                 keep_obs: bool, device: torch.device | str = "cpu") -> None:
        if capacity < 1 or length < 1:
            raise ValueError(f"capacity and length must be >= 1, got {capacity}, {length}")
        self.capacity, self.length, self.keep_obs, self.discrete = capacity, length, keep_obs, discrete
        self.device = torch.device(device)
        dev = self.device
        self.next_obs = torch.empty(capacity, length, obs_dim, device=dev)
        self.obs = torch.empty(capacity, length, obs_dim, device=dev) if keep_obs else None
        self.actions = torch.empty(capacity, length, *action_shape, device=dev,
                                   dtype=torch.int16 if discrete else torch.float32)
        self.rewards = torch.empty(capacity, length, device=dev)
        self.lengths = torch.zeros(capacity, dtype=torch.long, device=dev)
        self.size, self.position = 0, 0

    def __len__(self) -> int:
        return self.size

    def _fields(self) -> dict[str, torch.Tensor]:
        out = {"next_obs": self.next_obs, "actions": self.actions, "rewards": self.rewards, "lengths": self.lengths}
        return out if self.obs is None else {**out, "obs": self.obs}

    def add(self, trials: TrialSequence) -> None:
        """Append every trial of ``trials`` (``[B, L, ...]``, L at most ``length``)."""
        b, steps = trials.mask.shape
        if steps > self.length:
            raise ValueError(f"trials of {steps} steps do not fit a buffer of {self.length}-step trials")
        b_kept = min(b, self.capacity)
        rows = (self.position + torch.arange(b_kept, device=self.device)) % self.capacity
        pad = self.length - steps

        def padded(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
            x = x[b - b_kept:].to(self.device, dtype)
            return torch.cat([x, x.new_zeros(b_kept, pad, *x.shape[2:])], dim=1) if pad else x

        self.next_obs[rows] = padded(trials.next_obs, torch.float32)
        if self.obs is not None:
            self.obs[rows] = padded(trials.obs, torch.float32)
        self.actions[rows] = padded(trials.actions, self.actions.dtype)
        self.rewards[rows] = padded(trials.rewards * trials.mask, torch.float32)
        self.lengths[rows] = trials.mask[b - b_kept:].sum(1).long().to(self.device)
        self.position = (self.position + b_kept) % self.capacity
        self.size = min(self.size + b_kept, self.capacity)

    def sample(self, n: int, generator: torch.Generator) -> VAEBatch:
        """``min(n, len(self))`` distinct trials drawn uniformly (indices from ``generator``), cut
        to their longest length."""
        if self.size == 0:
            raise ValueError("the trial buffer is empty")
        index = torch.randperm(self.size, generator=generator)[: min(n, self.size)].to(self.device)
        lengths = self.lengths[index]
        steps = int(lengths.max())
        mask = (torch.arange(steps, device=self.device)[None] < lengths[:, None]).float()
        actions = self.actions[index, :steps]
        obs = None if self.obs is None else self.obs[index, :steps]
        return VAEBatch(obs=obs, next_obs=self.next_obs[index, :steps],
                        actions=actions.long() if self.discrete else actions, rewards=self.rewards[index, :steps],
                        mask=mask)

    def state_dict(self) -> dict[str, Any]:
        """The filled rows (copies: a slice would save the whole storage) and the ring's position."""
        return {"size": self.size, "position": self.position,
                **{k: v[: self.size].clone().cpu() for k, v in self._fields().items()}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        size = int(state["size"])
        if size > self.capacity or state["next_obs"].shape[1:] != self.next_obs.shape[1:]:
            raise ValueError(f"a buffer of {size} trials shaped {tuple(state['next_obs'].shape[1:])} does not fit "
                             f"this one ({self.capacity} trials shaped {tuple(self.next_obs.shape[1:])})")
        for key, tensor in self._fields().items():
            tensor[:size] = state[key].to(self.device, tensor.dtype)
        self.size, self.position = size, int(state["position"])
