"""The Ray executor on a local 2-CPU Ray instance: equal to the local executor with the slices cut
the same way, including when a worker dies between or during calls, and for a family that exists
only in user code."""

import copy
import os
import pathlib

import numpy as np
import pytest
import torch
from torch import nn
from torch.distributions import Categorical

from metarl.envs.bandit import BanditTasks
from metarl.envs.navigation import NavigationTasks
from metarl.envs.registry import EnvFactory, env_factory
from metarl.policies import GaussianMLPPolicy, expand_params, named_params
from metarl.rollout import RayExecutor, Sampler, make_sampler
from tests.counting_env import CountingEnv, CountingTasks
from tests.rollout.test_sampler import CountingRecurrent
from tests.rollout.test_sharding import assert_same

ray = pytest.importorskip("ray")

ROOT = pathlib.Path(__file__).resolve().parents[2]
NAV_TASKS = NavigationTasks(goals=np.stack([np.linspace(-0.4, 0.4, 5), np.linspace(0.3, -0.3, 5)], 1))
BANDIT_TASKS = BanditTasks(probs=np.repeat(np.arange(5) % 2, 3).reshape(5, 3).astype(float))  # odd tasks pay


@pytest.fixture(scope="module")
def ray_instance():
    started = not ray.is_initialized()
    if started:  # workers import this test module to unpickle its policies
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                 runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def nav_sampler(ray_instance):
    sampler = make_sampler(env_factory=env_factory("navigation2d", max_episode_steps=8), backend="ray",
                           workers=2, seed=0)
    yield sampler
    sampler.close()


def local_twin(remote):
    """A local sampler cut like ``remote`` and at the same point of the same stream."""
    local = Sampler(env_factory=remote.env_factory, shards=remote.shards)
    local.load_state_dict(remote.state_dict())
    return local


def spare_ray_sampler(factory, *, workers=2, shards=None, seed=0, **executor):
    """0 CPUs per worker: placed beside the module's sampler, which holds both CPUs of the instance."""
    return Sampler(env_factory=factory, seed=seed, shards=shards or workers,
                   executor=RayExecutor(workers=workers, cpus_per_worker=0, **executor))


class CrashOncePolicy(GaussianMLPPolicy):
    """Kills the worker process running it the first time it acts while ``flag`` exists."""

    flag: str = ""

    def distribution(self, obs, params=None):
        if self.flag:
            try:
                os.remove(self.flag)
            except FileNotFoundError:
                pass
            else:
                os._exit(1)
        return super().distribution(obs, params)


class AlwaysCrashPolicy(GaussianMLPPolicy):
    def distribution(self, obs, params=None):
        os._exit(1)


class BuggyPolicy(GaussianMLPPolicy):
    def distribution(self, obs, params=None):
        raise ValueError("a bug in the policy")


class TinyGRUPolicy(nn.Module):
    """The recurrent protocol in a few lines: GRU cell over (obs, one-hot prev action, reward, done),
    plus a per-task logit bias ``[tasks, n_actions]`` (per-task data, cut by ``take_tasks``)."""

    discrete = True

    def __init__(self, task_bias, obs_dim=1, hidden=8):
        super().__init__()
        self.n_actions = task_bias.shape[1]
        self.task_bias = task_bias
        self.cell = nn.GRUCell(obs_dim + self.n_actions + 2, hidden)
        self.head = nn.Linear(hidden, self.n_actions + 1)

    def take_tasks(self, start, stop):
        part = copy.copy(self)
        part.task_bias = self.task_bias[start:stop]
        return part

    def initial_state(self, batch_size, device):
        return torch.zeros(batch_size, self.cell.hidden_size, device=device)

    def step(self, obs, prev_action, prev_reward, prev_done, state):
        onehot = nn.functional.one_hot(prev_action, self.n_actions).float()
        state = self.cell(torch.cat([obs, onehot, prev_reward[:, None], prev_done[:, None]], 1), state)
        out = self.head(state)
        return Categorical(logits=out[:, :-1] + self.task_bias), out[:, -1], state


def nav_policy(cls=GaussianMLPPolicy):
    """Task i's policy acts ~ (0.02 i, 0) with small noise: each row says which task it ran."""
    torch.manual_seed(0)
    policy = cls(obs_dim=2, act_dim=2, hidden_sizes=(16,), init_std=0.01)
    params = {k: v.detach().clone() for k, v in expand_params(named_params(policy), 5).items()}
    params["mean.layers.1.weight"].zero_()
    params["mean.layers.1.bias"][:, 0] = 0.02 * torch.arange(5.0)
    return policy, params


def check_task_order(traj):
    """Every row ran its own task: actions name the task, first rewards match its goal."""
    first = traj.actions[:, :, 0]
    torch.testing.assert_close(first[..., 0].mean(1), 0.02 * torch.arange(5.0), atol=0.02, rtol=0)
    goals = torch.tensor(NAV_TASKS.goals, dtype=torch.float32)[:, None]
    expected = -torch.linalg.norm(first.clamp(-0.1, 0.1) - goals, dim=-1)
    torch.testing.assert_close(traj.rewards[:, :, 0], expected, atol=1e-5, rtol=0)


def test_maml_style_collect_with_per_task_params_equals_local_shards(nav_sampler):
    policy, params = nav_policy()
    local = local_twin(nav_sampler)
    for _ in range(2):  # consecutive calls stay in step: one draw per call on both
        remote = nav_sampler.collect(policy, NAV_TASKS, 3, params=params)
        assert_same(remote, local.collect(policy, NAV_TASKS, 3, params=params))
    check_task_order(remote)
    assert nav_sampler.state_dict() == local.state_dict()


def test_recurrent_trials_on_bandit_equal_local_shards(ray_instance):
    torch.manual_seed(0)
    favourite = torch.tensor([0, 1, 2, 0, 1])  # task i mostly pulls arm favourite[i]
    policy = TinyGRUPolicy(task_bias=12.0 * nn.functional.one_hot(favourite, 3))
    with spare_ray_sampler(env_factory("bandit", arms=3), seed=4) as remote:
        local = local_twin(remote)
        trials = remote.collect_trials(policy, BANDIT_TASKS, 6)
        assert_same(trials, local.collect_trials(policy, BANDIT_TASKS, 6))
    assert torch.equal(trials.trial_returns(), torch.tensor([0.0, 6, 0, 6, 0]))
    assert (trials.actions == favourite[:, None]).float().mean() > 0.95


def test_a_worker_killed_between_calls_is_replaced_and_nothing_changes(nav_sampler):
    policy, params = nav_policy()
    local = local_twin(nav_sampler)
    before = nav_sampler.executor.replacements
    ray.kill(nav_sampler.executor.actors[1])
    remote = nav_sampler.collect(policy, NAV_TASKS, 3, params=params)
    assert nav_sampler.executor.replacements == before + 1
    assert_same(remote, local.collect(policy, NAV_TASKS, 3, params=params))
    check_task_order(remote)


def test_a_worker_dying_during_a_call_is_replaced_and_its_slice_sampled_again(nav_sampler, tmp_path):
    policy, params = nav_policy(CrashOncePolicy)
    local = local_twin(nav_sampler)
    expected = local.collect(policy, NAV_TASKS, 3, params=params)  # no flag: no crash locally
    policy.flag = str(tmp_path / "crash")
    pathlib.Path(policy.flag).touch()
    before = nav_sampler.executor.replacements
    remote = nav_sampler.collect(policy, NAV_TASKS, 3, params=params)
    assert not pathlib.Path(policy.flag).exists()  # a worker really ran into it
    assert nav_sampler.executor.replacements == before + 1
    assert_same(remote, expected)
    check_task_order(remote)


def test_errors_in_the_policy_propagate_and_endless_deaths_give_up(nav_sampler):
    policy, params = nav_policy(BuggyPolicy)
    before = nav_sampler.executor.replacements
    with pytest.raises(ValueError, match="a bug in the policy"):
        nav_sampler.collect(policy, NAV_TASKS, 2, params=params)
    assert nav_sampler.executor.replacements == before  # a bug is not a dead worker: no retry
    crash, params = nav_policy(AlwaysCrashPolicy)
    doomed = spare_ray_sampler(env_factory("navigation2d"), workers=1, max_retries=1)
    with doomed, pytest.raises(RuntimeError, match="died 2 times in one call"):
        doomed.collect(crash, NAV_TASKS, 2, params=params)
    with pytest.raises(RuntimeError, match="closed"):
        doomed.collect(crash, NAV_TASKS, 2, params=params)
    doomed.close()  # closing again is fine
    assert doomed.executor.actors == []


def test_bad_input_is_refused_before_any_worker_starts(monkeypatch):
    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail("Ray started for a sampler that cannot run"))
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        make_sampler(env_factory=env_factory("navigation2d"), backend="ray", workers=0)
    with pytest.raises(ValueError, match="unknown env 'nowhere'"):
        env_factory("nowhere")
    with pytest.raises(TypeError, match="arms"):  # navigation has no arms: the constructor says so locally
        make_sampler(env_factory=env_factory("navigation2d", arms=3), backend="ray", workers=2)
    with pytest.raises(ValueError, match="compile=True is supported with backend='local' only"):
        make_sampler(env_factory=env_factory("navigation2d"), backend="ray", workers=2, compile=True)


def test_a_family_defined_only_in_user_code_runs_on_ray_and_equals_local(ray_instance):
    """The class is local to this test, so workers can only have it from the pickled factory
    (cloudpickle ships it by value). Three slices on two workers: slice s runs on worker s % 2."""

    class MarkedCounting(CountingEnv):
        family = "marked-counting"

        def _observe(self):
            obs = super()._observe()
            obs[:, 2] = 7.0  # proof that the worker ran this class, not CountingEnv
            return obs

    factory = EnvFactory(env_type=MarkedCounting, kwargs={"max_episode_steps": 3})
    tasks = CountingTasks(length=[2, 1, 5, 3, 4], task_id=[0, 1, 2, 3, 4])
    policy = GaussianMLPPolicy(obs_dim=3, act_dim=1, hidden_sizes=(8,))
    with spare_ray_sampler(factory, workers=2, shards=3, seed=5) as remote:
        local = local_twin(remote)
        episodes = remote.collect(policy, tasks, 2)
        assert_same(episodes, local.collect(policy, tasks, 2))
        trials = remote.collect_trials(CountingRecurrent(), tasks, 2)
        assert_same(trials, local.collect_trials(CountingRecurrent(), tasks, 2))
    assert (episodes.obs[..., 2] == 7.0 * episodes.mask).all()
    assert torch.equal(episodes.lengths()[:, 0], torch.tensor([2, 1, 3, 3, 3]))
    assert episodes.truncated[2:].any() and not (episodes.terminated & episodes.truncated).any()
    assert torch.equal(trials.next_obs[1, :2, 0], torch.tensor([1.0, 1.0]))  # final obs, not the restart's 0


def test_slices_sharing_a_dead_worker_replace_it_once(ray_instance):
    policy, params = nav_policy()
    with spare_ray_sampler(env_factory("navigation2d", max_episode_steps=4), workers=2, shards=4) as remote:
        local = local_twin(remote)
        ray.kill(remote.executor.actors[0])  # slices 0 and 2 were both to run there
        assert_same(remote.collect(policy, NAV_TASKS, 2, params=params), local.collect(policy, NAV_TASKS, 2,
                                                                                         params=params))
        assert remote.executor.replacements == 1
