"""RL²'s meta-learner: sample trials on fresh tasks, PPO-update the recurrent policy over them.

One meta-iteration: ``trials_per_iteration`` tasks from the train stream, one trial of
``episodes_per_trial`` episodes each, all stepped in parallel by the batched environment; then
``ppo_epochs`` passes of PPO over minibatches of whole trials (or TBPTT chunks of them).
Implements ``metarl.training.MetaLearner``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from metarl.algorithms.rl2.config import RL2Config
from metarl.algorithms.rl2.ppo import RunningNorm, TrialBatch, chunk_batch, ppo_loss, trial_advantages
from metarl.envs.registry import EnvFactory
from metarl.policies.memoryless import MemorylessActorCritic
from metarl.policies.recurrent import RecurrentActorCritic
from metarl.rl.task_features import TaskAwarePolicy, TaskFeatures, with_features
from metarl.rollout import Sampler
from metarl.rollout.sharding import concat_trials
from metarl.rollout.trajectories import TrialSequence
from metarl.tasks import TaskBatch, TaskSet


class RL2Learner:
    """Trains a ``RecurrentActorCritic`` with PPO over trials. Seeds torch with ``config.seed`` on
    construction, so the same config gives the same weights and, run after run, the same metrics."""

    name = "rl2"
    headline_metrics = ("trial_return",)

    def __init__(self, *, config: RL2Config, env: EnvFactory, tasks: TaskSet, sampler: Sampler) -> None:
        self.config, self.env_factory, self.tasks, self.sampler = config, env, tasks, sampler
        self.device = torch.device(config.device)
        torch.manual_seed(config.seed)
        self.train_rng = tasks.train_rng()
        self.env = env()
        self.features = TaskFeatures(tasks) if config.task_aware else None
        self.policy = self._make_policy().to(self.device)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=config.optimizer.lr, eps=1e-5)
        self.value_norm = RunningNorm() if config.loss.value_norm else None
        self.validation_set = tasks.validation_tasks(config.evaluation.validation_tasks)
        self.iteration = 0

    def close(self) -> None:
        """Release the sampler's workers (Ray actors), if any."""
        close = getattr(self.sampler, "close", None)
        if close is not None:
            close()

    def _make_policy(self) -> RecurrentActorCritic | MemorylessActorCritic:
        cfg, space = self.config.policy, self.env.single_action_space
        obs_dim = int(np.prod(self.env.single_observation_space.shape))
        if self.features is not None:
            obs_dim += self.features.dim
        discrete = hasattr(space, "n")
        return (RecurrentActorCritic if cfg.memory else MemorylessActorCritic)(
            obs_dim=obs_dim, n_actions=int(space.n) if discrete else None,
            act_dim=None if discrete else int(np.prod(space.shape)), hidden_size=cfg.hidden_size, cell=cfg.cell,
            embed_size=cfg.embed_size, log_std=cfg.log_std, init_std=cfg.init_std,
            reward_scale=cfg.reward_input_scale, separate_value=cfg.separate_value,
        )

    # ------------------------------------------------------------------ acting
    def _task_features(self, tasks: TaskBatch) -> torch.Tensor | None:
        return None if self.features is None else self.features(tasks, self.device)

    @torch.no_grad()
    def collect(self, tasks: TaskBatch, *, deterministic: bool = False, seed: int | None = None) -> TrialSequence:
        """One trial per task with the current policy (the training and evaluation step); ``seed``
        fixes this call's streams instead of drawing from the sampler's."""
        feats = self._task_features(tasks)
        acting = self.policy if feats is None else TaskAwarePolicy(self.policy, feats)
        return self.sampler.collect_trials(acting, tasks, self.config.episodes_per_trial,
                                           deterministic=deterministic, seed=seed)

    def play(self, tasks: TaskBatch, *, seed: int, deterministic: bool | None = None,
             chunk: int = 2048) -> TrialSequence:
        """Trials on ``tasks`` with their own random streams (``seed``), leaving training's untouched.

        Returns the trials of all tasks (collected ``chunk`` at a time, padded to one length).
        """
        deterministic = self.config.evaluation.eval_deterministic if deterministic is None else deterministic
        parts = [self.collect(tasks.take(np.arange(i, min(i + chunk, len(tasks)))), deterministic=deterministic,
                              seed=seed + i) for i in range(0, len(tasks), chunk)]
        return parts[0] if len(parts) == 1 else concat_trials(parts)

    # ------------------------------------------------------------------ learning
    def _schedule(self, iteration: int) -> tuple[float, float]:
        iterations, opt, loss = self.config.iterations, self.config.optimizer, self.config.loss
        frac = min(iteration / max(iterations - 1, 1), 1.0)
        lr = opt.lr * (1.0 - frac * (1 - 1 / iterations)) if opt.lr_decay else opt.lr
        return lr, loss.entropy_coef + (loss.entropy_final - loss.entropy_coef) * frac

    def make_batch(self, trials: TrialSequence, features: torch.Tensor | None) -> TrialBatch:
        """Advantages and targets over whole trials, packed as rows for PPO."""
        cfg, mask = self.config.loss, trials.mask
        values = trials.values if self.value_norm is None else self.value_norm.denormalize(trials.values) * mask
        adv, targets = trial_advantages(rewards=trials.rewards * cfg.reward_scale, values=values, mask=mask,
                                        gamma=cfg.gamma, lam=cfg.gae_lambda, complete=trials.complete())
        if self.value_norm is not None:
            self.value_norm.update(targets[mask > 0])
            targets = self.value_norm.normalize(targets) * mask
        real = adv[mask > 0]
        adv = (adv - real.mean()) / (real.std() + 1e-8) * mask
        obs, prev_action, prev_reward, prev_done = trials.policy_inputs()
        if features is not None:
            obs = with_features(obs, features)
        return TrialBatch(obs=obs, prev_action=prev_action, prev_reward=prev_reward, prev_done=prev_done,
                          actions=trials.actions, log_probs=trials.log_probs, advantages=adv, targets=targets,
                          mask=mask)

    def update(self, batch: TrialBatch, *, lr: float, entropy_coef: float) -> dict[str, float]:
        opt, loss_cfg = self.config.optimizer, self.config.loss
        if opt.tbptt:
            batch = chunk_batch(batch, self.policy, opt.tbptt)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        totals: dict[str, float] = {}
        count = 0
        for _ in range(opt.ppo_epochs):
            order = torch.randperm(batch.rows, device=self.device)
            for index in order.chunk(opt.minibatches):
                loss, stats = ppo_loss(self.policy, batch.take(index), clip_range=loss_cfg.clip_range,
                                       value_coef=loss_cfg.value_coef, entropy_coef=entropy_coef)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                stats["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(self.policy.parameters(), opt.max_grad_norm))
                self.optimizer.step()
                for k, v in stats.items():
                    totals[k] = totals.get(k, 0.0) + v
                count += 1
        return {k: v / count for k, v in totals.items()}

    def train_iteration(self, iteration: int) -> dict[str, float]:
        cfg = self.config
        started = time.perf_counter()
        tasks = self.tasks.train_batch(cfg.trials_per_iteration, self.train_rng)
        trials = self.collect(tasks)
        sampled = time.perf_counter()
        lr, entropy_coef = self._schedule(iteration)
        stats = self.update(self.make_batch(trials, self._task_features(tasks)), lr=lr, entropy_coef=entropy_coef)
        done = time.perf_counter()
        self.iteration = iteration + 1
        steps = trials.num_steps()
        return {**trial_metrics(trials), **stats, "lr": lr, "entropy_coef": entropy_coef, "env_steps": float(steps),
                "time_sampling": sampled - started, "time_update": done - sampled,
                "env_steps_per_second": steps / max(done - started, 1e-9)}

    def validate(self) -> float:
        """Mean trial return on the fixed validation tasks (own random streams)."""
        return float(self.play(self.validation_set, seed=self.config.seed + 1).trial_returns().mean())

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.state_dict(), "optimizer": self.optimizer.state_dict(),
            "value_norm": self.value_norm.state_dict() if self.value_norm else {},
            "train_rng": json.dumps(self.train_rng.bit_generator.state),
            "sampler": self.sampler.state_dict(),
            "torch_rng": torch.get_rng_state(), "iteration": self.iteration,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.value_norm is not None and state.get("value_norm"):
            self.value_norm.load_state_dict(state["value_norm"])
        self.train_rng.bit_generator.state = json.loads(state["train_rng"])
        self.sampler.load_state_dict(state["sampler"])
        torch.set_rng_state(state["torch_rng"])
        self.iteration = int(state["iteration"])


def trial_metrics(trials: TrialSequence) -> dict[str, float]:
    """Mean trial return and the mean return of episodes (all of them up to 10, else a few)."""
    by_episode = trials.episode_returns().mean(0)
    n = by_episode.shape[0]
    shown = range(n) if n <= 10 else sorted({0, 1, n // 4, n // 2, n - 1})
    out = {"trial_return": float(trials.trial_returns().mean())}
    out.update({f"return_episode_{e + 1}": float(by_episode[e]) for e in shown})
    return out

