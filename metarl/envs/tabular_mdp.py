"""Random tabular MDPs (RL² paper, section 4.2).

Per task: the reward of (s, a) is Gaussian with unit variance and mean ``mu(s, a) ~ N(1, 1)``;
the next-state distribution of (s, a) is drawn from a flat Dirichlet. Every episode starts in state
0 and lasts ``horizon`` steps (10 in the paper), ending by truncation. Observations are one-hot.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np

from metarl.envs.base import BatchedTaskEnv
from metarl.tasks import TaskBatch, TaskDistribution, check_count


@dataclasses.dataclass(frozen=True)
class TabularMDPTasks(TaskBatch):
    reward_means: np.ndarray  # [tasks, states, actions]
    transitions: np.ndarray  # [tasks, states, actions, states], rows sum to 1

    def __post_init__(self) -> None:
        super().__post_init__()
        t, s, a = self.reward_means.shape
        if self.transitions.shape != (t, s, a, s):
            raise ValueError(
                f"TabularMDPTasks.transitions must be {(t, s, a, s)}, got {self.transitions.shape}"
            )
        if np.any(self.transitions < 0) or not np.allclose(self.transitions.sum(-1), 1.0, atol=1e-6):
            raise ValueError("TabularMDPTasks.transitions rows must be probability distributions")

    @property
    def num_states(self) -> int:
        return int(self.reward_means.shape[1])

    @property
    def num_actions(self) -> int:
        return int(self.reward_means.shape[2])


@dataclasses.dataclass(frozen=True, kw_only=True)
class TabularMDPDistribution(TaskDistribution):
    """mu(s, a) ~ N(1, 1); P(. | s, a) ~ Dirichlet(1, ..., 1)."""

    task_type = TabularMDPTasks
    states: int = 10
    actions: int = 5

    def __post_init__(self) -> None:
        check_count("states", self.states)
        check_count("actions", self.actions)

    def sample(self, n: int, rng: np.random.Generator) -> TabularMDPTasks:
        n = check_count("n", n)
        s, a = self.states, self.actions
        return TabularMDPTasks(
            reward_means=rng.normal(1.0, 1.0, size=(n, s, a)),
            transitions=rng.dirichlet(np.ones(s), size=(n, s, a)),
        )

    def default(self) -> TabularMDPTasks:
        return self.sample(1, np.random.default_rng(0))

    def describe(self) -> dict[str, str]:
        return {
            "reward_means": f"[states={self.states}, actions={self.actions}] each N(1, 1); reward ~ N(mean, 1)",
            "transitions": f"[states, actions, states] each row Dirichlet(1 x {self.states})",
        }


class TabularMDPEnv(BatchedTaskEnv):
    """Observation one-hot of the state; action an index; episodes truncated at the horizon."""

    family = "tabular-mdp"
    distribution_type = TabularMDPDistribution
    default_max_episode_steps = 10

    def __init__(self, *, tasks: TabularMDPTasks | None = None, **kwargs) -> None:
        tasks = tasks if tasks is not None else TabularMDPDistribution().default()
        self.num_states, self.num_actions = tasks.num_states, tasks.num_actions
        super().__init__(tasks=tasks, **kwargs)

    def _spaces(self) -> tuple[gym.Space, gym.Space]:
        obs = gym.spaces.Box(0.0, 1.0, shape=(self.num_states,), dtype=np.float32)
        return obs, gym.spaces.Discrete(self.num_actions)

    def _check_tasks(self, tasks: TaskBatch) -> None:
        if (tasks.num_states, tasks.num_actions) != (self.num_states, self.num_actions):
            raise ValueError(
                f"tabular-mdp: env has {self.num_states} states x {self.num_actions} actions, "
                f"tasks have {tasks.num_states} x {tasks.num_actions}"
            )

    def set_tasks(self, tasks: TaskBatch, episodes_per_task: int = 1) -> None:
        super().set_tasks(tasks, episodes_per_task)
        self.state = np.zeros(self.num_envs, dtype=np.int64)
        self._cdf = np.cumsum(tasks.transitions, axis=-1)

    def _reset_envs(self, idx: np.ndarray) -> None:
        self.state[idx] = 0

    def _observe(self) -> np.ndarray:
        obs = np.zeros((self.num_envs, self.num_states), dtype=np.float32)
        obs[np.arange(self.num_envs), self.state] = 1.0
        return obs

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        task, s = self.task_index, self.state
        mean = self.tasks.reward_means[task, s, actions]
        reward = mean + self._rng.standard_normal(self.num_envs)
        cdf = self._cdf[task, s, actions]  # [num_envs, states]
        u = self._rng.random((self.num_envs, 1))
        self.state = np.minimum((cdf < u).sum(axis=1), self.num_states - 1)
        return reward, np.zeros(self.num_envs, dtype=bool)
