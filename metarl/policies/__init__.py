"""Policies: feed-forward (MAML) and recurrent (RL²)."""

from metarl.policies.mlp import MLP, CategoricalMLPPolicy, GaussianMLPPolicy, expand_params, named_params
from metarl.policies.recurrent import RecurrentActorCritic

__all__ = ["MLP", "CategoricalMLPPolicy", "GaussianMLPPolicy", "RecurrentActorCritic", "expand_params", "named_params"]
