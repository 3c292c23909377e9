"""RL²'s configuration: a dataclass of sub-configs (every leaf a CLI flag), presets per env, validation.

Presets, ``make_config`` overrides and flags name leaves by their own (unique) names, wherever
the tree puts them: ``lr`` is ``config.optimizer.lr``, ``--lr`` on the command line.

``make_config(name, **overrides)`` takes an env family (``"bandit"``) or a named variant of one
(``"bandit-k5-n100"``: the settings of one row of the paper's tables), applies the preset and the
overrides, and validates the result with errors that name the field, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any, Literal

from metarl.algorithms.run_config import RunConfig
from metarl.config_cli import replace_leaves
from metarl.envs.registry import FAMILIES, family
from metarl.errors import ConfigError
from metarl.rollout import check_backend
from metarl.tasks import task_kwargs


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclasses.dataclass(frozen=True, kw_only=True)
class PolicyConfig:
    """The recurrent actor-critic: its shape and what it sees, fixed when it is built (a
    checkpoint only loads into the same ones). ``memory=False`` swaps the cell for a two-layer
    MLP of ``hidden_size`` on the same inputs (``MemorylessActorCritic``): RL²'s non-adaptive
    baseline, trained by the same PPO; ``cell`` is then ignored."""

    hidden_size: int = field(default=256, metadata=_help("recurrent units"))
    cell: Literal["gru", "lstm"] = field(default="gru", metadata=_help("recurrent cell"))
    embed_size: int = field(default=0, metadata=_help("tanh input embedding before the cell; 0 = none"))
    log_std: Literal["parameter", "head"] = field(
        default="parameter", metadata=_help("Gaussian log-std: learned state-independent parameter or output head"))
    init_std: float = field(default=1.0, metadata=_help("initial action std (continuous actions)"))
    separate_value: bool = field(default=False, metadata=_help("value gets its own recurrent cell (no shared trunk)"))
    reward_input_scale: float = field(default=1.0, metadata=_help("previous reward is multiplied by this on input"))
    memory: bool = field(default=True, metadata=_help(
        "recurrent memory; --no-memory: a feed-forward net on the same inputs (the non-adaptive baseline)"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class LossConfig:
    """PPO's objective over whole trials: how rewards become advantages and targets, and the
    weights of its terms."""

    reward_scale: float = field(default=1.0, metadata=_help("rewards are multiplied by this for training"))
    gamma: float = field(default=0.99, metadata=_help("discount over the whole trial"))
    gae_lambda: float = field(default=0.3, metadata=_help("GAE lambda over the whole trial"))
    clip_range: float = field(default=0.2, metadata=_help("PPO ratio clip"))
    value_coef: float = field(default=0.5, metadata=_help("weight of the value loss"))
    entropy_coef: float = field(default=0.01, metadata=_help("entropy bonus at the first iteration"))
    entropy_final: float = field(default=0.0, metadata=_help("entropy bonus at the last iteration (linear decay)"))
    value_norm: bool = field(default=False, metadata=_help("learn values in running-normalised units"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class OptimizerConfig:
    """How the loss is minimised: Adam's schedule, the passes over each batch, and how far
    gradients are backpropagated through time."""

    lr: float = field(default=1e-3, metadata=_help("Adam learning rate"))
    lr_decay: bool = field(default=False, metadata=_help("decay the learning rate linearly to 0"))
    ppo_epochs: int = field(default=4, metadata=_help("passes over each batch of trials"))
    minibatches: int = field(default=4, metadata=_help("minibatches per epoch (of whole trials / chunks)"))
    max_grad_norm: float = field(default=0.5, metadata=_help("gradient norm clip"))
    tbptt: int = field(default=0, metadata=_help("truncated BPTT chunk length; 0 = backprop through whole trials"))
    max_unroll: int = field(default=1000, metadata=_help("longest trial unrolled in one backward pass"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class EvaluationConfig:
    """Validation during training (checkpoint selection) and how the agent acts when measured:
    they change what is measured, never what is learned."""

    validation_tasks: int = field(default=200, metadata=_help("fixed validation tasks for checkpoint selection"))
    eval_deterministic: bool = field(default=False, metadata=_help("act with the mode at validation/evaluation"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class RL2Config(RunConfig):
    """All of an RL² run. The top-level fields are those generic code reads and the task set-up
    (trials of ``episodes_per_trial`` episodes, the task-aware oracle switch); the learner's own
    settings sit in sub-configs. Every leaf keeps a flat name (``--hidden-size``,
    ``make_config(env, lr=...)``, the presets' keys)."""

    preset: str = field(default="", metadata=_help("the preset / variant the config was made from"))
    iterations: int = field(default=500, metadata=_help("meta-iterations (one PPO update each)"))
    episodes_per_trial: int = field(default=10, metadata=_help("n: episodes per trial on one task"))
    trials_per_iteration: int = field(default=256, metadata=_help("trials (= tasks) sampled per iteration"))
    task_aware: bool = field(default=False, metadata=_help("oracle: append the task parameters to observations"))
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)

    @property
    def max_trial_length(self) -> int:
        steps = self.max_episode_steps or family(self.env).env_type().default_max_episode_steps
        return self.episodes_per_trial * steps


PRESETS: dict[str, dict[str, Any]] = {
    # Hidden 64 trains 1.6x faster than 128 (0.16 against 0.25 s per iteration on 2 cores) and
    # lands in the same place: 6.623 against 6.636 (± 0.031) on 20,000 held-out tasks, seed 0, where
    # the exact Bayes-optimal value is 6.660 (both within 1%). Two PPO epochs instead of four were
    # faster still but fell short (6.589).
    "bandit": dict(
        episodes_per_trial=10, trials_per_iteration=512, hidden_size=64, iterations=1000,
        gamma=1.0, gae_lambda=0.3, lr=3e-3, lr_decay=True, ppo_epochs=4, minibatches=4,
        entropy_coef=0.05, entropy_final=0.0, validation_tasks=500,
    ),
    # lr 3e-3 is what passes PSRL: at 1e-3 (KL per update ~0.002) validation was 115.9 at iteration
    # 300 and 121.7 at 600; at 3e-3 124.2 and 127.5, then 147.2 on 1000 held-out tasks after 3000
    # iterations (PSRL 133.3, greedy 153.4; 139.7 already at iteration 1266). 6e-3 was no faster:
    # 125.4 and 128.6 at 300 and 580. Hidden 128 learns as fast per iteration as 256 and costs a
    # third (1.9 s against 5.6 s per iteration on one core; the 3000 iterations took 93 min).
    "tabular-mdp": dict(
        episodes_per_trial=10, trials_per_iteration=512, hidden_size=128, iterations=3000,
        gamma=0.99, gae_lambda=0.3, lr=3e-3, lr_decay=True, ppo_epochs=4, minibatches=4, reward_scale=0.1,
        entropy_coef=0.05, entropy_final=0.0, value_norm=False, separate_value=False, validation_tasks=200,
    ),
    # The goal is only in the rewards (-distance, differences ~0.1 per step): reward_input_scale=10
    # lets the GRU see them; at 1 the policy sat at "stand still" (-40/episode) for 120 iterations.
    # At a constant lr 2e-3 it collapsed after iteration ~105 (agent runs away, -500/episode): lr decays.
    "navigation2d": dict(
        episodes_per_trial=2, trials_per_iteration=128, hidden_size=64, iterations=250,
        gamma=0.99, gae_lambda=0.95, lr=2e-3, lr_decay=True, init_std=0.1, reward_input_scale=10.0, reward_scale=1.0,
        entropy_coef=0.0, value_norm=True, validation_tasks=100,
    ),
    # oyster's sparse point robot, for PEARL's comparison in env steps (`metarl evaluate PEARL_RUN
    # --trajectories 10 --baseline rl2=RUN`): trials of 10 episodes x 20 steps, the navigation
    # preset's PPO otherwise, with the sparse reward (0..1) fed in unscaled; 64 x 200 steps an
    # iteration, 400 iterations = 5.1e6 steps (oyster's PEARL: 5e6). Untuned; held out: 4.6 in episode 1,
    # ~10.4 in episodes 2-10 (results/rl2-sparse, 6 min on one thread).
    "navigation2d-sparse": dict(
        episodes_per_trial=10, trials_per_iteration=64, hidden_size=64, iterations=400,
        gamma=0.99, gae_lambda=0.95, lr=1e-3, lr_decay=True, init_std=0.1, reward_input_scale=1.0,
        reward_scale=1.0, entropy_coef=0.0, value_norm=True, validation_tasks=100,
    ),
    "pendulum": dict(
        episodes_per_trial=2, trials_per_iteration=64, hidden_size=128, iterations=500,
        gamma=0.99, gae_lambda=0.95, lr=1e-3, reward_input_scale=0.1, reward_scale=0.1, init_std=1.0,
        entropy_coef=0.0, value_norm=True, validation_tasks=50, eval_deterministic=True,
    ),
    # Exploration is white Gaussian noise: at std 1 it reaches the goal in ~4% of 999-step
    # episodes (0% of 300-step ones), so the full 999 steps are kept; an entropy bonus is meant to hold
    # the std up against the action cost (not compared without it). Measured: goal in 100% of held-out
    # trials from episode 1 by iteration ~20, 300 iterations in 390 s.
    "mountaincar": dict(
        episodes_per_trial=2, trials_per_iteration=64, hidden_size=64, iterations=300, tbptt=200,
        gamma=0.995, gae_lambda=0.95, lr=1e-3, reward_input_scale=0.01, reward_scale=0.1, init_std=1.0,
        entropy_coef=0.01, entropy_final=0.0, value_norm=True, validation_tasks=50,
    ),
    # The goal's side is told only by the 100 at the goal, and 77-step episodes leave no time to try
    # both hills in one (metarl.envs.mountaincar_hills): the second episode gains only from memory.
    # White action noise never reaches a top in 77 steps: unshaped, 100 iterations learnt to stand
    # still (0% goals). The family's energy term (shaping=6000) pays for pumping; measured (seed 0,
    # 300 held-out tasks, deterministic; `metarl train rl2 --env mountaincar-hills --iterations N`, then
    # `metarl evaluate RUN --tasks 300 --seed 1`, run then through a shaped subclass):
    # 100 iterations 24.4 -> 10.9 per episode (still exploring),
    # 150: 36.3 -> 41.2, 200: 44.6 -> 90.3, 250: 48.2 -> 95.5 (remembering the side, scripted:
    # 40 -> 94 plus the energy term). shaping=15000 with lr 2e-3 pumped by iteration 20 but settled on
    # "left first" and never switched (150 iterations: 74.3 -> 61.4).
    "mountaincar-hills": dict(
        task_options=("shaping=6000",),
        episodes_per_trial=2, trials_per_iteration=128, hidden_size=64, iterations=250,
        gamma=0.99, gae_lambda=0.95, lr=1e-3, reward_input_scale=0.01, reward_scale=0.1, init_std=1.0,
        entropy_coef=0.01, entropy_final=0.0, value_norm=True, validation_tasks=100,
    ),
    # VariBAD's grid world, 4 episodes x 15 steps. Untuned: taken from VariBAD's own RL² settings for
    # the grid (config/gridworld/args_grid_rl2.py: GRU 64, gamma 0.95, GAE 0.95, lr 7e-4, 2 PPO epochs of
    # 4 minibatches, clip 0.05, entropy 0.01 held, rewards normalised) with 64 trials per update
    # instead of its 16 processes; 5200 iterations x 64 trials x 60 steps = 2.0e7 frames, the paper's.
    # Measured (seed 0, 21 min on one thread beside another job; 1000 held-out tasks, seed 12345): per
    # episode 4.09 / 10.27 / 11.01 / 11.03 (trial 36.40) against Bayes-optimal 4.00 / 11.07 x 3.
    "gridworld": dict(
        episodes_per_trial=4, trials_per_iteration=64, hidden_size=64, embed_size=16, iterations=5200,
        gamma=0.95, gae_lambda=0.95, lr=7e-4, ppo_epochs=2, minibatches=4, clip_range=0.05,
        entropy_coef=0.01, entropy_final=0.01, value_norm=True, validation_tasks=200,
    ),
    # Meta-World ML1 (`--task-options task=reach-v3`), after garage's RL2PPO example for ML1 (the
    # set-up of the Meta-World paper's RL² runs): GRU 64, 10 tasks x 10 episodes per update, gamma
    # 0.99, GAE 0.95, clip 0.2. Episodes are 500 steps here (garage's were 150), so a trial is 5000
    # steps, backpropagated in chunks of one episode; rewards (0..10 a step) are scaled by 0.1 on input
    # and for training. No entropy bonus: garage's 0.02 is added to raw rewards, here a bonus beside
    # normalised advantages, where it raised the entropy (5.69 -> 5.93 in 12 iterations, seed 0) while
    # episode returns stayed near 2000. Validation is 10 of the 50 test goals, 10 episodes each (500k
    # steps): validate every 10 iterations or more.
    "metaworld-ml1": dict(
        episodes_per_trial=10, trials_per_iteration=10, hidden_size=64, iterations=400, tbptt=500,
        gamma=0.99, gae_lambda=0.95, lr=5e-4, ppo_epochs=4, minibatches=4, clip_range=0.2,
        reward_input_scale=0.1, reward_scale=0.1, init_std=1.0,
        entropy_coef=0.0, entropy_final=0.0, value_norm=True, validation_tasks=10,
    ),
}

# n=100 bandits. Measured on k=5 (1000 held-out tasks, 900 iterations): 76.9 with GAE lambda 0.9,
# against 72.7 with the bandit preset's 0.3 (same 512 trials per iteration, lr 1e-3 decayed, entropy
# 0.05 -> 0, rewards scaled by 0.1, no value normalisation). A pull's value to exploration shows only
# many pulls later, which lambda 0.3 hands to a value function that cannot yet see it: the policy
# settled below greedy. 256 trials with value_norm and entropy 0.1 -> 0.005 collapsed onto one arm
# (61). Thompson 74.3, greedy 75.2, Gittins 78.2. k=10 needs a longer schedule: 78.2 after 900
# iterations (69.1 at lambda 0.3), still rising; 82.0 after 1800 (greedy 79.2, UCB1 83.4, Gittins
# 83.9), where the slower lr and entropy decay kept the entropy above 0.4 until iteration ~950.
_N100: dict[str, Any] = dict(
    hidden_size=128, trials_per_iteration=512, iterations=900, value_norm=False, reward_scale=0.1, lr=1e-3,
    lr_decay=True, ppo_epochs=4, minibatches=4, entropy_coef=0.05, entropy_final=0.0, gae_lambda=0.9,
)

VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "bandit-k5-n10": ("bandit", {}),
    "bandit-k5-n100": ("bandit", dict(episodes_per_trial=100, **_N100)),
    "bandit-k10-n100": ("bandit", dict(task_options=("arms=10",), episodes_per_trial=100,
                                       **{**_N100, "iterations": 1800})),
    "tabular-mdp-n10": ("tabular-mdp", {}),
}


def _check(name: str, ok: bool, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{name}={value!r} is not allowed: {allowed}")


def validate(config: RL2Config) -> RL2Config:
    """Raise a ConfigError naming the first bad field by its flat name (= its flag); return
    ``config`` unchanged otherwise."""
    family(config.env)
    check_backend(config.backend, config.workers, config.ray_address)
    policy, loss, opt = config.policy, config.loss, config.optimizer
    at_least_one = {"iterations": config.iterations, "episodes_per_trial": config.episodes_per_trial,
                    "trials_per_iteration": config.trials_per_iteration, "hidden_size": policy.hidden_size,
                    "ppo_epochs": opt.ppo_epochs, "minibatches": opt.minibatches,
                    "validation_tasks": config.evaluation.validation_tasks, "max_unroll": opt.max_unroll}
    for name, value in at_least_one.items():
        _check(name, isinstance(value, int) and not isinstance(value, bool) and value >= 1, value, "an integer >= 1")
    for name, value in (("embed_size", policy.embed_size), ("tbptt", opt.tbptt),
                        ("max_episode_steps", config.max_episode_steps)):
        _check(name, isinstance(value, int) and value >= 0, value, "an integer >= 0")
    task_kwargs(config.task_options)
    for name, value in (("gamma", loss.gamma), ("gae_lambda", loss.gae_lambda)):
        _check(name, 0.0 <= value <= 1.0, value, "a number in [0, 1]")
    for name, value in (("lr", opt.lr), ("init_std", policy.init_std), ("clip_range", loss.clip_range),
                        ("max_grad_norm", opt.max_grad_norm), ("reward_scale", loss.reward_scale)):
        _check(name, value > 0, value, "a number > 0")
    for name, value in (("value_coef", loss.value_coef), ("entropy_coef", loss.entropy_coef),
                        ("entropy_final", loss.entropy_final)):
        _check(name, value >= 0, value, "a number >= 0")
    _check("minibatches", opt.minibatches <= config.trials_per_iteration, opt.minibatches,
           f"at most trials_per_iteration ({config.trials_per_iteration})")
    _check("cell", policy.cell in ("gru", "lstm"), policy.cell, "'gru' or 'lstm'")
    _check("log_std", policy.log_std in ("parameter", "head"), policy.log_std, "'parameter' or 'head'")
    length = config.max_trial_length
    if opt.tbptt == 0 and length > opt.max_unroll:
        raise ConfigError(
            f"a trial of episodes_per_trial={config.episodes_per_trial} episodes is up to {length} steps, "
            f"longer than max_unroll={opt.max_unroll}: set tbptt (truncated BPTT chunk length, e.g. 200) "
            "or raise max_unroll"
        )
    _check("tbptt", opt.tbptt <= opt.max_unroll, opt.tbptt, f"at most max_unroll ({opt.max_unroll})")
    return config


def make_config(env: str, **overrides: Any) -> RL2Config:
    """The preset of ``env`` (a family or a variant name) with ``overrides`` applied, validated.
    Presets and overrides use the flat leaf names (``lr=3e-4``; dotted paths such as
    ``optimizer.lr`` work too); an unknown name raises ``ConfigError`` naming it."""
    if env in VARIANTS:
        fam, variant = VARIANTS[env]
        base = {**PRESETS[fam], **variant}
    elif env in PRESETS:
        fam, base = env, dict(PRESETS[env])
    elif env in FAMILIES:  # a family without a preset (one registered in user code): the base defaults
        fam, base = env, {}
    else:
        known = sorted(set(PRESETS) | set(VARIANTS))
        raise ConfigError(f"env {env!r} is neither a task family ({', '.join(sorted(FAMILIES))}) nor an RL² "
                          f"variant ({', '.join(known)})")
    overrides.pop("env", None)
    config = replace_leaves(replace_leaves(RL2Config(env=fam), **_tuples({**base, "preset": env})),
                            **_tuples(overrides))
    n = config.episodes_per_trial
    _check("episodes_per_trial", isinstance(n, int) and n >= 1, n, "an integer >= 1 (episodes per trial)")
    return validate(config)


def _tuples(values: dict[str, Any]) -> dict[str, Any]:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}
