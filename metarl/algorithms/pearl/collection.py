"""Meta-training collection as oyster's ``MetaRLAlgorithm.collect_data``, for all collected tasks at
once through the generic ``Sampler``: one latent per task (or per episode) goes in as
``params={"z": z [tasks, L]}``, as MAML's per-task parameters do.

- ``prior`` phase (and the initial pool): every episode with its own z ~ N(0, I), the posterior
  never updated; the episodes are independent, so all of them run in one call (the K tasks
  repeated E times, one episode each).
- ``posterior`` phase: as oyster, it starts from the prior (``collect_data`` clears z); after each
  episode q(z | c) is inferred again from ``embedding_batch_size`` transitions of the task's
  encoder buffer and a new z drawn from it (``update_post_train = 1``, ``resample_z_rate = 1``),
  so its E episodes are E sampler calls over the K tasks.

``play`` is oyster's test-time collection (``collect_paths``): online trajectories on each task,
the first ``exploration`` with z ~ prior, the later ones with z ~ q(z | everything gathered so far).

Steps are rounded up to whole episodes (oyster collects complete trajectories until it has at
least the asked number of steps; on a family that terminates early this collects fewer).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import numpy as np
import torch

from metarl.algorithms.pearl.buffer import TaskReplayBuffer
from metarl.algorithms.pearl.networks import TanhGaussianPolicy
from metarl.rollout.trajectories import Trajectories
from metarl.tasks import TaskBatch


class PearlLearner(Protocol):
    """What collection reads of the learner (``metarl.algorithms.pearl.learner.PearlLearner``)."""

    config: Any
    sampler: Any
    nets: Any
    policy: TanhGaussianPolicy
    train_tasks: TaskBatch
    rl_buffer: TaskReplayBuffer
    enc_buffer: TaskReplayBuffer
    generator: torch.Generator
    device: torch.device
    latent_dim: int

    def prior_latent(self, idx: np.ndarray, generator: torch.Generator) -> torch.Tensor: ...

    def posterior_latent(self, context: torch.Tensor, mask: torch.Tensor | None,
                         generator: torch.Generator) -> torch.Tensor: ...

    def task_latent(self, tasks: TaskBatch) -> torch.Tensor: ...


class Collected(NamedTuple):
    """What a phase gathered: ``steps`` (real transitions), ``returns [tasks, episodes]`` (env reward)."""

    steps: int
    returns: torch.Tensor


def transitions(traj: Trajectories, *, dense_critic_reward: bool) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """``Trajectories [K, E, H, ...]`` as buffer rows ``[K, E * H, ...]`` and their ``mask [K, E * H]``.

    Actions become tanh of the sampler's pre-tanh ones (the [-1, 1] action the critics see);
    ``critic_rewards`` is the family's training reward where it reports one and
    ``dense_critic_reward`` is set, else the env's reward.
    """
    k = traj.num_tasks

    def flat(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(k, -1, *x.shape[3:])

    use_training = dense_critic_reward and traj.training_rewards is not None
    fields = {"obs": flat(traj.obs), "actions": flat(torch.tanh(traj.actions)), "rewards": flat(traj.rewards),
              "critic_rewards": flat(traj.training_rewards if use_training else traj.rewards),
              "next_obs": flat(traj.next_obs), "terminated": flat(traj.terminated.float())}
    return fields, flat(traj.mask)


def context_of(fields: dict[str, torch.Tensor], *, next_obs: bool) -> torch.Tensor:
    """Encoder input ``[..., obs + act + 1 (+ obs)]``: (s, a, r[, s']) with the env's reward."""
    parts = [fields["obs"], fields["actions"], fields["rewards"].unsqueeze(-1)]
    return torch.cat([*parts, fields["next_obs"]] if next_obs else parts, dim=-1)


def _store(learner: PearlLearner, idx: np.ndarray, traj: Trajectories, to_encoder: bool) -> None:
    fields, mask = transitions(traj, dense_critic_reward=learner.config.loss.dense_critic_reward)
    learner.rl_buffer.add(idx, fields, mask)
    if to_encoder:
        learner.enc_buffer.add(idx, fields, mask)


@torch.no_grad()
def collect_prior(learner: PearlLearner, idx: np.ndarray, episodes: int, *, to_encoder: bool = True) -> Collected:
    """``episodes`` episodes of each train task ``idx [K]``, each with a fresh z from the prior (or
    the task's fixed z without an encoder), in one sampler call; stored in the RL buffer (and the
    encoder buffer with ``to_encoder``)."""
    k = len(idx)
    rows = np.repeat(idx, episodes)
    z = learner.prior_latent(rows, learner.generator)
    traj = learner.sampler.collect(learner.policy, learner.train_tasks.take(rows), 1, params={"z": z})
    traj = traj.map(lambda t: t.reshape(k, episodes, *t.shape[2:]))
    _store(learner, idx, traj, to_encoder)
    return Collected(steps=traj.num_steps(), returns=traj.episode_returns())


@torch.no_grad()
def collect_posterior(learner: PearlLearner, idx: np.ndarray, episodes: int, *, to_encoder: bool) -> Collected:
    """``episodes`` episodes of each train task ``idx``, one sampler call per episode: the first
    with z from the prior, each next one with z ~ q(z | c), c sampled from the task's encoder
    buffer after the previous episode was stored."""
    if learner.nets.encoder is None:  # z never changes: the episodes are independent
        return collect_prior(learner, idx, episodes, to_encoder=to_encoder)
    tasks, cfg = learner.train_tasks.take(idx), learner.config
    z = learner.prior_latent(idx, learner.generator)
    steps, returns = 0, []
    for episode in range(episodes):
        traj = learner.sampler.collect(learner.policy, tasks, 1, params={"z": z})
        _store(learner, idx, traj, to_encoder)
        steps += traj.num_steps()
        returns.append(traj.episode_returns())
        if episode == episodes - 1:
            break
        sample = learner.enc_buffer.sample_all(idx, cfg.optimizer.embedding_batch_size, learner.generator)
        z = learner.posterior_latent(context_of(sample, next_obs=cfg.network.next_obs_in_context), None,
                                     learner.generator)
    return Collected(steps=steps, returns=torch.cat(returns, dim=1))


# ---------------------------------------------------------------------------- the test protocol
def _call_seed(seed: int, k: int) -> int:
    return int(np.random.SeedSequence([seed, k]).generate_state(1, np.uint64)[0] % 2**63)


@torch.no_grad()
def play(learner: PearlLearner, tasks: TaskBatch, *, trajectories: int, exploration: int, deterministic: bool,
         seed: int, chunk: int = 256) -> torch.Tensor:
    """``[tasks, trajectories]`` env-reward returns of the protocol above, ``chunk`` tasks at a time;
    ``seed`` fixes every stream (the env's, the actions', the z draws), training's are left alone."""
    parts = [_play_chunk(learner, tasks.take(np.arange(i, min(i + chunk, len(tasks)))), trajectories=trajectories,
                         exploration=exploration, deterministic=deterministic, seed=_call_seed(seed, i))
             for i in range(0, len(tasks), chunk)]
    return torch.cat(parts).cpu()


def _play_chunk(learner: PearlLearner, tasks: TaskBatch, *, trajectories: int, exploration: int,
                deterministic: bool, seed: int) -> torch.Tensor:
    device, cfg = learner.device, learner.config
    generator = torch.Generator(device=device).manual_seed(seed)
    n = len(tasks)
    fixed = learner.task_latent(tasks) if learner.nets.encoder is None else None
    contexts: list[torch.Tensor] = []
    masks: list[torch.Tensor] = []
    returns = []
    for k in range(trajectories):
        if fixed is not None:
            z = fixed
        elif k < exploration or not contexts:
            z = torch.randn(n, learner.latent_dim, generator=generator, device=device)
        else:
            z = learner.posterior_latent(torch.cat(contexts, 1), torch.cat(masks, 1), generator)
        traj = learner.sampler.collect(learner.policy, tasks, 1, params={"z": z}, deterministic=deterministic,
                                       seed=_call_seed(seed, k))
        fields, mask = transitions(traj, dense_critic_reward=False)
        contexts.append(context_of(fields, next_obs=cfg.network.next_obs_in_context))
        masks.append(mask)
        returns.append(traj.episode_returns()[:, 0])
    return torch.stack(returns, dim=1)
