"""Adapt a meta-trained run to one given task, keep the adapted agent, and watch it act.

``metarl adapt RUN --task mass=1.3`` (and ``MetaLearner.adapt`` in Python) does what the
algorithm does at test time: MAML's inner steps, RL²'s trial memory. The adapted agent is written
as a file that ``load_agent`` turns back into an agent. The agent's episode before adaptation and
after it start from the same reset seed, so a difference between them is the adaptation's.
An animation of both is rendered by the family's own renderer (Gymnasium's, for the classic
control families), headless.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from metarl.agents import Agent
from metarl.errors import CheckpointError, ConfigError
from metarl.runs import save_torch
from metarl.tasks import TaskBatch

AGENT_FORMAT = "metarl-agent/1"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Episode:
    """One episode of one task: ``obs [T + 1, obs_dim]`` (the final observation last),
    ``actions [T, ...]``, ``rewards [T]``; ``terminated`` False means the time limit cut it."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: bool

    @property
    def total(self) -> float:
        return float(self.rewards.sum())


@dataclasses.dataclass(frozen=True, kw_only=True)
class Adaptation:
    """What ``adapt_run`` did: the task, the episode before and after, and the files it wrote."""

    task: dict[str, Any]
    before: Episode
    after: Episode
    agent_path: Path | None
    animation_path: Path | None


def parse_task(items: Sequence[str]) -> dict[str, Any]:
    """``["mass=1.3", "goals=0.3,-0.2", "side=left"]`` -> ``{"mass": 1.3, "goals": [0.3, -0.2],
    "side": "left"}`` (numbers where they parse; a comma makes a vector)."""
    values: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip() or not raw.strip():
            raise ConfigError(f"--task takes NAME=VALUE (e.g. mass=1.3), got {item!r}")
        try:
            value: Any = [float(v) for v in raw.split(",")] if "," in raw else float(raw)
        except ValueError:
            value = raw.strip()
        values[name.strip()] = value
    return values


def play_episode(agent: Agent, env: Any) -> Episode:
    """One episode of ``agent`` on the one-task ``env`` (the next reset of its stream)."""
    obs, _ = env.reset()
    observations, actions, rewards = [obs[0]], [], []
    while True:
        action = np.asarray(agent.act(obs[0]))
        obs, reward, term, trunc, info = env.step(action[None])
        done = bool(term[0] or trunc[0])
        final = info.get("final_obs") if isinstance(info, Mapping) else None
        after = final[0] if done and final is not None else obs[0]
        agent.observe(reward[0], term[0], trunc[0], next_obs=after)
        actions.append(action)
        rewards.append(float(reward[0]))
        observations.append(after)
        if done:
            return Episode(obs=np.stack(observations), actions=np.stack(actions), rewards=np.asarray(rewards),
                           terminated=bool(term[0]))


def task_values(task: TaskBatch) -> dict[str, Any]:
    """A batch of one task as plain values by name (lists for vector parameters): what a saved
    agent records, and what ``MetaLearner.task`` turns back into the task."""
    return {k: v.tolist()[0] for k, v in task.arrays().items()}


def task_slug(task: Mapping[str, Any]) -> str:
    text = "_".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in task.items()) or "default"
    return re.sub(r"[^A-Za-z0-9_.=+-]", "-", text)


def adapt_run(learner: Any, values: Mapping[str, Any], *, seed: int = 0, episodes: int | None = None,
              out: Path | str | None = None, animation: Path | str | None = None,
              options: Mapping[str, Any] | None = None) -> Adaptation:
    """Adapt ``learner`` (a ``MetaLearner``) to the task ``values`` (parameters by name, the
    rest from the family's default) and play one episode before and one after, from the same reset.

    ``out``: where the adapted agent is written (default ``RUN/adapted/<task>.pt``; None without a
    run). ``animation``: a GIF of both episodes, written when given.
    """
    options = dict(options or {})
    task = learner.task(dict(values))
    spec, inner = learner.spec, learner.learner
    if spec.make_agent is None:
        raise ConfigError(f"{spec.name} does not implement adapt()")
    fresh = spec.make_agent(inner, task, seed=seed, adapted=False, **options)
    agent = spec.make_agent(inner, task, episodes=episodes, seed=seed, **options)
    adapted_state = agent.state_dict() if hasattr(agent, "state_dict") else None  # before the episode moves it
    before, after = (_play_from(a, inner, task, seed) for a in (fresh, agent))
    named = task_values(task)
    if out is None and learner.run is not None:
        out = Path(learner.run) / "adapted" / f"{task_slug(dict(values))}.pt"
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if adapted_state is not None:
            agent.load_state_dict(adapted_state)
        save_agent(out, agent, run=learner.run, algorithm=spec.name, task=named,
                   returns={"before": before.total, "after": after.total})
    if animation is not None:
        animation = Path(animation)
        write_animation(animation, inner.env_factory(tasks=task), [before, after],
                        captions=[f"before adaptation: return {before.total:.1f}",
                                  f"after adaptation: return {after.total:.1f}"])
    return Adaptation(task=named, before=before, after=after, agent_path=out, animation_path=animation)


def _play_from(agent: Agent, learner: Any, task: TaskBatch, seed: int) -> Episode:
    env = learner.env_factory(tasks=task)
    env.reset(seed=seed)  # then the episode's own reset: the first episode of an adaptation trial
    try:
        return play_episode(agent, env)
    finally:
        close = getattr(env, "close", None)
        if close is not None:
            close()


def write_animation(path: Path, env: Any, episodes: Sequence[Episode], *, captions: Sequence[str]) -> Path:
    """Render ``episodes`` of the one-task ``env`` one after the other into a GIF at ``path``
    (a pause between them); a family without a renderer raises ``NoRendererError``."""
    from metarl.animation import write_gif

    segments = []
    for episode in episodes:
        # the action taken in each state; the final state has none (drawn as no push)
        actions = np.concatenate([episode.actions, np.zeros_like(episode.actions[:1])]).reshape(
            len(episode.obs), *env.single_action_space.shape)
        segments.append(env.render_frames(task=0, obs=episode.obs, actions=actions))
    return write_gif(path, segments, labels=list(captions), hold=15)


def save_agent(path: Path | str, agent: Any, *, run: Path | None, algorithm: str, task: Mapping[str, Any],
               returns: Mapping[str, float]) -> Path:
    """Write ``agent`` (its ``state_dict``) with what rebuilds it: the run, the algorithm, the task."""
    if not hasattr(agent, "state_dict"):
        raise ConfigError(f"{type(agent).__name__} cannot be saved (it has no state_dict)")
    save_torch(path, {"format": AGENT_FORMAT, "run": None if run is None else str(Path(run).resolve()),
                      "algorithm": algorithm, "task": dict(task), "returns": dict(returns),
                      "agent": agent.state_dict()})
    return Path(path)


def read_agent_file(path: Path | str) -> dict[str, Any]:
    """The saved record of an adapted agent, checked; a clear error for anything else."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no adapted agent at {path}")
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a damaged file
        raise CheckpointError(f"{path} is not a readable adapted-agent file ({type(err).__name__})") from None
    if not isinstance(record, dict) or record.get("format") != AGENT_FORMAT:
        raise CheckpointError(f"{path} is not a metarl adapted-agent file (format {AGENT_FORMAT!r} expected)")
    if record.get("run") is None:
        raise CheckpointError(f"{path} was saved without a run; it cannot be rebuilt from the file alone")
    return record
