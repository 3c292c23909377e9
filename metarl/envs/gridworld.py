"""VariBAD's grid world, GridNavi (Zintgraf et al. 2020, section 5.1; ``environments/navigation/gridworld.py``).

A 5x5 grid of cells ``(x, y)``, both in 0..4. Every episode starts at (0, 0) and lasts 15 steps,
ended by truncation only: reaching the goal does not end it. Actions: 0 noop, 1 up (y + 1),
2 right (x + 1), 3 down (y - 1), 4 left (x - 1); a move into a wall leaves the agent where it is.
After the move the reward is +1 if the agent is on the goal, else -0.1, so an agent that stays on
the goal (noop) earns +1 on every remaining step. The goal is uniform over the 21 cells outside
the 2x2 corner at the start; it is fixed across the episodes of a trial (VariBAD uses 4).

The observation is the cell as VariBAD passes it, the raw ``[x, y]`` (float32, each in 0..4), not
a one-hot: it keeps the state identical to the reference's (which normalises it only inside its
policy), and the goal appears nowhere in it, so everything about the task comes from rewards.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np

from metarl.envs.base import BatchedTaskEnv
from metarl.tasks import TaskBatch, TaskDistribution, check_count

SIZE = 5
HORIZON = 15
# (dx, dy) of noop, up, right, down, left: VariBAD's action order
MOVES = np.array([[0, 0], [0, 1], [1, 0], [0, -1], [-1, 0]], dtype=np.int64)
GOAL_REWARD = 1.0
STEP_REWARD = -0.1


def goal_cells(size: int = SIZE) -> np.ndarray:
    """``[cells, 2]`` int64: the possible goals, every ``(x, y)`` outside the 2x2 corner at the
    start, ordered by x then y (21 cells on the 5x5 grid)."""
    x, y = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    cells = np.stack([x.ravel(), y.ravel()], axis=1)
    return cells[(cells[:, 0] >= 2) | (cells[:, 1] >= 2)]


@dataclasses.dataclass(frozen=True)
class GridworldTasks(TaskBatch):
    goals: np.ndarray  # [tasks, 2] int64 cells (x, y)

    int_fields = ("goals",)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.goals.ndim != 2 or self.goals.shape[1] != 2:
            raise ValueError(f"GridworldTasks.goals must be [tasks, 2], got {self.goals.shape}")
        inside = np.all((self.goals >= 0) & (self.goals < SIZE), axis=1)
        allowed = inside & ((self.goals[:, 0] >= 2) | (self.goals[:, 1] >= 2))
        if not allowed.all():
            bad = self.goals[~allowed][0].tolist()
            raise ValueError(f"GridworldTasks.goals: {bad} is not a goal cell; goals lie on the {SIZE}x{SIZE} "
                             "grid outside the 2x2 corner at the start (x >= 2 or y >= 2)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class GridworldDistribution(TaskDistribution):
    """Goal uniform over the 21 cells outside the 2x2 corner at the start."""

    task_type = GridworldTasks

    def sample(self, n: int, rng: np.random.Generator) -> GridworldTasks:
        cells = goal_cells()
        return GridworldTasks(goals=cells[rng.integers(0, len(cells), size=check_count("n", n))])

    def default(self) -> GridworldTasks:
        return GridworldTasks(goals=[[SIZE - 1, SIZE - 1]])

    def describe(self) -> dict[str, str]:
        return {"goals": f"[2] cell (x, y) uniform over the {len(goal_cells())} cells of the {SIZE}x{SIZE} "
                         "grid outside the 2x2 corner at the start"}


class GridworldEnv(BatchedTaskEnv):
    """Observation ``[x, y]`` float32; action 0..4 (noop, up, right, down, left); 15 steps."""

    family = "gridworld"
    distribution_type = GridworldDistribution
    default_max_episode_steps = HORIZON

    def _spaces(self) -> tuple[gym.Space, gym.Space]:
        obs = gym.spaces.Box(0.0, float(SIZE - 1), shape=(2,), dtype=np.float32)
        return obs, gym.spaces.Discrete(len(MOVES))

    def set_tasks(self, tasks: TaskBatch, episodes_per_task: int = 1) -> None:
        super().set_tasks(tasks, episodes_per_task)
        self.position = np.zeros((self.num_envs, 2), dtype=np.int64)  # [num_envs, 2] cells

    def _reset_envs(self, idx: np.ndarray) -> None:
        self.position[idx] = 0

    def _observe(self) -> np.ndarray:
        return self.position.astype(np.float32)

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.position = np.clip(self.position + MOVES[actions], 0, SIZE - 1)
        on_goal = np.all(self.position == self.params["goals"], axis=1)
        return np.where(on_goal, GOAL_REWARD, STEP_REWARD), np.zeros(self.num_envs, dtype=bool)
