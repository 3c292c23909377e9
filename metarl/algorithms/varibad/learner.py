"""VariBAD's meta-learner (Zintgraf et al. 2020): a VAE infers the task, PPO acts on its belief.

One meta-iteration: ``trials_per_iteration`` fresh tasks, one trial of ``episodes_per_trial``
episodes each, collected by the sampler with the encoder's belief updated after every step; the
trials join the VAE's buffer. Once ``precollect_frames`` steps have been collected: one PPO update
of the policy on this iteration's trials (beliefs recomputed by the encoder, gradients stopped),
then ``vae_updates`` ELBO steps of encoder and decoders on batches from the buffer, with their own
Adam. Implements ``metarl.training.MetaLearner``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from metarl.algorithms.varibad.buffer import TrialBuffer
from metarl.algorithms.varibad.config import VariBADConfig
from metarl.algorithms.varibad.decoder import (
    CellRewardDecoder,
    GridCells,
    StateDecoder,
    TransitionRewardDecoder,
    VAEBatch,
)
from metarl.algorithms.varibad.elbo import TrialVAE, subsample_terms
from metarl.algorithms.varibad.encoder import TrialEncoder
from metarl.algorithms.varibad.policy import BeliefActor, BeliefPolicy, TaskActor, belief_input
from metarl.envs.registry import EnvFactory
from metarl.errors import ConfigError
from metarl.rl.ppo import RunningNorm, ppo_objective, trial_advantages
from metarl.rl.task_features import TaskAwarePolicy, TaskFeatures
from metarl.rollout import Sampler
from metarl.rollout.sharding import concat_trials
from metarl.rollout.trajectories import TrialSequence
from metarl.tasks import TaskBatch, TaskSet


def discounted_running_returns(rewards: torch.Tensor, mask: torch.Tensor, gamma: float) -> torch.Tensor:
    """``[B, L]``: ``R_k = gamma R_{k-1} + r_k`` from each trial's start (VecNormalize's ``ret``)."""
    out = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for k in range(rewards.shape[1]):
        running = (gamma * running + rewards[:, k]) * mask[:, k]
        out[:, k] = running
    return out


def check_cells(env: Any, *, steps: int = 8) -> None:
    """A ConfigError unless ``env``'s observations are integer cells over a few random steps (a Box
    with integer bounds alone does not make a grid: the pendulum's is [-1, 1] x [-1, 1] x [-8, 8])."""
    obs, _ = env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(steps):
        if not np.array_equal(obs, np.round(obs)):
            raise ConfigError(f"reward_decoder='cells' needs observations that are cells of a grid (integers); "
                              f"{type(env).__name__} observed {np.asarray(obs)[0].tolist()}: use "
                              "reward_decoder='transition'")
        obs, *_ = env.step(env.action_space.sample())


def build_vae(config: VariBADConfig, *, obs_space: Any, action_space: Any, probe: Any = None) -> TrialVAE:
    """Encoder and decoders of ``config`` for these spaces (``reward_decoder="cells"`` needs a grid:
    ``probe``, an env of the family, is stepped to check that its observations are cells)."""
    enc, dec, vae = config.encoder, config.decoder, config.vae
    obs_dim = int(np.prod(obs_space.shape))
    discrete = hasattr(action_space, "n")
    width = int(action_space.n) if discrete else int(np.prod(action_space.shape))
    encoder = TrialEncoder(
        obs_dim=obs_dim, n_actions=width if discrete else None, act_dim=None if discrete else width,
        hidden_size=enc.encoder_hidden_size, latent_dim=enc.latent_dim, state_embed=enc.state_embed_size,
        action_embed=enc.action_embed_size, reward_embed=enc.reward_embed_size,
        prev_state_embed=enc.prev_state_embed_size, layers_before=enc.encoder_layers_before,
        layers_after=enc.encoder_layers_after)
    common = dict(latent_dim=enc.latent_dim, obs_dim=obs_dim, action_width=width, discrete=discrete,
                  state_embed=enc.state_embed_size, action_embed=enc.action_embed_size)
    if dec.reward_decoder == "cells":
        if probe is not None:
            check_cells(probe)
        reward: torch.nn.Module = CellRewardDecoder(latent_dim=enc.latent_dim, cells=GridCells.from_space(obs_space),
                                                    layers=dec.reward_decoder_layers, success_reward=dec.success_reward)
    else:
        reward = TransitionRewardDecoder(**common, layers=dec.reward_decoder_layers, prev_state=dec.decoder_prev_state,
                                         action=dec.decoder_action)
    state = StateDecoder(**common, layers=dec.state_decoder_layers) if dec.decode_state else None
    return TrialVAE(encoder=encoder, reward_decoder=reward, state_decoder=state, reward_coef=dec.reward_loss_coef,
                    state_coef=dec.state_loss_coef, kl_weight=vae.kl_weight, kl_sum_over_trials=vae.kl_sum_over_trials)


class VariBADLearner:
    """Trains a ``TrialVAE`` and a ``BeliefPolicy``. Seeds torch with ``config.seed`` on
    construction; its own randomness (minibatches, buffer draws, latent samples) comes from one CPU
    generator seeded from it, so a run is the same on any device and resumes exactly."""

    name = "varibad"
    headline_metrics = ("trial_return",)

    def __init__(self, *, config: VariBADConfig, env: EnvFactory, tasks: TaskSet, sampler: Sampler) -> None:
        self.config, self.env_factory, self.tasks, self.sampler = config, env, tasks, sampler
        self.device = torch.device(config.device)
        torch.manual_seed(config.seed)
        self.train_rng = tasks.train_rng()
        self.generator = torch.Generator().manual_seed(config.seed + 7919)
        self.env = env()
        obs_space, action_space = self.env.single_observation_space, self.env.single_action_space
        self.vae = build_vae(config, obs_space=obs_space, action_space=action_space, probe=self.env).to(self.device)
        self.features = TaskFeatures(tasks) if config.task_aware else None  # the oracle's stand-in for the belief
        self.policy = self._make_policy(obs_space, action_space).to(self.device)
        self.actor: Any = BeliefActor(encoder=self.vae.encoder, policy=self.policy) if self.features is None else \
            TaskActor(policy=self.policy, feature_dim=self.features.dim)
        opt = config.optimizer
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=opt.lr, eps=opt.adam_eps)
        self.vae_optimizer = torch.optim.Adam(self.vae.parameters(), lr=config.vae.vae_lr)
        self.reward_norm = RunningNorm() if config.loss.norm_rewards else None
        self.buffer = TrialBuffer(
            capacity=config.vae.vae_buffer_size, length=config.max_trial_length, obs_dim=int(np.prod(obs_space.shape)),
            action_shape=() if self.policy.discrete else tuple(action_space.shape), discrete=self.policy.discrete,
            keep_obs=self._reads_obs(), device=self.device)
        self.validation_set = tasks.validation_tasks(config.evaluation.validation_tasks)
        self.iteration, self.frames = 0, 0

    def _reads_obs(self) -> bool:
        cfg = self.config
        return cfg.encoder.prev_state_embed_size > 0 or cfg.decoder.decode_state or \
            (cfg.decoder.reward_decoder == "transition" and cfg.decoder.decoder_prev_state)

    def _make_policy(self, obs_space: Any, action_space: Any) -> BeliefPolicy:
        cfg, discrete = self.config.policy, hasattr(action_space, "n")
        return BeliefPolicy(
            obs_dim=int(np.prod(obs_space.shape)),
            belief_dim=2 * self.config.encoder.latent_dim if self.features is None else self.features.dim,
            n_actions=int(action_space.n) if discrete else None,
            act_dim=None if discrete else int(np.prod(action_space.shape)), layers=cfg.policy_layers,
            state_embed=cfg.policy_state_embed, belief_embed=cfg.policy_belief_embed, norm_state=cfg.norm_state,
            norm_belief=cfg.norm_belief, init_std=cfg.init_std)

    def close(self) -> None:
        """Release the sampler's workers (Ray actors), if any."""
        close = getattr(self.sampler, "close", None)
        if close is not None:
            close()

    # ------------------------------------------------------------------ acting
    @torch.no_grad()
    def collect(self, tasks: TaskBatch, *, deterministic: bool = False, seed: int | None = None) -> TrialSequence:
        """One trial per task with the current encoder and policy (the oracle: the tasks' features)."""
        acting = self.actor if self.features is None else TaskAwarePolicy(self.actor, self.features(tasks, self.device))
        return self.sampler.collect_trials(acting, tasks, self.config.episodes_per_trial,
                                           deterministic=deterministic, seed=seed)

    def play(self, tasks: TaskBatch, *, seed: int, deterministic: bool | None = None,
             chunk: int = 2048) -> TrialSequence:
        """Trials on ``tasks`` with their own random streams (``seed``), leaving training's untouched."""
        deterministic = self.config.evaluation.eval_deterministic if deterministic is None else deterministic
        parts = [self.collect(tasks.take(np.arange(i, min(i + chunk, len(tasks)))), deterministic=deterministic,
                              seed=seed + i) for i in range(0, len(tasks), chunk)]
        return parts[0] if len(parts) == 1 else concat_trials(parts)

    @torch.no_grad()
    def beliefs(self, trials: TrialSequence) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, logvar)`` ``[B, L + 1, K]`` of the encoder over stored trials (index t: after t steps)."""
        return self.vae.posteriors(VAEBatch.from_trials(trials))

    # ------------------------------------------------------------------ learning
    def _lr(self, iteration: int) -> float:
        opt = self.config.optimizer
        frac = min(iteration / max(self.config.iterations - 1, 1), 1.0)
        return opt.lr * (1.0 - frac * (1 - 1 / self.config.iterations)) if opt.lr_decay else opt.lr

    def policy_batch(self, trials: TrialSequence, tasks: TaskBatch | None = None) -> dict[str, torch.Tensor]:
        """The real steps of ``trials`` as flat PPO rows: inputs (beliefs detached; the oracle: the
        features of ``tasks``, the trials' tasks), the old log-probabilities under the just-updated
        input normalisation (as the reference recomputes them), the collected values, advantages
        (normalised) and value targets."""
        cfg, mask = self.config.loss, trials.mask
        if self.features is None:
            mean, logvar = self.beliefs(trials)
            belief = belief_input(mean[:, :-1], logvar[:, :-1])
        else:
            assert tasks is not None
            belief = self.features(tasks, self.device)[:, None].expand(*mask.shape, -1)
        real = mask > 0
        self.policy.state_norm.update(trials.obs[real])
        self.policy.belief_norm.update(belief[real])
        rewards = trials.rewards
        if self.reward_norm is not None:
            self.reward_norm.update(discounted_running_returns(rewards, mask, cfg.gamma)[real])
            rewards = (rewards / self.reward_norm.std).clamp(-10.0, 10.0) * mask
        adv, targets = trial_advantages(rewards=rewards, values=trials.values, mask=mask, gamma=cfg.gamma,
                                        lam=cfg.gae_lambda, complete=trials.complete())
        adv = (adv - adv[real].mean()) / (adv[real].std() + 1e-5)
        with torch.no_grad():
            dist, _ = self.policy(trials.obs[real], belief[real])
            old_log_probs = dist.log_prob(trials.actions[real])
        return {"obs": trials.obs[real], "belief": belief[real], "actions": trials.actions[real],
                "old_log_probs": old_log_probs, "old_values": trials.values[real], "advantages": adv[real],
                "targets": targets[real]}

    def ppo_loss(self, rows: Mapping[str, torch.Tensor], *,
                 index: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """PPO's loss on the rows ``index`` of ``policy_batch``'s output."""
        cfg = self.config.loss
        take = {k: v[index] for k, v in rows.items()}
        dist, values = self.policy(take["obs"], take["belief"])
        return ppo_objective(dist, values, actions=take["actions"], old_log_probs=take["old_log_probs"],
                             advantages=take["advantages"], targets=take["targets"], mask=torch.ones_like(values),
                             clip_range=cfg.clip_range, value_coef=cfg.value_coef, entropy_coef=cfg.entropy_coef,
                             old_values=take["old_values"] if cfg.clip_value else None, huber=cfg.huber_value)

    def update_policy(self, trials: TrialSequence, *, lr: float, tasks: TaskBatch | None = None) -> dict[str, float]:
        opt = self.config.optimizer
        rows = self.policy_batch(trials, tasks)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        totals: dict[str, float] = {}
        count = 0
        for _ in range(opt.ppo_epochs):
            order = torch.randperm(rows["advantages"].shape[0], generator=self.generator).to(self.device)
            for index in order.chunk(opt.minibatches):
                loss, stats = self.ppo_loss(rows, index=index)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                stats["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(self.policy.parameters(), opt.max_grad_norm))
                self.optimizer.step()
                for k, v in stats.items():
                    totals[k] = totals.get(k, 0.0) + v
                count += 1
        return {k: v / count for k, v in totals.items()}

    def update_vae(self) -> dict[str, float]:
        vae_cfg = self.config.vae
        totals: dict[str, float] = {}
        for _ in range(vae_cfg.vae_updates):
            batch = self.buffer.sample(vae_cfg.vae_batch_trials, self.generator)
            n, steps = batch.mask.shape
            noise = torch.randn(n, steps + 1, self.config.encoder.latent_dim, generator=self.generator).to(self.device)
            elbo_terms = None
            if vae_cfg.vae_subsample_elbos > 0:
                elbo_terms = subsample_terms(batch.mask, vae_cfg.vae_subsample_elbos, self.generator)
            loss, stats = self.vae.loss(batch, noise=noise, elbo_terms=elbo_terms)
            self.vae_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            for module, limit in ((self.vae.encoder, vae_cfg.encoder_max_grad_norm),
                                  (self.vae.reward_decoder, vae_cfg.decoder_max_grad_norm),
                                  (self.vae.state_decoder, vae_cfg.decoder_max_grad_norm)):
                if module is not None and limit > 0:
                    torch.nn.utils.clip_grad_norm_(module.parameters(), limit)
            self.vae_optimizer.step()
            for k, v in stats.items():
                totals[k] = totals.get(k, 0.0) + float(v.detach()) / vae_cfg.vae_updates
        return totals

    def train_iteration(self, iteration: int) -> dict[str, float]:
        cfg = self.config
        started = time.perf_counter()
        tasks = self.tasks.train_batch(cfg.trials_per_iteration, self.train_rng)
        trials = self.collect(tasks)
        oracle = self.features is not None
        if not oracle:  # the oracle trains no VAE: no buffer
            self.buffer.add(trials)
        self.frames += trials.num_steps()
        sampled = time.perf_counter()
        lr, stats = self._lr(iteration), {}
        updating = self.frames >= cfg.vae.precollect_frames
        if updating:
            stats.update(self.update_policy(trials, lr=lr, tasks=tasks))
        policy_done = time.perf_counter()
        if updating and cfg.vae.vae_updates > 0 and not oracle:
            stats.update(self.update_vae())
        done = time.perf_counter()
        self.iteration = iteration + 1
        steps = trials.num_steps()
        by_episode = trials.episode_returns().mean(0)
        return {"trial_return": float(trials.trial_returns().mean()),
                **{f"return_episode_{e + 1}": float(v) for e, v in enumerate(by_episode[:10])}, **stats,
                "lr": lr, "frames": float(self.frames), "buffer_trials": float(len(self.buffer)),
                "time_sampling": sampled - started, "time_policy": policy_done - sampled,
                "time_vae": done - policy_done, "env_steps_per_second": steps / max(done - started, 1e-9)}

    def validate(self) -> float:
        """Mean trial return on the fixed validation tasks (own random streams)."""
        return float(self.play(self.validation_set, seed=self.config.seed + 1).trial_returns().mean())

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {
            "vae": self.vae.state_dict(), "policy": self.policy.state_dict(), "optimizer": self.optimizer.state_dict(),
            "vae_optimizer": self.vae_optimizer.state_dict(),
            "reward_norm": self.reward_norm.state_dict() if self.reward_norm else {},
            "buffer": self.buffer.state_dict(), "train_rng": json.dumps(self.train_rng.bit_generator.state),
            "sampler": self.sampler.state_dict(), "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(), "iteration": self.iteration, "frames": self.frames,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.vae.load_state_dict(state["vae"])
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.vae_optimizer.load_state_dict(state["vae_optimizer"])
        if self.reward_norm is not None and state.get("reward_norm"):
            self.reward_norm.load_state_dict(state["reward_norm"])
        self.buffer.load_state_dict(state["buffer"])
        self.train_rng.bit_generator.state = json.loads(state["train_rng"])
        self.sampler.load_state_dict(state["sampler"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.iteration, self.frames = int(state["iteration"]), int(state["frames"])

