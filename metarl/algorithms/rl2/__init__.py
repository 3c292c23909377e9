"""RL² (Duan et al. 2016): a recurrent policy meta-trained with PPO over trials of n episodes.

``ALGORITHM`` is what metarl's registry loads (entry point ``metarl.algorithms: rl2``).
``VARIANTS`` names the settings of single rows of the paper's tables (``bandit-k5-n100``);
``build_oracle`` gives the task-aware baseline trained by the same code.
"""

from __future__ import annotations

from typing import Any

from metarl.algorithms.registry import AlgorithmSpec
from metarl.algorithms.rl2.agent import MemoryAgent, make_agent
from metarl.algorithms.rl2.config import PRESETS, VARIANTS, RL2Config, make_config, validate
from metarl.algorithms.rl2.evaluation import RL2EvalOptions, evaluate
from metarl.algorithms.rl2.learner import RL2Learner
from metarl.config_cli import replace_leaves

CONFIG = RL2Config


def build_learner(config: RL2Config, *, env: Any = None, tasks: Any = None, sampler: Any = None) -> RL2Learner:
    """A learner from objects; with none given, from ``config``'s names (``metarl.building``).
    Seeds torch with ``config.seed``."""
    if env is None:
        from metarl.building import build

        return build(ALGORITHM, config, tasks=tasks)
    return RL2Learner(config=config, env=env, tasks=tasks, sampler=sampler)


def build_oracle(config: RL2Config) -> RL2Learner:
    """The task-aware oracle of ``config``: the same learner with ``task_aware=True``."""
    return build_learner(replace_leaves(config, task_aware=True))


ALGORITHM = AlgorithmSpec(
    name="rl2", summary="RL²: memory adaptation, a recurrent policy over trials (Duan et al. 2016)",
    config_type=RL2Config, make_config=make_config, build_learner=build_learner, evaluate=evaluate,
    make_agent=make_agent, batched_agent=True, validate=validate, eval_options=RL2EvalOptions,
    presets={**PRESETS, **{k: v[1] for k, v in VARIANTS.items()}},
    headline_metrics=("trial_return",),
)


def RL2(*, env: str, **overrides: Any) -> Any:  # noqa: N802 - named like the class users expect
    """``metarl.make("rl2", env=env, **overrides)``: a ``metarl.api.MetaLearner`` to learn, adapt, evaluate."""
    from metarl.api import make

    return make("rl2", env=env, **overrides)


__all__ = ["RL2", "ALGORITHM", "CONFIG", "PRESETS", "VARIANTS", "MemoryAgent", "RL2Config", "RL2EvalOptions",
           "RL2Learner", "build_learner", "build_oracle", "evaluate", "make_agent", "make_config", "validate"]
