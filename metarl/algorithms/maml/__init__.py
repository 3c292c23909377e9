"""MAML for RL (Finn et al. 2017) with an exact meta-gradient option; the CLI interface."""

from metarl.algorithms.maml.config import PRESETS, MamlConfig, make_config
from metarl.algorithms.maml.evaluation import evaluate, plot_evaluation
from metarl.algorithms.maml.learner import MamlLearner

CONFIG = MamlConfig


def build_learner(config: MamlConfig) -> MamlLearner:
    return MamlLearner(config=config)


__all__ = ["CONFIG", "PRESETS", "MamlConfig", "MamlLearner", "build_learner", "evaluate", "make_config",
           "plot_evaluation"]
