"""MAML's adapted agent: the meta-policy after the evaluation protocol's inner steps on one task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from metarl.agents import as_batch
from metarl.algorithms.maml.adaptation import step_size_schedule
from metarl.algorithms.maml.episodes import sample_adaptation
from metarl.errors import ConfigError
from metarl.policies.mlp import expand_params, named_params
from metarl.tasks import TaskBatch, check_count


class AdaptedPolicy:
    """``policy`` with adapted parameters, ``params`` with a leading task dim T.

    With T = 1, ``act(obs [B, obs_dim])`` plays that task on B observations. With T > 1 (one agent for
    a batch of tasks, as ``metarl success`` plays them) row i of ``obs [T, obs_dim]`` is task i's and
    acts with its parameters: one forward for every task. ``rows`` is accepted for that protocol and
    changes nothing: the parameters are fixed, so a row whose episode ended has no state to keep.
    ``returns_by_step``: the mean episode return over the tasks at each adaptation step.
    """

    def __init__(self, *, policy: nn.Module, params: Mapping[str, torch.Tensor], obs_dim: int,
                 returns_by_step: list[float]) -> None:
        self.policy, self.params, self.obs_dim = policy, dict(params), obs_dim
        self.returns_by_step = returns_by_step
        self.generator = torch.Generator(device=next(iter(self.params.values())).device).manual_seed(0)

    @property
    def num_tasks(self) -> int:
        return int(next(iter(self.params.values())).shape[0])

    @torch.no_grad()
    def act(self, obs: np.ndarray, *, deterministic: bool = True, rows: np.ndarray | None = None) -> np.ndarray:
        batch, single = as_batch(obs, self.obs_dim)
        tasks = self.num_tasks
        if tasks > 1 and batch.shape[0] != tasks:
            raise ConfigError(f"this agent holds {tasks} tasks' parameters and acts on one observation a task "
                              f"([{tasks}, {self.obs_dim}]), got {batch.shape[0]} observations")
        device = next(iter(self.params.values())).device
        x = torch.as_tensor(batch, device=device)
        x = x.unsqueeze(0) if tasks == 1 else x.unsqueeze(1)  # [tasks, B, obs_dim]
        dist = self.policy.distribution(x, self.params)
        from metarl.rollout.slice_runner import sample_action

        action = dist.mode if deterministic else sample_action(dist, self.generator)
        to_env = getattr(self.policy, "env_action", None)
        action = to_env(action) if to_env is not None else action
        action = (action[0] if tasks == 1 else action[:, 0]).cpu().numpy()
        return action[0] if single else action

    def observe(self, reward: Any, terminated: Any, truncated: Any, next_obs: Any = None,
                *, rows: np.ndarray | None = None) -> None:
        """Nothing to do: MAML adapted before acting."""

    def reset(self) -> None:
        """Nothing to do: the adapted parameters stay."""

    def state_dict(self) -> dict[str, Any]:
        """What makes this agent itself: its adapted parameters (on the CPU) and adaptation returns."""
        return {"params": {k: v.detach().cpu() for k, v in self.params.items()},
                "returns_by_step": list(self.returns_by_step)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        own = {k: v.shape for k, v in self.params.items()}
        given = {k: tuple(v.shape) for k, v in state["params"].items()}
        if given != {k: tuple(v) for k, v in own.items()}:
            raise ValueError(f"adapted parameters do not fit this policy: {given} against {own}")
        device = next(iter(self.params.values())).device
        self.params = {k: v.to(device) for k, v in state["params"].items()}
        self.returns_by_step = list(state["returns_by_step"])


def make_agent(learner: Any, task: TaskBatch, *, episodes: int | None = None, steps: int | None = None,
               seed: int = 0, adapted: bool = True) -> AdaptedPolicy:
    """Adapt ``learner``'s meta-policy to ``task`` with the evaluation protocol: ``steps`` inner
    steps (default eval_steps) of ``episodes`` episodes each (default eval_episodes). ``task`` may
    hold several tasks: they are adapted in batched samplings and steps, and the agent has a row
    of parameters each (``AdaptedPolicy``). A batch runs at most the sub-environments the run's own
    validation runs (validation_tasks x eval_episodes), so many tasks take several batches instead
    of more memory: a Meta-World sub-environment holds ~21 MB (500 of them, 11 GB, took 92 s to
    build). ``adapted=False``: the meta-policy itself, as it acts before any step."""
    obs_dim = int(learner.env.single_observation_space.shape[0])
    if not adapted:
        params = {k: v.detach() for k, v in expand_params(named_params(learner.policy), len(task)).items()}
        return AdaptedPolicy(policy=learner.policy, params=params, obs_dim=obs_dim, returns_by_step=[])
    ev, loss = learner.config.evaluation, learner.config.loss
    steps = check_count("steps", ev.eval_steps if steps is None else steps)
    episodes = check_count("episodes", ev.eval_episodes if episodes is None else episodes)
    learner.eval_sampler.reseed(seed)
    step_sizes = learner.inner_step_sizes(step_size_schedule(ev.eval_lrs[0], ev.eval_lrs[-1], steps))
    per_batch = max(1, ev.validation_tasks * ev.eval_episodes // episodes)
    parts = [sample_adaptation(policy=learner.policy, sampler=learner.eval_sampler,
                               tasks=task.take(np.arange(start, min(start + per_batch, len(task)))), episodes=episodes,
                               step_sizes=step_sizes, gamma=loss.gamma, gae_lambda=loss.gae_lambda,
                               truncation=loss.truncation)
             for start in range(0, len(task), per_batch)]
    params = {k: torch.cat([p.params[k] for p in parts]) for k in parts[0].params}
    returns = [float(torch.cat([p.batches[k].returns for p in parts]).mean()) for k in range(steps + 1)]
    return AdaptedPolicy(policy=learner.policy, params=params, obs_dim=obs_dim, returns_by_step=returns)
