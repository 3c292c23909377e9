"""PEARL's configuration: a dataclass of sub-configs (every leaf a flat CLI flag), presets, validation.

The defaults are oyster's ``configs/default.py`` (Rakelly et al. 2019's reference code): latent 5,
3x300 actor and critics, a 3x200 context encoder, Adam at 3e-4 for every network, reward scale 5,
gamma 0.99, tau 0.005, KL weight 0.1, meta-batch 16, batch 256, context batch 64. A preset
overrides them as oyster's ``configs/<env>.json`` does: ``navigation2d-sparse-oyster`` is exactly
``sparse-point-robot.json``, and the family's own preset ``navigation2d-sparse`` a CPU-sized version
of it (a GPU's work per iteration at oyster's sizes); ``halfcheetah-vel-oyster`` is exactly
``cheetah-vel.json``, ``halfcheetah-vel-oyster-cpu`` its CPU-sized version.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import field
from typing import Any, Literal

from metarl.algorithms.run_config import RunConfig
from metarl.config_cli import replace_leaves
from metarl.envs.registry import FAMILIES, family
from metarl.errors import ConfigError
from metarl.rollout import check_backend
from metarl.tasks import task_kwargs

Embedding = Literal["encoder", "task", "none"]


def _f(default: Any, help: str) -> Any:
    if isinstance(default, list | tuple):
        return field(default=tuple(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclasses.dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    """The shapes of the networks (a checkpoint only loads into the same ones)."""

    hidden_sizes: tuple[int, ...] = _f((300, 300, 300), "hidden layers of the policy, the Q and the V networks")
    encoder_sizes: tuple[int, ...] = _f((200, 200, 200), "hidden layers of the context encoder (oyster: 3x200)")
    latent_size: int = _f(5, "size of the task embedding z")
    next_obs_in_context: bool = _f(False, "context transitions hold s' too (s, a, r, s'), for tasks that "
                                          "differ in their dynamics (oyster's use_next_obs_in_context)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class LossConfig:
    """SAC's objective with oyster's V network and target V, and the encoder's KL term."""

    reward_scale: float = _f(5.0, "rewards are multiplied by this in the Q target (sets the entropy weight)")
    gamma: float = _f(0.99, "discount")
    tau: float = _f(0.005, "soft update rate of the target V network")
    kl_weight: float = _f(0.1, "weight of KL(q(z|c) || N(0, I)), summed over the meta-batch's tasks")
    policy_mean_reg: float = _f(1e-3, "weight of the policy's mean^2 penalty")
    policy_std_reg: float = _f(1e-3, "weight of the policy's log_std^2 penalty")
    dense_critic_reward: bool = _f(True, "the critic learns from the family's training reward where it reports "
                                         "one (the sparse point robot's dense -distance, as oyster's critic "
                                         "does); the encoder and the evaluation always see the env's reward")


@dataclasses.dataclass(frozen=True, kw_only=True)
class OptimizerConfig:
    """The gradient steps of one iteration and their batches."""

    lr: float = _f(3e-4, "Adam learning rate of every network (encoder, policy, Q, V)")
    gradient_steps: int = _f(2000, "gradient steps per iteration (oyster's num_train_steps_per_itr)")
    meta_batch: int = _f(16, "tasks per gradient step, drawn with replacement from the train tasks")
    batch_size: int = _f(256, "RL transitions per task per gradient step")
    embedding_batch_size: int = _f(64, "context transitions per task per gradient step")


@dataclasses.dataclass(frozen=True, kw_only=True)
class CollectionConfig:
    """What one iteration collects (oyster's train loop): steps are rounded up to whole episodes."""

    initial_steps: int = _f(2000, "steps per train task before training, z ~ prior (num_initial_steps; >= 1: "
                                  "every task is sampled from the first update on)")
    tasks_per_iteration: int = _f(5, "train tasks collected on per iteration, distinct (num_tasks_sample)")
    steps_prior: int = _f(400, "steps per collected task with z ~ prior, to both buffers (num_steps_prior)")
    steps_posterior: int = _f(0, "steps with z ~ posterior, to both buffers (num_steps_posterior)")
    extra_rl_steps_posterior: int = _f(400, "steps with z ~ posterior, to the RL buffer only "
                                            "(num_extra_rl_steps_posterior)")
    replay_capacity: int = _f(100_000, "RL replay transitions kept per train task (oldest overwritten)")
    pipeline: bool = _f(False, "collect each iteration's data in a background thread while its gradient steps "
                               "run on the data so far (one iteration stale; deterministic, see "
                               "metarl.algorithms.pearl.pipeline)")
    checkpoint_buffers: bool = _f(True, "checkpoints hold the replay buffers (resume continues exactly); "
                                        "without, resume refills them with initial_steps per task")


@dataclasses.dataclass(frozen=True, kw_only=True)
class EvaluationConfig:
    """Oyster's test protocol (validation selects checkpoints with it): trajectories collected
    online on each task, the first ``exploration`` with z ~ prior, the rest with z ~ q(z | all
    context so far)."""

    validation_tasks: int = _f(20, "held-out validation tasks for checkpoint selection")
    eval_trajectories: int = _f(3, "trajectories per task (oyster: num_steps_per_eval / max_path_length)")
    exploration: int = _f(1, "first trajectories with z ~ prior (oyster's num_exp_traj_eval)")
    eval_deterministic: bool = _f(True, "act with tanh(mean) at validation and evaluation")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PearlConfig(RunConfig):
    """All of a PEARL run. ``embedding`` picks what actor and critics are conditioned on: ``encoder``
    (PEARL: z ~ q(z | context)), ``task`` (the oracle: the task's standardised parameters, SAC
    given the task) or ``none`` (one multi-task SAC, no embedding); the last two are PEARL's
    baselines at the same env-step budget."""

    preset: str = _f("", "the preset the config was made from")
    iterations: int = _f(500, "meta-iterations (collection, then gradient_steps updates)")
    max_episode_steps: int = _f(0, "episode time limit; 0 = the env's default (oyster's max_path_length)")
    train_tasks: int = _f(100, "fixed train tasks drawn once from the train stream (oyster's n_train_tasks)")
    embedding: Embedding = _f("encoder", "what actor and critics see: encoder (PEARL), task (oracle), none")
    network: NetworkConfig = field(default_factory=NetworkConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    collection: CollectionConfig = field(default_factory=CollectionConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)

    @property
    def horizon(self) -> int:
        return self.max_episode_steps or family(self.env).env_type().default_max_episode_steps

    def episodes(self, steps: int) -> int:
        """Whole episodes that cover ``steps`` transitions (oyster collects complete trajectories)."""
        return math.ceil(steps / self.horizon)


# oyster's configs/sparse-point-robot.json over configs/default.py: 80 train tasks, meta-batch 16,
# gamma 0.9, reward scale 100, KL weight 1, context batch 1024, 10 tasks x (100 prior + 900
# posterior) steps per iteration, 1000 gradient steps, 20 trajectories of 20 steps at test time of
# which the first 5 explore with z ~ prior. On a CPU one of its iterations takes many minutes.
OYSTER_SPARSE_POINT: dict[str, Any] = dict(
    train_tasks=80, iterations=500, gamma=0.9, reward_scale=100.0, kl_weight=1.0, initial_steps=200,
    tasks_per_iteration=10, steps_prior=100, steps_posterior=900, extra_rl_steps_posterior=0,
    gradient_steps=1000, embedding_batch_size=1024, eval_trajectories=20, exploration=5, validation_tasks=20,
)

# oyster's configs/cheetah-vel.json over configs/default.py: 100 train tasks (30 held out), 2000 initial
# steps per task, 5 tasks x (400 prior + 600 posterior, RL buffer only) steps per iteration, context
# batch 100, 3 test trajectories of 200 steps of which the first 2 explore with z ~ prior.
OYSTER_CHEETAH_VEL: dict[str, Any] = dict(
    train_tasks=100, iterations=500, initial_steps=2000, tasks_per_iteration=5, steps_prior=400,
    steps_posterior=0, extra_rl_steps_posterior=600, embedding_batch_size=100, eval_trajectories=3, exploration=2,
    validation_tasks=20,
)

PRESETS: dict[str, dict[str, Any]] = {
    # oyster's sparse point robot at a CPU's scale (an iteration in a few seconds on one thread): 2x64
    # networks, 20 train tasks, a fifth of the collection and a tenth of the gradient steps per
    # iteration, smaller batches; the same discount, KL weight and test protocol. Reward scale 10 and
    # lr 1e-3 instead of 100 and 3e-4: at oyster's the Q values (~ -1000) are far from their initial
    # ~0 and were not reached in 35 iterations (validation return 0.0-0.6); at 10 and 1e-3 validation
    # reached 1.6 at iteration 35, one goal alone a return of 8 by iteration 15 (one seed each).
    "navigation2d-sparse": dict(
        OYSTER_SPARSE_POINT, hidden_sizes=(64, 64), encoder_sizes=(64, 64), train_tasks=20, iterations=200,
        tasks_per_iteration=4, steps_prior=40, steps_posterior=160, gradient_steps=100, meta_batch=8,
        batch_size=128, embedding_batch_size=128, replay_capacity=20_000, validation_tasks=10,
        reward_scale=10.0, lr=1e-3,
    ),
    "navigation2d-sparse-oyster": OYSTER_SPARSE_POINT,
    "halfcheetah-vel-oyster": OYSTER_CHEETAH_VEL,
    # oyster's cheetah-vel at a CPU's scale (~45 s an iteration on one thread): its collection, tasks,
    # context batch and test protocol, with 3x128 networks and encoder (oyster: 3x300, 3x200), 8 tasks x
    # 128 transitions per gradient step (16 x 256) and 1000 gradient steps per iteration (2000): at
    # oyster's sizes one gradient step takes 0.6 s here (`pearl_update`), an iteration 20 minutes.
    "halfcheetah-vel-oyster-cpu": dict(
        OYSTER_CHEETAH_VEL, hidden_sizes=(128, 128, 128), encoder_sizes=(128, 128, 128), meta_batch=8,
        batch_size=128, gradient_steps=1000, replay_capacity=30_000,
    ),
}
VARIANT_FAMILY = {"navigation2d-sparse-oyster": "navigation2d-sparse",
                  "halfcheetah-vel-oyster-cpu": "halfcheetah-vel-oyster"}


def _check(name: str, ok: bool, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{name}={value!r} is not allowed: {allowed}")


def _count(name: str, value: Any, minimum: int) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
    _check(name, ok, value, f"an integer >= {minimum}")


def _check_counts(config: PearlConfig) -> None:
    net, opt, col, ev = config.network, config.optimizer, config.collection, config.evaluation
    at_least_one = {"iterations": config.iterations, "train_tasks": config.train_tasks,
                    "initial_steps": col.initial_steps, "latent_size": net.latent_size,
                    "gradient_steps": opt.gradient_steps, "meta_batch": opt.meta_batch, "batch_size": opt.batch_size,
                    "embedding_batch_size": opt.embedding_batch_size, "tasks_per_iteration": col.tasks_per_iteration,
                    "replay_capacity": col.replay_capacity, "validation_tasks": ev.validation_tasks,
                    "eval_trajectories": ev.eval_trajectories}
    at_least_zero = {"max_episode_steps": config.max_episode_steps, "steps_prior": col.steps_prior,
                     "steps_posterior": col.steps_posterior, "extra_rl_steps_posterior": col.extra_rl_steps_posterior,
                     "exploration": ev.exploration}
    for minimum, values in ((1, at_least_one), (0, at_least_zero)):
        for name, value in values.items():
            _count(name, value, minimum)
    for name, sizes in (("hidden_sizes", net.hidden_sizes), ("encoder_sizes", net.encoder_sizes)):
        _check(name, bool(sizes) and all(isinstance(h, int) and h >= 1 for h in sizes), sizes,
               "one or more positive integers")


def _check_numbers(config: PearlConfig) -> None:
    loss, opt = config.loss, config.optimizer
    _check("gamma", 0.0 <= loss.gamma <= 1.0, loss.gamma, "a number in [0, 1]")
    _check("tau", 0.0 < loss.tau <= 1.0, loss.tau, "a number in (0, 1]")
    for name, value in (("lr", opt.lr), ("reward_scale", loss.reward_scale)):
        _check(name, value > 0, value, "a number > 0")
    for name, value in (("kl_weight", loss.kl_weight), ("policy_mean_reg", loss.policy_mean_reg),
                        ("policy_std_reg", loss.policy_std_reg)):
        _check(name, value >= 0, value, "a number >= 0")


def validate(config: PearlConfig) -> PearlConfig:
    """Raise a ConfigError naming the first bad field by its flat name (= its flag); return
    ``config`` unchanged otherwise."""
    family(config.env)
    check_backend(config.backend, config.workers, config.ray_address)
    task_kwargs(config.task_options)
    _check_counts(config)
    _check_numbers(config)
    col = config.collection
    _check("embedding", config.embedding in ("encoder", "task", "none"), config.embedding, "encoder, task or none")
    _check("tasks_per_iteration", col.tasks_per_iteration <= config.train_tasks, col.tasks_per_iteration,
           f"at most train_tasks ({config.train_tasks}): the collected tasks are distinct")
    _check("steps_prior", col.steps_prior + col.steps_posterior > 0, col.steps_prior,
           "> 0 when steps_posterior is 0 (a cleared encoder buffer would stay empty)")
    longest = max(col.initial_steps, col.steps_prior, col.steps_posterior, col.extra_rl_steps_posterior)
    _check("replay_capacity", col.replay_capacity >= config.horizon * config.episodes(longest), col.replay_capacity,
           "at least one collection phase's steps, rounded up to whole episodes")
    return config


def make_config(env: str, **overrides: Any) -> PearlConfig:
    """The preset of ``env`` (a family, or a preset name such as ``navigation2d-sparse-oyster``) with
    ``overrides`` (flat leaf names) applied, validated. A family without a preset runs on oyster's
    defaults."""
    if env in PRESETS:
        fam, base = VARIANT_FAMILY.get(env, env), dict(PRESETS[env])
    elif env in FAMILIES:
        fam, base = env, {}
    else:
        raise ConfigError(f"env {env!r} is neither a task family ({', '.join(sorted(FAMILIES))}) nor a PEARL "
                          f"preset ({', '.join(sorted(PRESETS))})")
    overrides.pop("env", None)
    config = replace_leaves(replace_leaves(PearlConfig(env=fam), **_tuples({**base, "preset": env})),
                            **_tuples(overrides))
    return validate(config)


def _tuples(values: dict[str, Any]) -> dict[str, Any]:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}
