"""Policies: feed-forward (MAML) and recurrent (RL²)."""

from metarl.policies.mlp import MLP, CategoricalMLPPolicy, GaussianMLPPolicy, expand_params, named_params

__all__ = ["MLP", "CategoricalMLPPolicy", "GaussianMLPPolicy", "expand_params", "named_params"]
