"""A task family and an algorithm defined outside the metarl package, registered on import.

``metarl --import tests.plugins.toy_plugin train toy --env line ...`` must work exactly like
metarl's own algorithms and families; so must ``train maml --env line`` and ``train rl2 --env line``.
The toy algorithm hill-climbs one constant action with a REINFORCE step: nothing clever, only the
whole plumbing (config, learner from objects, sampler, checkpoints, evaluation result).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from metarl.algorithms.registry import AlgorithmSpec, register_algorithm
from metarl.envs.base import BatchedTaskEnv
from metarl.envs.registry import register_family
from metarl.policies.mlp import GaussianMLPPolicy
from metarl.results import Curve, EvaluationResult
from metarl.tasks import TaskBatch, TaskDistribution


@dataclasses.dataclass(frozen=True)
class LineTasks(TaskBatch):
    goal: np.ndarray  # [tasks]


@dataclasses.dataclass(frozen=True, kw_only=True)
class LineDistribution(TaskDistribution):
    task_type = LineTasks

    def sample(self, n: int, rng: np.random.Generator) -> LineTasks:
        return LineTasks(goal=rng.uniform(-1.0, 1.0, size=n))

    def default(self) -> LineTasks:
        return LineTasks(goal=[0.5])


class LineEnv(BatchedTaskEnv):
    """A point on a line walks to a hidden goal; reward -|x - goal|; 20 steps."""

    family = "toy-line"
    distribution_type = LineDistribution
    default_max_episode_steps = 20

    def _spaces(self) -> tuple[gym.Space, gym.Space]:
        return (gym.spaces.Box(-2.5, 2.5, shape=(1,), dtype=np.float32),
                gym.spaces.Box(-0.1, 0.1, shape=(1,), dtype=np.float32))

    def set_tasks(self, tasks: TaskBatch, episodes_per_task: int = 1) -> None:
        super().set_tasks(tasks, episodes_per_task)
        self.x = np.zeros(self.num_envs)

    def _reset_envs(self, idx: np.ndarray) -> None:
        self.x[idx] = 0.0

    def _observe(self) -> np.ndarray:
        return self.x[:, None].astype(np.float32)

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.x = self.x + np.clip(actions[:, 0], -0.1, 0.1)
        distance = np.abs(self.x - self.params["goal"])
        return -distance, distance < 0.01


@dataclasses.dataclass(frozen=True, kw_only=True)
class ToyConfig:
    env: str = "toy-line"
    seed: int = 0
    iterations: int = 3
    device: str = "cpu"
    backend: str = "local"
    workers: int = 1
    ray_address: str = ""
    max_episode_steps: int = 0
    task_options: tuple[str, ...] = ()
    tasks_per_iteration: int = 4
    lr: float = 0.05


class ToyLearner:
    name = "toy"
    headline_metrics = ("return",)

    def __init__(self, *, config: ToyConfig, env: Any, tasks: Any, sampler: Any) -> None:
        self.config, self.env_factory, self.tasks, self.sampler = config, env, tasks, sampler
        torch.manual_seed(config.seed)
        self.policy = GaussianMLPPolicy(obs_dim=1, act_dim=1, hidden_sizes=(4,))
        self.optimizer = torch.optim.SGD(self.policy.parameters(), lr=config.lr)
        self.train_rng = tasks.train_rng()
        self.validation_set = tasks.validation_tasks(3)

    def train_iteration(self, iteration: int) -> dict[str, float]:
        traj = self.sampler.collect(self.policy, self.tasks.train_batch(self.config.tasks_per_iteration,
                                                                        self.train_rng), 2)
        logp = self.policy.distribution(traj.obs).log_prob(traj.actions)
        returns = traj.episode_returns()
        loss = -(logp * traj.mask).sum(-1).mul(returns - returns.mean()).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"return": float(returns.mean())}

    def validate(self) -> float:
        return float(self.sampler.collect(self.policy, self.validation_set, 1, seed=0).episode_returns().mean())

    def state_dict(self) -> dict[str, Any]:
        return {"policy": self.policy.state_dict(), "train_rng": str(self.train_rng.bit_generator.state),
                "sampler": self.sampler.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"])
        self.sampler.load_state_dict(state["sampler"])


def make_config(env: str, **overrides: Any) -> ToyConfig:
    return ToyConfig(env=env, **overrides)


def build_learner(config: ToyConfig, *, env: Any, tasks: Any, sampler: Any) -> ToyLearner:
    return ToyLearner(config=config, env=env, tasks=tasks, sampler=sampler)


def evaluate(learner: ToyLearner, *, num_tasks: int, seed: int, baselines: Any = None, options: Any = None,
             cache_dir: Any = None) -> EvaluationResult:
    traj = learner.sampler.collect(learner.policy, learner.tasks.test_tasks(num_tasks), 1, seed=seed)
    returns = traj.episode_returns()  # [tasks, 1]
    return EvaluationResult(algorithm="toy", env=learner.config.env, num_tasks=num_tasks, seed=seed, axis="episode",
                            x=[1], curve=Curve.from_samples(returns.T))


register_family(LineEnv, summary="toy: 1D point to a hidden goal (defined in tests/plugins)")
ALGORITHM = register_algorithm(AlgorithmSpec(
    name="toy", summary="toy: REINFORCE on a constant action (defined in tests/plugins)", config_type=ToyConfig,
    make_config=make_config, build_learner=build_learner, evaluate=evaluate, headline_metrics=("return",)))
