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
        name="gridworld", module="metarl.envs.gridworld", env_class="GridworldEnv",
        gym_id="metarl/Gridworld-v0",
        summary="5x5 grid, goal uniform over 21 cells, +1 on it else -0.1, 15 steps (VariBAD's GridNavi)",
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
        name="halfcheetah-vel", module="metarl.envs.mujoco_cheetah", env_class="HalfCheetahVelEnv",
        gym_id="metarl/HalfCheetahVel-v0", requires="mujoco",
        summary="HalfCheetah-v5 at a target velocity ~ U[0,2], horizon 200 (MAML paper)",
    ),
    Family(
        name="halfcheetah-vel-oyster", module="metarl.envs.mujoco_cheetah", env_class="HalfCheetahVelOysterEnv",
        gym_id="metarl/HalfCheetahVelOyster-v0", requires="mujoco",
        summary="HalfCheetah-v5 at a target velocity ~ U[0,3], torso position observed, horizon 200 (PEARL/oyster)",
    ),
    Family(
        name="halfcheetah-dir", module="metarl.envs.mujoco_cheetah", env_class="HalfCheetahDirEnv",
        gym_id="metarl/HalfCheetahDir-v0", requires="mujoco",
        summary="HalfCheetah-v5 forward or backward, horizon 200 (MAML paper)",
    ),
    Family(
        name="halfcheetah-dir-rllab", module="metarl.envs.mujoco_cheetah", env_class="HalfCheetahDirRllabEnv",
        gym_id="metarl/HalfCheetahDirRllab-v0", requires="mujoco",
        summary="the MAML paper's own cheetah direction: rllab's dt 0.01, mass-centre velocity, obs 20, horizon 200",
    ),
    Family(
        name="halfcheetah-vel-rllab", module="metarl.envs.mujoco_cheetah", env_class="HalfCheetahVelRllabEnv",
        gym_id="metarl/HalfCheetahVelRllab-v0", requires="mujoco",
        summary="the MAML paper's own cheetah velocity U[0,2]: rllab's dt 0.01, mass-centre velocity, obs 20",
    ),
    Family(
        name="ant-dir", module="metarl.envs.mujoco_ant", env_class="AntDirEnv",
        gym_id="metarl/AntDir-v0", requires="mujoco",
        summary="Ant-v5 forward or backward along x, horizon 200 (ProMP)",
    ),
    Family(
        name="ant-dir-circle", module="metarl.envs.mujoco_ant", env_class="AntDirCircleEnv",
        gym_id="metarl/AntDirCircle-v0", requires="mujoco",
        summary="Ant-v5 along a heading ~ U[0,2pi), horizon 200 (PEARL/oyster's ant-dir)",
    ),
    Family(
        name="ant-goal", module="metarl.envs.mujoco_ant", env_class="AntGoalEnv",
        gym_id="metarl/AntGoal-v0", requires="mujoco",
        summary="Ant-v5 to a goal uniform in the disc of radius 3, L1 reward, horizon 200 (PEARL/oyster, ProMP)",
    ),
    Family(
        name="humanoid-dir", module="metarl.envs.mujoco_humanoid", env_class="HumanoidDirEnv",
        gym_id="metarl/HumanoidDir-v0", requires="mujoco",
        summary="Humanoid-v5 along a heading ~ U[0,2pi), horizon 200 (PEARL/oyster, varibad)",
    ),
    Family(
        name="walker-params", module="metarl.envs.mujoco_params", env_class="WalkerParamsEnv",
        gym_id="metarl/WalkerParams-v0", requires="mujoco",
        summary="Walker2d-v5, mass/inertia/damping/friction scaled by 1.5^U[-3,3] (damping 1.3^), horizon 200 "
                "(PEARL/rand_param_envs)",
    ),
    Family(
        name="hopper-params", module="metarl.envs.mujoco_params", env_class="HopperParamsEnv",
        gym_id="metarl/HopperParams-v0", requires="mujoco",
        summary="Hopper-v5, mass/inertia/damping/friction scaled by 1.5^U[-3,3] (damping 1.3^), horizon 200 "
                "(PEARL/rand_param_envs)",
    ),
    Family(
        name="metaworld-ml1", module="metarl.envs.meta_world", env_class="ML1Env",
        gym_id="metarl/MetaWorldML1-v0", requires="metaworld",
        summary="Meta-World ML1: one task class (task=reach-v3, any v3 name), its 50 train / 50 test goals, 500 steps",
    ),
    Family(
        name="metaworld-ml10", module="metarl.envs.meta_world", env_class="ML10Env",
        gym_id="metarl/MetaWorldML10-v0", requires="metaworld",
        summary="Meta-World ML10: 10 train classes, 5 held-out test classes, 50 goals each, 500 steps",
    ),
    Family(
        name="metaworld-ml45", module="metarl.envs.meta_world", env_class="ML45Env",
        gym_id="metarl/MetaWorldML45-v0", requires="metaworld",
        summary="Meta-World ML45: 45 train classes, 5 held-out test classes, 50 goals each, 500 steps",
    ),
]

for _family in BUILTIN:
    add_family(_family)
