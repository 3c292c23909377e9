"""PEARL's meta-learner: oyster's ``MetaRLAlgorithm.train`` loop on a fixed set of train tasks.

One meta-iteration (the first one starts with ``initial_steps`` per train task, z ~ prior):

1. ``tasks_per_iteration`` distinct train tasks are drawn; their encoder buffers are cleared;
2. each collects ``steps_prior`` steps with z ~ prior and ``steps_posterior`` with z ~ posterior
   (both to the RL and the encoder buffer), then ``extra_rl_steps_posterior`` with z ~ posterior
   (RL buffer only) — all tasks at once (``collection``);
3. ``gradient_steps`` steps of ``PearlUpdate``, each on ``meta_batch`` train tasks drawn with
   replacement: ``batch_size`` RL transitions and ``embedding_batch_size`` context transitions per
   task, in ``[meta_batch, batch, ...]`` tensors.

The train tasks are drawn once (oyster's ``n_train_tasks`` fixed tasks): the whole ``train`` list of
a ``FixedTaskSet``, else ``train_tasks`` tasks from the task set's train stream. Every random draw
of the learner comes from its own generators (the sampler's, ``self.generator`` on the device,
``self.train_rng``), all checkpointed with the networks, optimizers and buffers, so a resumed run
continues as the uninterrupted one would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from metarl.algorithms.pearl import collection
from metarl.algorithms.pearl.buffer import TaskReplayBuffer
from metarl.algorithms.pearl.config import PearlConfig
from metarl.algorithms.pearl.inference import product_of_gaussians, sample_latent
from metarl.algorithms.pearl.networks import ContextEncoder, QNetwork, TanhGaussianPolicy, VNetwork
from metarl.algorithms.pearl.pipeline import BackgroundCollection
from metarl.algorithms.pearl.sac import Batch, Noise, PearlNetworks, PearlUpdate
from metarl.envs.registry import EnvFactory
from metarl.rl.task_features import TaskFeatures
from metarl.rollout import Sampler
from metarl.tasks import TaskBatch, TaskSet


def fixed_train_tasks(tasks: TaskSet, n: int) -> TaskBatch:
    """A ``FixedTaskSet``'s whole train list, or ``n`` tasks drawn from the set's train stream."""
    fixed = getattr(tasks, "train", None)
    return fixed if isinstance(fixed, TaskBatch) else tasks.train_batch(n, tasks.train_rng())


class PearlLearner:
    """PEARL (or, with ``embedding`` "task" / "none", its oracle and multi-task SAC baselines).
    Seeds torch with ``config.seed`` on construction: the same config gives the same weights."""

    name = "pearl"
    headline_metrics = ("return_prior", "return_posterior")

    def __init__(self, *, config: PearlConfig, env: EnvFactory, tasks: TaskSet, sampler: Sampler) -> None:
        self.config, self.env_factory, self.tasks, self.sampler = config, env, tasks, sampler
        self.device = torch.device(config.device)
        torch.manual_seed(config.seed)
        self.env = env()
        space = self.env.single_action_space
        if not hasattr(space, "low"):
            raise TypeError(f"PEARL needs continuous (Box) actions; {env.family} has {type(space).__name__}")
        self.obs_dim = int(np.prod(self.env.single_observation_space.shape))
        self.act_dim = int(np.prod(space.shape))
        self.train_tasks = fixed_train_tasks(tasks, config.train_tasks)
        self.features = TaskFeatures(self.train_tasks) if config.embedding == "task" else None
        self.train_latents = self.task_latent(self.train_tasks)  # [train tasks, F]: the fixed z without an encoder
        self.nets = self._networks(torch.as_tensor(space.low), torch.as_tensor(space.high)).to(self.device)
        self.policy = self.nets.policy
        self.update = PearlUpdate(nets=self.nets, loss=config.loss, lr=config.optimizer.lr)
        self.rl_buffer, self.enc_buffer = self._buffers()
        self.generator = torch.Generator(device=self.device).manual_seed(config.seed)
        # the background collection's own stream (``pipeline``): the updates never draw from it
        self.collect_generator = torch.Generator(device=self.device).manual_seed(
            int(np.random.SeedSequence([config.seed, 1]).generate_state(1, np.uint64)[0] % 2**63))
        self.train_rng = tasks.train_rng()
        self.validation_set = tasks.validation_tasks(config.evaluation.validation_tasks)
        self.iteration, self.env_steps, self.initialised = 0, 0, False
        self.background = BackgroundCollection(self) if config.collection.pipeline else None

    @property
    def latent_dim(self) -> int:
        cfg = self.config
        return {"encoder": cfg.network.latent_size, "task": getattr(self.features, "dim", 0), "none": 0}[cfg.embedding]

    @property
    def context_dim(self) -> int:
        return self.obs_dim * (2 if self.config.network.next_obs_in_context else 1) + self.act_dim + 1

    def _networks(self, low: torch.Tensor, high: torch.Tensor) -> PearlNetworks:
        net, latent = self.config.network, self.latent_dim
        encoder = ContextEncoder(context_dim=self.context_dim, latent_size=latent, hidden_sizes=net.encoder_sizes) \
            if self.config.embedding == "encoder" else None
        policy = TanhGaussianPolicy(obs_dim=self.obs_dim, act_dim=self.act_dim, latent_dim=latent,
                                    hidden_sizes=net.hidden_sizes, action_low=low, action_high=high)
        q = [QNetwork(obs_dim=self.obs_dim, act_dim=self.act_dim, latent_dim=latent, hidden_sizes=net.hidden_sizes)
             for _ in range(2)]
        vf = VNetwork(obs_dim=self.obs_dim, latent_dim=latent, hidden_sizes=net.hidden_sizes)
        return PearlNetworks(encoder=encoder, policy=policy, qf1=q[0], qf2=q[1], vf=vf)

    def _buffers(self) -> tuple[TaskReplayBuffer, TaskReplayBuffer]:
        """The RL buffer keeps ``replay_capacity`` per task; an encoder buffer holds at most what one
        iteration adds after clearing it, or the initial pool of a task not collected on since."""
        cfg, col = self.config, self.config.collection
        dims = dict(num_tasks=len(self.train_tasks), obs_dim=self.obs_dim, act_dim=self.act_dim, device=self.device)
        enc_capacity = cfg.horizon * max(cfg.episodes(col.initial_steps),
                                         cfg.episodes(col.steps_prior) + cfg.episodes(col.steps_posterior))
        return TaskReplayBuffer(capacity=col.replay_capacity, **dims), TaskReplayBuffer(capacity=enc_capacity, **dims)

    def close(self) -> None:
        """Release the sampler's workers (Ray actors), if any."""
        if self.background is not None:
            self.background.close()
        close = getattr(self.sampler, "close", None)
        if close is not None:
            close()

    # ------------------------------------------------------------------ latents
    def _train_features(self, idx: np.ndarray | torch.Tensor) -> torch.Tensor:
        return self.train_latents[torch.as_tensor(idx, device=self.device)]

    def task_latent(self, tasks: TaskBatch) -> torch.Tensor:
        """The fixed z of ``tasks`` without an encoder: task features (oracle) or ``[tasks, 0]``."""
        if self.features is not None:
            return self.features(tasks, self.device)
        return torch.zeros(len(tasks), 0, device=self.device)

    def prior_latent(self, idx: np.ndarray, generator: torch.Generator) -> torch.Tensor:
        """z ~ N(0, I) per train task ``idx`` (the task's fixed z without an encoder)."""
        if self.nets.encoder is None:
            return self._train_features(idx)
        return torch.randn(len(idx), self.latent_dim, generator=generator, device=self.device)

    def posterior_latent(self, context: torch.Tensor, mask: torch.Tensor | None,
                         generator: torch.Generator) -> torch.Tensor:
        """z ~ q(z | context [tasks, N, C]) (``mask [tasks, N]`` marks real transitions)."""
        mean, var = product_of_gaussians(*self.nets.encoder(context), mask)
        return sample_latent(mean, var, torch.randn(mean.shape, generator=generator, device=self.device))

    # ------------------------------------------------------------------ one iteration
    def _initial_pool(self) -> int:
        """``initial_steps`` per train task with z ~ prior, before the first update; its steps."""
        col, self.initialised = self.config.collection, True
        every = np.arange(len(self.train_tasks))
        steps = collection.collect_prior(self, every, self.config.episodes(col.initial_steps)).steps
        self.env_steps += steps
        return steps

    def _collect(self) -> dict[str, float]:
        cfg, col = self.config, self.config.collection
        pooled = 0 if self.initialised else self._initial_pool()
        steps, metrics = 0, {}
        idx = np.sort(self.train_rng.choice(len(self.train_tasks), size=col.tasks_per_iteration, replace=False))
        self.enc_buffer.clear(idx)
        phases = (("prior", col.steps_prior, True), ("posterior", col.steps_posterior, True),
                  ("extra", col.extra_rl_steps_posterior, False))
        for name, n, to_encoder in phases:
            if n == 0:
                continue
            fn = collection.collect_prior if name == "prior" else collection.collect_posterior
            got = fn(self, idx, cfg.episodes(n), to_encoder=to_encoder)
            steps += got.steps
            metrics[f"return_{name}"] = float(got.returns.mean())
        if "return_extra" in metrics and "return_posterior" not in metrics:
            metrics["return_posterior"] = metrics.pop("return_extra")
        self.env_steps += steps
        return {**metrics, "env_steps": float(steps + pooled), "env_steps_total": float(self.env_steps)}

    def _update(self) -> dict[str, float]:
        cfg, opt = self.config, self.config.optimizer
        gen, totals = self.generator, {}
        for _ in range(opt.gradient_steps):
            tasks = torch.randint(len(self.train_tasks), (opt.meta_batch,), generator=gen, device=self.device)
            context, fixed = None, None
            if self.nets.encoder is not None:
                sample = self.enc_buffer.sample(tasks, opt.embedding_batch_size, gen)
                context = collection.context_of(sample, next_obs=cfg.network.next_obs_in_context)
            else:
                fixed = self._train_features(tasks)
            rl = self.rl_buffer.sample(tasks, opt.batch_size, gen)
            batch = Batch(obs=rl["obs"], actions=rl["actions"], rewards=rl["critic_rewards"], next_obs=rl["next_obs"],
                          terminated=rl["terminated"])
            noise = Noise(latent=torch.randn(opt.meta_batch, self.latent_dim, generator=gen, device=self.device),
                          action=torch.randn(opt.meta_batch, opt.batch_size, self.act_dim, generator=gen,
                                             device=self.device))
            for key, value in self.update.step(batch, context=context, fixed_z=fixed, noise=noise).items():
                totals[key] = totals[key] + value if key in totals else value
        return {key: float(value) / opt.gradient_steps for key, value in totals.items()}

    def train_iteration(self, iteration: int) -> dict[str, float]:
        if self.background is not None:
            metrics = self._pipelined_iteration()
        else:
            started = time.perf_counter()
            metrics = self._collect()
            sampled = time.perf_counter()
            metrics.update(self._update())
            metrics.update(time_sampling=sampled - started, time_update=time.perf_counter() - sampled)
        self.iteration = iteration + 1
        steps = self.config.optimizer.gradient_steps
        return {**metrics, "gradient_steps_per_second": steps / max(metrics["time_update"], 1e-9)}

    def _pipelined_iteration(self) -> dict[str, float]:
        """This iteration's collection in the background while its updates run on the data so far
        (``pipeline``); the first iteration gathers the initial pool first, so its updates have data."""
        assert self.background is not None
        pooled = 0 if self.initialised else self._initial_pool()
        future = self.background.start(self)
        started = time.perf_counter()
        update = self._update()
        updated = time.perf_counter()
        metrics = self.background.finish(self, future)
        metrics["env_steps"] += pooled
        return {**metrics, **update, "time_update": updated - started, "time_waiting": time.perf_counter() - updated}

    def validate(self) -> float:
        """Mean return of the last trajectory of oyster's test protocol on the validation tasks."""
        ev = self.config.evaluation
        returns = collection.play(self, self.validation_set, trajectories=ev.eval_trajectories,
                                  exploration=ev.exploration, deterministic=ev.eval_deterministic,
                                  seed=self.config.seed + 1)
        return float(returns[:, -1].mean())

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        buffers = {"rl_buffer": self.rl_buffer.state_dict(), "enc_buffer": self.enc_buffer.state_dict()} \
            if self.config.collection.checkpoint_buffers else {}
        return {"nets": self.nets.state_dict(), "optimizers": self.update.state_dict(), **buffers,
                "generator": self.generator.get_state(), "collect_generator": self.collect_generator.get_state(),
                "train_rng": json.dumps(self.train_rng.bit_generator.state),
                "sampler": self.sampler.state_dict(), "iteration": self.iteration, "env_steps": self.env_steps,
                "initialised": self.initialised and bool(buffers)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict``; one without buffers (``checkpoint_buffers=False``) leaves them
        empty and the next iteration refills every task with ``initial_steps`` first."""
        self.nets.load_state_dict(state["nets"])
        self.update.load_state_dict(state["optimizers"])
        if "rl_buffer" in state:
            self.rl_buffer.load_state_dict(state["rl_buffer"])
            self.enc_buffer.load_state_dict(state["enc_buffer"])
        self.generator.set_state(state["generator"])
        if "collect_generator" in state:  # checkpoints from before the pipeline have none
            self.collect_generator.set_state(state["collect_generator"])
        self.train_rng.bit_generator.state = json.loads(state["train_rng"])
        self.sampler.load_state_dict(state["sampler"])
        self.iteration, self.env_steps = int(state["iteration"]), int(state["env_steps"])
        self.initialised = bool(state["initialised"])
