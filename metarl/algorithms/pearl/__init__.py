"""PEARL (Rakelly et al. 2019): off-policy meta-RL, SAC conditioned on a probabilistic task embedding
inferred from context, as oyster (the authors' code) runs it.

``ALGORITHM`` is what metarl's registry loads (entry point ``metarl.algorithms: pearl``). The
oracle (SAC told the task) and one multi-task SAC without embedding are the same learner with
``embedding="task"`` / ``"none"`` (``build_baseline``), trained as runs of their own and given to
``metarl evaluate RUN --baseline NAME=RUN``.
"""

from __future__ import annotations

from typing import Any

from metarl.algorithms.pearl.agent import LatentAgent, make_agent
from metarl.algorithms.pearl.collection import play
from metarl.algorithms.pearl.config import PRESETS, PearlConfig, make_config, validate
from metarl.algorithms.pearl.evaluation import PearlEvalOptions, evaluate
from metarl.algorithms.pearl.learner import PearlLearner
from metarl.algorithms.registry import AlgorithmSpec
from metarl.config_cli import replace_leaves

CONFIG = PearlConfig


def build_learner(config: PearlConfig, *, env: Any = None, tasks: Any = None, sampler: Any = None) -> PearlLearner:
    """A learner from objects; with none given, from ``config``'s names (``metarl.building``)."""
    if env is None:
        from metarl.building import build

        return build(ALGORITHM, config, tasks=tasks)
    return PearlLearner(config=config, env=env, tasks=tasks, sampler=sampler)


def build_baseline(config: PearlConfig, embedding: str) -> PearlLearner:
    """``config``'s learner with ``embedding`` "task" (the oracle) or "none" (multi-task SAC)."""
    return build_learner(validate(replace_leaves(config, embedding=embedding)))


ALGORITHM = AlgorithmSpec(
    name="pearl", summary="PEARL: SAC with a probabilistic task embedding from context (Rakelly et al. 2019)",
    config_type=PearlConfig, make_config=make_config, build_learner=build_learner, evaluate=evaluate,
    validate=validate, eval_options=PearlEvalOptions, presets=PRESETS,
    headline_metrics=("return_prior", "return_posterior"), baseline_algorithms=("maml", "rl2", "varibad"),
    make_agent=make_agent, batched_agent=True,
)


def PEARL(*, env: str, **overrides: Any) -> Any:  # noqa: N802 - named like the class users expect
    """``metarl.make("pearl", env=env, **overrides)``: a ``metarl.api.MetaLearner`` to learn and evaluate."""
    from metarl.api import make

    return make("pearl", env=env, **overrides)


__all__ = ["ALGORITHM", "CONFIG", "PEARL", "LatentAgent", "PRESETS", "PearlConfig", "PearlEvalOptions", "PearlLearner",
           "build_baseline", "build_learner", "evaluate", "make_agent", "make_config", "play", "validate"]
