"""Batched task environments and their registry; importing this registers the ``metarl/*`` ids.

MuJoCo families are listed here too: their module imports Gymnasium only, and MuJoCo is loaded
when one of their envs is built.
"""

from metarl.envs import builtin as builtin
from metarl.envs.bandit import BanditDistribution, BanditEnv, BanditTasks
from metarl.envs.base import BatchedTaskEnv
from metarl.envs.gridworld import GridworldDistribution, GridworldEnv, GridworldTasks
from metarl.envs.gym_adapter import GymTaskAdapter
from metarl.envs.gym_registration import SingleTaskEnv
from metarl.envs.mountaincar import MountainCarDistribution, MountainCarEnv, MountainCarTasks
from metarl.envs.mountaincar_hills import (
    MountainCarHillsDistribution,
    MountainCarHillsEnv,
    MountainCarHillsTasks,
)
from metarl.envs.mujoco_ant import AntDirCircleEnv, AntDirEnv, AntGoalEnv, GoalDistribution, GoalTasks
from metarl.envs.mujoco_cheetah import (
    HalfCheetahDirEnv,
    HalfCheetahDirRllabEnv,
    HalfCheetahVelEnv,
    HalfCheetahVelOysterEnv,
    HalfCheetahVelRllabEnv,
    OysterVelocityDistribution,
    oyster_velocity_task_set,
)
from metarl.envs.mujoco_humanoid import HumanoidDirEnv
from metarl.envs.mujoco_params import (
    HopperParamsDistribution,
    HopperParamsEnv,
    ModelScaleTasks,
    WalkerParamsDistribution,
    WalkerParamsEnv,
)
from metarl.envs.mujoco_tasks import (
    AngleDistribution,
    AngleTasks,
    DirectionDistribution,
    DirectionTasks,
    VelocityDistribution,
    VelocityTasks,
)
from metarl.envs.navigation import (
    HalfCircleDistribution,
    Navigation2DEnv,
    NavigationDistribution,
    NavigationTasks,
    SparseNavigation2DEnv,
)
from metarl.envs.pendulum import PendulumDistribution, PendulumEnv, PendulumTasks
from metarl.envs.registry import FAMILIES, Family, family, make_distribution, make_env
from metarl.envs.tabular_mdp import TabularMDPDistribution, TabularMDPEnv, TabularMDPTasks

__all__ = [
    "FAMILIES",
    "AngleDistribution",
    "AngleTasks",
    "AntDirCircleEnv",
    "AntDirEnv",
    "AntGoalEnv",
    "BanditDistribution",
    "BanditEnv",
    "BanditTasks",
    "BatchedTaskEnv",
    "DirectionDistribution",
    "DirectionTasks",
    "Family",
    "GoalDistribution",
    "GoalTasks",
    "GridworldDistribution",
    "GridworldEnv",
    "GridworldTasks",
    "GymTaskAdapter",
    "HalfCircleDistribution",
    "HalfCheetahDirEnv",
    "HalfCheetahDirRllabEnv",
    "HalfCheetahVelRllabEnv",
    "HalfCheetahVelEnv",
    "HalfCheetahVelOysterEnv",
    "HopperParamsDistribution",
    "HopperParamsEnv",
    "HumanoidDirEnv",
    "ModelScaleTasks",
    "MountainCarDistribution",
    "MountainCarEnv",
    "MountainCarHillsDistribution",
    "MountainCarHillsEnv",
    "MountainCarHillsTasks",
    "MountainCarTasks",
    "Navigation2DEnv",
    "NavigationDistribution",
    "NavigationTasks",
    "OysterVelocityDistribution",
    "PendulumDistribution",
    "PendulumEnv",
    "PendulumTasks",
    "SingleTaskEnv",
    "SparseNavigation2DEnv",
    "TabularMDPDistribution",
    "TabularMDPEnv",
    "TabularMDPTasks",
    "VelocityDistribution",
    "VelocityTasks",
    "WalkerParamsDistribution",
    "WalkerParamsEnv",
    "family",
    "make_distribution",
    "make_env",
    "oyster_velocity_task_set",
]
