"""The adapted agent of a memory method (RL², VariBAD): its recurrent policy with the memory of a
trial on one task.

The learner's acting policy is ``learner.actor`` where it has one (VariBAD's encoder and policy),
else ``learner.policy`` (RL²); either offers ``initial_state`` and ``step``, as the sampler uses
them. A policy with a ``transition`` (VariBAD's belief update) advances its state over each step's
``(s, a, r, s')`` once ``observe`` reports it, ``s'`` being the observation the step led to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from metarl.adapting import play_episode
from metarl.agents import as_batch
from metarl.errors import ConfigError
from metarl.rl.task_features import with_features
from metarl.tasks import TaskBatch, check_count


class MemoryAgent:
    """Acts with the recurrent state of the trial so far; ``observe`` feeds each step's reward and
    episode end into the next step (and, for a policy with a ``transition``, the step into its
    belief), exactly as the sampler does during training."""

    def __init__(self, *, learner: Any, task: TaskBatch) -> None:
        self.learner, self.task = learner, task
        self.policy, self.device = getattr(learner, "actor", learner.policy), learner.device
        self.transition = getattr(self.policy, "transition", None)
        self.obs_dim = int(np.prod(learner.env.single_observation_space.shape))
        features = getattr(learner, "features", None)
        self.features = None if features is None else features(task, self.device)
        self.generator = torch.Generator(device=self.device).manual_seed(0)
        self.forget()

    def forget(self) -> None:
        """Clear the memory: the start of a new trial."""
        self.state = None
        self.prev_action: torch.Tensor | None = None
        self.prev_reward = self.prev_done = None

    @torch.no_grad()
    def act(self, obs: np.ndarray, *, deterministic: bool | None = None, rows: np.ndarray | None = None) -> np.ndarray:
        """The next action; ``deterministic`` None: as the run evaluates (its ``eval_deterministic``).
        ``rows [B]`` (bool): only those rows step their memory (the others' episodes have ended;
        their actions are returned but their state stays), so B tasks can share one forward."""
        if deterministic is None:
            deterministic = self.learner.config.evaluation.eval_deterministic
        from metarl.rollout.slice_runner import sample_action

        batch, single = as_batch(obs, self.obs_dim)
        x = torch.as_tensor(batch, device=self.device)
        b = x.shape[0]
        if self.state is None:
            self.state = self.policy.initial_state(b, self.device)
            shape = (b,) if self.policy.discrete else (b, *self.learner.env.single_action_space.shape)
            dtype = torch.long if self.policy.discrete else torch.float32
            self.prev_action = torch.zeros(shape, dtype=dtype, device=self.device)
            self.prev_reward = torch.zeros(b, device=self.device)
            self.prev_done = torch.zeros(b, device=self.device)
        if self.features is not None:
            x = with_features(x, self.features.expand(b, -1) if self.features.shape[0] == 1 else self.features)
        dist, _, state = self.policy.step(x, self.prev_action, self.prev_reward, self.prev_done, self.state)
        action = dist.mode if deterministic else sample_action(dist, self.generator)
        self.state, self.prev_action = self._keep(rows, state, self.state), self._keep(rows, action, self.prev_action)
        out = action.cpu().numpy()
        return out[0] if single else out

    def observe(self, reward: Any, terminated: Any, truncated: Any, next_obs: np.ndarray | None = None,
                *, rows: np.ndarray | None = None) -> None:
        """What the last action brought; ``next_obs`` (the observation it led to, the final one
        where an episode ended) is needed by a policy that updates a belief over transitions.
        ``rows [B]`` (bool): only those rows take it in (as in ``act``)."""
        shape = self.prev_reward.shape
        reward_t = torch.as_tensor(np.full(shape, reward, dtype=np.float32), device=self.device)
        done = np.logical_or(terminated, truncated)
        done_t = torch.as_tensor(np.full(shape, done, dtype=np.float32), device=self.device)
        self.prev_reward, self.prev_done = self._keep(rows, reward_t, self.prev_reward), self._keep(rows, done_t,
                                                                                                    self.prev_done)
        if self.transition is not None:
            if next_obs is None:
                raise ValueError(f"{type(self.learner).__name__}'s agent updates its belief over (s, a, r, s'): "
                                 "observe needs next_obs, the observation the step led to")
            batch, _ = as_batch(next_obs, self.obs_dim)
            state = self.transition(self.state, next_obs=torch.as_tensor(batch, device=self.device),
                                    action=self.prev_action, reward=self.prev_reward, done=self.prev_done)
            self.state = self._keep(rows, state, self.state)

    def _keep(self, rows: np.ndarray | None, new: Any, old: Any) -> Any:
        """``new`` where ``rows`` (all rows if None), ``old`` elsewhere; recurrent states ``[layers, B, H]``
        (or a tuple of them) are masked along their batch dimension."""
        if rows is None or new is None or old is None:
            return new
        mask = torch.as_tensor(np.asarray(rows, dtype=bool), device=self.device)
        if isinstance(new, tuple):
            return tuple(self._keep(rows, n, o) for n, o in zip(new, old, strict=True))
        if new.dim() == 3 and new.shape[1] == mask.shape[0] and new.shape[0] != mask.shape[0]:
            return torch.where(mask[None, :, None], new, old)
        return torch.where(mask.reshape(-1, *[1] * (new.dim() - 1)), new, old)

    def reset(self) -> None:
        """A new episode of the same trial: the memory stays (that is how RL² adapts)."""

    def state_dict(self) -> dict[str, Any]:
        """The memory (recurrent state and last step's inputs) on the CPU; empty before the first act."""
        if self.state is None:
            return {}
        state = tuple(s.cpu() for s in self.state) if isinstance(self.state, tuple) else self.state.cpu()
        return {"state": state, "prev_action": self.prev_action.cpu(), "prev_reward": self.prev_reward.cpu(),
                "prev_done": self.prev_done.cpu()}

    def load_state_dict(self, memory: Mapping[str, Any]) -> None:
        self.forget()
        if not memory:
            return
        state = memory["state"]
        expected = self.policy.initial_state(1, "cpu")
        shape = expected[0].shape[2] if isinstance(expected, tuple) else expected.shape[2]
        got = state[0].shape[2] if isinstance(state, tuple) else state.shape[2]
        if got != shape:
            raise ValueError(f"the saved memory has width {got}; this policy's is {shape}")
        self.state = tuple(s.to(self.device) for s in state) if isinstance(state, tuple) else state.to(self.device)
        self.prev_action = memory["prev_action"].to(self.device)
        self.prev_reward = memory["prev_reward"].to(self.device)
        self.prev_done = memory["prev_done"].to(self.device)


def make_agent(learner: Any, task: TaskBatch, *, episodes: int | None = None, seed: int = 0,
               adapted: bool = True) -> MemoryAgent:
    """Run ``episodes`` episodes of a trial on ``task`` (a batch of one; default: the trial's
    episodes minus one, leaving the last for the caller) and return the agent with that memory.
    ``adapted=False``: the agent at the start of a trial, with no memory yet; then ``task`` may hold
    several tasks, a row of the agent each (``metarl success`` plays them in one forward a step)."""
    if len(task) != 1 and adapted:
        raise ConfigError(f"adapt takes one task (a batch of 1), got {len(task)}")
    n = 0 if not adapted else learner.config.episodes_per_trial - 1 if episodes is None else episodes
    agent = MemoryAgent(learner=learner, task=task)
    if n > 0:
        check_count("episodes", n)
        env = learner.env_factory(tasks=task)
        env.reset(seed=seed)
        for _ in range(n):
            play_episode(agent, env)  # acts as the run evaluates (eval_deterministic)
    return agent
