"""RL² (Duan et al. 2016): a recurrent policy meta-trained with PPO over trials of n episodes.

The CLI interface (``metarl train rl2`` / ``metarl evaluate``): ``CONFIG``, ``PRESETS``,
``make_config``, ``build_learner``, ``evaluate``, ``plot_evaluation``. ``VARIANTS`` names the
settings of single rows of the paper's tables (``bandit-k5-n100``); ``build_oracle`` gives the
task-aware baseline trained by the same code.
"""

from metarl.algorithms.rl2.config import PRESETS, VARIANTS, RL2Config, make_config
from metarl.algorithms.rl2.evaluation import evaluate, plot_evaluation
from metarl.algorithms.rl2.learner import RL2Learner
from metarl.algorithms.rl2.oracle import build_oracle

CONFIG = RL2Config


def build_learner(config: RL2Config) -> RL2Learner:
    """A fresh learner for ``config`` (seeds torch with ``config.seed``)."""
    return RL2Learner(config=config)


__all__ = [
    "CONFIG", "PRESETS", "VARIANTS", "RL2Config", "RL2Learner", "build_learner", "build_oracle", "evaluate",
    "make_config", "plot_evaluation",
]
