"""metarl: meta-reinforcement learning (MAML, RL²) on batched task environments.

Importing ``metarl`` registers the single-task Gymnasium environments (``metarl/Pendulum-v0`` ...).
"""

from metarl import envs as envs
from metarl.api import evaluate, train
from metarl.envs.base import BatchedTaskEnv
from metarl.envs.registry import FAMILIES, make_distribution, make_env
from metarl.policies import CategoricalMLPPolicy, GaussianMLPPolicy
from metarl.rollout import Sampler, Trajectories, TrialSequence
from metarl.runs import RunDirectory, load_checkpoint, seed_everything
from metarl.tasks import TaskBatch, TaskDistribution, TaskSplit
from metarl.training import Trainer

__version__ = "0.1.0"

__all__ = [
    "FAMILIES", "BatchedTaskEnv", "CategoricalMLPPolicy", "GaussianMLPPolicy", "RunDirectory", "Sampler",
    "TaskBatch", "TaskDistribution", "TaskSplit", "Trainer", "Trajectories", "TrialSequence",
    "evaluate", "load_checkpoint", "make_distribution", "make_env", "seed_everything", "train",
]
