"""The multi-task replay buffer: masked appends per task, the ring, clearing, batched sampling
shapes and rows, and its state round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metarl.algorithms.pearl.buffer import FIELDS, TaskReplayBuffer


def _rows(tasks: list[int], n: int, start: float = 0.0) -> dict[str, torch.Tensor]:
    """Transitions whose obs encode (task, index): obs = [task, start + i]."""
    k = len(tasks)
    task = torch.tensor(tasks, dtype=torch.float32)[:, None].expand(k, n)
    index = start + torch.arange(n, dtype=torch.float32)[None].expand(k, n)
    obs = torch.stack([task, index], -1)
    return {"obs": obs, "next_obs": obs + 1, "actions": index[..., None], "rewards": index, "critic_rewards": -index,
            "terminated": torch.zeros(k, n)}


def _buffer(capacity=5) -> TaskReplayBuffer:
    return TaskReplayBuffer(num_tasks=4, capacity=capacity, obs_dim=2, act_dim=1)


def _stored(buf: TaskReplayBuffer, task: int) -> list[float]:
    return sorted(buf.data["obs"][task, : buf.size_of(task), 1].tolist())


def test_add_keeps_masked_rows_in_order_per_task_and_wraps():
    buf = _buffer()
    mask = torch.tensor([[1, 1, 0, 1], [1, 0, 0, 0]], dtype=torch.float32)
    buf.add(np.array([2, 0]), _rows([2, 0], 4), mask)
    assert (buf.size_of(2), buf.size_of(0), buf.size_of(1)) == (3, 1, 0)
    assert buf.data["obs"][2, :3, 1].tolist() == [0.0, 1.0, 3.0]
    buf.add(np.array([2]), _rows([2], 4, start=10.0), torch.ones(1, 4))
    assert buf.size_of(2) == 5  # capacity: the two oldest were overwritten
    assert _stored(buf, 2) == [3.0, 10.0, 11.0, 12.0, 13.0]
    assert buf.data["obs"][0, 0].tolist() == [0.0, 0.0]


def test_clear_forgets_only_the_given_tasks():
    buf = _buffer()
    buf.add(np.array([0, 1]), _rows([0, 1], 3), torch.ones(2, 3))
    buf.clear(np.array([1]))
    assert (buf.size_of(0), buf.size_of(1)) == (3, 0)
    buf.add(np.array([1]), _rows([1], 2, start=7.0), torch.ones(1, 2))
    assert _stored(buf, 1) == [7.0, 8.0]


def test_sample_shapes_and_each_row_from_its_own_task():
    buf = _buffer(capacity=50)
    buf.add(np.array([0, 1, 2, 3]), _rows([0, 1, 2, 3], 6), torch.ones(4, 6))
    buf.add(np.array([3]), _rows([3], 40, start=100.0), torch.ones(1, 40))
    tasks = torch.tensor([3, 1, 1, 0, 2])
    out = buf.sample(tasks, 64, torch.Generator().manual_seed(0))
    assert set(out) == set(FIELDS)
    assert out["obs"].shape == (5, 64, 2) and out["actions"].shape == (5, 64, 1) and out["rewards"].shape == (5, 64)
    assert torch.equal(out["obs"][..., 0], tasks[:, None].float().expand(5, 64))
    torch.testing.assert_close(out["next_obs"], out["obs"] + 1)
    assert out["obs"][0, :, 1].max() >= 100 and out["obs"][1, :, 1].max() <= 5


def test_adding_more_than_capacity_or_a_task_twice_is_refused():
    buf = _buffer(capacity=3)
    with pytest.raises(ValueError, match="capacity=3"):
        buf.add(np.array([0]), _rows([0], 4), torch.ones(1, 4))
    with pytest.raises(ValueError, match="distinct"):
        buf.add(np.array([1, 1]), _rows([1, 1], 2), torch.ones(2, 2))


def test_state_round_trip_holds_only_stored_rows_and_continues_identically():
    buf = _buffer(capacity=5)
    buf.add(np.array([0, 3]), _rows([0, 3], 4), torch.tensor([[1, 1, 1, 1], [1, 0, 1, 0]], dtype=torch.float32))
    buf.add(np.array([0]), _rows([0], 3, start=20.0), torch.ones(1, 3))
    state = buf.state_dict()
    assert state["obs"].shape == (5 + 2, 2)  # task 0 full after wrapping, task 3 holds two
    other = _buffer(capacity=5)
    other.load_state_dict(state)
    for b in (buf, other):
        b.add(np.array([3]), _rows([3], 2, start=50.0), torch.ones(1, 2))
    tasks = torch.tensor([0, 3, 3])
    a, b = (x.sample(tasks, 16, torch.Generator().manual_seed(1)) for x in (buf, other))
    for name in FIELDS:
        assert torch.equal(a[name], b[name])
    with pytest.raises(ValueError, match="does not fit"):
        _buffer(capacity=6).load_state_dict(state)


def test_a_state_dict_is_a_snapshot_that_later_adds_leave_alone():
    buf = _buffer(capacity=5)
    buf.add(np.array([0]), _rows([0], 3), torch.ones(1, 3))
    state = buf.state_dict()
    buf.add(np.array([0, 1]), _rows([0, 1], 2), torch.ones(2, 2))
    assert state["sizes"].tolist() == [3, 0, 0, 0] and state["tops"].tolist() == [3, 0, 0, 0]
