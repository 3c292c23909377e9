"""The sampler's ``TransitionPolicy`` hook: a policy with ``transition`` sees every step's whole
transition, with the episode's final observation where an episode ended inside a trial (not the
next episode's first one, which its next ``step`` sees)."""

from __future__ import annotations

import numpy as np
import torch
from torch.distributions import Categorical

from metarl.envs.gridworld import GridworldEnv, GridworldTasks
from metarl.envs.registry import EnvFactory
from metarl.rollout import Sampler


class Recorder:
    """Uniform actions; its state counts the steps and ``transition`` records what it was given."""

    discrete = True

    def __init__(self) -> None:
        self.seen: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] = []
        self.stepped: list[torch.Tensor] = []

    def initial_state(self, batch_size: int, device: torch.device) -> torch.Tensor:
        return torch.zeros(batch_size, device=device)

    def step(self, obs, prev_action, prev_reward, prev_done, state):
        self.stepped.append(obs.clone())
        return Categorical(logits=torch.zeros(obs.shape[0], 5)), torch.zeros(obs.shape[0]), state

    def transition(self, state, *, next_obs, action, reward, done):
        self.seen.append((next_obs.clone(), action.clone(), reward.clone(), done.clone()))
        return state + 1


def test_transition_gets_the_final_observation_at_episode_ends():
    env = EnvFactory(env_type=GridworldEnv, kwargs={"tasks": GridworldTasks(goals=np.array([[4, 4]])),
                                                     "max_episode_steps": 4})
    policy = Recorder()
    tasks = GridworldTasks(goals=np.array([[2, 2], [4, 0]]))
    trials = Sampler(env_factory=env, seed=0).collect_trials(policy, tasks, 3)
    assert len(policy.seen) == trials.mask.shape[1] == 12
    next_obs, actions, rewards, done = (torch.stack(x, 1) for x in zip(*policy.seen, strict=True))
    assert torch.equal(next_obs, trials.next_obs) and torch.equal(actions, trials.actions)
    assert torch.equal(rewards, trials.rewards) and torch.equal(done, trials.episode_ends())
    stepped = torch.stack(policy.stepped, 1)
    assert (stepped[:, [4, 8]] == 0).all()  # the next step starts the next episode at the start cell
    assert not torch.equal(next_obs[:, [3, 7]], stepped[:, [4, 8]])  # while the transition saw where it ended
