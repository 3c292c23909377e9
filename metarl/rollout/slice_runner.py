"""The slice function: one slice of a collection call sampled on one batched environment.

Every executor runs exactly this code, in the learner's process (``LocalExecutor``) or on a Ray
worker (``RayExecutor``), so a slice with the same seeds returns the same numbers wherever it runs.
A ``SliceJob`` says what to sample; ``SliceRunner.run`` sets the slice's tasks on its environment,
resets it with the slice's environment seed and draws the actions from a generator seeded with the
slice's action seed. The environment's own generator is reseeded by that reset and never read or
saved here: the sampler's randomness lives in the sampler.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch.distributions import Categorical, Distribution, Independent, Normal

from metarl.compile import CompiledOrEager
from metarl.envs.base import TRAINING_REWARD, BatchedTaskEnv
from metarl.rollout.sharding import SliceSeeds
from metarl.rollout.trajectories import Trajectories, TrialSequence
from metarl.tasks import TaskBatch


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


class TransitionPolicy(RecurrentPolicy, Protocol):
    """A recurrent policy that updates its state from each whole transition, once the env has
    stepped (``SliceRunner`` calls ``transition`` when a policy has it): a belief over the task
    built from ``(action, reward, next_obs)``, where ``next_obs [B, ...]`` is the observation the
    step led to, the episode's *final* one where an episode just ended (the next ``step`` already
    sees the next episode's first observation). ``done [B]`` bool: the step ended an episode."""

    def transition(self, state: Any, *, next_obs: torch.Tensor, action: torch.Tensor, reward: torch.Tensor,
                   done: torch.Tensor) -> Any: ...


@dataclasses.dataclass(frozen=True, kw_only=True)
class SliceJob:
    """One slice of a call: ``kind`` "episodes" (``collect``: ``episodes`` per task) or "trials"
    (``collect_trials``: one trial of ``episodes`` episodes per task), the slice's tasks and, for
    feed-forward policies, their parameters; ``index`` is the slice's place in the call."""

    kind: Literal["episodes", "trials"]
    index: int
    tasks: TaskBatch
    episodes: int
    params: dict[str, torch.Tensor] | None
    deterministic: bool
    seeds: SliceSeeds


def sample_action(dist: Distribution, generator: torch.Generator) -> torch.Tensor:
    """A sample of ``dist`` drawn from ``generator`` instead of torch's global stream.

    Normal (also inside ``Independent``): ``loc + scale * randn``; Categorical: ``torch.multinomial``
    over its probabilities, ``[*batch_shape]`` int64. The noise is drawn on the generator's device
    (the sampler's is the CPU's) and moved to the distribution's, so one seed gives the same episodes
    on a GPU as on the CPU, at the cost of one small copy per step. Any other distribution samples
    under a global stream seeded from ``generator`` and restored afterwards, so it stays reproducible.
    """
    base = dist.base_dist if isinstance(dist, Independent) else dist
    if isinstance(base, Normal):
        noise = torch.randn(base.batch_shape, generator=generator, device=generator.device, dtype=base.loc.dtype)
        return base.loc + base.scale * noise.to(base.loc.device)
    if isinstance(dist, Categorical):
        probs = dist.probs.reshape(-1, dist.probs.shape[-1]).to(generator.device)
        return torch.multinomial(probs, 1, generator=generator).reshape(dist.batch_shape).to(dist.probs.device)
    seed = int(torch.randint(2**62, (1,), generator=generator, device=generator.device))
    with torch.random.fork_rng(devices=[generator.device] if generator.device.type == "cuda" else []):
        torch.manual_seed(seed)
        return dist.sample()


def _act(dist: Distribution, deterministic: bool, generator: torch.Generator) -> torch.Tensor:
    return dist.mode if deterministic else sample_action(dist, generator)


def _masked(x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """``x [B, ...]`` with the rows where ``keep [B]`` is false set to zero (padding)."""
    return x * keep.view(-1, *([1] * (x.dim() - 1))).to(x.dtype)


def _env_action(policy: object, action: torch.Tensor) -> torch.Tensor:
    """What the env receives: the policy's action mapped to env units by a normalised policy
    (``GaussianMLPPolicy(action_bounds=...)``); trajectories keep the policy's own action."""
    to_env = getattr(policy, "env_action", None)
    return action if to_env is None else to_env(action)


def observation_after(obs: np.ndarray, info: Mapping[str, Any]) -> np.ndarray:
    """``[num_envs, *obs_shape]``: the observation each sub-environment's step led to.

    Under SAME_STEP autoreset an env returns the *next* episode's first observation where an
    episode ended and keeps the ended one in ``info["final_obs"]`` (rows flagged by
    ``info["_final_obs"]``, Gymnasium 1.x); those rows are put back here.
    """
    if "_final_obs" not in info:
        return obs
    ended = np.asarray(info["_final_obs"], dtype=bool).reshape(-1, *([1] * (obs.ndim - 1)))
    return np.where(ended, np.asarray(info["final_obs"], dtype=obs.dtype), obs)


class SliceRunner:
    """Samples slice jobs on one environment, on ``device``. ``compile``: the feed-forward policy's
    forward through ``torch.compile`` (eager after a failed compile; see ``metarl.compile``)."""

    def __init__(self, *, env: BatchedTaskEnv, device: torch.device | str = "cpu", compile: bool = False) -> None:
        self.env = env
        self.device = torch.device(device)
        self.compile = bool(compile)
        self._forwards: dict[int, CompiledOrEager] = {}

    @torch.no_grad()
    def run(self, policy: Any, job: SliceJob) -> Trajectories | TrialSequence:
        """The job's episodes (``Trajectories``) or trials (``TrialSequence``)."""
        env, saved_mode = self.env, self.env.autoreset_mode
        # episodes: an ended sub-env idles (masked) until the batch is done; trials: it goes straight on
        env.autoreset_mode = AutoresetMode.SAME_STEP if job.kind == "trials" else AutoresetMode.NEXT_STEP
        try:
            env.set_tasks(job.tasks, 1 if job.kind == "trials" else job.episodes)
            obs, _ = env.reset(seed=job.seeds.env)
            generator = torch.Generator().manual_seed(job.seeds.actions)  # CPU: the same stream on any device
            if job.kind == "trials":
                return self._trials(policy, obs, job.episodes, job.deterministic, generator)
            return self._episodes(policy, obs, job.params, job.deterministic, generator)
        finally:
            env.autoreset_mode = saved_mode

    def _forward(self, policy: FeedForwardPolicy) -> Callable[..., Distribution]:
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
            "next_obs": torch.zeros(*lead, *obs_shape, device=dev),
            "actions": torch.zeros(*lead, *act_shape, device=dev, dtype=torch.long if discrete else torch.float32),
            **{k: torch.zeros(*lead, device=dev) for k in ("rewards", "log_probs", "values", "mask")},
            "terminated": torch.zeros(*lead, dtype=torch.bool, device=dev),
            "truncated": torch.zeros(*lead, dtype=torch.bool, device=dev),
            **({"success": torch.zeros(*lead, device=dev)} if getattr(env, "reports_success", False) else {}),
        }

    def _success(self, info: Mapping[str, Any]) -> torch.Tensor:
        """``[num_envs]`` float32: the step's ``info["success"]`` (the env reports it every step)."""
        return torch.as_tensor(np.asarray(info["success"]), dtype=torch.float32, device=self.device)

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
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
        training_rewards: torch.Tensor | None = None
        alive = torch.ones(n, dtype=torch.bool, device=self.device)
        steps, obs = 0, self._obs_tensor(obs_np)
        for t in range(horizon):
            dist = self._forward(policy)(obs.view(n_tasks, episodes_per_task, *obs.shape[1:]), params)
            action = _act(dist, deterministic, generator)
            flat_action = action.reshape(n, *action.shape[2:])
            obs_np, reward, term, trunc, info = env.step(_env_action(policy, flat_action).cpu().numpy())
            after = self._obs_tensor(observation_after(obs_np, info))
            term_t = self._tensor(term)
            trunc_t = (self._tensor(trunc) | (t == horizon - 1)) & ~term_t  # the sampler's cut is a truncation
            keep = alive.float()
            column = keep.view(-1, *([1] * (obs.dim() - 1)))  # over the observation's dimensions
            buf["obs"][:, t], buf["next_obs"][:, t] = obs * column, after * column
            buf["actions"][:, t] = _masked(flat_action, alive)
            buf["rewards"][:, t] = self._tensor(reward).float() * keep
            buf["log_probs"][:, t] = dist.log_prob(action).reshape(n) * keep
            buf["terminated"][:, t], buf["truncated"][:, t] = term_t & alive, trunc_t & alive
            buf["mask"][:, t] = keep
            if "success" in buf:
                buf["success"][:, t] = self._success(info) * keep
            if TRAINING_REWARD in info:
                if training_rewards is None:
                    training_rewards = torch.zeros(n, horizon, device=self.device)
                training_rewards[:, t] = self._tensor(info[TRAINING_REWARD]).float() * keep
            ended = alive & (term_t | trunc_t)
            last_obs = torch.where(ended.view(column.shape), after, last_obs)
            obs = after if "_final_obs" not in info else self._obs_tensor(obs_np)
            alive = alive & ~ended
            steps = t + 1
            if not alive.any():
                break
        shape = (n_tasks, episodes_per_task, steps)
        fields = {k: v[:, :steps].reshape(*shape, *v.shape[2:]) for k, v in buf.items() if k != "values"}
        if training_rewards is not None:
            fields["training_rewards"] = training_rewards[:, :steps].reshape(shape)
        return Trajectories(**fields, last_obs=last_obs.view(n_tasks, episodes_per_task, -1))

    def _trials(
        self, policy: RecurrentPolicy, obs_np: np.ndarray, n_ep: int, deterministic: bool, generator: torch.Generator
    ) -> TrialSequence:
        env = self.env
        b, max_len = env.num_envs, n_ep * env.max_episode_steps
        buf = self._buffers((b, max_len), policy.discrete)
        episode_index = torch.zeros(b, max_len, dtype=torch.long, device=self.device)
        state = policy.initial_state(b, self.device)
        transition = getattr(policy, "transition", None)  # a TransitionPolicy's belief update
        prev_action = buf["actions"][:, 0].clone()
        prev_reward, prev_done = torch.zeros(b, device=self.device), torch.zeros(b, device=self.device)
        episode = torch.zeros(b, dtype=torch.long, device=self.device)
        steps = 0
        for k in range(max_len):
            obs = self._obs_tensor(obs_np)
            dist, value, state = policy.step(obs, prev_action, prev_reward, prev_done, state)
            action = _act(dist, deterministic, generator)
            obs_np, reward, term, trunc, info = env.step(action.cpu().numpy())
            active = episode < n_ep
            reward_t = self._tensor(reward).float()
            term_t, trunc_t = self._tensor(term), self._tensor(trunc)
            buf["obs"][:, k], buf["actions"][:, k] = _masked(obs, active), _masked(action, active)
            after = self._obs_tensor(observation_after(obs_np, info))
            buf["next_obs"][:, k] = _masked(after, active)
            buf["rewards"][:, k], buf["log_probs"][:, k] = reward_t * active, dist.log_prob(action) * active
            buf["values"][:, k], buf["mask"][:, k] = value * active, active.float()
            buf["terminated"][:, k], buf["truncated"][:, k] = term_t & active, trunc_t & active
            if "success" in buf:
                buf["success"][:, k] = self._success(info) * active
            episode_index[:, k] = episode.clamp(max=n_ep)  # n_ep on padding: the trial is over
            if transition is not None:
                state = transition(state, next_obs=after, action=action, reward=reward_t, done=term_t | trunc_t)
            episode = episode + (term_t | trunc_t).long()
            prev_action, prev_reward, prev_done = action, reward_t, (term_t | trunc_t).float()
            steps = k + 1
            if not (episode < n_ep).any():
                break
        fields = {k: v[:, :steps] for k, v in buf.items()}
        return TrialSequence(**fields, episode_index=episode_index[:, :steps], episodes_per_trial=n_ep)
