"""Cutting a task batch into slices that are sampled apart and joined back in order.

A collection call is split into ``shards`` contiguous slices of tasks. Every slice gets its own
random streams, derived from the call's seed and the slice's index only, so a slice samples the
same episodes wherever it runs: one after another in this process (``Sampler(shards=W)``) or on W
Ray workers at once. Joining the slices' batches along the task dimension then gives the same
result on both backends, and a slice whose worker died can be sampled again, identically.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from metarl.rollout.trajectories import Trajectories, TrialSequence
from metarl.tasks import TaskBatch, check_count

CALL_SEED_BOUND = 2**63


@dataclasses.dataclass(frozen=True, kw_only=True)
class SliceSeeds:
    """The two streams of one slice: the environment's (``env.reset(seed=env)``) and the actions'
    (a ``torch.Generator`` seeded with ``actions``)."""

    env: int
    actions: int


def slice_bounds(num_tasks: int, shards: int) -> list[tuple[int, int]]:
    """``shards`` contiguous ``(start, stop)`` ranges covering ``range(num_tasks)`` in order.

    Sizes differ by at most one (the first slices take the remainder, like ``np.array_split``);
    when there are fewer tasks than shards the last slices are empty.
    """
    check_count("shards", shards)
    sizes = np.full(shards, num_tasks // shards)
    sizes[: num_tasks % shards] += 1
    stops = np.cumsum(sizes)
    return [(int(stop - size), int(stop)) for stop, size in zip(stops, sizes, strict=True)]


def slice_seeds(call_seed: int, index: int) -> SliceSeeds:
    """The streams of slice ``index`` of a call: ``SeedSequence([call_seed, index])``, independent of
    where (and how many times) the slice is sampled."""
    env_word, action_word = np.random.SeedSequence([int(call_seed), int(index)]).generate_state(2, np.uint64)
    return SliceSeeds(env=int(env_word), actions=int(action_word) % CALL_SEED_BOUND)


def draw_call_seed(rng: np.random.Generator) -> int:
    """One call's seed from the sampler's stream (one draw per ``collect`` / ``collect_trials``)."""
    return int(rng.integers(CALL_SEED_BOUND))


def slice_params(
    params: Mapping[str, torch.Tensor] | None,
    start: int,
    stop: int,
    num_tasks: int,
    reference: Mapping[str, torch.Tensor] | None = None,
) -> dict[str, torch.Tensor] | None:
    """The parameters of tasks ``start:stop``: per-task tensors (leading task dimension) are sliced,
    shared ones kept whole.

    A tensor is per-task when it has one more dimension than the policy's own parameter of that
    name (``reference``); without a reference, when its leading dimension equals ``num_tasks``.
    """
    if params is None:
        return None
    out = {}
    for name, value in params.items():
        ref = None if reference is None else reference.get(name)
        per_task = value.dim() == ref.dim() + 1 if ref is not None else value.dim() > 0 and value.shape[0] == num_tasks
        if per_task and value.shape[0] != num_tasks:
            raise ValueError(f"params[{name!r}] has {value.shape[0]} task rows, expected {num_tasks}")
        out[name] = value[start:stop] if per_task else value
    return out


def _pad_time(x: torch.Tensor, length: int, time_dim: int, fill: float = 0) -> torch.Tensor:
    extra = length - x.shape[time_dim]
    if extra == 0:
        return x
    shape = list(x.shape)
    shape[time_dim] = extra
    return torch.cat([x, x.new_full(shape, fill)], time_dim)


def concat_trajectories(parts: Sequence[Trajectories]) -> Trajectories:
    """Slices' ``[tasks_s, episodes, H_s, ...]`` batches joined along tasks, padded to the longest H
    with zeros (what the sampler writes on padding; ``mask`` 0 there)."""
    if len(parts) == 1:
        return parts[0]
    length = max(p.horizon for p in parts)
    fields = {}
    for f in dataclasses.fields(Trajectories):
        values = [getattr(p, f.name) for p in parts]
        if values[0] is None:
            fields[f.name] = None
            continue
        time_dim = 2 if f.name != "last_obs" else None
        fields[f.name] = torch.cat([v if time_dim is None else _pad_time(v, length, time_dim) for v in values])
    return Trajectories(**fields)


def concat_trials(parts: Sequence[TrialSequence]) -> TrialSequence:
    """Slices' ``[trials_s, L_s, ...]`` trials joined along trials, padded to the longest L as the
    sampler pads: zeros, and ``episode_index`` = episodes_per_trial (the trial is over)."""
    if len(parts) == 1:
        return parts[0]
    n_ep = parts[0].episodes_per_trial
    if any(p.episodes_per_trial != n_ep for p in parts):
        raise ValueError(f"slices disagree on episodes_per_trial: {[p.episodes_per_trial for p in parts]}")
    length = max(p.rewards.shape[1] for p in parts)
    fields = {}
    for f in dataclasses.fields(TrialSequence):
        if f.name == "episodes_per_trial":
            continue
        if getattr(parts[0], f.name) is None:
            fields[f.name] = None
            continue
        fill = n_ep if f.name == "episode_index" else 0
        fields[f.name] = torch.cat([_pad_time(getattr(p, f.name), length, 1, fill) for p in parts])
    return TrialSequence(**fields, episodes_per_trial=n_ep)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Slice:
    """One slice of a call: its index (which fixes its seeds), its tasks ``start:stop`` of the
    call's batch and their parameters."""

    index: int
    start: int
    stop: int
    tasks: TaskBatch
    params: dict[str, torch.Tensor] | None


def reference_params(policy: object) -> dict[str, torch.Tensor] | None:
    """The policy's own parameters by name (to tell per-task params from shared), if it has any."""
    return dict(policy.named_parameters()) if isinstance(policy, nn.Module) else None


def split_call(
    tasks: TaskBatch, shards: int, params: Mapping[str, torch.Tensor] | None = None, policy: object = None
) -> list[Slice]:
    """The non-empty slices of a call on ``tasks`` cut ``shards`` ways, in task order."""
    if len(tasks) == 0:
        raise ValueError("tasks is empty: nothing to sample")
    if shards == 1:
        return [Slice(index=0, start=0, stop=len(tasks), tasks=tasks, params=None if params is None else dict(params))]
    reference = reference_params(policy)
    return [
        Slice(index=i, start=a, stop=b, tasks=tasks.take(np.arange(a, b)),
              params=slice_params(params, a, b, len(tasks), reference))
        for i, (a, b) in enumerate(slice_bounds(len(tasks), shards))
        if b > a
    ]


def slice_policy(policy: Any, part: Slice, num_tasks: int) -> Any:
    """The policy to run on ``part``. A policy that carries data per task (RL²'s task features)
    implements ``take_tasks(start, stop)`` returning itself restricted to those tasks; any other
    policy is the same for every slice."""
    if not hasattr(policy, "take_tasks") or (part.start, part.stop) == (0, num_tasks):
        return policy
    return policy.take_tasks(part.start, part.stop)


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """The generator's state as plain Python (a JSON string inside), fit for
    ``torch.save`` / ``torch.load(weights_only=True)``."""
    return {"bit_generator": json.dumps(rng.bit_generator.state)}


def set_rng_state(rng: np.random.Generator, state: Mapping[str, Any]) -> None:
    """Restore what ``rng_state`` returned; a clear error for anything else."""
    try:
        rng.bit_generator.state = json.loads(state["bit_generator"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"not a sampler random state: {state!r:.200}") from err
