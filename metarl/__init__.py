"""metarl: meta-reinforcement learning on batched task environments.

    import metarl
    learner = metarl.MAML(env="pendulum", seed=0)   # or metarl.make("maml", env="pendulum")
    learner.learn(iterations=200, out="runs/p")
    agent = learner.adapt({"mass": 1.3}, episodes=20)
    result = metarl.load("runs/p").evaluate(num_tasks=40)

Importing ``metarl`` registers the single-task Gymnasium environments (``metarl/Pendulum-v0`` ...).
Algorithms come from the ``metarl.algorithms`` entry points (``metarl.algorithms.registry``).
"""

from metarl import envs as envs
from metarl.agents import Agent
from metarl.algorithms.maml import MAML
from metarl.algorithms.registry import AlgorithmSpec, algorithms, register_algorithm
from metarl.algorithms.rl2 import RL2
from metarl.api import MetaLearner, evaluate, load, load_agent, make, train
from metarl.envs.base import BatchedTaskEnv
from metarl.envs.registry import FAMILIES, EnvFactory, env_factory, make_distribution, make_env, register_family
from metarl.policies import CategoricalMLPPolicy, GaussianMLPPolicy
from metarl.results import Curve, EvaluationResult
from metarl.rollout import Sampler, Trajectories, TrialSequence
from metarl.runs import RunDirectory, load_checkpoint, seed_everything
from metarl.tasks import FixedTaskSet, TaskBatch, TaskDistribution, TaskSet, TaskSplit
from metarl.training import Trainer

__version__ = "0.1.0"

__all__ = [
    "FAMILIES", "MAML", "RL2", "Agent", "AlgorithmSpec", "BatchedTaskEnv", "CategoricalMLPPolicy", "Curve",
    "EnvFactory", "EvaluationResult", "FixedTaskSet", "GaussianMLPPolicy", "MetaLearner", "RunDirectory", "Sampler",
    "TaskBatch", "TaskDistribution", "TaskSet", "TaskSplit", "Trainer", "Trajectories", "TrialSequence",
    "algorithms", "env_factory", "evaluate", "load", "load_agent", "load_checkpoint", "make", "make_distribution",
    "make_env", "register_algorithm", "register_family", "seed_everything", "train",
]
