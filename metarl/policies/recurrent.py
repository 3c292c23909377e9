"""Recurrent actor-critic for RL²: the hidden state is the agent's memory of the task.

At every step the network sees the observation, the previous action (one-hot when discrete), the
previous reward and a flag saying the previous step ended an episode. Nothing else tells it which
task it is in, so it must infer the task from that history; the caller keeps the state across the
episodes of a trial and resets it (``initial_state``) only between trials.

Two entry points share one set of weights:

- ``step`` (``[B, ...]`` inputs, one time step) for the sampler, the ``RecurrentPolicy`` protocol
  of ``metarl.rollout.sampler``;
- ``sequence`` (``[B, L, ...]``, a whole trial or a chunk of one) for training, which re-runs the
  stored inputs (``TrialSequence.policy_inputs()``) and reproduces the sampler's log-probabilities.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical, Distribution, Independent, Normal

from metarl.rollout.trajectories import TrialSequence

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]
Cell = Literal["gru", "lstm"]
LogStd = Literal["parameter", "head"]


class ActorCritic(nn.Module):
    """What RL²'s recurrent policy and its memory-less baseline share: the argument checks, the
    input encoding (``encode``), the policy and value heads and their distribution. A subclass
    builds its trunk between ``_setup`` and ``_add_heads`` (creation order fixes the initial
    weights drawn from the seed)."""

    discrete: bool
    action_width: int

    def _setup(self, *, obs_dim: int, n_actions: int | None, act_dim: int | None, hidden_size: int, cell: str,
               log_std: LogStd, init_std: float, min_std: float, reward_scale: float, separate_value: bool,
               cells: tuple[str, ...] | None) -> int:
        """Check the arguments (``cells``: the allowed cells, None for any) and store them; returns
        the width of one step's encoded input."""
        if (n_actions is None) == (act_dim is None):
            raise ValueError("give exactly one of n_actions (discrete) or act_dim (continuous)")
        for name, value in (("obs_dim", obs_dim), ("hidden_size", hidden_size), ("n_actions", n_actions),
                            ("act_dim", act_dim)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if cells is not None and cell not in cells:
            raise ValueError(f"cell must be {' or '.join(repr(c) for c in cells)}, got {cell!r}")
        if log_std not in ("parameter", "head"):
            raise ValueError(f"log_std must be 'parameter' or 'head', got {log_std!r}")
        if init_std <= 0 or min_std <= 0:
            raise ValueError(f"init_std and min_std must be > 0, got {init_std}, {min_std}")
        self.discrete = n_actions is not None
        self.obs_dim, self.hidden_size, self.cell = obs_dim, hidden_size, cell
        self.action_width = n_actions if self.discrete else act_dim
        self.reward_scale, self.separate_value, self.log_std_mode = reward_scale, separate_value, log_std
        self.min_log_std = math.log(min_std)
        return obs_dim + self.action_width + 2

    def _add_heads(self, *, act_dim: int | None, init_std: float) -> None:
        """The policy head (and the log-std parameter), the value head, initialised."""
        head_out = self.action_width * (2 if (not self.discrete and self.log_std_mode == "head") else 1)
        self.policy_head = nn.Linear(self.hidden_size, head_out)
        self.value_head = nn.Linear(self.hidden_size, 1)
        if not self.discrete and self.log_std_mode == "parameter":
            self.log_std = nn.Parameter(torch.full((act_dim,), math.log(init_std)))
        self._init_weights(init_std)

    def _init_weights(self, init_std: float) -> None:
        nn.init.orthogonal_(self.policy_head.weight, gain=0.01)
        nn.init.zeros_(self.policy_head.bias)
        nn.init.orthogonal_(self.value_head.weight, gain=1.0)
        nn.init.zeros_(self.value_head.bias)
        if not self.discrete and self.log_std_mode == "head":
            with torch.no_grad():
                self.policy_head.bias[self.action_width:] = math.log(init_std)

    def evaluate_trials(self, trials: TrialSequence) -> tuple[Distribution, torch.Tensor]:
        """Distribution ``[B, L]`` and values ``[B, L]`` over stored trials, from their start."""
        dist, values, _ = self.sequence(*trials.policy_inputs())
        return dist, values

    def encode(
        self, obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor, prev_done: torch.Tensor
    ) -> torch.Tensor:
        """``[..., obs_dim + action_width + 2]``: what the network sees at one step."""
        if self.discrete:
            action = F.one_hot(prev_action.long(), self.action_width).to(obs.dtype)
        else:
            action = prev_action.to(obs.dtype)
        reward = (prev_reward * self.reward_scale).unsqueeze(-1).to(obs.dtype)
        return torch.cat([obs, action, reward, prev_done.unsqueeze(-1).to(obs.dtype)], dim=-1)

    def _distribution(self, head: torch.Tensor) -> Distribution:
        if self.discrete:
            return Categorical(logits=head)
        if self.log_std_mode == "head":
            mean, log_std = head.split(self.action_width, dim=-1)
        else:
            mean, log_std = head, self.log_std.expand_as(head)
        std = torch.exp(torch.clamp(log_std, min=self.min_log_std, max=2.0))
        return Independent(Normal(mean, std), 1)


class RecurrentActorCritic(ActorCritic):
    """Input encoder -> GRU (or LSTM) -> policy head and value head.

    ``n_actions`` makes a Categorical policy (discrete actions ``[...]`` int64), ``act_dim`` a
    diagonal Gaussian (``[..., act_dim]``) whose log-std is either one learned parameter per action
    dimension (``log_std="parameter"``, state-independent) or an output of the network
    (``"head"``). ``reward_scale`` multiplies the previous reward on input, so that rewards of very
    different sizes (a bandit's 0/1, a pendulum's -16) reach the GRU at a similar scale.

    ``separate_value=True`` gives the value its own encoder and cell (the paper's separate recurrent
    baseline), so value-regression gradients do not reshape the policy's memory early in training;
    the state is then the two cells' states side by side, ``[1, B, 2 * hidden]``.
    """

    def __init__(
        self,
        *,
        obs_dim: int,
        n_actions: int | None = None,
        act_dim: int | None = None,
        hidden_size: int = 256,
        cell: Cell = "gru",
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
                             reward_scale=reward_scale, separate_value=separate_value, cells=("gru", "lstm"))
        self.embed = nn.Sequential(nn.Linear(in_dim, embed_size), nn.Tanh()) if embed_size > 0 else nn.Identity()
        rnn_in = embed_size if embed_size > 0 else in_dim
        self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(rnn_in, hidden_size, batch_first=True)
        if separate_value:
            self.value_embed = (nn.Sequential(nn.Linear(in_dim, embed_size), nn.Tanh()) if embed_size > 0
                                else nn.Identity())
            self.value_rnn = (nn.GRU if cell == "gru" else nn.LSTM)(rnn_in, hidden_size, batch_first=True)
        self._add_heads(act_dim=act_dim, init_std=init_std)

    # ------------------------------------------------------------------ protocol
    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        """Zeros ``[1, B, hidden]`` (GRU) or a pair of them (LSTM): the start of every trial."""
        width = self.hidden_size * (2 if self.separate_value else 1)
        h = torch.zeros(1, batch_size, width, device=device)
        return h if self.cell == "gru" else (h, torch.zeros_like(h))

    def step(
        self, obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor,
        prev_done: torch.Tensor, state: State,
    ) -> tuple[Distribution, torch.Tensor, State]:
        """One step for ``[B, ...]`` inputs: ``(distribution over [B], value [B], next state)``.

        A GRU steps through its cell function (``_gru_step``): the same recurrence as a length-1
        sequence (equal hidden states, bit for bit) at about two thirds of the cost, on the
        sampler's hot path.
        An LSTM keeps the sequence call, whose oneDNN kernel is faster than its cell on CPU.
        """
        if self.cell == "gru":
            inputs = self.encode(obs, prev_action, prev_reward, prev_done)
            if not self.separate_value:
                out = _gru_step(self.rnn, self.embed(inputs), state)
                return self._distribution(self.policy_head(out)), self.value_head(out)[..., 0], out.unsqueeze(0)
            actor_state, critic_state = _split_state(state, self.hidden_size)
            out = _gru_step(self.rnn, self.embed(inputs), actor_state)
            value_out = _gru_step(self.value_rnn, self.value_embed(inputs), critic_state)
            state = _join_state(out.unsqueeze(0), value_out.unsqueeze(0))
            return self._distribution(self.policy_head(out)), self.value_head(value_out)[..., 0], state
        dist, value, state = self.sequence(
            obs[:, None], prev_action[:, None], prev_reward[:, None], prev_done[:, None], state
        )
        return self._squeeze_time(dist), value[:, 0], state

    def sequence(
        self, obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor,
        prev_done: torch.Tensor, state: State | None = None,
    ) -> tuple[Distribution, torch.Tensor, State]:
        """Run ``[B, L, ...]`` inputs from ``state`` (None: the start of a trial).

        Returns the action distribution with batch shape ``[B, L]``, values ``[B, L]`` and the
        state after the last step.
        """
        b = obs.shape[0]
        if state is None:
            state = self.initial_state(b, obs.device)
        inputs = self.encode(obs, prev_action, prev_reward, prev_done)
        if not self.separate_value:
            out, state = self.rnn(self.embed(inputs), state)
            return self._distribution(self.policy_head(out)), self.value_head(out)[..., 0], state
        actor_state, critic_state = _split_state(state, self.hidden_size)
        out, actor_state = self.rnn(self.embed(inputs), actor_state)
        value_out, critic_state = self.value_rnn(self.value_embed(inputs), critic_state)
        state = _join_state(actor_state, critic_state)
        return self._distribution(self.policy_head(out)), self.value_head(value_out)[..., 0], state

    # ------------------------------------------------------------------ pieces
    def _squeeze_time(self, dist: Distribution) -> Distribution:
        if isinstance(dist, Categorical):
            return Categorical(logits=dist.logits[:, 0])
        normal = dist.base_dist
        return Independent(Normal(normal.loc[:, 0], normal.scale[:, 0]), 1)


def _gru_step(rnn: nn.GRU, x: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
    """``[B, in]``, state ``[1, B, hidden]`` -> ``[B, hidden]``: one step of a one-layer ``nn.GRU``."""
    return torch._VF.gru_cell(x, state[0], rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)


def _split_state(state: State, hidden: int) -> tuple[State, State]:
    if isinstance(state, tuple):
        h, c = state
        return (h[..., :hidden].contiguous(), c[..., :hidden].contiguous()), \
            (h[..., hidden:].contiguous(), c[..., hidden:].contiguous())
    return state[..., :hidden].contiguous(), state[..., hidden:].contiguous()


def _join_state(actor: State, critic: State) -> State:
    if isinstance(actor, tuple):
        return tuple(torch.cat(pair, dim=-1) for pair in zip(actor, critic, strict=True))
    return torch.cat([actor, critic], dim=-1)
