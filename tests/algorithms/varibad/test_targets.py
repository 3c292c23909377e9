"""The grid's multi-head Bernoulli targets from a trajectory alone: which cell each step reached,
whether it was the goal, and what the steps so far have ruled out."""

from __future__ import annotations

import numpy as np
import torch
from gymnasium.vector import AutoresetMode

from metarl.algorithms.varibad.decoder import CellRewardDecoder, GridCells, VAEBatch
from metarl.algorithms.varibad.elbo import cell_evidence
from metarl.envs.gridworld import GridworldEnv, GridworldTasks

NOOP, UP, RIGHT, DOWN, LEFT = range(5)


def _walk(goal: list[int], actions: list[int]) -> VAEBatch:
    """One episode of ``actions`` on the grid world with ``goal``, as the VAE sees it."""
    env = GridworldEnv(tasks=GridworldTasks(goals=np.array([goal])), autoreset_mode=AutoresetMode.DISABLED)
    obs, _ = env.reset(seed=0)
    prev, nxt, rewards = [], [], []
    for a in actions:
        prev.append(obs[0])
        obs, reward, *_ = env.step(np.array([a]))
        nxt.append(obs[0])
        rewards.append(reward[0])
    as_tensor = lambda x: torch.as_tensor(np.array(x), dtype=torch.float32)[None]  # noqa: E731
    return VAEBatch(obs=as_tensor(prev), next_obs=as_tensor(nxt), actions=torch.tensor([actions]),
                    rewards=as_tensor(rewards), mask=torch.ones(1, len(actions)))


def test_cells_are_the_references_task_ids():
    cells = GridCells.from_space(GridworldEnv(tasks=GridworldTasks(goals=np.array([[4, 4]]))).single_observation_space)
    assert cells.sizes == (5, 5) and cells.num_cells == 25
    xy = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [3.0, 2.0], [4.0, 4.0]])
    assert cells.index(xy).tolist() == [0, 5, 1, 17, 24]  # x * 5 + y, VariBAD's task_to_id
    assert cells.coords()[17].tolist() == [3, 2]


def test_targets_and_evidence_from_the_trajectory_alone():
    """Right, right, up (rules out (1,0), (2,0)), up to (2,2) = the goal, stay, then leave upwards."""
    batch = _walk([2, 2], [RIGHT, RIGHT, UP, UP, NOOP, UP])
    space = GridworldEnv(tasks=GridworldTasks(goals=np.array([[2, 2]]))).single_observation_space
    decoder = CellRewardDecoder(latent_dim=2, cells=GridCells.from_space(space))
    cells, success = decoder.targets(batch)
    as_cell = lambda x, y: 5 * x + y  # noqa: E731
    assert cells[0].tolist() == [as_cell(1, 0), as_cell(2, 0), as_cell(2, 1), as_cell(2, 2), as_cell(2, 2),
                                 as_cell(2, 3)]
    assert success[0].tolist() == [0, 0, 0, 1, 1, 0]
    evidence = cell_evidence(cells, success, batch.mask, 25)[0]  # [L + 1, 25]
    assert (evidence[0] == -1).all()  # the prior: nothing seen
    after_three = {i for i in range(25) if evidence[3, i] == 0}
    assert after_three == {as_cell(1, 0), as_cell(2, 0), as_cell(2, 1)} and not (evidence[3] == 1).any()
    assert evidence[4, as_cell(2, 2)] == 1 and (evidence[4] == 1).sum() == 1
    assert evidence[6, as_cell(2, 3)] == 0 and evidence[6, as_cell(2, 2)] == 1
    assert int((evidence[6] == -1).sum()) == 25 - 5  # the start cell was never reached by a step


def test_padding_adds_no_evidence():
    batch = _walk([4, 4], [RIGHT, RIGHT, UP])
    cells, success = CellRewardDecoder(latent_dim=2, cells=GridCells(low=(0, 0), sizes=(5, 5))).targets(batch)
    evidence = cell_evidence(cells, success, torch.tensor([[1.0, 0.0, 0.0]]), 25)[0]
    assert (evidence[3] == 0).sum() == 1 and evidence[3, 5] == 0
