"""From sampled episodes to what the MAML losses need, and the sampled adaptation loop.

``prepare_batch`` fits the per-task linear baseline (MAML paper) and turns rewards into
normalised advantages; ``sample_adaptation`` alternates sampling with the current adapted
parameters and one inner step, K times, for every task at once (no graph kept: this is the data
collection; the differentiable replay lives in the learner).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import torch
from torch import nn

from metarl.algorithms.maml.adaptation import StepSize, policy_inner_step
from metarl.algorithms.maml.objectives import normalize_advantages, task_mean
from metarl.policies.mlp import expand_params, named_params
from metarl.rl.baselines import linear_baseline_with_next
from metarl.rl.returns import Truncation, discounted_returns, gae
from metarl.rollout.sampler import Sampler
from metarl.rollout.trajectories import Trajectories
from metarl.tasks import TaskBatch


@dataclasses.dataclass(frozen=True, kw_only=True)
class EpisodeBatch:
    """Episodes of every task with their learning signal (all constants).

    ``obs [tasks, E, H, obs_dim]``, ``actions [tasks, E, H(, act_dim)]``, ``mask``,
    ``advantages`` (normalised per task), ``old_log_probs [tasks, E, H]`` (of the sampling policy);
    ``value [tasks]``: mean reward-to-go per step divided by the advantage scale (the objective's
    value in the surrogate's units, for the DiCE sampling term); ``returns [tasks]``: mean
    undiscounted episode return; ``success [tasks]``: the fraction of episodes that succeeded
    (``info["success"]`` at any step, Meta-World's criterion), None where the env reports none.
    """

    obs: torch.Tensor
    actions: torch.Tensor
    mask: torch.Tensor
    advantages: torch.Tensor
    old_log_probs: torch.Tensor
    value: torch.Tensor
    returns: torch.Tensor
    success: torch.Tensor | None = None


def prepare_batch(traj: Trajectories, *, gamma: float, gae_lambda: float, truncation: Truncation = "bootstrap",
                  dtype: torch.dtype = torch.float32) -> EpisodeBatch:
    """Baseline per task, GAE over it, per-task advantage normalisation.

    ``truncation="bootstrap"``: an episode cut by the time limit is bootstrapped from the fitted
    baseline at its final observation (time feature t + 1); ``"terminal"``: a cut counts as the
    end of the MDP, rllab's protocol, under which the MAML paper's code ran. A terminated episode
    is never bootstrapped.
    """
    traj = traj.map(lambda t: t.to(dtype) if t.is_floating_point() else t)
    returns_to_go = discounted_returns(traj.rewards, traj.mask, gamma)
    values, next_values = linear_baseline_with_next(traj.obs, traj.next_obs, traj.mask, returns_to_go)
    adv, _ = gae(rewards=traj.rewards, values=values, next_values=next_values, terminated=traj.terminated,
                 truncated=traj.truncated, mask=traj.mask, gamma=gamma, lam=gae_lambda, truncation=truncation)
    adv, scale = normalize_advantages(adv, traj.mask)
    return EpisodeBatch(
        obs=traj.obs, actions=traj.actions, mask=traj.mask, advantages=adv, old_log_probs=traj.log_probs,
        value=task_mean(returns_to_go, traj.mask) / scale, returns=traj.episode_returns().mean(1),
        success=None if (won := traj.episode_success()) is None else won.to(dtype).mean(1),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Replayed:
    """The inner steps as a differentiable function of the meta-parameters: ``params`` the adapted
    parameters ``[tasks, ...]``; ``log_prob_sum [tasks]`` the total log-probability of the inner
    episodes under the parameters that sampled them (DiCE's sampling term sums it)."""

    params: dict[str, torch.Tensor]
    log_prob_sum: torch.Tensor


@dataclasses.dataclass(frozen=True, kw_only=True)
class SampledAdaptation:
    """``batches[k]``: episodes sampled with the step-k parameters (k = 0..steps);
    ``trace[k]``: the step-k parameters ``[tasks, ...]`` (detached); ``params``: the final ones;
    ``replayed``: the same steps with their graph to the meta-parameters, when sampled with
    ``differentiable=True`` (the outer step's first objective then needs no replay of its own)."""

    batches: list[EpisodeBatch]
    trace: list[dict[str, torch.Tensor]]
    time_sampling: float
    time_adaptation: float
    replayed: Replayed | None = None

    @property
    def params(self) -> dict[str, torch.Tensor]:
        return self.trace[-1]


def sample_adaptation(
    *, policy: nn.Module, sampler: Sampler, tasks: TaskBatch, episodes: int, step_sizes: Sequence[StepSize],
    gamma: float, gae_lambda: float, estimator: str = "plain", truncation: Truncation = "bootstrap",
    differentiable: bool = False, first_order: bool = False,
) -> SampledAdaptation:
    """Sample, step, sample, ... : ``len(step_sizes)`` inner steps, ``len(step_sizes) + 1`` batches.

    ``differentiable``: each step keeps its graph to the policy's parameters (second order unless
    ``first_order``), exactly the learner's replay of it, so the outer step's first objective (at
    these very parameters) reuses the steps instead of recomputing them; the sampler still acts
    with detached copies.
    """
    params = expand_params(named_params(policy), len(tasks))
    if not differentiable:
        params = {k: v.detach() for k, v in params.items()}
    batches, trace, t_sample, t_adapt = [], [_detached(params)], 0.0, 0.0
    log_prob_sum = next(iter(params.values())).new_zeros(len(tasks))
    for k in range(len(step_sizes) + 1):
        start = time.perf_counter()
        traj = sampler.collect(policy, tasks, episodes, params=trace[-1])
        mid = time.perf_counter()
        batches.append(prepare_batch(traj, gamma=gamma, gae_lambda=gae_lambda, truncation=truncation))
        if k < len(step_sizes):
            step = policy_inner_step(policy, params, batches[-1], step_sizes[k], estimator=estimator,
                                     create_graph=differentiable, first_order=first_order,
                                     detached=not differentiable)
            logp = step.log_probs
            log_prob_sum = log_prob_sum + (logp * batches[-1].mask).sum(tuple(range(1, logp.dim())))
            params = step.adapted
            trace.append(_detached(params))
        t_sample, t_adapt = t_sample + mid - start, t_adapt + time.perf_counter() - mid
    replayed = Replayed(params=params, log_prob_sum=log_prob_sum) if differentiable else None
    return SampledAdaptation(batches=batches, trace=trace, time_sampling=t_sample, time_adaptation=t_adapt,
                             replayed=replayed)


def _detached(params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach() for k, v in params.items()}


def adaptation_curves(
    *, policy: nn.Module, sampler: Sampler, tasks: TaskBatch, episodes: int, step_sizes: Sequence[StepSize],
    gamma: float, gae_lambda: float, truncation: Truncation = "bootstrap",
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``[steps + 1, tasks]`` mean episode return before adaptation and after each step, and the
    fraction of those episodes that succeeded (None where the env reports no success)."""
    out = sample_adaptation(policy=policy, sampler=sampler, tasks=tasks, episodes=episodes, step_sizes=step_sizes,
                            gamma=gamma, gae_lambda=gae_lambda, truncation=truncation)
    returns = torch.stack([b.returns for b in out.batches])
    success = [b.success for b in out.batches]
    return returns, None if any(s is None for s in success) else torch.stack(success)  # type: ignore[misc]

