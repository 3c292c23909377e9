"""The MAML meta-learner for RL: sampled inner adaptation, exact meta-gradient, TRPO or PPO outer.

One meta-iteration: sample a batch of tasks; for each inner step sample episodes with the current
adapted parameters and take a policy-gradient step; sample post-adaptation episodes; then improve
the meta-parameters on the post-adaptation surrogate. The outer objective recomputes ("replays")
the inner steps on the stored episodes as a differentiable function of the meta-parameters, so
every TRPO probe and Hessian-vector product goes through the adaptation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical, Distribution, Independent, Normal, kl_divergence

from metarl.algorithms.maml.adaptation import policy_inner_step
from metarl.algorithms.maml.config import MamlConfig
from metarl.algorithms.maml.curvature import gauss_newton_fvp
from metarl.algorithms.maml.episodes import (
    EpisodeBatch,
    Replayed,
    SampledAdaptation,
    adaptation_curves,
    sample_adaptation,
)
from metarl.algorithms.maml.objectives import outer_surrogate, sampling_term, task_mean
from metarl.envs.registry import EnvFactory
from metarl.policies.mlp import CategoricalMLPPolicy, GaussianMLPPolicy, expand_params, named_params
from metarl.rl.trpo import trpo_step
from metarl.rollout import Sampler
from metarl.tasks import TaskBatch, TaskSet


def build_policy(env: Any, config: MamlConfig) -> nn.Module:
    import gymnasium as gym

    obs_dim = int(env.single_observation_space.shape[0])
    space = env.single_action_space
    if isinstance(space, gym.spaces.Discrete):
        return CategoricalMLPPolicy(obs_dim=obs_dim, n_actions=int(space.n), hidden_sizes=config.policy.hidden_sizes,
                                    activation=config.policy.activation)
    bounds = None
    if config.policy.normalize_actions:
        if not (np.isfinite(space.low).all() and np.isfinite(space.high).all()):
            raise ValueError(f"normalize_actions needs a bounded action space; {config.env!r} has "
                             f"low={space.low.tolist()}, high={space.high.tolist()}")
        bounds = (space.low.tolist(), space.high.tolist())
    return GaussianMLPPolicy(obs_dim=obs_dim, act_dim=int(space.shape[0]), hidden_sizes=config.policy.hidden_sizes,
                             activation=config.policy.activation, init_std=config.policy.init_std,
                             action_bounds=bounds, init_mean_scale=config.policy.init_mean_scale,
                             action_scale=config.policy.action_scale)


def _detached_distribution(policy: nn.Module, obs: torch.Tensor, params: Mapping[str, torch.Tensor]) -> Distribution:
    with torch.no_grad():
        return policy.distribution(obs, {k: v.detach() for k, v in params.items()})


def detached_distribution(dist: Distribution) -> Distribution:
    """The same policy as a constant: a diagonal Gaussian or a categorical without its graph."""
    if isinstance(dist, Independent) and isinstance(dist.base_dist, Normal):
        return Independent(Normal(dist.base_dist.loc.detach(), dist.base_dist.scale.detach()),
                           dist.reinterpreted_batch_ndims)
    if isinstance(dist, Categorical):
        return Categorical(logits=dist.logits.detach())
    raise TypeError(f"cannot detach a {type(dist).__name__} policy distribution")


class MamlLearner:
    """MAML (Finn et al. 2017) with selectable meta-gradient estimator. ``joint=True`` trains the
    same policy with the same outer optimiser but no adaptation (the "pretrained on all tasks"
    baseline)."""

    name = "maml"
    headline_metrics = ("return_pre", "return_post")

    def __init__(self, *, config: MamlConfig, env: EnvFactory, tasks: TaskSet, sampler: Sampler,
                 joint: bool = False) -> None:
        self.config, self.joint, self.env_factory, self.tasks = config, joint, env, tasks
        self.device = torch.device(config.device)
        self.sampler = sampler
        self.env = env()
        self.eval_sampler = Sampler(env_factory=env, device=self.device, seed=config.seed + 1)
        self.train_rng = tasks.train_rng()
        self.validation_set = tasks.validation_tasks(config.evaluation.validation_tasks)
        self.policy = build_policy(self.env, config).to(self.device)
        self.step_sizes: dict[str, torch.Tensor] | None = None
        if config.inner.learn_inner_lr:
            self.step_sizes = {k: torch.full_like(v, config.inner.inner_lr, requires_grad=True)
                               for k, v in named_params(self.policy).items()}
        outer = config.optimizer
        self.optimizer = torch.optim.Adam(self.meta_parameters(), lr=outer.outer_lr) if outer.outer == "ppo" else None

    def close(self) -> None:
        """Release the sampler's workers (Ray actors), if any."""
        close = getattr(self.sampler, "close", None)
        if close is not None:
            close()

    # ------------------------------------------------------------------ pieces
    def meta_parameters(self) -> list[torch.Tensor]:
        """What the outer loop updates: the policy's parameters (and Meta-SGD step sizes)."""
        extra = list(self.step_sizes.values()) if self.step_sizes is not None else []
        return list(self.policy.parameters()) + extra

    @property
    def train_steps(self) -> int:
        return 0 if self.joint else self.config.inner.inner_steps

    def inner_step_sizes(self, lrs: list[float]) -> list[Any]:
        """The step size of each step: the learned ones (Meta-SGD) or the given numbers."""
        return [self.step_sizes] * len(lrs) if self.step_sizes is not None else list(lrs)

    def replay(self, batches: list[EpisodeBatch], *, tasks: int, create_graph: bool) -> tuple[
            dict[str, torch.Tensor], torch.Tensor]:
        """Adapted parameters ``[tasks, ...]`` as a function of the meta-parameters, recomputed on
        the stored inner batches; also the total log-probability ``[tasks]`` of those batches under
        the parameters that sampled them (for the DiCE sampling term)."""
        inner = self.config.inner
        params = expand_params(named_params(self.policy), tasks)
        log_prob_sum = next(iter(params.values())).new_zeros(tasks)  # on the policy's device and dtype
        lrs = self.inner_step_sizes([inner.inner_lr] * len(batches))
        for batch, lr in zip(batches, lrs, strict=True):
            step = policy_inner_step(self.policy, params, batch, lr, estimator=inner.estimator,
                                     create_graph=create_graph, first_order=inner.first_order)
            logp = step.log_probs
            log_prob_sum = log_prob_sum + (logp * batch.mask).sum(tuple(range(1, logp.dim())))
            params = step.adapted
        return params, log_prob_sum

    def _replayed(self, batches: list[EpisodeBatch], *, tasks: int, create_graph: bool) -> Replayed:
        params, log_prob_sum = self.replay(batches, tasks=tasks, create_graph=create_graph)
        return Replayed(params=params, log_prob_sum=log_prob_sum)

    def outer_objective(self, batches: list[EpisodeBatch], post: EpisodeBatch, old: Distribution, *,
                        create_graph: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loss to minimise, mean KL from the sampling policies)`` of the post-adaptation episodes."""
        replayed = self._replayed(batches, tasks=post.obs.shape[0], create_graph=create_graph)
        loss, kl, _ = self._objective_terms(replayed, batches, post, old)
        return loss, kl

    def _objective_terms(self, replayed: Replayed, batches: list[EpisodeBatch], post: EpisodeBatch,
                         old: Distribution | None) -> tuple[torch.Tensor, torch.Tensor, Distribution]:
        """Loss, KL and the post-adaptation policies given the adapted parameters; ``old=None``:
        the sampling policies are these (KL zero in value, with its curvature)."""
        c = self.config
        dist = self.policy.distribution(post.obs, replayed.params)
        clip = c.optimizer.ppo_clip if c.optimizer.outer == "ppo" else None
        surrogate = outer_surrogate(dist.log_prob(post.actions), post.old_log_probs, post.advantages, post.mask,
                                    clip=clip)
        if c.inner.estimator == "dice" and batches:
            surrogate = surrogate + sampling_term(replayed.log_prob_sum, post.value)
        kl = task_mean(kl_divergence(detached_distribution(dist) if old is None else old, dist), post.mask).mean()
        return -surrogate.mean(), kl, dist

    def outer_closure(self, sampled: SampledAdaptation) -> Callable[[bool], tuple[torch.Tensor, torch.Tensor]]:
        """``objective(create_graph) -> (loss, kl)`` for the outer optimiser. The first call is at
        the parameters that sampled (TRPO's gradient, PPO's first epoch): it reuses the sampled
        steps' graph (``sample_adaptation(differentiable=True)``) and takes the sampling policies
        from its own forward; later calls (line-search probes, later epochs) replay the steps."""
        *inner, post = sampled.batches
        state: dict[str, Any] = {"replayed": sampled.replayed, "old": None}

        def objective(create_graph: bool) -> tuple[torch.Tensor, torch.Tensor]:
            replayed, state["replayed"] = state["replayed"], None
            if replayed is None:
                replayed = self._replayed(inner, tasks=post.obs.shape[0], create_graph=create_graph)
                if state["old"] is None:
                    state["old"] = _detached_distribution(self.policy, post.obs, sampled.params)
            loss, kl, dist = self._objective_terms(replayed, inner, post, state["old"])
            if state["old"] is None:
                state["old"] = detached_distribution(dist)
            return loss, kl

        return objective

    # ------------------------------------------------------------------ protocol
    def train_iteration(self, iteration: int) -> dict[str, float]:
        c = self.config
        tasks = self.tasks.train_batch(c.sampling.meta_batch_size, self.train_rng)
        sampled = sample_adaptation(
            policy=self.policy, sampler=self.sampler, tasks=tasks, episodes=c.sampling.episodes_per_task,
            step_sizes=self.inner_step_sizes([c.inner.inner_lr] * self.train_steps), gamma=c.loss.gamma,
            gae_lambda=c.loss.gae_lambda, estimator=c.inner.estimator, truncation=c.loss.truncation,
            differentiable=True, first_order=c.inner.first_order)
        post = sampled.batches[-1]
        start = time.perf_counter()
        metrics = self._outer_update(self.outer_closure(sampled), sampled)
        metrics["time_outer"] = time.perf_counter() - start
        metrics.update(time_sampling=sampled.time_sampling, time_adaptation=sampled.time_adaptation)
        metrics["return_pre"] = float(sampled.batches[0].returns.mean())
        metrics["return_post"] = float(post.returns.mean())
        for k, batch in enumerate(sampled.batches[1:-1], start=1):
            metrics[f"return_step{k}"] = float(batch.returns.mean())
        return metrics

    def _outer_update(self, objective: Any, sampled: SampledAdaptation) -> dict[str, float]:
        inner, opt = self.config.inner, self.config.optimizer
        if opt.outer == "trpo":
            fvp = None
            if self.step_sizes is None:  # Meta-SGD falls back to the generic double backward
                fvp = gauss_newton_fvp(
                    policy=self.policy, trace=sampled.trace, inner=sampled.batches[:-1], post=sampled.batches[-1],
                    step_sizes=[inner.inner_lr] * self.train_steps, estimator=inner.estimator,
                    first_order=inner.first_order, damping=opt.cg_damping, episodes=opt.fvp_episodes)
            stats = trpo_step(params=self.meta_parameters(), objective=objective, max_kl=opt.max_kl,
                              damping=opt.cg_damping, cg_iterations=opt.cg_iterations,
                              backtrack_ratio=opt.ls_backtrack_ratio, max_backtracks=opt.ls_max_steps, fvp=fvp)
            return stats.metrics()
        losses = []
        for _ in range(opt.ppo_epochs):
            loss, kl = objective(True)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(float(loss.detach()))
        return {"ppo_loss_first": losses[0], "ppo_loss_last": losses[-1], "ppo_kl": float(kl.detach())}

    def post_adaptation_returns(self, tasks: TaskBatch, *, lrs: list[float], episodes: int,
                                seed: int | None = None) -> torch.Tensor:
        """``[len(lrs) + 1, tasks]`` mean returns before and after each step, on the eval stream
        (restarted from ``seed`` when given, so learners compared on the same seed see the same
        start states)."""
        return self.post_adaptation(tasks, lrs=lrs, episodes=episodes, seed=seed)[0]

    def post_adaptation(self, tasks: TaskBatch, *, lrs: list[float], episodes: int,
                        seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``post_adaptation_returns`` and, beside it, ``[len(lrs) + 1, tasks]`` the fraction of
        each task's episodes that succeeded (None where the env reports no success)."""
        if seed is not None:
            self.eval_sampler.reseed(seed)
        return adaptation_curves(policy=self.policy, sampler=self.eval_sampler, tasks=tasks, episodes=episodes,
                                 step_sizes=self.inner_step_sizes(lrs), gamma=self.config.loss.gamma,
                                 gae_lambda=self.config.loss.gae_lambda, truncation=self.config.loss.truncation)

    def validate(self) -> float:
        c = self.config
        curve = self.post_adaptation_returns(self.validation_set, lrs=[c.inner.inner_lr] * c.inner.inner_steps,
                                             episodes=c.sampling.episodes_per_task)
        return float(curve[-1].mean())

    def state_dict(self) -> dict[str, Any]:
        return {
            "algorithm": self.name,
            "policy": {k: v.detach().clone() for k, v in self.policy.state_dict().items()},
            "step_sizes": None if self.step_sizes is None else {k: v.detach().clone()
                                                                  for k, v in self.step_sizes.items()},
            "optimizer": None if self.optimizer is None else self.optimizer.state_dict(),
            "train_rng": self.train_rng.bit_generator.state,
            "sampler": self.sampler.state_dict(),
            "eval_sampler": self.eval_sampler.state_dict(),
            "torch_rng": torch.get_rng_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("algorithm") != self.name:
            raise ValueError(f"checkpoint is from algorithm {state.get('algorithm')!r}, not {self.name!r}")
        self.policy.load_state_dict(state["policy"])
        if (state["step_sizes"] is None) != (self.step_sizes is None):
            raise ValueError("checkpoint and config disagree on learn_inner_lr (Meta-SGD step sizes)")
        if self.step_sizes is not None:
            with torch.no_grad():
                for k, v in state["step_sizes"].items():
                    self.step_sizes[k].copy_(v)
        if self.optimizer is not None and state["optimizer"] is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        self.train_rng.bit_generator.state = state["train_rng"]
        self.sampler.load_state_dict(state["sampler"])
        self.eval_sampler.load_state_dict(state["eval_sampler"])
        torch.set_rng_state(state["torch_rng"])
