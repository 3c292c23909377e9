"""MountainCarContinuous with the goal on the left or the right hill, told only by reward, batched.

A task is ``(power, goal_side)``. Right-goal tasks are Gymnasium's MountainCarContinuous-v0 with
engine power ``power``: at the default task (power 0.0015, right goal) every step equals
``gymnasium.make("MountainCarContinuous-v0")``'s bit for bit (``metarl.envs.mountaincar``), only the
episode is cut at 77 steps instead of 999. Left-goal tasks run the same dynamics and differ in two
events only: hitting the left end (position -1.2) moving left at >= 0.025 pays the 100 and ends the
episode, and reaching the right top (position >= 0.45, velocity >= 0) ends it without the 100.
The start state, the observation and everything else are the same for both sides, so an agent
learns the side from the rewards of its first episode and has to carry it to the next.

Why these rules (step counts from starts U[-0.6, -0.4]; "slowest" is over starts, for the best
bang-bang controller of each start and power; the fastest "left, then right" of the rule chosen is
the minimum over all sequences of actions in {-1, 0, 1}, by a reachable-set search, those of the
rules not chosen the best bang-bang controller's; ``benchmarks/mountaincar_hills_times.py``):

- The left hill is the right goal's stepping stone: the way up the right hill swings left first
  (to the left end at power <= 0.0015 for a plain pump). A left goal at a *position* (x <= -1.1,
  or -1.19 next to the end) lies just beyond that swing, and the car keeps its energy there, so
  the fastest "left, then right" is only 5-8 steps slower than the slowest direct right attempt at
  the same power (and faster below power 0.0012): no time limit separates them. Hitting the end at
  speed instead costs the car all its momentum (the end stops it), and from rest there the right
  goal is still 32-34 steps away, so "left, then right" costs ~20 steps more.
- The wrong-hill end makes "try right" informative in left tasks. Right tasks keep Gymnasium's
  semantics (the left end ends nothing there), so only the time limit stops "try left, then right".
- The limit: at the lowest power 0.0014 the slowest direct attempt takes 72 steps to the right
  goal and 69 to the left one (``pump_toward`` achieves both); the fastest "left, then right" takes
  92 steps at power 0.0014, 82 at 0.0016, 77 at 0.0017, 70 at 0.0018. Times scale like 1 / power
  while the detour costs ~20 steps, so power is drawn from U[0.0014, 0.0016] and episodes are 77
  steps: 5 to spare for a direct attempt, 5 short of the fastest detour. Over the mountaincar
  family's U[0.001, 0.002] no limit works: the fastest detour at power 0.002 (63 steps) beats the
  slowest direct attempt at 0.001 (114).

Per-episode returns of ``pump_toward`` (``scripted_returns``: 1000 tasks of the default
distribution, 3 episodes each; 46.6% right goals): oracle (knows the side) 93.8 in every episode;
always right 40.0; remember (right first, the other side after an episode that ended without the
100) 40.0, then 93.8, 93.8. A wrong-hill episode costs its action cost only (-6.6 on average).

**Energy shaping** (a task parameter, 0 by default, so the default task stays Gymnasium's): with
``shaping = c`` every step also pays ``c (E(s') - E(s))``, the change of the car's mechanical energy
per unit mass ``E = v^2 / 2 + (0.0025 / 3) sin(3 x)`` (the gravity term of the dynamics integrates
to that potential). Under white action noise a car never reaches either top in 77 steps, so the
goal's 100 is never seen and PPO learns to stand still; the energy term pays for pumping, which
reaches a top. It is the same for both sides, so the side is still told only by the 100. An
episode's energy terms sum to ``c (E_T - E_0)``; that is not zeroed at the episode's end, so it is
not policy-invariant shaping: it also pays for ending high. At ``c = 6000`` a wrong-hill top pays
~10 and a left goal ~7 (the end stops the car), so the term favours the wrong hill by ~3 against the
100 of the right one. Returns reported on a shaped task include the term.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
from gymnasium.vector import AutoresetMode

from metarl.envs.mountaincar import GOAL_REWARD, GRAVITY, MIN_POSITION, MountainCarEnv, action_cost, car_step
from metarl.errors import ConfigError
from metarl.tasks import TaskBatch, TaskDistribution, check_count

RIGHT_GOAL = 0.45
LEFT_GOAL = MIN_POSITION
LEFT_IMPACT_SPEED = 0.025
EPISODE_STEPS = 77


@dataclasses.dataclass(frozen=True)
class MountainCarHillsTasks(TaskBatch):
    power: np.ndarray  # [tasks], engine power per unit of action
    goal_side: np.ndarray  # [tasks] int, -1: the left end (hit at speed), +1: the right top
    shaping: np.ndarray | None = None  # [tasks], weight c of the energy term (module docstring); None: 0

    int_fields = ("goal_side",)

    def __post_init__(self) -> None:
        if self.shaping is None:
            object.__setattr__(self, "shaping", np.zeros(np.shape(self.power)[:1]))
        super().__post_init__()
        if np.any(self.shaping < 0):
            raise ValueError(f"MountainCarHillsTasks.shaping must be >= 0, got {self.shaping[self.shaping < 0][0]}")
        if np.any(self.power <= 0):
            raise ValueError(f"MountainCarHillsTasks.power must be > 0, got {self.power[self.power <= 0][0]}")
        bad = (self.goal_side != -1) & (self.goal_side != 1)
        if np.any(bad):
            raise ValueError(f"MountainCarHillsTasks.goal_side must be -1 (left) or +1 (right), "
                             f"got {self.goal_side[bad][0]}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class MountainCarHillsDistribution(TaskDistribution):
    """Power uniform in ``power`` (narrow: see the module docstring), each side with probability 1/2;
    every task with the energy-shaping weight ``shaping`` (0: none, Gymnasium's reward)."""

    task_type = MountainCarHillsTasks
    power: tuple[float, float] = (0.0014, 0.0016)
    shaping: float = 0.0

    def __post_init__(self) -> None:
        if not self.shaping >= 0:
            raise ConfigError(f"mountaincar-hills: shaping must be >= 0 (0 = no energy term), got {self.shaping!r}")

    def sample(self, n: int, rng: np.random.Generator) -> MountainCarHillsTasks:
        n = check_count("n", n)
        power = rng.uniform(*self.power, size=n)
        return MountainCarHillsTasks(power=power, goal_side=np.where(rng.random(n) < 0.5, -1, 1),
                                     shaping=np.full(n, float(self.shaping)))

    def default(self) -> MountainCarHillsTasks:
        return MountainCarHillsTasks(power=[0.0015], goal_side=[1], shaping=[float(self.shaping)])

    def describe(self) -> dict[str, str]:
        return {
            "power": f"U{list(self.power)} (MountainCarContinuous-v0: 0.0015)",
            "goal_side": "-1 (left end, hit at speed >= 0.025) or +1 (right top 0.45), p = 1/2 each",
            "shaping": f"{self.shaping:g} (weight of the energy term; 0 = Gymnasium's reward)",
        }


class MountainCarHillsEnv(MountainCarEnv):
    """The goal on the left or the right hill, the same for every episode of a task (module docstring).

    Observation ``[position, velocity]`` float32, action in ``[-1, 1]`` as in MountainCarEnv;
    reward ``-0.1 a^2`` plus 100 at the task's goal; 77 steps per episode.
    """

    family = "mountaincar-hills"
    distribution_type = MountainCarHillsDistribution
    default_max_episode_steps = EPISODE_STEPS
    # Success is the task's own goal: a wrong-hill top also ends (terminates) an episode, so
    # "ended by termination" would count it.
    reports_success: ClassVar[bool] = True

    def set_tasks(self, tasks: TaskBatch, episodes_per_task: int = 1) -> None:
        super().set_tasks(tasks, episodes_per_task)
        self._success = np.zeros(self.num_envs)

    def _step_info(self) -> dict[str, np.ndarray]:
        return {"success": self._success.copy()}

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        action = actions[:, 0].astype(np.float32)
        before = self._state
        step = car_step(self._state[:, 0], self._state[:, 1], action, self.params["power"], self._fresh,
                        right_goal=np.full(self.num_envs, RIGHT_GOAL), impact_speed=LEFT_IMPACT_SPEED)
        self._state = np.stack([step.position, step.velocity], axis=1)
        self._fresh = np.zeros(self.num_envs, dtype=bool)
        left = self.params["goal_side"] < 0
        reached = np.where(left, step.left_impact, step.right_top)
        self._success = reached.astype(np.float64)
        terminated = reached | (left & step.right_top)
        reward = np.where(reached, GOAL_REWARD, 0.0) - action_cost(action)
        shaping = self.params["shaping"]
        if np.any(shaping):
            reward = reward + shaping * (energy(self._state) - energy(before))
        return reward, terminated

    def _goal_flag(self, task: int) -> float:
        return LEFT_GOAL if self.tasks.goal_side[task] < 0 else RIGHT_GOAL


def energy(state: np.ndarray) -> np.ndarray:
    """``[n]`` mechanical energy per unit mass of cars in ``state [n, 2]`` (position, velocity):
    ``v^2 / 2 + (0.0025 / 3) sin(3 x)``, whose change is what gravity and the engine do to the car."""
    return 0.5 * state[:, 1] ** 2 + GRAVITY / 3 * np.sin(3 * state[:, 0])


def pump_toward(obs: np.ndarray, side: np.ndarray) -> np.ndarray:
    """A scripted bang-bang controller: full throttle along the velocity (pumping energy), braking
    swings that the attempt does not need. ``obs [n, 2]``, ``side [n]`` (+1 right, -1 left) ->
    ``[n, 1]`` float32. Its first push and braking points are the best of a grid for the slowest
    start and power in [0.0014, 0.0016]: 72 steps to the right goal, 69 to the left (power 0.0014)."""
    x, v = obs[:, 0], obs[:, 1]
    right = side > 0
    push = np.where(v > 0, 1.0, np.where(v < 0, -1.0, np.where(right, -1.0, 1.0)))
    push = np.where(right & (v < 0) & (x < -0.78), 1.0, push)  # a right attempt: short left swings
    push = np.where(~right & (v > 0) & (x > -0.25), -1.0, push)  # a left attempt: stay off the right top
    return push[:, None].astype(np.float32)


def scripted_returns(tasks: MountainCarHillsTasks, *, strategy: str, episodes: int, seed: int) -> np.ndarray:
    """``[tasks, episodes]`` returns of ``pump_toward`` with the side chosen by ``strategy``:
    ``"oracle"`` (the task's side), ``"right"`` (always right) or ``"remember"`` (right first; the
    other side after an episode that ended without the 100, i.e. at the wrong hill)."""
    if strategy not in ("oracle", "right", "remember"):
        raise ValueError(f"strategy must be 'oracle', 'right' or 'remember', got {strategy!r}")
    env = MountainCarHillsEnv(tasks=tasks, autoreset_mode=AutoresetMode.DISABLED, seed=seed)
    side = tasks.goal_side.copy() if strategy == "oracle" else np.ones(len(tasks), dtype=np.int64)
    returns = np.zeros((len(tasks), check_count("episodes", episodes)))
    for k in range(episodes):
        obs, _ = env.reset()
        alive = np.ones(len(tasks), dtype=bool)
        bonus = np.zeros(len(tasks), dtype=bool)
        ended = np.zeros(len(tasks), dtype=bool)
        while alive.any():
            obs, reward, terminated, truncated, _ = env.step(pump_toward(obs, side))
            returns[:, k] += np.where(alive, reward, 0.0)
            bonus |= alive & terminated & (reward > GOAL_REWARD / 2)
            ended |= alive & terminated
            alive &= ~(terminated | truncated)
        if strategy == "remember":
            side = np.where(ended & ~bonus, -side, side)
    return returns
