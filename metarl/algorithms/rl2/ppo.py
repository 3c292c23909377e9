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
chunk starts from the hidden state the sampling policy had there.
"""

from __future__ import annotations

import dataclasses

import torch

from metarl.policies.recurrent import RecurrentActorCritic, State
from metarl.rl.returns import gae


def trial_end(mask: torch.Tensor) -> torch.Tensor:
    """``[B, L]`` bool, True at the last real step of each trial (mask ``[B, L]``)."""
    real = mask > 0
    following = torch.zeros_like(real)
    following[:, :-1] = real[:, 1:]
    return real & ~following


def trial_advantages(
    *, rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float,
    complete: torch.Tensor | None = None, last_values: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE over the whole trial, ``[B, L]`` inputs; returns ``(advantages, value_targets)``.

    The trial is the episode of the meta-MDP (the BAMDP), so episode ends *inside* it are ignored on
    purpose: each step bootstraps from the next step's value, the next episode's first value when
    an episode just ended (computed with the hidden state carried across, it is the value of what
    follows in the trial). The trial's last step ends the BAMDP episode and is terminal.

    ``complete [B]`` bool (``TrialSequence.complete()``; None: all complete): False for a trial
    that collection stopped before its last episode ended (a cut). Such a trial did not end, so its
    last step bootstraps from ``last_values [B]``, the value after the cut, which must then be given.
    """
    end = trial_end(mask)
    if complete is None:
        complete = torch.ones(mask.shape[0], dtype=torch.bool, device=mask.device)
    cut = ~complete
    if bool(cut.any()) and last_values is None:
        raise ValueError(f"{int(cut.sum())} trial(s) were cut before their last episode ended; their last step "
                         "must be bootstrapped: pass last_values (the value after the cut)")
    after = torch.zeros_like(values[:, :1]) if last_values is None else last_values[:, None].to(values.dtype)
    next_values = torch.where(end, after, torch.cat([values[:, 1:], torch.zeros_like(values[:, :1])], 1))
    return gae(
        rewards=rewards, values=values, next_values=next_values, terminated=end & complete[:, None],
        truncated=end & cut[:, None], mask=mask, gamma=gamma, lam=lam, truncation="bootstrap",
    )


class RunningNorm:
    """Running mean and variance of value targets (Chan et al.'s parallel update), for learning
    values in normalised units when returns are large or drift during training."""

    def __init__(self) -> None:
        self.mean, self.var, self.count = 0.0, 1.0, 1e-4

    def update(self, x: torch.Tensor) -> None:
        x = x.double()
        n, mean, var = x.numel(), float(x.mean()), float(x.var(unbiased=False))
        delta, total = mean - self.mean, self.count + n
        self.mean += delta * n / total
        self.var = (self.var * self.count + var * n + delta**2 * self.count * n / total) / total
        self.count = total

    @property
    def std(self) -> float:
        return max(self.var, 1e-8) ** 0.5

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean

    def state_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "var": self.var, "count": self.count}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.mean, self.var, self.count = float(state["mean"]), float(state["var"]), float(state["count"])


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
    """Clipped surrogate + value MSE - entropy bonus, averaged over the real steps of ``batch``."""
    dist, values, _ = policy.sequence(batch.obs, batch.prev_action, batch.prev_reward, batch.prev_done, batch.state)
    mask = batch.mask
    steps = mask.sum().clamp(min=1.0)
    log_probs = dist.log_prob(batch.actions)
    ratio = torch.exp((log_probs - batch.log_probs) * mask)
    surrogate = torch.min(ratio * batch.advantages,
                          torch.clamp(ratio, 1 - clip_range, 1 + clip_range) * batch.advantages)
    policy_loss = -(surrogate * mask).sum() / steps
    value_loss = 0.5 * ((values - batch.targets).pow(2) * mask).sum() / steps
    entropy = (dist.entropy() * mask).sum() / steps
    loss = policy_loss + value_coef * value_loss - entropy_coef * entropy
    with torch.no_grad():
        policy_loss, value_loss, entropy = policy_loss.detach(), value_loss.detach(), entropy.detach()
        approx_kl = (((ratio - 1) - torch.log(ratio)) * mask).sum() / steps
        clipped = (((ratio - 1).abs() > clip_range).float() * mask).sum() / steps
    stats = {"policy_loss": float(policy_loss), "value_loss": float(value_loss), "entropy": float(entropy),
             "approx_kl": float(approx_kl), "clip_fraction": float(clipped)}
    return loss, stats
