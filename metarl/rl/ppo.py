"""PPO pieces every trial-based learner shares: advantages over whole trials, a running normaliser,
and the clipped objective itself.

RL² (a recurrent policy) and VariBAD (a feed-forward policy on the state and a belief) both treat a
trial of n episodes on one task as the episode of the meta-MDP (the BAMDP): GAE runs over the
trial's time axis, an episode ending *inside* the trial does not stop the bootstrapping, and only
the trial's end is terminal. ``ppo_objective`` takes the policy's distribution and values over any
batch shape, so it serves whole trials ``[B, L]`` as well as flat minibatches of steps ``[N]``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.distributions import Distribution

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
    an episode just ended (computed with the memory or belief carried across, it is the value of
    what follows in the trial). The trial's last step ends the BAMDP episode and is terminal.

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
    """Running mean and variance of a scalar stream (Chan et al.'s parallel update): value targets
    learnt in normalised units, or the discounted returns rewards are scaled by."""

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


MAX_LOG_RATIO = 20.0


def _value_error(values: torch.Tensor, targets: torch.Tensor, huber: bool) -> torch.Tensor:
    return F.smooth_l1_loss(values, targets, reduction="none") if huber else (values - targets).pow(2)


def ppo_objective(
    dist: Distribution, values: torch.Tensor, *, actions: torch.Tensor, old_log_probs: torch.Tensor,
    advantages: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, clip_range: float, value_coef: float,
    entropy_coef: float, old_values: torch.Tensor | None = None, huber: bool = False,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Clipped surrogate + value loss - entropy bonus, averaged over the real steps (``mask``).

    Every tensor has the batch shape of ``dist`` (``[B, L]`` trials or ``[N]`` steps). The value
    loss is ``0.5 * (V - target)^2``, or ``0.5 * smooth_l1`` with ``huber``; given ``old_values``
    (the values the data was collected with) it is clipped like the ratio (PPO2's clipped value
    loss: the larger of the clipped and unclipped errors), as VariBAD's reference does.
    """
    steps = mask.sum().clamp(min=1.0)
    log_probs = dist.log_prob(actions)
    # A Gaussian with a small std whose mean drifts outside a clipped action range (where the reward
    # cannot see it) can move a stored action's log-probability by a hundred in one epoch. The KL
    # estimate then took log(exp(-110)) = log(0) = -inf, stopping an RL² run on an infinite
    # approx_kl (it is computed from the log-ratio now), and exp(+90) overflows float32. Beyond the
    # bound (ratio 4.9e8 or 2e-9) a sample gives no gradient; within it nothing changes.
    log_ratio = ((log_probs - old_log_probs) * mask).clamp(-MAX_LOG_RATIO, MAX_LOG_RATIO)
    ratio = torch.exp(log_ratio)
    surrogate = torch.min(ratio * advantages, torch.clamp(ratio, 1 - clip_range, 1 + clip_range) * advantages)
    policy_loss = -(surrogate * mask).sum() / steps
    error = _value_error(values, targets, huber)
    if old_values is not None:
        clipped = old_values + (values - old_values).clamp(-clip_range, clip_range)
        error = torch.max(error, _value_error(clipped, targets, huber))
    value_loss = 0.5 * (error * mask).sum() / steps
    entropy = (dist.entropy() * mask).sum() / steps
    loss = policy_loss + value_coef * value_loss - entropy_coef * entropy
    with torch.no_grad():
        approx_kl = (((ratio - 1) - log_ratio) * mask).sum() / steps
        clip_fraction = (((ratio - 1).abs() > clip_range).float() * mask).sum() / steps
    stats = {"policy_loss": float(policy_loss.detach()), "value_loss": float(value_loss.detach()),
             "entropy": float(entropy.detach()), "approx_kl": float(approx_kl), "clip_fraction": float(clip_fraction)}
    return loss, stats
