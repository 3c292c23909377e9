"""MAML's configuration: a dataclass of sub-configs whose leaves are the CLI flags, and per-env presets.

Presets, ``make_config`` overrides and flags name leaves by their own (unique) names, wherever
the tree puts them: ``inner_lr`` is ``config.inner.inner_lr``, ``--inner-lr`` on the command line.

The navigation2d preset is the paper's set-up (Finn et al. 2017, section 5.3 and appendix): MLP
2x100 ReLU, Gaussian policy, one vanilla-policy-gradient inner step of size 0.1 with a linear
feature baseline, 20 tasks x 20 episodes of horizon 100, TRPO outer step with max KL 0.01,
gamma 0.99 and GAE lambda 1 (plain discounted returns minus the baseline).
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any, Literal

from metarl.algorithms.run_config import RunConfig
from metarl.config_cli import leaf_path, replace_leaves
from metarl.errors import ConfigError
from metarl.rl.returns import Truncation, check_truncation
from metarl.rollout import check_backend
from metarl.tasks import task_kwargs

Estimator = Literal["plain", "dice", "lvc"]
Outer = Literal["trpo", "ppo"]


def _f(default: Any, help: str) -> Any:
    if isinstance(default, list | tuple):
        return field(default=tuple(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclasses.dataclass(frozen=True, kw_only=True)
class PolicyConfig:
    """The policy network: what is built once and then adapted, so every field fixes its shape
    or its output distribution (a checkpoint only loads into the same ones)."""

    hidden_sizes: tuple[int, ...] = _f((100, 100), "hidden layer sizes of the policy MLP")
    activation: str = _f("relu", "hidden activation: relu or tanh")
    init_std: float = _f(1.0, "initial action standard deviation (Gaussian policies)")
    init_mean_scale: float = _f(1.0, "scale of the mean head's initial (Xavier) weights; 0.01 starts the "
                                     "actions near 0 (SB3's and CleanRL's small last layer)")
    normalize_actions: bool = _f(False, "Gaussian policies act in [-1, 1], mapped onto the env's action bounds "
                                        "(rllab's normalize, under which the MAML paper ran)")
    action_scale: float = _f(1.0, "the env gets the policy's action divided by this (then, with normalize_actions, "
                                  "[-1, 1] mapped onto the bounds): garage's expected_action_scale")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SamplingConfig:
    """How much experience one meta-iteration collects: every inner and every outer step works on
    a batch of meta_batch_size tasks x episodes_per_task episodes."""

    meta_batch_size: int = _f(20, "tasks per meta-iteration")
    episodes_per_task: int = _f(20, "episodes per task for every inner step and for the outer step")


@dataclasses.dataclass(frozen=True, kw_only=True)
class InnerConfig:
    """The adaptation step and how the meta-gradient goes through it: the part of MAML that is
    not a plain policy-gradient method."""

    inner_steps: int = _f(1, "K, policy-gradient adaptation steps per task")
    inner_lr: float = _f(0.1, "inner step size")
    learn_inner_lr: bool = _f(False, "Meta-SGD: learn one step size per parameter entry")
    first_order: bool = _f(False, "drop the second-order terms of the meta-gradient (FOMAML)")
    estimator: Estimator = _f("plain", "meta-gradient estimator: plain (MAML paper), dice (exact: "
                              "magic box on the inner episodes' sampling distribution), lvc (ProMP)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class LossConfig:
    """How returns become advantages, shared by the inner and the outer objective."""

    gamma: float = _f(0.99, "discount")
    gae_lambda: float = _f(1.0, "GAE lambda over the linear baseline (1 = returns minus baseline)")
    truncation: Truncation = _f("bootstrap", "an episode cut by the time limit: bootstrap (from the baseline at "
                                "its final observation) or terminal (rllab's protocol, as in the MAML paper)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class OptimizerConfig:
    """The outer (meta-parameter) update: outer picks TRPO or PPO, and only the fields marked with
    its name apply."""

    outer: Outer = _f("trpo", "outer optimiser: trpo (paper) or ppo (clipped objective, ProMP)")
    max_kl: float = _f(0.01, "TRPO: KL bound on the adapted policies")
    cg_iterations: int = _f(10, "TRPO: conjugate-gradient iterations")
    cg_damping: float = _f(1e-5, "TRPO: damping added to the KL Hessian")
    fvp_episodes: int = _f(2, "TRPO: episodes per task used in the KL-Hessian products (0 = all)")
    ls_max_steps: int = _f(15, "TRPO: backtracking line-search steps")
    ls_backtrack_ratio: float = _f(0.8, "TRPO: line-search shrink factor")
    outer_lr: float = _f(1e-3, "PPO: Adam step size of the outer update")
    ppo_epochs: int = _f(5, "PPO: gradient steps on each meta-batch")
    ppo_clip: float = _f(0.2, "PPO: likelihood-ratio clip")


@dataclasses.dataclass(frozen=True, kw_only=True)
class EvaluationConfig:
    """Validation during training and the held-out evaluation protocol: they change what is
    measured, never what is learned."""

    validation_tasks: int = _f(20, "size of the fixed validation task set")
    eval_episodes: int = _f(40, "evaluation: episodes per task for every adaptation step")
    eval_steps: int = _f(3, "evaluation: adaptation steps (may exceed inner_steps)")
    eval_lrs: tuple[float, ...] = _f((0.1, 0.05), "evaluation step sizes: first step, then the rest")


def _group(cls: type) -> Any:
    return field(default_factory=cls)


@dataclasses.dataclass(frozen=True, kw_only=True)
class MamlConfig(RunConfig):
    """All of a MAML run. The top-level fields are the ones generic code reads (``metarl.building``:
    env, seed, backend, ...); the algorithm's own settings sit in sub-configs. Every leaf keeps a
    flat name (``--inner-lr``, ``make_config(env, inner_lr=...)``, the presets' keys)."""

    env: str = _f("navigation2d", "task family (see `metarl envs`)")
    compile: bool = _f(False, "sample through torch.compile of the policy forward (falls back to eager if "
                             "compiling fails; pays for large batches, not at the presets' sizes on CPU)")
    policy: PolicyConfig = _group(PolicyConfig)
    sampling: SamplingConfig = _group(SamplingConfig)
    inner: InnerConfig = _group(InnerConfig)
    loss: LossConfig = _group(LossConfig)
    optimizer: OptimizerConfig = _group(OptimizerConfig)
    evaluation: EvaluationConfig = _group(EvaluationConfig)

    def task_kwargs(self) -> dict[str, Any]:
        return task_kwargs(self.task_options)


# The MAML paper's locomotion set-up (Appendix A.2 and rllab's normalize): 40 tasks x 20 episodes of 200 steps.
_LOCOMOTION: dict[str, Any] = {
    "normalize_actions": True, "init_mean_scale": 0.01, "meta_batch_size": 40, "episodes_per_task": 20,
    "max_episode_steps": 200,
    "inner_lr": 0.1, "eval_lrs": (0.1, 0.05), "eval_episodes": 20, "gae_lambda": 1.0, "iterations": 500,
    "truncation": "terminal",
}

# Every preset keeps "truncation": "terminal": rllab's protocol, under which the MAML paper ran and
# under which the results in the README were measured (a time-limit cut counts as the MDP's end).
PRESETS: dict[str, dict[str, Any]] = {
    "navigation2d": {"normalize_actions": True, "iterations": 800, "truncation": "terminal"},
    # Evaluated with 40 episodes per step (the paper's protocol): at 20 the adaptation gain of a
    # good pendulum policy drowned in start-state noise (+7 ± 17 after 3 steps; +31 ± 14 at 40).
    # ProMP's LVC estimator: with the plain one, meta-training sat on a -420 plateau for 300-450
    # iterations (-500 with 40 tasks per batch); LVC reached validation -214 by iteration 40.
    "pendulum": {"estimator": "lvc", "hidden_sizes": (64, 64), "meta_batch_size": 20, "episodes_per_task": 10,
                 "max_episode_steps": 200,
                 "inner_lr": 0.05, "eval_lrs": (0.05, 0.025), "eval_episodes": 40, "max_kl": 0.01,
                 "gae_lambda": 0.95, "init_std": 1.0, "iterations": 500, "truncation": "terminal"},
    # The navigation set-up (20 tasks x 20 episodes, inner lr 0.1, TRPO) on oyster's sparse point robot,
    # for PEARL's comparison in env steps: 20-step episodes, so 8000 env steps an iteration and 4e6 in
    # all (oyster's PEARL: 5e6). MAML learns from the sparse reward it is scored on (PEARL's critic gets
    # oyster's dense one). Untuned; held out 0.66 -> 2.97 after one step (results/maml-sparse, 4 min).
    "navigation2d-sparse": {"normalize_actions": True, "iterations": 500, "truncation": "terminal"},
    # Locomotion acts through rllab's normalize (rescale, clip), as the paper did: the control cost is
    # then on the clipped action, at most 0.3 a step. Without it the cost is on the raw Gaussian
    # sample, the untrained policy's means (|mean| ~ 2 on cheetah observations) cost -270 an
    # episode, and a 340-iteration run still scored -156 before adaptation against the paper's -51.
    # Under the clip, Xavier's means (~2) saturate: 190 iterations (6e7 steps) with 59% of the means
    # beyond the bounds and the gain of one step flat near +20, so the mean head starts at 0.01 scale.
    "halfcheetah-vel": dict(_LOCOMOTION),
    "halfcheetah-dir": dict(_LOCOMOTION),
    "halfcheetah-dir-rllab": dict(_LOCOMOTION),
    "halfcheetah-vel-rllab": dict(_LOCOMOTION),
    "ant-dir": dict(_LOCOMOTION),
    # Meta-World ML1 (`--task-options task=reach-v3`), after garage's MAML-TRPO example for ML1 (the
    # set-up of the Meta-World paper's MAML runs): 2x100 tanh, 20 tasks x 10 episodes, one inner step of
    # 0.1, TRPO, gamma 0.99, GAE lambda 1, and actions through garage's normalize(expected_action_scale=10):
    # the policy acts in [-10, 10] per dimension, so its initial std of 1 is a tenth of the range.
    # Differences: Meta-World 3's episodes are 500 steps (garage's were 150), the baseline is the
    # linear feature one (garage: a 32x32 Gaussian MLP value function). Validation is 10 of the 50
    # test goals (100k steps each time): validate every 10 iterations or more. Memory: every episode
    # of a batch is a sub-environment, and a Meta-World one holds ~21 MB (measured: 500 took 11 GB),
    # so the 200 of training and the 100 of validation take ~6 GB in all.
    "metaworld-ml1": {"hidden_sizes": (100, 100), "activation": "tanh", "normalize_actions": True,
                      "action_scale": 10.0, "meta_batch_size": 20, "episodes_per_task": 10, "inner_lr": 0.1,
                      "eval_lrs": (0.1,), "eval_steps": 1, "eval_episodes": 10, "gae_lambda": 1.0,
                      "iterations": 300, "truncation": "terminal", "validation_tasks": 10},
}


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"{name} must be > 0, got {value}")


def validate(config: MamlConfig) -> MamlConfig:
    """Clear errors for values the algorithm cannot run with, naming the flat field (= flag) name."""
    check_backend(config.backend, config.workers, config.ray_address)
    if config.compile and config.backend != "local":
        raise ConfigError(f"compile=True needs backend='local', got backend={config.backend!r}")
    policy, sampling, inner, loss = config.policy, config.sampling, config.inner, config.loss
    opt, ev = config.optimizer, config.evaluation
    counts = {"iterations": config.iterations, "meta_batch_size": sampling.meta_batch_size,
              "episodes_per_task": sampling.episodes_per_task, "inner_steps": inner.inner_steps,
              "cg_iterations": opt.cg_iterations, "ls_max_steps": opt.ls_max_steps, "ppo_epochs": opt.ppo_epochs,
              "validation_tasks": ev.validation_tasks, "eval_episodes": ev.eval_episodes, "eval_steps": ev.eval_steps}
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    if opt.fvp_episodes < 0:
        raise ConfigError(f"fvp_episodes must be >= 0 (0 = all), got {opt.fvp_episodes}")
    if config.max_episode_steps < 0:
        raise ConfigError(f"max_episode_steps must be >= 0 (0 = the env's own), got {config.max_episode_steps}")
    for name, value in (("inner_lr", inner.inner_lr), ("max_kl", opt.max_kl), ("outer_lr", opt.outer_lr),
                        ("ppo_clip", opt.ppo_clip), ("init_std", policy.init_std),
                        ("init_mean_scale", policy.init_mean_scale), ("action_scale", policy.action_scale)):
        _positive(name, value)
    if not ev.eval_lrs or any(lr <= 0 for lr in ev.eval_lrs):
        raise ConfigError(f"eval_lrs must be step sizes > 0, got {ev.eval_lrs}")
    if not 0 < loss.gamma <= 1 or not 0 <= loss.gae_lambda <= 1:
        raise ConfigError(f"gamma must be in (0, 1] and gae_lambda in [0, 1], got {loss.gamma}, {loss.gae_lambda}")
    if not 0 < opt.ls_backtrack_ratio < 1:
        raise ConfigError(f"ls_backtrack_ratio must be in (0, 1), got {opt.ls_backtrack_ratio}")
    if inner.estimator not in ("plain", "dice", "lvc"):
        raise ConfigError(f"estimator must be plain, dice or lvc, got {inner.estimator!r}")
    check_truncation(loss.truncation)
    if opt.outer not in ("trpo", "ppo"):
        raise ConfigError(f"outer must be trpo or ppo, got {opt.outer!r}")
    if not policy.hidden_sizes or any(h < 1 for h in policy.hidden_sizes):
        raise ConfigError(f"hidden_sizes must be positive integers, got {policy.hidden_sizes}")
    config.task_kwargs()
    return config


REQUIRED_WITHOUT_PRESET = ("inner_lr", "meta_batch_size", "episodes_per_task", "iterations")
GROUPS = ("policy", "sampling", "inner", "loss", "optimizer", "evaluation")


def _tuples(values: dict[str, Any]) -> dict[str, Any]:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}


def make_config(env: str, **overrides: Any) -> MamlConfig:
    """The preset of ``env`` with ``overrides``, validated. Presets and overrides use the flat leaf
    names (``inner_lr=0.05``; dotted paths such as ``inner.inner_lr`` work too); an unknown name
    raises ``ConfigError`` naming it. An env without a preset runs only when the hyperparameters
    that matter most are given (``REQUIRED_WITHOUT_PRESET``): the defaults are the navigation
    paper's and would silently be wrong elsewhere."""
    overrides.pop("env", None)
    config = replace_leaves(replace_leaves(MamlConfig(env=env), **_tuples(PRESETS.get(env, {}))),
                            **_tuples(overrides))
    if env not in PRESETS:  # a whole sub-config given (inner=InnerConfig(...)) gives all its leaves
        given = {name if name in GROUPS else leaf_path(MamlConfig, name) for name in overrides}
        missing = [name for name in REQUIRED_WITHOUT_PRESET
                   if not {leaf_path(MamlConfig, name), leaf_path(MamlConfig, name).split(".")[0]} & given]
        if missing:
            raise ConfigError(
                f"MAML has no preset for env {env!r} (presets: {', '.join(sorted(PRESETS))}); give its "
                f"hyperparameters explicitly, at least {', '.join(missing)}"
            )
    return validate(config)
