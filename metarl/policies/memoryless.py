"""The memory-less twin of ``RecurrentActorCritic``: a feed-forward network on the same inputs.

It is RL²'s non-adaptive baseline: the same PPO, the same inputs at each step (observation,
previous action, previous reward, episode-end flag), minus the memory. Its "state" is an empty
``[1, B, 0]`` tensor that flows through the sampler, TBPTT chunking and PPO unchanged and carries
nothing, so its action at step t is a function of step t's inputs only. On a task family whose
task shows in the current transition it can still react to that; what it cannot do is accumulate
evidence over the trial.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution

from metarl.policies.recurrent import ActorCritic, LogStd, State


def _trunk(in_dim: int, hidden_size: int, embed_size: int) -> nn.Sequential:
    """Optional tanh embedding, then two tanh layers of ``hidden_size``: ``[..., in] -> [..., hidden]``."""
    layers: list[nn.Module] = [nn.Linear(in_dim, embed_size), nn.Tanh()] if embed_size > 0 else []
    width = embed_size if embed_size > 0 else in_dim
    layers += [nn.Linear(width, hidden_size), nn.Tanh(), nn.Linear(hidden_size, hidden_size), nn.Tanh()]
    return nn.Sequential(*layers)


class MemorylessActorCritic(ActorCritic):
    """``RecurrentActorCritic``'s interface (``initial_state``, ``step``, ``sequence``,
    ``evaluate_trials``) and heads, with the GRU replaced by a two-layer tanh MLP of the same width.

    The inputs are encoded exactly as the recurrent policy encodes them (``encode`` is the same
    method of ``ActorCritic``), the Gaussian / Categorical heads are the same; ``separate_value=True``
    gives the value its own MLP. ``cell`` is accepted and ignored (there is no cell).
    """

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
        in_dim = self._setup(obs_dim=obs_dim, n_actions=n_actions, act_dim=act_dim, hidden_size=hidden_size,
                             cell=cell, log_std=log_std, init_std=init_std, min_std=min_std,
                             reward_scale=reward_scale, separate_value=separate_value, cells=None)
        self.trunk = _trunk(in_dim, hidden_size, embed_size)
        self.value_trunk = _trunk(in_dim, hidden_size, embed_size) if separate_value else None
        self._add_heads(act_dim=act_dim, init_std=init_std)

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

    def _forward(self, inputs: torch.Tensor, state: State) -> tuple[Distribution, torch.Tensor, State]:
        out = self.trunk(inputs)
        value_out = out if self.value_trunk is None else self.value_trunk(inputs)
        return self._distribution(self.policy_head(out)), self.value_head(value_out)[..., 0], state
