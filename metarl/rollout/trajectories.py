"""Typed batches of episodes.

``Trajectories`` holds E episodes for each of T tasks, padded to the longest episode H:

- ``obs``: ``[tasks, episodes, H, obs_dim]`` float32, the observation each action was taken in
- ``next_obs``: ``[tasks, episodes, H, obs_dim]`` float32, the observation the step led to; at an
  episode's last step its *final* observation (the state a truncation bootstraps from), never the
  first observation of a following episode
- ``actions``: ``[tasks, episodes, H, act_dim]`` float32, or ``[tasks, episodes, H]`` int64 (discrete)
- ``rewards``, ``log_probs``, ``values``: ``[tasks, episodes, H]`` float32 (``values`` may be None)
- ``terminated``: ``[tasks, episodes, H]`` bool, True at the step where the MDP ended
- ``truncated``: ``[tasks, episodes, H]`` bool, True at the step where the time limit (or the
  sampler's horizon) cut the episode; its value must be bootstrapped, unlike a terminated one.
  Never both: a step that reaches a terminal state at the time limit is terminated
- ``mask``: ``[tasks, episodes, H]`` float32, 1 on real steps and 0 on padding; every episode is a
  contiguous prefix of real steps
- ``last_obs``: ``[tasks, episodes, obs_dim]``, the observation after the last real step (the
  state a truncated episode would be bootstrapped from; ``next_obs`` at that step)
- ``success``: ``[tasks, episodes, H]`` float32, the env's ``info["success"]`` at each step, for
  families that report one (``env.reports_success``; None otherwise); an episode succeeds if it is
  1 at any step (``episode_success``)
- ``training_rewards``: ``[tasks, episodes, H]`` float32, the denser reward a family reports for
  meta-training (``info[metarl.envs.base.TRAINING_REWARD]``), or None where the family has none

On padding every field is zero.
"""

from __future__ import annotations

import dataclasses

import torch


@dataclasses.dataclass(frozen=True, kw_only=True)
class Trajectories:
    obs: torch.Tensor
    next_obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    log_probs: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    mask: torch.Tensor
    last_obs: torch.Tensor
    values: torch.Tensor | None = None
    success: torch.Tensor | None = None
    training_rewards: torch.Tensor | None = None

    @property
    def num_tasks(self) -> int:
        return self.rewards.shape[0]

    @property
    def episodes_per_task(self) -> int:
        return self.rewards.shape[1]

    @property
    def horizon(self) -> int:
        return self.rewards.shape[2]

    def lengths(self) -> torch.Tensor:
        """``[tasks, episodes]`` int64 number of real steps per episode."""
        return self.mask.sum(-1).long()

    def episode_returns(self) -> torch.Tensor:
        """``[tasks, episodes]`` undiscounted return of every episode."""
        return (self.rewards * self.mask).sum(-1)

    def num_steps(self) -> int:
        return int(self.mask.sum().item())

    def episode_success(self) -> torch.Tensor | None:
        """``[tasks, episodes]`` bool, True where ``success`` was 1 at any real step of the episode
        (Meta-World's criterion); None when the env reports no success."""
        return None if self.success is None else (self.success * self.mask).amax(-1) > 0

    def map(self, fn) -> Trajectories:
        """A copy with ``fn`` applied to every tensor field (e.g. ``lambda t: t.to(device)``)."""
        return dataclasses.replace(
            self, **{f.name: fn(v) for f in dataclasses.fields(self) if (v := getattr(self, f.name)) is not None}
        )

    def take_tasks(self, index: slice | torch.Tensor) -> Trajectories:
        return self.map(lambda t: t[index])


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrialSequence:
    """Trials of n episodes on one task each, in the order the steps happened (RL²'s view).

    B trials run in parallel; a trial's episodes follow each other in time, so the recurrent state
    runs on across their boundaries. L is the longest trial (at most n x horizon).

    - ``obs``: ``[trials, L, obs_dim]``; ``actions``: ``[trials, L, act_dim]`` or ``[trials, L]``
    - ``next_obs``: ``[trials, L, obs_dim]``, the observation the step led to; where an episode
      ends inside the trial, that episode's final observation (the env autoresets on the same
      step, so ``obs`` of the next step is already the next episode's first one)
    - ``rewards``, ``log_probs``, ``values``: ``[trials, L]`` float32
    - ``terminated``, ``truncated``: ``[trials, L]`` bool, the end of an *episode* inside the trial
    - ``episode_index``: ``[trials, L]`` int64, which episode of the trial the step belongs to
    - ``mask``: ``[trials, L]`` float32, 1 while the trial has episodes left
    - ``success``: ``[trials, L]`` float32, the env's ``info["success"]`` at each step where the
      env reports one (None otherwise); ``episode_success`` per episode of the trial
    """

    obs: torch.Tensor
    next_obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    log_probs: torch.Tensor
    values: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    episode_index: torch.Tensor
    mask: torch.Tensor
    episodes_per_trial: int
    success: torch.Tensor | None = None

    @property
    def num_trials(self) -> int:
        return self.rewards.shape[0]

    def episode_ends(self) -> torch.Tensor:
        """``[trials, L]`` bool, True at the last step of every episode."""
        return self.terminated | self.truncated

    def complete(self) -> torch.Tensor:
        """``[trials]`` bool, True where the trial ran all its episodes: its last real step ends
        episode ``episodes_per_trial - 1``. False only where collection stopped early (a cut), the
        one case where the trial's last value must be bootstrapped rather than taken as terminal."""
        last = (self.mask.sum(1).long() - 1).clamp(min=0)[:, None]
        ended = self.episode_ends().gather(1, last)[:, 0]
        return ended & (self.episode_index.gather(1, last)[:, 0] == self.episodes_per_trial - 1)

    def policy_inputs(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """What the recurrent policy saw at each step: ``(obs, prev_action, prev_reward, prev_done)``.

        ``prev_*`` are the previous step's action, reward and episode-end flag (zeros at the first
        step of the trial), ``[trials, L, ...]``. The sampler feeds exactly these online, so
        re-running the policy over a stored trial reproduces its log-probabilities.
        """
        prev_action = torch.zeros_like(self.actions)
        prev_action[:, 1:] = self.actions[:, :-1]
        prev_reward = torch.zeros_like(self.rewards)
        prev_reward[:, 1:] = self.rewards[:, :-1]
        prev_done = torch.zeros_like(self.rewards)
        prev_done[:, 1:] = self.episode_ends()[:, :-1].float()
        return self.obs, prev_action, prev_reward, prev_done

    def episode_returns(self) -> torch.Tensor:
        """``[trials, episodes_per_trial]`` undiscounted return of each episode of each trial."""
        out = self.rewards.new_zeros(self.num_trials, self.episodes_per_trial)
        index = self.episode_index.clamp(max=self.episodes_per_trial - 1)
        return out.scatter_add_(1, index, self.rewards * self.mask)

    def episode_success(self) -> torch.Tensor | None:
        """``[trials, episodes_per_trial]`` bool, True where ``success`` was 1 at any real step of
        that episode of the trial; None when the env reports no success."""
        if self.success is None:
            return None
        out = self.success.new_zeros(self.num_trials, self.episodes_per_trial)
        index = self.episode_index.clamp(max=self.episodes_per_trial - 1)
        return out.scatter_reduce_(1, index, self.success * self.mask, reduce="amax") > 0

    def trial_returns(self) -> torch.Tensor:
        """``[trials]`` total reward of each trial."""
        return (self.rewards * self.mask).sum(-1)

    def num_steps(self) -> int:
        return int(self.mask.sum().item())

    def map(self, fn) -> TrialSequence:
        """A copy with ``fn`` applied to every tensor field (e.g. ``lambda t: t.to(device)``)."""
        return dataclasses.replace(
            self, **{f.name: fn(v) for f in dataclasses.fields(self) if isinstance(v := getattr(self, f.name),
                                                                                torch.Tensor)}
        )
