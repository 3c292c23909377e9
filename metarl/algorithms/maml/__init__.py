"""MAML for RL (Finn et al. 2017) with an exact meta-gradient option.

``ALGORITHM`` is what metarl's registry loads (entry point ``metarl.algorithms: maml``).
"""

from __future__ import annotations

from typing import Any

from metarl.algorithms.maml.agent import AdaptedPolicy, make_agent
from metarl.algorithms.maml.config import PRESETS, MamlConfig, make_config, validate
from metarl.algorithms.maml.evaluation import MamlEvalOptions, evaluate
from metarl.algorithms.maml.learner import MamlLearner
from metarl.algorithms.registry import AlgorithmSpec

CONFIG = MamlConfig


def build_learner(config: MamlConfig, *, env: Any = None, tasks: Any = None, sampler: Any = None) -> MamlLearner:
    """A learner from objects; with none given, from ``config``'s names (``metarl.building``)."""
    if env is None:
        from metarl.building import build

        return build(ALGORITHM, config, tasks=tasks)
    return MamlLearner(config=config, env=env, tasks=tasks, sampler=sampler)


ALGORITHM = AlgorithmSpec(
    name="maml", summary="MAML: gradient adaptation with an exact meta-gradient (Finn et al. 2017)",
    config_type=MamlConfig, make_config=make_config, build_learner=build_learner, evaluate=evaluate,
    make_agent=make_agent, adapts_by_acting=False, batched_agent=True, validate=validate,
    eval_options=MamlEvalOptions, presets=PRESETS,
    headline_metrics=("return_pre", "return_post"),
)


def MAML(*, env: str, **overrides: Any) -> Any:  # noqa: N802 - named like the class users expect
    """``metarl.make("maml", env=env, **overrides)``: a ``metarl.api.MetaLearner`` to learn, adapt, evaluate."""
    from metarl.api import make

    return make("maml", env=env, **overrides)


__all__ = ["MAML", "ALGORITHM", "CONFIG", "PRESETS", "AdaptedPolicy", "MamlConfig", "MamlEvalOptions", "MamlLearner",
           "build_learner", "evaluate", "make_agent", "make_config", "validate"]
