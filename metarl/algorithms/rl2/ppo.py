"""PPO over whole trials: advantages across episode boundaries, minibatches of trials (or chunks).

RL²'s objective is the total reward of a trial, so the trial is the episode of the meta-MDP: GAE
runs over the trial's time axis, an episode ending *inside* the trial does not stop the
bootstrapping (the next episode's first value, computed with the carried-over hidden state, is the
value of what follows), and only the trial's end is terminal. Inside a trial a terminated episode
and a time-limit truncated one are therefore treated alike for the returns (both hand over to the
next episode); they differ for the policy, which sees the episode-end flag, and for feed-forward
learners, which bootstrap only truncations (``metarl.rl.returns.gae``). A trial that collection
cut short is not terminal: its last step bootstraps from the value after the cut. With truncated
backpropagation through time (``tbptt`` > 0) the trials are cut into chunks after the advantages
are computed, so a chunk's last advantage still bootstraps from the value just after the cut; each
chunk starts from the hidden state the sampling policy had there. The advantages, the running
normaliser and the clipped objective are shared with other trial learners (``metarl.rl.ppo``).
"""

from __future__ import annotations

import dataclasses

import torch

from metarl.policies.recurrent import RecurrentActorCritic, State
from metarl.rl.ppo import RunningNorm, ppo_objective, trial_advantages, trial_end

__all__ = ["RunningNorm", "TrialBatch", "chunk_batch", "ppo_loss", "trial_advantages", "trial_end"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrialBatch:
    """Rows of training data, each a whole trial or a chunk of one, ``[rows, K, ...]``.

    ``state`` is each row's initial recurrent state (None: every row starts a trial).
    """

    obs: torch.Tensor
    prev_action: torch.Tensor
    prev_reward: torch.Tensor
    prev_done: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor
    advantages: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    state: State | None = None

    @property
    def rows(self) -> int:
        return self.mask.shape[0]

    def take(self, index: torch.Tensor) -> TrialBatch:
        fields = {f.name: getattr(self, f.name)[index] for f in dataclasses.fields(self) if f.name != "state"}
        return TrialBatch(**fields, state=_take_state(self.state, index))


def _take_state(state: State | None, index: torch.Tensor) -> State | None:
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s[:, index] for s in state)
    return state[:, index]


def _cat_state(states: list[State]) -> State:
    if isinstance(states[0], tuple):
        return tuple(torch.cat(parts, dim=1) for parts in zip(*states, strict=True))
    return torch.cat(states, dim=1)


@torch.no_grad()
def chunk_batch(batch: TrialBatch, policy: RecurrentActorCritic, length: int) -> TrialBatch:
    """Cut ``[B, L]`` trials into ``[B * C, length]`` chunks (C = ceil(L / length)), chunk-major.

    Each chunk's initial state is the state ``policy`` reaches there when run from the trial's
    start (computed chunk by chunk without gradients); chunks made only of padding are dropped.
    """
    b, total = batch.mask.shape
    chunks = -(-total // length)
    pad = chunks * length - total

    def split(x: torch.Tensor) -> torch.Tensor:
        if pad:
            x = torch.cat([x, x.new_zeros(b, pad, *x.shape[2:])], dim=1)
        return x.view(b, chunks, length, *x.shape[2:]).transpose(0, 1).reshape(b * chunks, length, *x.shape[2:])

    fields = {f.name: split(getattr(batch, f.name)) for f in dataclasses.fields(batch) if f.name != "state"}
    states, state = [], policy.initial_state(b, batch.mask.device)
    for c in range(chunks):
        states.append(state)
        if c + 1 < chunks:
            window = slice(c * length, (c + 1) * length)
            _, _, state = policy.sequence(batch.obs[:, window], batch.prev_action[:, window],
                                          batch.prev_reward[:, window], batch.prev_done[:, window], state)
    keep = torch.nonzero(fields["mask"].sum(1) > 0).squeeze(1)
    return TrialBatch(**fields, state=_cat_state(states)).take(keep)


def ppo_loss(
    policy: RecurrentActorCritic, batch: TrialBatch, *, clip_range: float, value_coef: float, entropy_coef: float
) -> tuple[torch.Tensor, dict[str, float]]:
    """Clipped surrogate + value MSE - entropy bonus, averaged over the real steps of ``batch``
    (``metarl.rl.ppo.ppo_objective`` on the policy re-run over the rows)."""
    dist, values, _ = policy.sequence(batch.obs, batch.prev_action, batch.prev_reward, batch.prev_done, batch.state)
    return ppo_objective(dist, values, actions=batch.actions, old_log_probs=batch.log_probs,
                         advantages=batch.advantages, targets=batch.targets, mask=batch.mask, clip_range=clip_range,
                         value_coef=value_coef, entropy_coef=entropy_coef)
