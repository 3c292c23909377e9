"""The memory-less twin of ``RecurrentActorCritic``: a feed-forward network on the same inputs.

It is RL²'s non-adaptive baseline: the same PPO, the same inputs at each step (observation,
previous action, previous reward, episode-end flag), minus the memory. Its "state" is an empty
``[1, B, 0]`` tensor that flows through the sampler, TBPTT chunking and PPO unchanged and carries
nothing, so its action at step t is a function of step t's inputs only. On a task family whose
task shows in the current transition it can still react to that; what it cannot do is accumulate
evidence over the trial.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.distributions import Distribution

from metarl.policies.recurrent import LogStd, RecurrentActorCritic, State
from metarl.rollout.trajectories import TrialSequence


def _trunk(in_dim: int, hidden_size: int, embed_size: int) -> nn.Sequential:
    """Optional tanh embedding, then two tanh layers of ``hidden_size``: ``[..., in] -> [..., hidden]``."""
    layers: list[nn.Module] = [nn.Linear(in_dim, embed_size), nn.Tanh()] if embed_size > 0 else []
    width = embed_size if embed_size > 0 else in_dim
    layers += [nn.Linear(width, hidden_size), nn.Tanh(), nn.Linear(hidden_size, hidden_size), nn.Tanh()]
    return nn.Sequential(*layers)


class MemorylessActorCritic(nn.Module):
    """``RecurrentActorCritic``'s interface (``initial_state``, ``step``, ``sequence``,
    ``evaluate_trials``) and heads, with the GRU replaced by a two-layer tanh MLP of the same width.

    The inputs are encoded exactly as the recurrent policy encodes them (``encode`` is the same
    function), the Gaussian / Categorical heads are the same; ``separate_value=True`` gives the
    value its own MLP. ``cell`` is accepted and ignored (there is no cell).
    """

    encode = RecurrentActorCritic.encode
    _distribution = RecurrentActorCritic._distribution
    _init_weights = RecurrentActorCritic._init_weights

    def __init__(
        self,
        *,
        obs_dim: int,
        n_actions: int | None = None,
        act_dim: int | None = None,
        hidden_size: int = 256,
        cell: str = "gru",
        embed_size: int = 0,
        log_std: LogStd = "parameter",
        init_std: float = 1.0,
        min_std: float = 1e-3,
        reward_scale: float = 1.0,
        separate_value: bool = False,
    ) -> None:
        super().__init__()
        if (n_actions is None) == (act_dim is None):
            raise ValueError("give exactly one of n_actions (discrete) or act_dim (continuous)")
        for name, value in (("obs_dim", obs_dim), ("hidden_size", hidden_size), ("n_actions", n_actions),
                            ("act_dim", act_dim)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if log_std not in ("parameter", "head"):
            raise ValueError(f"log_std must be 'parameter' or 'head', got {log_std!r}")
        if init_std <= 0 or min_std <= 0:
            raise ValueError(f"init_std and min_std must be > 0, got {init_std}, {min_std}")
        self.discrete = n_actions is not None
        self.obs_dim, self.hidden_size, self.cell = obs_dim, hidden_size, cell
        self.action_width = n_actions if self.discrete else act_dim
        self.reward_scale, self.separate_value, self.log_std_mode = reward_scale, separate_value, log_std
        in_dim = obs_dim + self.action_width + 2
        self.trunk = _trunk(in_dim, hidden_size, embed_size)
        self.value_trunk = _trunk(in_dim, hidden_size, embed_size) if separate_value else None
        head_out = self.action_width * (2 if (not self.discrete and log_std == "head") else 1)
        self.policy_head = nn.Linear(hidden_size, head_out)
        self.value_head = nn.Linear(hidden_size, 1)
        self.min_log_std = math.log(min_std)
        if not self.discrete and log_std == "parameter":
            self.log_std = nn.Parameter(torch.full((act_dim,), math.log(init_std)))
        self._init_weights(init_std)

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        """An empty ``[1, B, 0]``: the shape of a GRU state, with nothing in it."""
        return torch.zeros(1, batch_size, 0, device=device)

    def step(
        self, obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor,
        prev_done: torch.Tensor, state: State,
    ) -> tuple[Distribution, torch.Tensor, State]:
        """``[B, ...]`` inputs: ``(distribution over [B], value [B], state)``, ``state`` unchanged."""
        return self._forward(self.encode(obs, prev_action, prev_reward, prev_done), state)

    def sequence(
        self, obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor,
        prev_done: torch.Tensor, state: State | None = None,
    ) -> tuple[Distribution, torch.Tensor, State]:
        """``[B, L, ...]`` inputs: distribution ``[B, L]``, values ``[B, L]``, the (empty) state."""
        if state is None:
            state = self.initial_state(obs.shape[0], obs.device)
        return self._forward(self.encode(obs, prev_action, prev_reward, prev_done), state)

    def evaluate_trials(self, trials: TrialSequence) -> tuple[Distribution, torch.Tensor]:
        """Distribution ``[B, L]`` and values ``[B, L]`` over stored trials."""
        dist, values, _ = self.sequence(*trials.policy_inputs())
        return dist, values

    def _forward(self, inputs: torch.Tensor, state: State) -> tuple[Distribution, torch.Tensor, State]:
        out = self.trunk(inputs)
        value_out = out if self.value_trunk is None else self.value_trunk(inputs)
        return self._distribution(self.policy_head(out)), self.value_head(value_out)[..., 0], state
