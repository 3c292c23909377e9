"""Synchronous, batched collection of episodes.

The sampler steps a ``BatchedTaskEnv`` and runs the policy once per step over every task x episode;
it knows nothing of adaptation. Feed-forward policies (MAML) may run with per-task parameters
(``params`` with a leading task dimension), applied in one batched call. Recurrent policies (RL²)
run trials: the episodes of one trial follow each other on one sub-environment and the hidden state
is carried across their boundaries, reset only at the start of a trial.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch.distributions import Distribution

from metarl.envs.base import BatchedTaskEnv
from metarl.rollout.trajectories import Trajectories, TrialSequence
from metarl.tasks import TaskBatch, check_count


class FeedForwardPolicy(Protocol):
    discrete: bool

    def distribution(self, obs: torch.Tensor, params: Mapping[str, torch.Tensor] | None = None) -> Distribution: ...


class RecurrentPolicy(Protocol):
    discrete: bool

    def initial_state(self, batch_size: int, device: torch.device) -> Any: ...

    def step(
        self, obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor,
        prev_done: torch.Tensor, state: Any,
    ) -> tuple[Distribution, torch.Tensor, Any]:
        """One step for ``[B, ...]`` inputs: ``(action distribution, value [B], next state)``."""
        ...


def _masked(x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """``x [B, ...]`` with the rows where ``keep [B]`` is false set to zero (padding)."""
    return x * keep.view(-1, *([1] * (x.dim() - 1))).to(x.dtype)


def _act(dist: Distribution, deterministic: bool) -> torch.Tensor:
    return dist.mode if deterministic else dist.sample()


class Sampler:
    """Collects episodes from one batched environment. ``seed`` fixes the environment's stream;
    actions are drawn from torch's global generator (seed it with ``metarl.runs.seed_everything``)."""

    def __init__(self, *, env: BatchedTaskEnv, device: torch.device | str = "cpu", seed: int | None = None) -> None:
        self.env = env
        self.device = torch.device(device)
        env.reset(seed=seed)

    def _buffers(self, lead: tuple[int, ...], discrete: bool) -> dict[str, torch.Tensor]:
        env, dev = self.env, self.device
        act_shape = () if discrete else env.single_action_space.shape
        obs_shape = env.single_observation_space.shape
        return {
            "obs": torch.zeros(*lead, *obs_shape, device=dev),
            "actions": torch.zeros(*lead, *act_shape, device=dev, dtype=torch.long if discrete else torch.float32),
            **{k: torch.zeros(*lead, device=dev) for k in ("rewards", "log_probs", "values", "mask")},
            "terminated": torch.zeros(*lead, dtype=torch.bool, device=dev),
            "truncated": torch.zeros(*lead, dtype=torch.bool, device=dev),
        }

    def _to_tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(array, device=self.device)

    @torch.no_grad()
    def collect(
        self,
        policy: FeedForwardPolicy,
        tasks: TaskBatch,
        episodes_per_task: int,
        *,
        params: Mapping[str, torch.Tensor] | None = None,
        deterministic: bool = False,
    ) -> Trajectories:
        """``episodes_per_task`` episodes of every task, all in parallel.

        ``params``: the policy's parameters by name, either shared or with a leading task
        dimension (one set per task, e.g. MAML's adapted parameters); None uses the policy's own.
        """
        env, n_tasks = self.env, len(tasks)
        env.set_tasks(tasks, check_count("episodes_per_task", episodes_per_task))
        horizon, n = env.max_episode_steps, env.num_envs
        buf = self._buffers((n, horizon), policy.discrete)
        last_obs = torch.zeros(n, *env.single_observation_space.shape, device=self.device)
        alive = torch.ones(n, dtype=torch.bool, device=self.device)
        obs_np, _ = env.reset()
        steps = 0
        for t in range(horizon):
            obs = self._to_tensor(obs_np)
            dist = policy.distribution(obs.view(n_tasks, episodes_per_task, *obs.shape[1:]), params)
            action = _act(dist, deterministic)
            flat_action = action.reshape(n, *action.shape[2:])
            obs_np, reward, term, trunc, _ = env.step(flat_action.cpu().numpy())
            term_t, trunc_t = self._to_tensor(term), self._to_tensor(trunc)
            trunc_t = trunc_t | (t == horizon - 1)
            buf["obs"][:, t], buf["actions"][:, t] = _masked(obs, alive), _masked(flat_action, alive)
            buf["rewards"][:, t] = self._to_tensor(reward).float() * alive
            buf["log_probs"][:, t] = dist.log_prob(action).reshape(n) * alive
            buf["terminated"][:, t], buf["truncated"][:, t] = term_t & alive, trunc_t & alive & ~term_t
            buf["mask"][:, t] = alive.float()
            ended = alive & (term_t | trunc_t)
            last_obs[ended] = self._to_tensor(obs_np)[ended]
            alive = alive & ~ended
            steps = t + 1
            if not alive.any():
                break
        shape = (n_tasks, episodes_per_task, steps)
        fields = {k: v[:, :steps].reshape(*shape, *v.shape[2:]) for k, v in buf.items() if k != "values"}
        return Trajectories(**fields, last_obs=last_obs.view(n_tasks, episodes_per_task, -1))

    @torch.no_grad()
    def collect_trials(
        self,
        policy: RecurrentPolicy,
        tasks: TaskBatch,
        episodes_per_trial: int,
        *,
        deterministic: bool = False,
    ) -> TrialSequence:
        """One trial of ``episodes_per_trial`` consecutive episodes for each task of ``tasks``.

        The recurrent state starts from ``policy.initial_state`` and is never reset inside the
        trial; the policy also sees the previous action, reward and episode-end flag.
        """
        env, n_ep = self.env, check_count("episodes_per_trial", episodes_per_trial)
        env.set_tasks(tasks, 1)
        b, max_len = env.num_envs, n_ep * env.max_episode_steps
        buf = self._buffers((b, max_len), policy.discrete)
        episode_index = torch.zeros(b, max_len, dtype=torch.long, device=self.device)
        saved_mode, env.autoreset_mode = env.autoreset_mode, AutoresetMode.SAME_STEP
        try:
            obs_np, _ = env.reset()
            state = policy.initial_state(b, self.device)
            prev_action = buf["actions"][:, 0].clone()
            prev_reward, prev_done = torch.zeros(b, device=self.device), torch.zeros(b, device=self.device)
            episode = torch.zeros(b, dtype=torch.long, device=self.device)
            steps = 0
            for k in range(max_len):
                obs = self._to_tensor(obs_np)
                dist, value, state = policy.step(obs, prev_action, prev_reward, prev_done, state)
                action = _act(dist, deterministic)
                obs_np, reward, term, trunc, _ = env.step(action.cpu().numpy())
                active = (episode < n_ep).float()
                reward_t = self._to_tensor(reward).float()
                done = self._to_tensor(term | trunc)
                buf["obs"][:, k], buf["actions"][:, k] = _masked(obs, active), _masked(action, active)
                buf["rewards"][:, k], buf["log_probs"][:, k] = reward_t * active, dist.log_prob(action) * active
                buf["values"][:, k], buf["mask"][:, k] = value * active, active
                buf["terminated"][:, k] = self._to_tensor(term) & (active > 0)
                buf["truncated"][:, k] = self._to_tensor(trunc) & (active > 0)
                episode_index[:, k] = episode
                episode = episode + done.long()
                prev_action, prev_reward, prev_done = action, reward_t, done.float()
                steps = k + 1
                if not (episode < n_ep).any():
                    break
        finally:
            env.autoreset_mode = saved_mode
        fields = {k: v[:, :steps] for k, v in buf.items()}
        return TrialSequence(**fields, episode_index=episode_index[:, :steps], episodes_per_trial=n_ep)
