"""Synchronous, batched collection of episodes.

The sampler steps a ``BatchedTaskEnv`` and runs the policy once per step over every task x episode;
it knows nothing of adaptation. Feed-forward policies (MAML) may run with per-task parameters
(``params`` with a leading task dimension), applied in one batched call. Recurrent policies (RL²)
run trials: the episodes of one trial follow each other on one sub-environment and the hidden state
is carried across their boundaries, reset only at the start of a trial.

Randomness belongs to the sampler, not to the process: every call draws one seed from the
sampler's stream, and each slice of the task batch (``shards`` of them, see ``sharding``) resets the
environment and draws its actions from streams fixed by that seed and the slice's index. Torch's
global generator is never used, so the same seed gives the same episodes on any backend
(``RaySampler`` with W workers equals ``Sampler(shards=W)``) and whatever else the process does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch.distributions import Categorical, Distribution, Independent, Normal

from metarl.compile import CompiledOrEager
from metarl.envs.base import BatchedTaskEnv
from metarl.rollout.sharding import (
    SliceSeeds,
    concat_trajectories,
    concat_trials,
    draw_call_seed,
    rng_state,
    set_rng_state,
    slice_policy,
    slice_seeds,
    split_call,
)
from metarl.rollout.trajectories import Trajectories, TrialSequence
from metarl.tasks import TaskBatch, check_count


class FeedForwardPolicy(Protocol):
    discrete: bool

    def distribution(self, obs: torch.Tensor, params: Mapping[str, torch.Tensor] | None = None) -> Distribution: ...


class RecurrentPolicy(Protocol):
    discrete: bool

    def initial_state(self, batch_size: int, device: torch.device) -> Any: ...

    def step(
        self, obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor,
        prev_done: torch.Tensor, state: Any,
    ) -> tuple[Distribution, torch.Tensor, Any]:
        """One step for ``[B, ...]`` inputs: ``(action distribution, value [B], next state)``."""
        ...


def _masked(x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """``x [B, ...]`` with the rows where ``keep [B]`` is false set to zero (padding)."""
    return x * keep.view(-1, *([1] * (x.dim() - 1))).to(x.dtype)


def sample_action(dist: Distribution, generator: torch.Generator) -> torch.Tensor:
    """A sample of ``dist`` drawn from ``generator`` instead of torch's global stream.

    Normal (also inside ``Independent``): ``loc + scale * randn``; Categorical: ``torch.multinomial``
    over its probabilities, ``[*batch_shape]`` int64. Any other distribution samples under a global
    stream seeded from ``generator`` and restored afterwards, so it stays reproducible too.
    """
    base = dist.base_dist if isinstance(dist, Independent) else dist
    if isinstance(base, Normal):
        noise = torch.randn(base.batch_shape, generator=generator, device=base.loc.device, dtype=base.loc.dtype)
        return base.loc + base.scale * noise
    if isinstance(dist, Categorical):
        probs = dist.probs.reshape(-1, dist.probs.shape[-1])
        return torch.multinomial(probs, 1, generator=generator).reshape(dist.batch_shape)
    seed = int(torch.randint(2**62, (1,), generator=generator, device=generator.device))
    with torch.random.fork_rng(devices=[generator.device] if generator.device.type == "cuda" else []):
        torch.manual_seed(seed)
        return dist.sample()


def _act(dist: Distribution, deterministic: bool, generator: torch.Generator) -> torch.Tensor:
    return dist.mode if deterministic else sample_action(dist, generator)


def _env_action(policy: object, action: torch.Tensor) -> torch.Tensor:
    """What the env receives: the policy's action mapped to env units by a normalised policy
    (``GaussianMLPPolicy(action_bounds=...)``); trajectories keep the policy's own action."""
    to_env = getattr(policy, "env_action", None)
    return action if to_env is None else to_env(action)


class EpisodeSampler(Protocol):
    """What learners call: the local ``Sampler`` and ``RaySampler`` both implement it."""

    def collect(
        self, policy: FeedForwardPolicy, tasks: TaskBatch, episodes_per_task: int, *,
        params: Mapping[str, torch.Tensor] | None = None, deterministic: bool = False, seed: int | None = None,
    ) -> Trajectories: ...

    def collect_trials(
        self, policy: RecurrentPolicy, tasks: TaskBatch, episodes_per_trial: int, *,
        deterministic: bool = False, seed: int | None = None,
    ) -> TrialSequence: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


def call_seed(rng: np.random.Generator, seed: int | None) -> int:
    """The seed of one call: ``seed`` if given (the stream is left alone), else one draw from ``rng``."""
    if seed is None:
        return draw_call_seed(rng)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


class Sampler:
    """Collects episodes from one batched environment, ``shards`` slices of the tasks one after
    another (1, the default, is fastest; W reproduces a W-worker ``RaySampler`` exactly).

    ``seed`` starts the stream each call draws its seed from. That stream is the environment's own
    generator (``env._rng``), so code that saves, restores or reseeds the environment's stream
    controls the sampler too; ``state_dict`` / ``load_state_dict`` are the portable way.
    """

    def __init__(
        self, *, env: BatchedTaskEnv, device: torch.device | str = "cpu", seed: int | None = None, shards: int = 1,
        compile: bool = False,
    ) -> None:
        self.env = env
        self.device = torch.device(device)
        self.shards = check_count("shards", shards)
        self.compile = bool(compile)
        self._forwards: dict[int, CompiledOrEager] = {}
        env.reset(seed=seed)

    @property
    def rng(self) -> np.random.Generator:
        """The stream call seeds are drawn from (one draw per call)."""
        return self.env._rng

    def reseed(self, seed: int) -> None:
        """Restart the stream call seeds are drawn from at ``seed``."""
        self.env.reset(seed=seed)

    def state_dict(self) -> dict[str, Any]:
        """The stream's state as plain Python (``torch.load(weights_only=True)`` reads it)."""
        return {"rng": rng_state(self.rng)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        set_rng_state(self.rng, state["rng"])

    @torch.no_grad()
    def collect(
        self,
        policy: FeedForwardPolicy,
        tasks: TaskBatch,
        episodes_per_task: int,
        *,
        params: Mapping[str, torch.Tensor] | None = None,
        deterministic: bool = False,
        seed: int | None = None,
    ) -> Trajectories:
        """``episodes_per_task`` episodes of every task, all in parallel: ``[tasks, episodes, H, ...]``.

        ``params``: the policy's parameters by name, either shared or with a leading task
        dimension (one set per task, e.g. MAML's adapted parameters); None uses the policy's own.
        ``seed`` fixes this call's streams without drawing from the sampler's (for evaluation).
        """
        check_count("episodes_per_task", episodes_per_task)
        this_call = call_seed(self.rng, seed)
        parts = [
            self.collect_slice(slice_policy(policy, part, len(tasks)), part.tasks, episodes_per_task,
                               params=part.params, deterministic=deterministic,
                               seeds=slice_seeds(this_call, part.index))
            for part in split_call(tasks, self.shards, params, policy)
        ]
        return concat_trajectories(parts)

    @torch.no_grad()
    def collect_trials(
        self,
        policy: RecurrentPolicy,
        tasks: TaskBatch,
        episodes_per_trial: int,
        *,
        deterministic: bool = False,
        seed: int | None = None,
    ) -> TrialSequence:
        """One trial of ``episodes_per_trial`` consecutive episodes for each task: ``[trials, L, ...]``.

        The recurrent state starts from ``policy.initial_state`` and is never reset inside the
        trial; the policy also sees the previous action, reward and episode-end flag.
        """
        check_count("episodes_per_trial", episodes_per_trial)
        this_call = call_seed(self.rng, seed)
        parts = [
            self.collect_trials_slice(slice_policy(policy, part, len(tasks)), part.tasks, episodes_per_trial,
                                      deterministic=deterministic,
                                      seeds=slice_seeds(this_call, part.index))
            for part in split_call(tasks, self.shards)
        ]
        return concat_trials(parts)

    @torch.no_grad()
    def collect_slice(
        self, policy: FeedForwardPolicy, tasks: TaskBatch, episodes_per_task: int, *,
        params: Mapping[str, torch.Tensor] | None, deterministic: bool, seeds: SliceSeeds,
    ) -> Trajectories:
        """``collect`` on one slice with its seeds given (what a Ray worker runs)."""
        control = self.env._rng
        try:
            obs, generator = self._start_slice(tasks, episodes_per_task, seeds)
            return self._episodes(policy, obs, params, deterministic, generator)
        finally:
            self.env._rng = control

    @torch.no_grad()
    def collect_trials_slice(
        self, policy: RecurrentPolicy, tasks: TaskBatch, episodes_per_trial: int, *,
        deterministic: bool, seeds: SliceSeeds,
    ) -> TrialSequence:
        """``collect_trials`` on one slice with its seeds given (what a Ray worker runs)."""
        control, saved_mode = self.env._rng, self.env.autoreset_mode
        self.env.autoreset_mode = AutoresetMode.SAME_STEP
        try:
            obs, generator = self._start_slice(tasks, 1, seeds)
            return self._trials(policy, obs, episodes_per_trial, deterministic, generator)
        finally:
            self.env._rng, self.env.autoreset_mode = control, saved_mode

    def _start_slice(
        self, tasks: TaskBatch, episodes_per_task: int, seeds: SliceSeeds
    ) -> tuple[np.ndarray, torch.Generator]:
        """Set the slice's tasks and reset the env from its seed; also the slice's action generator."""
        self.env.set_tasks(tasks, episodes_per_task)
        obs, _ = self.env.reset(seed=seeds.env)
        return obs, torch.Generator(device=self.device).manual_seed(seeds.actions)

    def _forward(self, policy: FeedForwardPolicy) -> Callable[..., Distribution]:
        """``policy.distribution``, through ``torch.compile`` when the sampler was made with
        ``compile=True`` (eager after a failed compile; see ``metarl.compile``)."""
        if not self.compile:
            return policy.distribution
        key = id(policy)
        if key not in self._forwards or self._forwards[key].fn.__self__ is not policy:
            self._forwards[key] = CompiledOrEager(policy.distribution, name=f"{type(policy).__name__}.distribution")
        return self._forwards[key]

    def _buffers(self, lead: tuple[int, ...], discrete: bool) -> dict[str, torch.Tensor]:
        env, dev = self.env, self.device
        act_shape = () if discrete else env.single_action_space.shape
        obs_shape = env.single_observation_space.shape
        return {
            "obs": torch.zeros(*lead, *obs_shape, device=dev),
            "actions": torch.zeros(*lead, *act_shape, device=dev, dtype=torch.long if discrete else torch.float32),
            **{k: torch.zeros(*lead, device=dev) for k in ("rewards", "log_probs", "values", "mask")},
            "terminated": torch.zeros(*lead, dtype=torch.bool, device=dev),
            "truncated": torch.zeros(*lead, dtype=torch.bool, device=dev),
        }

    def _to_tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(array, device=self.device)

    def _obs_tensor(self, array: np.ndarray) -> torch.Tensor:
        """Observations as float32 whatever the env's dtype (MuJoCo's are float64)."""
        return torch.as_tensor(array, dtype=torch.float32, device=self.device)

    def _episodes(
        self, policy: FeedForwardPolicy, obs_np: np.ndarray, params: Mapping[str, torch.Tensor] | None,
        deterministic: bool, generator: torch.Generator,
    ) -> Trajectories:
        env = self.env
        n_tasks, episodes_per_task = len(env.tasks), env.episodes_per_task
        horizon, n = env.max_episode_steps, env.num_envs
        buf = self._buffers((n, horizon), policy.discrete)
        last_obs = torch.zeros(n, *env.single_observation_space.shape, device=self.device)
        alive = torch.ones(n, dtype=torch.bool, device=self.device)
        steps = 0
        for t in range(horizon):
            obs = self._obs_tensor(obs_np)
            dist = self._forward(policy)(obs.view(n_tasks, episodes_per_task, *obs.shape[1:]), params)
            action = _act(dist, deterministic, generator)
            flat_action = action.reshape(n, *action.shape[2:])
            obs_np, reward, term, trunc, _ = env.step(_env_action(policy, flat_action).cpu().numpy())
            term_t, trunc_t = self._to_tensor(term), self._to_tensor(trunc)
            trunc_t = trunc_t | (t == horizon - 1)
            buf["obs"][:, t], buf["actions"][:, t] = _masked(obs, alive), _masked(flat_action, alive)
            buf["rewards"][:, t] = self._to_tensor(reward).float() * alive
            buf["log_probs"][:, t] = dist.log_prob(action).reshape(n) * alive
            buf["terminated"][:, t], buf["truncated"][:, t] = term_t & alive, trunc_t & alive & ~term_t
            buf["mask"][:, t] = alive.float()
            ended = alive & (term_t | trunc_t)
            last_obs[ended] = self._obs_tensor(obs_np)[ended]
            alive = alive & ~ended
            steps = t + 1
            if not alive.any():
                break
        shape = (n_tasks, episodes_per_task, steps)
        fields = {k: v[:, :steps].reshape(*shape, *v.shape[2:]) for k, v in buf.items() if k != "values"}
        return Trajectories(**fields, last_obs=last_obs.view(n_tasks, episodes_per_task, -1))

    def _trials(
        self, policy: RecurrentPolicy, obs_np: np.ndarray, n_ep: int, deterministic: bool, generator: torch.Generator
    ) -> TrialSequence:
        env = self.env
        b, max_len = env.num_envs, n_ep * env.max_episode_steps
        buf = self._buffers((b, max_len), policy.discrete)
        episode_index = torch.zeros(b, max_len, dtype=torch.long, device=self.device)
        state = policy.initial_state(b, self.device)
        prev_action = buf["actions"][:, 0].clone()
        prev_reward, prev_done = torch.zeros(b, device=self.device), torch.zeros(b, device=self.device)
        episode = torch.zeros(b, dtype=torch.long, device=self.device)
        steps = 0
        for k in range(max_len):
            obs = self._obs_tensor(obs_np)
            dist, value, state = policy.step(obs, prev_action, prev_reward, prev_done, state)
            action = _act(dist, deterministic, generator)
            obs_np, reward, term, trunc, _ = env.step(action.cpu().numpy())
            active = (episode < n_ep).float()
            reward_t = self._to_tensor(reward).float()
            done = self._to_tensor(term | trunc)
            buf["obs"][:, k], buf["actions"][:, k] = _masked(obs, active), _masked(action, active)
            buf["rewards"][:, k], buf["log_probs"][:, k] = reward_t * active, dist.log_prob(action) * active
            buf["values"][:, k], buf["mask"][:, k] = value * active, active
            buf["terminated"][:, k] = self._to_tensor(term) & (active > 0)
            buf["truncated"][:, k] = self._to_tensor(trunc) & (active > 0)
            episode_index[:, k] = episode.clamp(max=n_ep)  # n_ep on padding: the trial is over
            episode = episode + done.long()
            prev_action, prev_reward, prev_done = action, reward_t, done.float()
            steps = k + 1
            if not (episode < n_ep).any():
                break
        fields = {k: v[:, :steps] for k, v in buf.items()}
        return TrialSequence(**fields, episode_index=episode_index[:, :steps], episodes_per_trial=n_ep)
