"""Success rate by the evaluation protocol of Meta-World's ``metaworld.evaluation``.

``metaworld.evaluation.metalearning_evaluation`` does, for each test task: a fresh agent
(``agent.init()``), ``adaptation_episodes`` episodes acting with ``adapt_action`` (episodes run to
the time limit: ``terminate_on_success`` off), ``agent.adapt()``, then ``evaluation`` plays
``evaluation_episodes`` episodes with ``eval_action`` and ``terminate_on_success`` on, so an episode
ends at its first success and counts as one success. The success rate is the mean over tasks of
each task's fraction of successful evaluation episodes (its per-class rates average the tasks of a
class). ``evaluate_success`` is that protocol on a metarl env: every task's episodes are played in
lockstep on one batched env (sub-environment i runs task i), a metarl ``Agent`` per task, and the
rate comes with a 95% interval over tasks.

Meta-World counts, per class, the first ``evaluation_episodes`` episodes *to end* across all its
sub-environments of that class; with more than one sub-environment per class, successful (hence
shorter) episodes end first and are counted ahead of failures. The rate here counts every task's
own episodes, which equals Meta-World's when it runs one sub-environment per class
(``meta_batch_size`` = number of test classes) and ``num_evals`` visits every test task once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from gymnasium.vector import AutoresetMode

from metarl.agents import Agent
from metarl.envs.base import BatchedTaskEnv
from metarl.errors import ConfigError
from metarl.tasks import TaskBatch, check_count


@dataclasses.dataclass(frozen=True, kw_only=True)
class SuccessEvaluation:
    """What ``evaluate_success`` measured on T tasks.

    ``success [T, evaluation_episodes]`` bool and ``returns [T, evaluation_episodes]`` (reward up to
    the end of the episode, the successful step included) of the evaluation episodes;
    ``adaptation_success``, ``adaptation_returns [T, adaptation_episodes]`` the same of the
    adaptation episodes (success at any step; they run to the time limit); ``groups [T]`` each
    task's class name (per-class rates), or None.
    """

    success: np.ndarray
    returns: np.ndarray
    adaptation_success: np.ndarray
    adaptation_returns: np.ndarray
    groups: list[str] | None = None

    @property
    def task_success(self) -> np.ndarray:
        """``[T]`` each task's fraction of successful evaluation episodes."""
        return self.success.mean(1)

    @property
    def success_rate(self) -> float:
        """Mean over tasks of ``task_success`` (Meta-World's ``mean_success_rate``)."""
        return float(self.task_success.mean())

    @property
    def ci95(self) -> float:
        """Half-width of the normal-approximation 95% interval over tasks (0 with one task)."""
        return interval95(self.task_success)

    @property
    def mean_return(self) -> float:
        """Mean return of the evaluation episodes (Meta-World's ``mean_returns``)."""
        return float(self.returns.mean())

    def by_group(self) -> dict[str, float]:
        """Class name to the mean success rate of its tasks (Meta-World's ``success_rate_per_task``)."""
        if self.groups is None:
            raise ConfigError("this evaluation has no groups (pass groups= to evaluate_success)")
        names = np.asarray(self.groups)
        return {name: float(self.task_success[names == name].mean()) for name in dict.fromkeys(self.groups)}

    def to_json(self) -> dict[str, Any]:
        out = {"success_rate": self.success_rate, "ci95": self.ci95, "mean_return": self.mean_return,
               "num_tasks": int(self.success.shape[0]), "evaluation_episodes": int(self.success.shape[1]),
               "adaptation_episodes": int(self.adaptation_success.shape[1]),
               "task_success": self.task_success.tolist(),
               "adaptation_success_by_episode": self.adaptation_success.mean(0).tolist()}
        if self.groups is not None:
            out["success_by_group"] = self.by_group()
        return out


def interval95(values: Sequence[float] | np.ndarray) -> float:
    """Normal-approximation 95% half-interval of the mean of ``values [n]`` (tasks, or training
    seeds' success rates); 0 for a single value."""
    arr = np.asarray(values, dtype=np.float64)
    return 0.0 if arr.size < 2 else float(1.96 * arr.std(ddof=1) / math.sqrt(arr.size))


def success_rates(success: np.ndarray | torch.Tensor, *, per: str, tasks: TaskBatch | None = None) -> dict[str, Any]:
    """``success [tasks, points]`` (0/1, or each task's fraction of successful episodes at that point
    of adaptation: an episode of a trial, a gradient step) as JSON-ready rates: ``success_by_{per}``
    (the mean over tasks), ``success_ci95_by_{per}`` (95% half-interval over tasks) and, where
    ``tasks`` carry class names (Meta-World's ``names()``), ``success_by_class_by_{per}``: each
    class's mean, classes in first-seen order, so a report shows which classes adapt."""
    arr = np.asarray(success.double().cpu() if isinstance(success, torch.Tensor) else success, dtype=np.float64)
    out: dict[str, Any] = {f"success_by_{per}": arr.mean(0).tolist(),
                           f"success_ci95_by_{per}": [interval95(column) for column in arr.T]}
    names = tasks.names() if callable(getattr(tasks, "names", None)) else None
    if names is not None:
        names_arr = np.asarray(names)
        out[f"success_by_class_by_{per}"] = {name: arr[names_arr == name].mean(0).tolist()
                                             for name in dict.fromkeys(names)}
    return out


def evaluate_success(
    make_agent: Callable[[TaskBatch], Agent], *, env: BatchedTaskEnv, tasks: TaskBatch,
    adaptation_episodes: int = 10, evaluation_episodes: int = 3, seed: int = 0,
    groups: Sequence[str] | None = None, batch_size: int | None = None, evaluation_feedback: bool = False,
    batched: bool = False,
) -> SuccessEvaluation:
    """Meta-World's evaluation protocol on ``env`` (a family that ``reports_success``) for ``tasks``.

    ``make_agent(task)`` gives a fresh agent for one task (a batch of one), as ``agent.init()``
    does; an agent that adapts by itself from experience sees the adaptation episodes through
    ``act(obs, deterministic=False)`` and ``observe`` and may implement ``adapt()``, called once
    after them (MAML-style agents that adapt inside ``make_agent`` pass ``adaptation_episodes=0``).
    Evaluation episodes act with ``deterministic=True``. Tasks are played ``batch_size`` at a time
    (default: all at once; each a sub-environment of ``env``, whose tasks are changed here), batch
    k from ``env.reset(seed=seed + k)``. ``groups [T]`` names each task's class (default:
    ``tasks.names()`` where the task batch has it, as Meta-World's does).

    ``evaluation_feedback``: whether agents ``observe`` the outcome of their steps in evaluation
    episodes. Meta-World's ``evaluation`` gives its agent only observations there (``eval_action``;
    ``step`` is called in adaptation episodes only), so a memory agent (RL²) gets no reward or episode
    end to carry into its next step: off by default, to score as Meta-World does; on, a memory agent
    keeps adapting through the evaluation episodes as it does within a training trial.

    ``batched``: ``make_agent(tasks)`` gives one agent for a whole batch of tasks, a row each, whose
    ``act(obs [T, obs_dim], deterministic=, rows=)`` and ``observe(reward, terminated, truncated,
    next_obs, rows=)`` leave the rows outside the bool mask ``rows [T]`` as they were (a memory
    agent: ``MemoryAgent``), so each step is one forward for every task; otherwise an agent per task.
    """
    if not getattr(env, "reports_success", False):
        raise ConfigError(f"evaluate_success needs an env that reports success; {type(env).__name__} does not")
    check_count("adaptation_episodes", adaptation_episodes, minimum=0)
    check_count("evaluation_episodes", evaluation_episodes)
    size = len(tasks) if batch_size is None else check_count("batch_size", batch_size)
    if groups is None and callable(getattr(tasks, "names", None)):
        groups = tasks.names()  # Meta-World's tasks: their class names
    if groups is not None and len(groups) != len(tasks):
        raise ConfigError(f"groups names {len(groups)} tasks, there are {len(tasks)}")
    saved = env.autoreset_mode, env.terminate_on_success
    env.autoreset_mode = AutoresetMode.DISABLED
    try:
        parts = [_play(make_agent, env, tasks.take(np.arange(start, min(start + size, len(tasks)))),
                       adaptation_episodes, evaluation_episodes, seed=seed + k, feedback=evaluation_feedback,
                       batched=batched)
                 for k, start in enumerate(range(0, len(tasks), size))]
    finally:
        env.autoreset_mode, env.terminate_on_success = saved
    success, returns, adaptation_success, adaptation_returns = (np.concatenate(a) for a in zip(*parts, strict=True))
    return SuccessEvaluation(success=success, returns=returns, adaptation_success=adaptation_success,
                             adaptation_returns=adaptation_returns, groups=None if groups is None else list(groups))


class _EachTask:
    """A batch of one-task agents seen as one agent over ``[T]`` rows (row i: task i's agent), for
    agents that cannot act for several tasks at once (a spec without ``batched_agent``)."""

    def __init__(self, agents: list[Agent]) -> None:
        self.agents = agents

    def act(self, obs: np.ndarray, *, deterministic: bool, rows: np.ndarray) -> np.ndarray:
        actions = [self.agents[i].act(obs[i], deterministic=deterministic) for i in np.flatnonzero(rows)]
        out = np.zeros((len(self.agents), *np.shape(actions[0])), dtype=np.asarray(actions[0]).dtype)
        out[rows] = actions
        return out

    def observe(self, reward: np.ndarray, terminated: np.ndarray, truncated: np.ndarray, next_obs: np.ndarray,
                *, rows: np.ndarray) -> None:
        for i in np.flatnonzero(rows):
            self.agents[i].observe(reward[i], terminated[i], truncated[i], next_obs=next_obs[i])

    def reset(self) -> None:
        for agent in self.agents:
            agent.reset()

    def adapt(self) -> None:
        for agent in self.agents:
            if callable(getattr(agent, "adapt", None)):
                agent.adapt()


def _agents(make_agent: Callable[[TaskBatch], Agent], tasks: TaskBatch, batched: bool) -> Any:
    if batched:  # one agent, a row per task: act(obs [T], rows=...), observe(..., rows=...)
        return make_agent(tasks)
    return _EachTask([make_agent(tasks.take(i)) for i in range(len(tasks))])


def _play(make_agent: Callable[[TaskBatch], Agent], env: BatchedTaskEnv, tasks: TaskBatch, adaptation_episodes: int,
          evaluation_episodes: int, *, seed: int, feedback: bool, batched: bool) -> tuple[np.ndarray, ...]:
    """The protocol on ``tasks`` (one sub-environment each): ``(success, returns [T, evaluation_episodes],
    adaptation_success, adaptation_returns [T, adaptation_episodes])``."""
    agent = _agents(make_agent, tasks, batched)
    env.set_tasks(tasks, 1)
    obs, _ = env.reset(seed=seed)
    played, evaluated = [], []
    for k in range(adaptation_episodes + evaluation_episodes):
        if k == adaptation_episodes and callable(getattr(agent, "adapt", None)):
            agent.adapt()
        if k > 0:
            obs, _ = env.reset()
        evaluating = k >= adaptation_episodes
        (evaluated if evaluating else played).append(
            _episode(env, agent, obs, deterministic=evaluating, stop_on_success=evaluating,
                     feedback=feedback or not evaluating))

    def stack(episodes: list[tuple[np.ndarray, np.ndarray]], i: int, dtype: type) -> np.ndarray:
        out = np.stack([e[i] for e in episodes], axis=1) if episodes else np.zeros((len(tasks), 0))
        return out.astype(dtype)

    return (stack(evaluated, 1, bool), stack(evaluated, 0, float), stack(played, 1, bool), stack(played, 0, float))


def _episode(env: BatchedTaskEnv, agent: Any, obs: np.ndarray, *, deterministic: bool,
             stop_on_success: bool, feedback: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """One episode on every sub-environment at once from the reset observations ``obs [T, obs_dim]``:
    ``(return [T], success [T])``. A sub-env whose episode ended idles (autoreset is off) until all
    have ended, and its row of ``agent`` neither acts nor observes. ``feedback``: the agent
    ``observe``s each step's outcome (``next_obs`` the observation it led to)."""
    env.terminate_on_success = stop_on_success
    n = env.num_envs
    active = np.ones(n, dtype=bool)
    total, success = np.zeros(n), np.zeros(n, dtype=bool)
    idle = np.zeros((n, *env.single_action_space.shape), dtype=env.single_action_space.dtype)
    agent.reset()
    while active.any():
        actions = np.where(active.reshape(-1, *[1] * (idle.ndim - 1)),
                           agent.act(obs, deterministic=deterministic, rows=active), idle)
        obs, reward, terminated, truncated, info = env.step(actions.astype(idle.dtype))
        if feedback:
            agent.observe(reward, terminated, truncated, obs, rows=active)
        total += np.where(active, reward, 0.0)
        success |= active & (np.asarray(info["success"]) > 0)
        active &= ~(terminated | truncated)
    return total, success
