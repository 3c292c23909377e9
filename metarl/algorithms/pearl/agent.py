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
    draws the next episode's z (prior while exploring, then the posterior of all context).

    ``task`` may hold T tasks, a row each (``metarl success`` plays them in one forward a step): then
    ``act(obs [T, obs_dim], rows=)`` and ``observe(... [T], rows=)`` take a bool mask ``rows [T]`` of
    the rows whose episode is still on; the others' context, episode count and z stay as they were.
    The context is one preallocated ``[T, capacity, C]`` tensor with a length per row (doubled when
    full), so the posterior of every row is one masked product of Gaussians.
    """

    def __init__(self, *, learner: Any, task: TaskBatch, seed: int = 0) -> None:
        self.learner, self.task, self.device = learner, task, learner.device
        self.rows = len(task)
        self.obs_dim = int(np.prod(learner.env.single_observation_space.shape))
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.fixed = learner.task_latent(task) if learner.nets.encoder is None else None
        self.forget()

    def forget(self) -> None:
        """No context: the start of each task's first episode."""
        self.buffer: torch.Tensor | None = None  # [T, capacity, C], allocated at the first step
        self.lengths = torch.zeros(self.rows, dtype=torch.long)  # on the CPU: indexing reads it every step
        self.episodes = np.zeros(self.rows, dtype=np.int64)
        self.z = self._latents(np.ones(self.rows, dtype=bool), None)
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def context(self) -> list[torch.Tensor]:
        """Each row's transitions so far, ``[n_i, C]`` (the context q(z | c) conditions on)."""
        if self.buffer is None:
            return [torch.zeros(0, device=self.device) for _ in range(self.rows)]
        return [self.buffer[i, : int(n)] for i, n in enumerate(self.lengths.tolist())]

    def _latents(self, rows: np.ndarray, old: torch.Tensor | None) -> torch.Tensor:
        """``[T, L]``: a new z for ``rows`` (prior while exploring or without context, else the
        posterior), ``old`` elsewhere. Draws only what is needed, so one row draws as the one-task
        protocol (``collection.play``) does."""
        if self.fixed is not None:
            return self.fixed
        explore = (self.episodes < self.learner.config.evaluation.exploration) | (self.lengths.numpy() == 0)
        out = torch.zeros(self.rows, self.learner.latent_dim, device=self.device) if old is None else old
        for chosen, draw in ((rows & explore, self._prior), (rows & ~explore, self._posterior)):
            if chosen.any():
                out = torch.where(torch.as_tensor(chosen, device=self.device).unsqueeze(1), draw(), out)
        return out

    def _prior(self) -> torch.Tensor:
        return torch.randn(self.rows, self.learner.latent_dim, generator=self.generator, device=self.device)

    def _posterior(self) -> torch.Tensor:
        mask = torch.arange(self.buffer.shape[1]) < self.lengths.unsqueeze(1)
        return self.learner.posterior_latent(self.buffer, mask.to(self.device), self.generator)

    def _mask(self, rows: np.ndarray | None) -> np.ndarray:
        return np.ones(self.rows, dtype=bool) if rows is None else np.asarray(rows, dtype=bool).reshape(self.rows)

    @torch.no_grad()
    def act(self, obs: np.ndarray, *, deterministic: bool | None = None, rows: np.ndarray | None = None) -> np.ndarray:
        """The next action in env units, a row per task; ``deterministic`` None: as the run evaluates."""
        if deterministic is None:
            deterministic = self.learner.config.evaluation.eval_deterministic
        batch, single = as_batch(obs, self.obs_dim)
        if batch.shape[0] != self.rows:
            raise ValueError(f"a PEARL agent infers a latent per task: act on one observation for each of its "
                             f"{self.rows} task(s), got {batch.shape[0]}")
        x = torch.as_tensor(batch, device=self.device)
        policy = self.learner.policy
        dist = policy.distribution(x, {"z": self.z})
        pre_tanh = dist.mode if deterministic else sample_action(dist, self.generator)
        self._last = (x, pre_tanh)
        out = policy.env_action(pre_tanh).cpu().numpy()
        return out[0] if single else out

    def observe(self, reward: Any, terminated: Any, truncated: Any, next_obs: np.ndarray | None = None,
                *, rows: np.ndarray | None = None) -> None:
        """Adds the step to the context (s, tanh a, r[, s']) of ``rows``; a new z where an episode ended."""
        if self._last is None:
            raise ValueError("observe follows act: there is no action to attach this reward to")
        obs, pre_tanh = self._last
        reward_t = torch.as_tensor(np.broadcast_to(np.asarray(reward, dtype=np.float32), (self.rows,)).copy(),
                                   device=self.device).unsqueeze(1)
        parts = [obs, torch.tanh(pre_tanh), reward_t]
        if self.learner.config.network.next_obs_in_context:
            if next_obs is None:
                raise ValueError("this run's context holds s': observe needs next_obs")
            parts.append(torch.as_tensor(as_batch(next_obs, self.obs_dim)[0], device=self.device))
        mask = self._mask(rows)
        self._append(torch.cat(parts, dim=-1), mask)
        self._last = None
        ended = mask & np.broadcast_to(np.logical_or(terminated, truncated), (self.rows,))
        if ended.any():
            self.episodes += ended
            self.z = self._latents(ended, self.z)

    def _append(self, step: torch.Tensor, mask: np.ndarray) -> None:
        """``step [T, C]`` onto the context of the rows in ``mask``."""
        if self.buffer is None:
            self.buffer = step.new_zeros(self.rows, 256, step.shape[-1])
        if int(self.lengths.max()) >= self.buffer.shape[1]:
            self.buffer = torch.cat([self.buffer, torch.zeros_like(self.buffer)], dim=1)
        idx = torch.as_tensor(np.flatnonzero(mask))
        self.buffer[idx, self.lengths[idx]] = step[idx]
        self.lengths[idx] += 1

    def reset(self) -> None:
        """A new episode of the same tasks: the context stays (that is how PEARL adapts)."""

    def state_dict(self) -> dict[str, Any]:
        """z, the context and the episodes seen, on the CPU (for several rows, a list of each)."""
        context, episodes = [c.cpu() for c in self.context], self.episodes.tolist()
        if self.rows == 1:  # the one-task agent's format, as saved agent files hold it
            return {"z": self.z.cpu(), "context": context[0], "episodes": episodes[0]}
        return {"z": self.z.cpu(), "context": context, "episodes": episodes}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        z = state["z"]
        if z.shape != self.z.shape:
            raise ValueError(f"the saved latent has shape {list(z.shape)}; this run's is {list(self.z.shape)}")
        context = state["context"]
        if isinstance(context, torch.Tensor):  # written by the one-task agent before rows: [n, C]
            context = [context]
        episodes = np.atleast_1d(np.asarray(state["episodes"], dtype=np.int64))
        if len(context) != self.rows or len(episodes) != self.rows:
            raise ValueError(f"the saved agent holds {len(context)} task(s); this one {self.rows}")
        self.forget()
        self.z, self.episodes = z.to(self.device), episodes.copy()
        widths = {int(c.shape[-1]) for c in context if c.numel()}
        if widths:
            longest = max(int(c.shape[0]) for c in context)
            self.buffer = torch.zeros(self.rows, max(256, longest), widths.pop(), device=self.device)
            for i, rows in enumerate(context):
                self.buffer[i, : rows.shape[0]] = rows.to(self.device)
                self.lengths[i] = rows.shape[0]


def make_agent(learner: Any, task: TaskBatch, *, episodes: int | None = None, seed: int = 0,
               adapted: bool = True) -> LatentAgent:
    """Play ``episodes`` episodes on ``task`` (a batch of one; default: the run's evaluation
    trajectories minus one) and return the agent with the z it would act with next.
    ``adapted=False``: the agent before any context, acting with z from the prior; then ``task`` may
    hold several tasks, a row of the agent each (``metarl success`` plays them in one forward a step)."""
    if len(task) != 1 and adapted:
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
