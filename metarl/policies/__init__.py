"""Policies: feed-forward (MAML), recurrent (RL²) and RL²'s memory-less twin."""

from metarl.policies.memoryless import MemorylessActorCritic
from metarl.policies.mlp import MLP, CategoricalMLPPolicy, GaussianMLPPolicy, expand_params, named_params
from metarl.policies.recurrent import RecurrentActorCritic

__all__ = ["MLP", "CategoricalMLPPolicy", "GaussianMLPPolicy", "MemorylessActorCritic", "RecurrentActorCritic",
           "expand_params", "named_params"]
