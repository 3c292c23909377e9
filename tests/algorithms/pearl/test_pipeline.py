"""``--pipeline``: the collection runs beside the updates, from a snapshot of the networks, and its
buffer writes land after them. Checked against the serial loop's own collection: what a pipelined
iteration adds to the buffers is exactly what ``_collect`` adds from the networks as they were
before the iteration's updates; the updates see only the data of earlier iterations; and the run is
deterministic and resumes exactly."""

from __future__ import annotations

import numpy as np
import torch

from metarl.algorithms import pearl
from metarl.algorithms.pearl.buffer import TaskReplayBuffer
from metarl.algorithms.pearl.pipeline import BufferLog
from tests.algorithms.pearl.test_learner import TINY, _strip


def _learner(**overrides):
    return pearl.build_learner(pearl.make_config("navigation2d-sparse", **{**TINY, "pipeline": True, **overrides}))


def _buffers_equal(a: TaskReplayBuffer, b: TaskReplayBuffer) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return all(torch.equal(torch.as_tensor(sa[k]), torch.as_tensor(sb[k])) for k in sa if k != "capacity")


def test_buffer_log_replays_clears_and_adds_in_order():
    def buffer():
        return TaskReplayBuffer(num_tasks=3, capacity=8, obs_dim=2, act_dim=1)

    direct, log = buffer(), BufferLog(buffer())
    rows = {name: torch.arange(2 * 5 * (2 if name in ("obs", "next_obs") else 1), dtype=torch.float32).reshape(
        2, 5, -1).squeeze(-1) for name in ("obs", "next_obs", "actions", "rewards", "critic_rewards", "terminated")}
    rows["actions"] = rows["actions"][..., None]
    mask = torch.tensor([[1, 1, 0, 1, 1], [1, 0, 1, 1, 1]], dtype=torch.float32)
    for target in (direct, log):
        target.add(np.array([0, 2]), rows, mask)
        target.clear(np.array([2]))
        target.add(np.array([2, 1]), rows, mask)
    assert _buffers_equal(direct, log.staging)
    replayed = buffer()
    log.apply_to(replayed)
    assert _buffers_equal(direct, replayed) and not log.ops


def test_a_pipelined_iteration_adds_what_the_serial_collection_adds_from_the_pre_update_networks():
    p = _learner()
    p.train_iteration(0)
    before = p.state_dict()
    serial = pearl.build_learner(pearl.make_config("navigation2d-sparse", **TINY))
    serial.load_state_dict(before)
    serial.generator.set_state(before["collect_generator"])  # the stream the background collection draws from
    expected = serial._collect()

    seen = {}
    update = p._update

    def spy():
        seen["rl_sizes"] = p.rl_buffer.sizes.copy()
        return update()

    p._update = spy
    metrics = p.train_iteration(1)
    # the updates saw iteration 0's data only
    assert np.array_equal(seen["rl_sizes"], np.asarray(before["rl_buffer"]["sizes"]))
    assert _buffers_equal(p.rl_buffer, serial.rl_buffer) and _buffers_equal(p.enc_buffer, serial.enc_buffer)
    assert metrics["return_prior"] == expected["return_prior"] and metrics["env_steps"] == expected["env_steps"]
    assert p.env_steps == serial.env_steps and metrics["time_waiting"] >= 0
    changed = [not torch.equal(x, y) for x, y in zip(p.nets.parameters(), serial.nets.parameters(), strict=True)]
    assert all(changed)  # the pipelined learner also took its gradient steps


def test_the_first_iteration_pools_first_and_counts_every_step():
    metrics = _learner().train_iteration(0)
    assert metrics["env_steps"] == 20 * (6 + 2 + 4 + 2)  # the pool (6 tasks), then prior, posterior, extra


def test_same_seed_same_run_and_resume_continues_exactly():
    a = _learner()
    metrics_a = [_strip(a.train_iteration(i)) for i in range(3)]
    b = _learner()
    assert [_strip(b.train_iteration(i)) for i in range(2)] == metrics_a[:2]
    resumed = _learner()
    torch.manual_seed(999)
    resumed.load_state_dict(b.state_dict())
    assert _strip(resumed.train_iteration(2)) == metrics_a[2]
    for (name, x), (_, y) in zip(a.nets.state_dict().items(), resumed.nets.state_dict().items(), strict=True):
        assert torch.equal(x, y), name
    assert _buffers_equal(a.rl_buffer, resumed.rl_buffer) and a.validate() == resumed.validate()
    for learner in (a, b, resumed):
        learner.close()
