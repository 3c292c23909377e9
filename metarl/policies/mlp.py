"""Feed-forward policies that run with their own parameters or with parameters passed in.

MAML adapts a copy of the parameters per task, so a policy must evaluate with *given* tensors, and
must do so for all tasks in one call. ``forward(obs, params)`` accepts either the module's own
parameter shapes (shared by every row of ``obs``) or the same names with an extra leading task
dimension, ``weight: [tasks, out, in]``, in which case ``obs`` is ``[tasks, ..., obs_dim]`` and each
task's rows use its own parameters through one batched matmul (``torch.baddbmm``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical, Distribution, Independent, Normal

Params = Mapping[str, torch.Tensor]

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    if weight.dim() == 2:
        return F.linear(x, weight, bias)
    tasks, lead = weight.shape[0], x.shape[1:-1]
    flat = x.reshape(tasks, -1, x.shape[-1])
    out = torch.baddbmm(bias.unsqueeze(1), flat, weight.transpose(1, 2))
    return out.reshape(tasks, *lead, weight.shape[1])


class MLP(nn.Module):
    """``in -> hidden... -> out`` with the chosen activation; ``forward`` takes optional params."""

    def __init__(self, *, in_dim: int, out_dim: int, hidden_sizes: Sequence[int], activation: str = "relu") -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        sizes = [in_dim, *hidden_sizes, out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.activation = activation
        for layer in self.layers:
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, params: Params | None = None, prefix: str = "") -> torch.Tensor:
        act = ACTIVATIONS[self.activation]
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            if params is None:
                weight, bias = layer.weight, layer.bias
            else:
                weight, bias = params[f"{prefix}layers.{i}.weight"], params[f"{prefix}layers.{i}.bias"]
            x = _linear(x, weight, bias)
            if i < last:
                x = act(x)
        return x


class GaussianMLPPolicy(nn.Module):
    """Diagonal Gaussian with an MLP mean and a state-independent learned log-std (MAML paper).

    ``distribution(obs [..., obs_dim])`` has batch shape ``obs.shape[:-1]`` and event ``[act_dim]``.

    With ``action_bounds=(low, high)`` the policy acts in normalised units: its actions (and their
    log-probabilities) live in ``[-1, 1]`` per dimension, and ``env_action`` maps them, clipped, onto
    ``[low, high]`` for the environment. This is rllab's ``normalize`` wrapper, which the MAML paper's
    experiments ran under: it makes ``init_std`` mean the same thing whatever the env's units (a
    std of 1 spans the whole action range, not ten times it on a 0.1-bounded velocity).
    ``action_scale`` divides the policy's action before that (or alone, unnormalised): normalised,
    the policy's units span ``[-action_scale, action_scale]`` over the bounds (garage's
    ``normalize(expected_action_scale=...)``, under which its Meta-World MAML ran).

    ``init_mean_scale`` scales the mean head's initial weights: on observations of large scale
    (half-cheetah velocities) a Xavier-initialised mean starts near +-2, where a clipped action
    saturates and the policy gradient barely moves it; 0.01 starts it near 0.
    """

    discrete = False

    def __init__(
        self,
        *,
        obs_dim: int,
        act_dim: int,
        hidden_sizes: Sequence[int] = (100, 100),
        activation: str = "relu",
        init_std: float = 1.0,
        min_std: float = 1e-6,
        action_bounds: tuple[Sequence[float], Sequence[float]] | None = None,
        init_mean_scale: float = 1.0,
        action_scale: float = 1.0,
    ) -> None:
        super().__init__()
        if min(init_std, min_std, init_mean_scale, action_scale) <= 0:
            raise ValueError(f"init_std, min_std, init_mean_scale and action_scale must be > 0, got {init_std}, "
                             f"{min_std}, {init_mean_scale}, {action_scale}")
        self.action_scale = float(action_scale)
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.mean = MLP(in_dim=obs_dim, out_dim=act_dim, hidden_sizes=hidden_sizes, activation=activation)
        with torch.no_grad():  # the MAML code's Xavier init at 1; SB3's and CleanRL's small last layer at 0.01
            self.mean.layers[-1].weight.mul_(init_mean_scale)
        self.log_std = nn.Parameter(torch.full((act_dim,), math.log(init_std)))
        self.min_log_std = math.log(min_std)
        self.normalized = action_bounds is not None
        if action_bounds is not None:
            low, high = (torch.as_tensor(b, dtype=torch.float32).reshape(act_dim) for b in action_bounds)
            if not (torch.isfinite(low).all() and torch.isfinite(high).all() and (high > low).all()):
                raise ValueError(f"action_bounds must be finite with low < high, got {action_bounds}")
            # not persistent: the bounds come from the env, so checkpoints stay interchangeable
            self.register_buffer("action_low", low, persistent=False)
            self.register_buffer("action_high", high, persistent=False)

    def env_action(self, action: torch.Tensor) -> torch.Tensor:
        """The environment's action for a policy action ``[..., act_dim]`` (identity unless normalised)."""
        if self.action_scale != 1.0:
            action = action / self.action_scale
        if not self.normalized:
            return action
        unit = (action.clamp(-1.0, 1.0) + 1.0) * 0.5
        return self.action_low + unit * (self.action_high - self.action_low)

    def distribution(self, obs: torch.Tensor, params: Params | None = None) -> Distribution:
        mean = self.mean(obs, params, prefix="mean.")
        log_std = self.log_std if params is None else params["log_std"]
        if log_std.dim() == 2:  # per-task: [tasks, act_dim] -> broadcast over the rows of each task
            log_std = log_std.reshape(log_std.shape[0], *([1] * (mean.dim() - 2)), -1)
        std = torch.exp(torch.clamp(log_std, min=self.min_log_std)).expand_as(mean)
        # no argument validation: it costs a sync per call on the sampler's hot path, and a NaN
        # is caught where it matters (the Trainer's finite checks on every metric and parameter)
        return Independent(Normal(mean, std, validate_args=False), 1, validate_args=False)


class CategoricalMLPPolicy(nn.Module):
    """Softmax over ``n_actions`` from an MLP; actions are integer indices ``[...]``."""

    discrete = True

    def __init__(
        self, *, obs_dim: int, n_actions: int, hidden_sizes: Sequence[int] = (100, 100), activation: str = "relu"
    ) -> None:
        super().__init__()
        self.obs_dim, self.n_actions = obs_dim, n_actions
        self.logits = MLP(in_dim=obs_dim, out_dim=n_actions, hidden_sizes=hidden_sizes, activation=activation)

    def distribution(self, obs: torch.Tensor, params: Params | None = None) -> Distribution:
        return Categorical(logits=self.logits(obs, params, prefix="logits."))


def named_params(module: nn.Module) -> dict[str, torch.Tensor]:
    """The module's parameters as a name -> tensor dict (the form ``distribution`` takes)."""
    return dict(module.named_parameters())


def expand_params(params: Params, tasks: int) -> dict[str, torch.Tensor]:
    """Shared parameters repeated along a new leading task dimension (differentiable)."""
    return {k: v.unsqueeze(0).expand(tasks, *v.shape) for k, v in params.items()}
