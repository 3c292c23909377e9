"""metarl's own task families, declared as lazily imported records (a MuJoCo family's module is
imported only when it is used, so listing it needs no MuJoCo)."""

from __future__ import annotations

from metarl.envs.registry import Family, add_family

BUILTIN = [
    Family(
        name="bandit", module="metarl.envs.bandit", env_class="BanditEnv",
        gym_id="metarl/Bandit-v0", summary="k-armed Bernoulli bandit, p_i ~ U[0,1] (RL² paper)",
    ),
    Family(
        name="tabular-mdp", module="metarl.envs.tabular_mdp", env_class="TabularMDPEnv",
        gym_id="metarl/TabularMDP-v0",
        summary="random MDP, 10 states x 5 actions, horizon 10 (RL² paper)",
    ),
    Family(
        name="navigation2d", module="metarl.envs.navigation", env_class="Navigation2DEnv",
        gym_id="metarl/Navigation2D-v0", summary="2D point to a goal ~ U[-0.5,0.5]^2 (MAML paper)",
    ),
    Family(
        name="navigation2d-sparse", module="metarl.envs.navigation", env_class="SparseNavigation2DEnv",
        gym_id="metarl/Navigation2DSparse-v0",
        summary="sparse point robot: goal on the half circle r=1, reward within 0.2, 20 steps (PEARL)",
    ),
    Family(
        name="pendulum", module="metarl.envs.pendulum", env_class="PendulumEnv",
        gym_id="metarl/Pendulum-v0", summary="Pendulum-v1 with varied mass, length, gravity",
    ),
    Family(
        name="mountaincar", module="metarl.envs.mountaincar", env_class="MountainCarEnv",
        gym_id="metarl/MountainCarContinuous-v0",
        summary="MountainCarContinuous-v0 with varied engine power and goal position",
    ),
    Family(
        name="mountaincar-hills", module="metarl.envs.mountaincar_hills", env_class="MountainCarHillsEnv",
        gym_id="metarl/MountainCarHills-v0",
        summary="MountainCarContinuous-v0 with the goal on the left or right hill, told by reward, 77 steps",
    ),
    Family(
        name="halfcheetah-vel", module="metarl.envs.mujoco_tasks", env_class="HalfCheetahVelEnv",
        gym_id="metarl/HalfCheetahVel-v0", requires="mujoco",
        summary="HalfCheetah-v5 at a target velocity ~ U[0,2], horizon 200 (MAML paper)",
    ),
    Family(
        name="halfcheetah-dir", module="metarl.envs.mujoco_tasks", env_class="HalfCheetahDirEnv",
        gym_id="metarl/HalfCheetahDir-v0", requires="mujoco",
        summary="HalfCheetah-v5 forward or backward, horizon 200 (MAML paper)",
    ),
    Family(
        name="ant-dir", module="metarl.envs.mujoco_tasks", env_class="AntDirEnv",
        gym_id="metarl/AntDir-v0", requires="mujoco",
        summary="Ant-v5 forward or backward along x, horizon 200 (ProMP)",
    ),
]

for _family in BUILTIN:
    add_family(_family)
