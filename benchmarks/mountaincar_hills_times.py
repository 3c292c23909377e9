"""The step counts behind mountaincar-hills' constants (``metarl/envs/mountaincar_hills.py``).

For each power: the slowest start of ``pump_toward``'s direct attempts (right and left goal), and,
with ``--exact``, the fastest "left, then right" over every sequence of actions in {-1, 0, 1} from any start
(a reachable-set search on the env's own float32 step, states merged on a fine grid: minutes per
power); then the scripted controllers' per-episode returns.

    python benchmarks/mountaincar_hills_times.py [--exact] [--powers 0.0014 0.0016]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from gymnasium.vector import AutoresetMode

from metarl.envs.mountaincar import car_step
from metarl.envs.mountaincar_hills import (
    LEFT_IMPACT_SPEED,
    RIGHT_GOAL,
    MountainCarHillsDistribution,
    MountainCarHillsEnv,
    MountainCarHillsTasks,
    pump_toward,
    scripted_returns,
)


def slowest_direct(power: float, side: int, starts: int = 400, limit: int = 300) -> int:
    """Steps of ``pump_toward``'s attempt at ``side`` from the slowest of ``starts`` drawn starts."""
    tasks = MountainCarHillsTasks(power=[power], goal_side=[side])
    env = MountainCarHillsEnv(tasks=tasks, episodes_per_task=starts, max_episode_steps=limit,
                              autoreset_mode=AutoresetMode.DISABLED)
    obs, _ = env.reset(seed=0)
    done = np.zeros(starts, dtype=bool)
    for t in range(limit):
        obs, reward, terminated, truncated, _ = env.step(pump_toward(obs, np.full(starts, side)))
        if (terminated & (reward < 50)).any():
            raise RuntimeError(f"power {power}: the attempt at side {side} reached the wrong hill")
        done |= terminated | truncated
        if done.all():
            return t + 1
    raise RuntimeError(f"power {power}: not all attempts at side {side} ended within {limit} steps")


def _reach(power: float, position: np.ndarray, velocity: np.ndarray, goal: str, limit: int = 150) -> int:
    """Fewest steps from any of the states to the left impact or the right top (``goal``)."""
    for t in range(1, limit + 1):
        n = 3 * position.size
        position, velocity = np.tile(position, 3), np.tile(velocity, 3)
        action = np.repeat(np.array([-1.0, 0.0, 1.0], np.float32), position.size // 3)
        step = car_step(position, velocity, action, np.full(n, power), np.zeros(n, dtype=bool),
                        right_goal=np.full(n, RIGHT_GOAL), impact_speed=LEFT_IMPACT_SPEED)
        if (step.left_impact if goal == "left" else step.right_top).any():
            return t
        key = np.round(step.position / 2e-4).astype(np.int64) * 100_000 + np.round(step.velocity / 2e-5)
        _, keep = np.unique(key, return_index=True)
        position, velocity = step.position[keep], step.velocity[keep]
    raise RuntimeError(f"power {power}: {goal} goal not reached within {limit} steps")


def fastest_left_then_right(power: float) -> int:
    """The left impact ends at rest at the left end whatever led there, so the fastest detour is
    the fastest impact from any start plus the fastest climb from rest at the left end."""
    starts = np.linspace(-0.6, -0.4, 201).astype(np.float32).astype(np.float64)
    to_left = _reach(power, starts, np.zeros_like(starts), "left")
    return to_left + _reach(power, np.array([-1.2]), np.zeros(1), "right")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exact", action="store_true", help="also search the fastest 'left, then right'")
    parser.add_argument("--powers", type=float, nargs="+", default=[0.0014, 0.0015, 0.0016])
    parser.add_argument("--tasks", type=int, default=1000)
    args = parser.parse_args(argv)
    out: dict = {"powers": {}}
    for power in args.powers:
        row = {"right": slowest_direct(power, 1), "left": slowest_direct(power, -1)}
        if args.exact:
            row["left_then_right_fastest"] = fastest_left_then_right(power)
        out["powers"][str(power)] = row
        print(f"power {power}: {row}", flush=True)
    tasks = MountainCarHillsDistribution().sample(args.tasks, np.random.default_rng(0))
    for strategy in ("oracle", "right", "remember"):
        mean = scripted_returns(tasks, strategy=strategy, episodes=3, seed=1).mean(axis=0)
        out[strategy] = [round(float(m), 2) for m in mean]
        print(f"{strategy}: per-episode mean return {out[strategy]}", flush=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
