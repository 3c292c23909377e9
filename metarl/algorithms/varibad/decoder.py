"""VariBAD's decoders p(r | m, ...) and p(s' | m, s, a), each with its reconstruction terms.

Every decoder answers ``reconstruction(latent, batch, steps) -> [N, E, J]``: the negative
log-likelihood (Bernoulli) or squared error (regression) of step ``steps[n, e, j]`` of trial n
decoded from ``latent[n, e]``, the sample of posterior e. The ELBO passes every posterior t = 0..L
and every step j of the trial (past and future: ``E = L + 1``, ``J = L``), in one batched call.

``GridCells`` maps integer observations (a grid world's cells) to cell indices, row-major with the
first coordinate most significant (``x * 5 + y`` on a 5x5 grid, as the reference's ``task_to_id``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from metarl.algorithms.varibad.encoder import relu_stack
from metarl.errors import ConfigError
from metarl.rollout.trajectories import TrialSequence


@dataclasses.dataclass(frozen=True, kw_only=True)
class VAEBatch:
    """Trials for the VAE, ``[N, L, ...]``: ``obs`` (None unless a decoder or the encoder needs s),
    ``next_obs``, ``actions``, ``rewards``, ``mask`` (1 on real steps, a prefix of each row)."""

    obs: torch.Tensor | None
    next_obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    mask: torch.Tensor

    @classmethod
    def from_trials(cls, trials: TrialSequence, *, keep_obs: bool = True) -> VAEBatch:
        """A ``TrialSequence``'s fields as a batch (no copy)."""
        return cls(obs=trials.obs if keep_obs else None, next_obs=trials.next_obs, actions=trials.actions,
                   rewards=trials.rewards, mask=trials.mask)

    def take(self, index: torch.Tensor | slice) -> VAEBatch:
        return VAEBatch(**{f.name: None if (v := getattr(self, f.name)) is None else v[index]
                           for f in dataclasses.fields(self)})


def at_steps(x: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """``x [N, L, ...]`` at ``steps [N, E, J]`` (indices into L): ``[N, E, J, ...]``."""
    n, e, j = steps.shape
    flat = steps.reshape(n, e * j)
    index = flat.view(n, e * j, *([1] * (x.dim() - 2))).expand(n, e * j, *x.shape[2:])
    return x.gather(1, index).view(n, e, j, *x.shape[2:])


@dataclasses.dataclass(frozen=True, kw_only=True)
class GridCells:
    """Cells of a grid of integer observations: ``low [D]`` and ``sizes [D]`` per coordinate."""

    low: tuple[int, ...]
    sizes: tuple[int, ...]

    @classmethod
    def from_space(cls, space: object, *, limit: int = 4096) -> GridCells:
        """The grid of a Box observation space with integer bounds (a ConfigError otherwise)."""
        low, high = np.asarray(getattr(space, "low", np.nan)), np.asarray(getattr(space, "high", np.nan))
        ok = low.ndim == 1 and np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and \
            np.all(low == np.round(low)) and np.all(high == np.round(high)) and np.all(high >= low)
        if not ok or math.prod(int(h - lo + 1) for lo, h in zip(low, high, strict=True)) > limit:
            raise ConfigError(f"reward_decoder='cells' needs observations that are cells of a grid (a 1-D Box "
                              f"with integer bounds, at most {limit} cells), got {space}; use "
                              "reward_decoder='transition'")
        sizes = tuple(int(h - lo + 1) for lo, h in zip(low, high, strict=True))
        return cls(low=tuple(int(v) for v in low), sizes=sizes)

    @property
    def num_cells(self) -> int:
        return math.prod(self.sizes)

    def index(self, obs: torch.Tensor) -> torch.Tensor:
        """``obs [..., D]`` -> ``[...]`` int64 cell index (positions rounded to the nearest cell)."""
        cell = torch.zeros(obs.shape[:-1], dtype=torch.long, device=obs.device)
        for d, (low, size) in enumerate(zip(self.low, self.sizes, strict=True)):
            cell = cell * size + (torch.round(obs[..., d]).long() - low).clamp(0, size - 1)
        return cell

    def coords(self) -> np.ndarray:
        """``[cells, D]`` int64: the coordinates of each cell index."""
        grids = np.meshgrid(*[np.arange(s) + lo for lo, s in zip(self.low, self.sizes, strict=True)], indexing="ij")
        return np.stack([g.ravel() for g in grids], axis=1)


class CellRewardDecoder(nn.Module):
    """The reference's multi-head Bernoulli decoder: ReLU layers on m, one logit per cell,
    ``p(r = success_reward | cell, m)`` for all cells at once (``[..., cells]``)."""

    def __init__(self, *, latent_dim: int, cells: GridCells, layers: tuple[int, ...] = (32, 32),
                 success_reward: float = 1.0) -> None:
        super().__init__()
        self.cells, self.success_reward = cells, success_reward
        self.body, width = relu_stack(latent_dim, layers)
        self.head = nn.Linear(width, cells.num_cells)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        """Logits ``[..., cells]`` of ``latent [..., K]``."""
        return self.head(self.body(latent))

    def targets(self, batch: VAEBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """``(cells [N, L] int64, success [N, L] float)``: the cell each step led to and whether it
        paid the success reward there (1: the goal; 0: that cell is ruled out)."""
        return self.cells.index(batch.next_obs), (batch.rewards == self.success_reward).to(batch.rewards.dtype)

    def reconstruction(self, latent: torch.Tensor, batch: VAEBatch, steps: torch.Tensor) -> torch.Tensor:
        cells, success = self.targets(batch)
        logits = self(latent).gather(2, at_steps(cells, steps))
        return F.binary_cross_entropy_with_logits(logits, at_steps(success, steps), reduction="none")


class _Inputs(nn.Module):
    """m with ReLU embeddings of s' / s / a (a discrete action one-hot), concatenated."""

    def __init__(self, *, latent_dim: int, obs_dim: int, action_width: int, discrete: bool, state_embed: int,
                 action_embed: int, next_state: bool, prev_state: bool, action: bool) -> None:
        super().__init__()
        self.discrete, self.action_width = discrete, action_width
        self.next_state, self.prev_state = next_state, prev_state
        self.state_embed = nn.Linear(obs_dim, state_embed) if state_embed else nn.Identity()
        embed = nn.Linear(action_width, action_embed) if action_embed else nn.Identity()
        self.action_embed = embed if action else None
        s_width = state_embed or obs_dim
        self.width = latent_dim + s_width * (next_state + prev_state) + \
            ((action_embed or action_width) if action else 0)

    def _state(self, x: torch.Tensor) -> torch.Tensor:
        out = self.state_embed(x)
        return F.relu(out) if isinstance(self.state_embed, nn.Linear) else out

    def forward(self, latent: torch.Tensor, batch: VAEBatch, steps: torch.Tensor) -> torch.Tensor:
        n, e, j = steps.shape
        parts = [latent[:, :, None].expand(n, e, j, latent.shape[-1])]
        if self.next_state:
            parts.append(self._state(at_steps(batch.next_obs, steps)))
        if self.prev_state:
            if batch.obs is None:
                raise ValueError("this decoder reads s: the batch must carry obs")
            parts.append(self._state(at_steps(batch.obs, steps)))
        if self.action_embed is not None:
            a = at_steps(batch.actions, steps)
            a = F.one_hot(a.long(), self.action_width).to(latent.dtype) if self.discrete else a.to(latent.dtype)
            a = self.action_embed(a)
            parts.append(F.relu(a) if isinstance(self.action_embed, nn.Linear) else a)
        return torch.cat(parts, dim=-1)


class TransitionRewardDecoder(nn.Module):
    """r regressed from (m, s'[, s, a]) by ReLU layers; reconstruction is the squared error."""

    def __init__(self, *, latent_dim: int, obs_dim: int, action_width: int, discrete: bool, state_embed: int,
                 action_embed: int, layers: tuple[int, ...], prev_state: bool, action: bool) -> None:
        super().__init__()
        self.inputs = _Inputs(latent_dim=latent_dim, obs_dim=obs_dim, action_width=action_width, discrete=discrete,
                              state_embed=state_embed, action_embed=action_embed, next_state=True,
                              prev_state=prev_state, action=action)
        self.body, width = relu_stack(self.inputs.width, layers)
        self.head = nn.Linear(width, 1)

    def reconstruction(self, latent: torch.Tensor, batch: VAEBatch, steps: torch.Tensor) -> torch.Tensor:
        predicted = self.head(self.body(self.inputs(latent, batch, steps)))[..., 0]
        return (predicted - at_steps(batch.rewards, steps)).pow(2)


class StateDecoder(nn.Module):
    """s' regressed from (m, s, a) by ReLU layers; reconstruction is the mean squared error over s'."""

    def __init__(self, *, latent_dim: int, obs_dim: int, action_width: int, discrete: bool, state_embed: int,
                 action_embed: int, layers: tuple[int, ...]) -> None:
        super().__init__()
        self.inputs = _Inputs(latent_dim=latent_dim, obs_dim=obs_dim, action_width=action_width, discrete=discrete,
                              state_embed=state_embed, action_embed=action_embed, next_state=False,
                              prev_state=True, action=True)
        self.body, width = relu_stack(self.inputs.width, layers)
        self.head = nn.Linear(width, obs_dim)

    def reconstruction(self, latent: torch.Tensor, batch: VAEBatch, steps: torch.Tensor) -> torch.Tensor:
        predicted = self.head(self.body(self.inputs(latent, batch, steps)))
        return (predicted - at_steps(batch.next_obs, steps)).pow(2).mean(-1)
