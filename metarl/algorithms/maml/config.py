"""MAML's configuration: one dataclass whose fields are the CLI flags, and per-env presets.

The navigation2d preset is the paper's set-up (Finn et al. 2017, section 5.3 and appendix): MLP
2x100 ReLU, Gaussian policy, one vanilla-policy-gradient inner step of size 0.1 with a linear
feature baseline, 20 tasks x 20 episodes of horizon 100, TRPO outer step with max KL 0.01,
gamma 0.99 and GAE lambda 1 (plain discounted returns minus the baseline).
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any, Literal

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
class MamlConfig:
    env: str = _f("navigation2d", "task family")
    seed: int = _f(0, "seed of tasks, sampling and initialisation")
    iterations: int = _f(500, "meta-iterations")
    device: str = _f("cpu", "torch device")
    backend: str = _f("local", "sampling backend: local, or ray (pip install 'metarl[distributed]')")
    workers: int = _f(1, "sampling slices / Ray workers (results depend on the seed and this, not on the backend)")
    ray_address: str = _f("", "address of an existing Ray cluster; empty starts a local Ray instance")
    compile: bool = _f(False, "sample through torch.compile of the policy forward (falls back to eager if "
                             "compiling fails; pays for large batches, not at the presets' sizes on CPU)")
    hidden_sizes: tuple[int, ...] = _f((100, 100), "hidden layer sizes of the policy MLP")
    activation: str = _f("relu", "hidden activation: relu or tanh")
    init_std: float = _f(1.0, "initial action standard deviation (Gaussian policies)")
    normalize_actions: bool = _f(False, "Gaussian policies act in [-1, 1], mapped onto the env's action bounds "
                                        "(rllab's normalize, under which the MAML paper ran)")
    meta_batch_size: int = _f(20, "tasks per meta-iteration")
    episodes_per_task: int = _f(20, "episodes per task for every inner step and for the outer step")
    max_episode_steps: int = _f(0, "episode length limit; 0 keeps the env's own")
    inner_steps: int = _f(1, "K, policy-gradient adaptation steps per task")
    inner_lr: float = _f(0.1, "inner step size")
    learn_inner_lr: bool = _f(False, "Meta-SGD: learn one step size per parameter entry")
    first_order: bool = _f(False, "drop the second-order terms of the meta-gradient (FOMAML)")
    estimator: Estimator = _f("plain", "meta-gradient estimator: plain (MAML paper), dice (exact: "
                              "magic box on the inner episodes' sampling distribution), lvc (ProMP)")
    gamma: float = _f(0.99, "discount")
    gae_lambda: float = _f(1.0, "GAE lambda over the linear baseline (1 = returns minus baseline)")
    truncation: Truncation = _f("bootstrap", "an episode cut by the time limit: bootstrap (from the baseline at "
                                "its final observation) or terminal (rllab's protocol, as in the MAML paper)")
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
    validation_tasks: int = _f(20, "size of the fixed validation task set")
    eval_episodes: int = _f(40, "evaluation: episodes per task for every adaptation step")
    eval_steps: int = _f(3, "evaluation: adaptation steps (may exceed inner_steps)")
    eval_lrs: tuple[float, ...] = _f((0.1, 0.05), "evaluation step sizes: first step, then the rest")
    task_options: tuple[str, ...] = _f((), "task distribution options as name=value (e.g. arms=5)")

    def task_kwargs(self) -> dict[str, Any]:
        return task_kwargs(self.task_options)


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
    "halfcheetah-vel": {"meta_batch_size": 40, "episodes_per_task": 20, "max_episode_steps": 200, "inner_lr": 0.1,
                        "eval_lrs": (0.1, 0.05), "eval_episodes": 20, "gae_lambda": 1.0, "iterations": 500,
                        "truncation": "terminal"},
    "halfcheetah-dir": {"meta_batch_size": 40, "episodes_per_task": 20, "max_episode_steps": 200, "inner_lr": 0.1,
                        "eval_lrs": (0.1, 0.05), "eval_episodes": 20, "gae_lambda": 1.0, "iterations": 500,
                        "truncation": "terminal"},
}


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"{name} must be > 0, got {value}")


def validate(config: MamlConfig) -> MamlConfig:
    """Clear errors for values the algorithm cannot run with."""
    check_backend(config.backend, config.workers, config.ray_address)
    if config.compile and config.backend != "local":
        raise ConfigError(f"compile=True needs backend='local', got backend={config.backend!r}")
    for name in ("iterations", "meta_batch_size", "episodes_per_task", "inner_steps", "cg_iterations",
                 "ls_max_steps", "ppo_epochs", "validation_tasks", "eval_episodes", "eval_steps"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    if config.fvp_episodes < 0:
        raise ConfigError(f"fvp_episodes must be >= 0 (0 = all), got {config.fvp_episodes}")
    if config.max_episode_steps < 0:
        raise ConfigError(f"max_episode_steps must be >= 0 (0 = the env's own), got {config.max_episode_steps}")
    for name in ("inner_lr", "max_kl", "outer_lr", "ppo_clip", "init_std"):
        _positive(name, getattr(config, name))
    if not config.eval_lrs or any(lr <= 0 for lr in config.eval_lrs):
        raise ConfigError(f"eval_lrs must be step sizes > 0, got {config.eval_lrs}")
    if not 0 < config.gamma <= 1 or not 0 <= config.gae_lambda <= 1:
        raise ConfigError(f"gamma must be in (0, 1] and gae_lambda in [0, 1], got {config.gamma}, {config.gae_lambda}")
    if not 0 < config.ls_backtrack_ratio < 1:
        raise ConfigError(f"ls_backtrack_ratio must be in (0, 1), got {config.ls_backtrack_ratio}")
    if config.estimator not in ("plain", "dice", "lvc"):
        raise ConfigError(f"estimator must be plain, dice or lvc, got {config.estimator!r}")
    check_truncation(config.truncation)
    if config.outer not in ("trpo", "ppo"):
        raise ConfigError(f"outer must be trpo or ppo, got {config.outer!r}")
    if not config.hidden_sizes or any(h < 1 for h in config.hidden_sizes):
        raise ConfigError(f"hidden_sizes must be positive integers, got {config.hidden_sizes}")
    config.task_kwargs()
    return config


REQUIRED_WITHOUT_PRESET = ("inner_lr", "meta_batch_size", "episodes_per_task", "iterations")


def make_config(env: str, **overrides: Any) -> MamlConfig:
    """The preset of ``env`` with ``overrides``, validated. An env without a preset runs only when
    the hyperparameters that matter most are given (``REQUIRED_WITHOUT_PRESET``): the defaults are
    the navigation paper's and would silently be wrong elsewhere."""
    missing = [name for name in REQUIRED_WITHOUT_PRESET if name not in overrides]
    if env not in PRESETS and missing:
        raise ConfigError(
            f"MAML has no preset for env {env!r} (presets: {', '.join(sorted(PRESETS))}); give its "
            f"hyperparameters explicitly, at least {', '.join(missing)}"
        )
    names = {f.name for f in dataclasses.fields(MamlConfig)}
    unknown = set(overrides) - names
    if unknown:
        raise ConfigError(f"unknown MAML config fields {sorted(unknown)}; known: {sorted(names)}")
    values = {**PRESETS.get(env, {}), **overrides, "env": env}
    for key, value in values.items():
        if isinstance(value, list):
            values[key] = tuple(value)
    return validate(MamlConfig(**values))

