"""PEARL's adapted agent: the policy with a task latent z inferred from the context it gathered.

It follows the test protocol (``collection.play``) one step at a time: the first ``exploration``
episodes act with a fresh z from the prior each, every later one with z ~ q(z | c), c being every
transition (s, tanh a, r[, s']) seen so far on the task; z changes only between episodes (when
``observe`` reports the end of one). Without an encoder (the oracle, multi-task SAC) z is fixed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from metarl.adapting import play_episode
from metarl.agents import as_batch
from metarl.errors import ConfigError
from metarl.rollout.slice_runner import sample_action
from metarl.tasks import TaskBatch, check_count


class LatentAgent:
    """Acts with the current z; ``observe`` adds each step to the context and, at an episode's end,
    draws the next episode's z (prior while exploring, then the posterior of all context)."""

    def __init__(self, *, learner: Any, task: TaskBatch, seed: int = 0) -> None:
        self.learner, self.task, self.device = learner, task, learner.device
        self.obs_dim = int(np.prod(learner.env.single_observation_space.shape))
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.fixed = learner.task_latent(task) if learner.nets.encoder is None else None
        self.forget()

    def forget(self) -> None:
        """No context: the start of a task's first episode."""
        self.context: list[torch.Tensor] = []
        self.episodes = 0
        self.z = self._next_latent()
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None

    def _next_latent(self) -> torch.Tensor:
        if self.fixed is not None:
            return self.fixed
        ev = self.learner.config.evaluation
        if self.episodes < ev.exploration or not self.context:
            return torch.randn(1, self.learner.latent_dim, generator=self.generator, device=self.device)
        context = torch.cat(self.context, dim=0).unsqueeze(0)
        return self.learner.posterior_latent(context, None, self.generator)

    @torch.no_grad()
    def act(self, obs: np.ndarray, *, deterministic: bool | None = None) -> np.ndarray:
        """The next action in env units; ``deterministic`` None: as the run evaluates."""
        if deterministic is None:
            deterministic = self.learner.config.evaluation.eval_deterministic
        batch, single = as_batch(obs, self.obs_dim)
        if not single:
            raise ValueError("a PEARL agent infers one task's latent: act on one observation at a time")
        x = torch.as_tensor(batch, device=self.device)
        policy = self.learner.policy
        dist = policy.distribution(x, {"z": self.z})
        pre_tanh = dist.mode if deterministic else sample_action(dist, self.generator)
        self._last = (x, pre_tanh)
        return policy.env_action(pre_tanh)[0].cpu().numpy()

    def observe(self, reward: Any, terminated: Any, truncated: Any, next_obs: np.ndarray | None = None) -> None:
        """Adds the step to the context (s, tanh a, r[, s']); a new z once the episode is over."""
        if self._last is None:
            raise ValueError("observe follows act: there is no action to attach this reward to")
        obs, pre_tanh = self._last
        parts = [obs, torch.tanh(pre_tanh), torch.full((1, 1), float(reward), device=self.device)]
        if self.learner.config.network.next_obs_in_context:
            if next_obs is None:
                raise ValueError("this run's context holds s': observe needs next_obs")
            parts.append(torch.as_tensor(as_batch(next_obs, self.obs_dim)[0], device=self.device))
        self.context.append(torch.cat(parts, dim=-1))
        self._last = None
        if bool(np.any(terminated)) or bool(np.any(truncated)):
            self.episodes += 1
            self.z = self._next_latent()

    def reset(self) -> None:
        """A new episode of the same task: the context stays (that is how PEARL adapts)."""

    def state_dict(self) -> dict[str, Any]:
        """z, the context and the episodes seen, on the CPU."""
        context = torch.cat(self.context, 0).cpu() if self.context else torch.zeros(0)
        return {"z": self.z.cpu(), "context": context, "episodes": self.episodes}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        z = state["z"]
        if z.shape != self.z.shape:
            raise ValueError(f"the saved latent has shape {list(z.shape)}; this run's is {list(self.z.shape)}")
        self.z, self.episodes = z.to(self.device), int(state["episodes"])
        context = state["context"]
        self.context = [context.to(self.device)] if context.numel() else []
        self._last = None


def make_agent(learner: Any, task: TaskBatch, *, episodes: int | None = None, seed: int = 0,
               adapted: bool = True) -> LatentAgent:
    """Play ``episodes`` episodes on ``task`` (a batch of one; default: the run's evaluation
    trajectories minus one) and return the agent with the z it would act with next.
    ``adapted=False``: the agent before any context, acting with z from the prior."""
    if len(task) != 1:
        raise ConfigError(f"adapt takes one task (a batch of 1), got {len(task)}")
    n = 0 if not adapted else learner.config.evaluation.eval_trajectories - 1 if episodes is None else episodes
    agent = LatentAgent(learner=learner, task=task, seed=seed)
    if n > 0:
        check_count("episodes", n)
        env = learner.env_factory(tasks=task)
        env.reset(seed=seed)
        for _ in range(n):
            play_episode(agent, env)
    return agent
