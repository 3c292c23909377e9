"""VariBAD (Zintgraf et al. 2020): a variational belief over the task, and PPO acting on it.

``ALGORITHM`` is what metarl's registry loads (entry point ``metarl.algorithms: varibad``). Its
evaluation can put RL² runs beside its own (``--baseline RUN``) and draws the belief on one grid
world task (``evaluation_figures``).
"""

from __future__ import annotations

from typing import Any

from metarl.algorithms.registry import AlgorithmSpec
from metarl.algorithms.varibad.config import PRESETS, VariBADConfig, make_config, validate
from metarl.algorithms.varibad.evaluation import VariBADEvalOptions, evaluate, evaluation_figures
from metarl.algorithms.varibad.learner import VariBADLearner
from metarl.rl.memory_agent import make_agent

CONFIG = VariBADConfig


def build_learner(config: VariBADConfig, *, env: Any = None, tasks: Any = None,
                  sampler: Any = None) -> VariBADLearner:
    """A learner from objects; with none given, from ``config``'s names (``metarl.building``).
    Seeds torch with ``config.seed``."""
    if env is None:
        from metarl.building import build

        return build(ALGORITHM, config, tasks=tasks)
    return VariBADLearner(config=config, env=env, tasks=tasks, sampler=sampler)


ALGORITHM = AlgorithmSpec(
    name="varibad", summary="VariBAD: a VAE's belief over the task, PPO acting on it (Zintgraf et al. 2020)",
    config_type=VariBADConfig, make_config=make_config, build_learner=build_learner, evaluate=evaluate,
    validate=validate, eval_options=VariBADEvalOptions, presets=PRESETS, headline_metrics=("trial_return",),
    baseline_algorithms=("rl2",), evaluation_figures=evaluation_figures, make_agent=make_agent, batched_agent=True,
)


def VariBAD(*, env: str, **overrides: Any) -> Any:  # noqa: N802 - named like the class users expect
    """``metarl.make("varibad", env=env, **overrides)``: a ``metarl.api.MetaLearner``."""
    from metarl.api import make

    return make("varibad", env=env, **overrides)


__all__ = ["ALGORITHM", "CONFIG", "PRESETS", "VariBAD", "VariBADConfig", "VariBADEvalOptions", "VariBADLearner",
           "build_learner", "evaluate", "evaluation_figures", "make_config", "validate"]
