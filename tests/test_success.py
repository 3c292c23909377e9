"""The success signal from env to trajectories, terminate-on-success, the idle semantics without
autoreset, Meta-World's evaluation protocol (``metarl.success``) and a family's own task set, on
toy envs whose every number is known in advance (no Meta-World needed)."""

from __future__ import annotations

import types

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

from metarl.building import resolve_env
from metarl.envs.gym_adapter import GymTaskAdapter
from metarl.envs.registry import FAMILIES, register_family
from metarl.errors import ConfigError
from metarl.rollout import Sampler
from metarl.rollout.sharding import concat_trials
from metarl.success import evaluate_success, interval95
from metarl.tasks import FixedTaskSet, TaskSplit
from tests.counting_env import CountingDistribution, CountingEnv, CountingTasks
from tests.rollout.test_sampler import CountingRecurrent, ObsMeanPolicy


class SuccessCountingEnv(CountingEnv):
    """CountingEnv whose odd tasks succeed at the step that takes the count to 2 and after it."""

    family = "success-counting"
    reports_success = True

    def _transition(self, actions):
        reward, terminated = super()._transition(actions)
        self._success = ((self.count >= 2) & (self.params["task_id"] % 2 == 1)).astype(float)
        return reward, terminated

    def _step_info(self):
        return {"success": self._success}


TASKS = CountingTasks(length=[5, 5, 2, 5], task_id=[0, 1, 2, 3])  # horizon 4: tasks 0, 1, 3 truncated


def test_step_reports_success_and_terminates_on_it_only_when_asked():
    env = SuccessCountingEnv(tasks=TASKS, autoreset_mode="disabled")
    env.reset(seed=0)
    flags = []
    for _ in range(2):
        _, _, terminated, _, info = env.step(np.zeros((4, 1), np.float32))
        flags.append(terminated.copy())
        assert info["_success"].all()
    np.testing.assert_array_equal(info["success"], [0, 1, 0, 1])
    np.testing.assert_array_equal(flags[1], [False, False, True, False])  # only task 2, by its length
    env.terminate_on_success = True
    env.reset()
    env.step(np.zeros((4, 1), np.float32))
    *_, terminated, truncated, _ = env.step(np.zeros((4, 1), np.float32))
    np.testing.assert_array_equal(terminated, [False, True, True, True])
    assert not truncated.any()


class StepCounter(gym.Env):
    """Counts the ``step`` calls it receives; episodes end after ``length`` of them."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    action_space = gym.spaces.Box(-1, 1, (1,), np.float32)
    length = 1

    def __init__(self):
        self.calls = 0

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.calls += 1
        self.t += 1
        return np.zeros(1, np.float32), 0.0, self.t >= self.length, False, {}


def test_without_autoreset_a_finished_sub_env_idles_until_reset():
    def configure(env, task):
        env.length = int(task["length"])

    adapter = GymTaskAdapter(make_env=StepCounter, configure=configure, distribution_type=CountingDistribution,
                             tasks=CountingTasks(length=[1, 4], task_id=[0, 1]), autoreset_mode="disabled",
                             max_episode_steps=10)
    adapter.reset(seed=0)
    done = np.zeros(2, bool)
    for _ in range(4):
        _, _, terminated, _, _ = adapter.step(np.zeros((2, 1), np.float32))
        done |= terminated
    assert done.all()
    assert [env.calls for env in adapter._envs] == [1, 4]  # the first was never stepped after its end


def test_sampler_records_success_per_step_and_per_episode_across_shards():
    for shards in (1, 3):
        traj = Sampler(env_factory=_factory(), seed=0, shards=shards).collect(ObsMeanPolicy(), TASKS, 2)
        assert traj.success.shape == traj.rewards.shape == (4, 2, 4)
        step = (torch.arange(4) >= 1).float()  # the step taking the count to 2 is step index 1
        expected = torch.stack([torch.zeros(4), step, torch.zeros(4), step])[:, None].expand(4, 2, 4) * traj.mask
        assert torch.equal(traj.success, expected)
        assert traj.episode_success().tolist() == [[False] * 2, [True] * 2, [False] * 2, [True] * 2]
    plain = Sampler(env_factory=_factory(CountingEnv), seed=0).collect(ObsMeanPolicy(), TASKS, 2)
    assert plain.success is None and plain.episode_success() is None


def test_trials_record_success_per_episode_of_the_trial():
    sampler = Sampler(env_factory=_factory(), seed=0)
    trials = sampler.collect_trials(CountingRecurrent(), TASKS, episodes_per_trial=2)
    assert trials.success.shape == trials.rewards.shape
    assert trials.episode_success().tolist() == [[False, False], [True, True], [False, False], [True, True]]
    assert torch.equal(concat_trials([trials.map(lambda t: t[:2]), trials.map(lambda t: t[2:])]).success,
                       trials.success)
    plain = Sampler(env_factory=_factory(CountingEnv), seed=0).collect_trials(CountingRecurrent(), TASKS, 2)
    assert plain.success is None and plain.episode_success() is None
    assert concat_trials([plain.map(lambda t: t[:1]), plain.map(lambda t: t[1:])]).success is None


def _factory(env_type=SuccessCountingEnv):
    from metarl.envs.registry import EnvFactory

    return EnvFactory(env_type=env_type, kwargs={"tasks": TASKS})


class RecordingAgent:
    """Constant action; records what the protocol asks of it."""

    def __init__(self):
        self.modes, self.observed, self.resets, self.adapted = [], 0, 0, 0

    def act(self, obs, *, deterministic=True):
        self.modes.append(deterministic)
        return np.zeros(1, np.float32)

    def observe(self, reward, terminated, truncated, next_obs=None):
        self.observed += 1

    def reset(self):
        self.resets += 1

    def adapt(self):
        self.adapted += 1


def test_protocol_counts_success_per_task_and_terminates_evaluation_episodes_on_it():
    agents = []

    def make(task):
        agents.append(RecordingAgent())
        return agents[-1]

    env = SuccessCountingEnv(tasks=TASKS)
    result = evaluate_success(make, env=env, tasks=TASKS, adaptation_episodes=2, evaluation_episodes=3,
                              groups=["even", "odd", "even", "odd"])
    assert result.success.tolist() == [[False] * 3, [True] * 3, [False] * 3, [True] * 3]
    assert result.adaptation_success.tolist() == result.success[:, :2].tolist()
    # adaptation runs to the episode's end (4 steps, task 2: 2); evaluation stops at the success (2 steps)
    lengths = [(4, 4), (4, 2), (2, 2), (4, 2)]
    for agent, (adapt_len, eval_len) in zip(agents, lengths, strict=True):
        assert agent.modes == [False] * (2 * adapt_len) + [True] * (3 * eval_len)
        # feedback in the adaptation episodes only, as metaworld.evaluation's eval_action gets none
        assert agent.observed == 2 * adapt_len and agent.adapted == 1 and agent.resets == 5
    # returns: reward c + 1000 * task_id at count c
    np.testing.assert_array_equal(result.adaptation_returns[:, 0], [6, 4006, 4001, 12006])
    np.testing.assert_array_equal(result.returns[:, 0], [6, 2001, 4001, 6001])
    assert result.success_rate == 0.5 and result.by_group() == {"even": 0.0, "odd": 1.0}
    assert result.ci95 == pytest.approx(1.96 * np.std([0, 1, 0, 1], ddof=1) / 2)
    assert env.autoreset_mode == AutoresetMode.NEXT_STEP and not env.terminate_on_success  # restored
    assert result.to_json()["success_by_group"] == {"even": 0.0, "odd": 1.0}
    agents.clear()
    fed = evaluate_success(make, env=env, tasks=TASKS, adaptation_episodes=2, evaluation_episodes=3,
                           evaluation_feedback=True)
    assert [a.observed for a in agents] == [len(a.modes) for a in agents]
    np.testing.assert_array_equal(fed.returns, result.returns)


def test_protocol_in_batches_of_tasks_gives_the_same_result():
    env = SuccessCountingEnv(tasks=TASKS)
    whole = evaluate_success(lambda t: RecordingAgent(), env=env, tasks=TASKS, adaptation_episodes=1)
    parts = evaluate_success(lambda t: RecordingAgent(), env=env, tasks=TASKS, adaptation_episodes=1, batch_size=3)
    for name in ("success", "returns", "adaptation_success", "adaptation_returns"):
        np.testing.assert_array_equal(getattr(parts, name), getattr(whole, name))
    assert env.num_envs == 1  # the last batch held one task


def test_protocol_refuses_an_env_without_success_and_bad_counts():
    with pytest.raises(ConfigError, match="reports success"):
        evaluate_success(lambda t: RecordingAgent(), env=CountingEnv(tasks=TASKS), tasks=TASKS)
    with pytest.raises(ConfigError, match="evaluation_episodes"):
        evaluate_success(lambda t: RecordingAgent(), env=SuccessCountingEnv(tasks=TASKS), tasks=TASKS,
                         evaluation_episodes=0)
    assert interval95([0.5]) == 0.0 and interval95([0.0, 1.0]) == pytest.approx(1.96 * np.sqrt(0.5) / np.sqrt(2))


class ListedDistribution(CountingDistribution):
    """A benchmark-like distribution with its own fixed lists."""

    def task_set(self, *, seed):
        return FixedTaskSet(train=TASKS.take([0, 1]), test=TASKS.take([2, 3]), seed=seed)


class ListedEnv(CountingEnv):
    family = "listed-counting"
    distribution_type = ListedDistribution


def test_a_family_supplies_its_own_task_set_to_the_build_and_others_get_a_split():
    register_family(ListedEnv, summary="test only")
    try:
        config = types.SimpleNamespace(env="listed-counting", seed=5, task_options=(), max_episode_steps=0)
        _, tasks = resolve_env(config)
        assert isinstance(tasks, FixedTaskSet) and tasks.seed == 5 and tasks.test_tasks(2) == TASKS.take([2, 3])
    finally:
        del FAMILIES["listed-counting"]
    _, split = resolve_env(types.SimpleNamespace(env="navigation2d", seed=5, task_options=(), max_episode_steps=0))
    assert isinstance(split, TaskSplit) and split.seed == 5


class NamedCountingTasks(CountingTasks):
    """CountingTasks with Meta-World's ``names()``: task i of class ``"odd"`` or ``"even"``."""

    def names(self):
        return ["odd" if i % 2 else "even" for i in self.task_id]


def test_success_rates_by_point_and_by_class():
    from metarl.success import success_rates

    tasks = NamedCountingTasks(length=[5] * 4, task_id=[0, 1, 2, 3])
    success = np.array([[0, 0, 1], [1, 1, 1], [0, 1, 1], [0.5, 1, 1]])
    rates = success_rates(success, per="step", tasks=tasks)
    assert rates["success_by_step"] == [0.375, 0.75, 1.0]
    assert rates["success_ci95_by_step"][2] == 0 and rates["success_ci95_by_step"][0] == interval95(success[:, 0])
    assert rates["success_by_class_by_step"] == {"even": [0.0, 0.5, 1.0], "odd": [0.75, 1.0, 1.0]}
    assert "success_by_class_by_step" not in success_rates(torch.tensor(success), per="step")


def test_maml_batches_and_trial_summaries_carry_success_per_class():
    from metarl.algorithms.maml.episodes import prepare_batch
    from metarl.rl.trial_evaluation import summarize

    tasks = NamedCountingTasks(length=[5, 5, 2, 5], task_id=[0, 1, 2, 3])
    factory = _factory()
    traj = Sampler(env_factory=factory, seed=0).collect(ObsMeanPolicy(), tasks, 2)
    assert prepare_batch(traj, gamma=0.99, gae_lambda=1.0).success.tolist() == [0.0, 1.0, 0.0, 1.0]
    plain = Sampler(env_factory=_factory(CountingEnv), seed=0).collect(ObsMeanPolicy(), tasks, 2)
    assert prepare_batch(plain, gamma=0.99, gae_lambda=1.0).success is None
    trials = Sampler(env_factory=factory, seed=0).collect_trials(CountingRecurrent(), tasks, episodes_per_trial=2)
    summary = summarize(trials, tasks)
    assert summary["success_by_episode"] == [0.5, 0.5]
    assert summary["success_by_class_by_episode"] == {"even": [0.0, 0.0], "odd": [1.0, 1.0]}


def test_maml_evaluation_reports_success_per_adaptation_step():
    from metarl.algorithms.maml.evaluation import MamlEvalOptions, evaluate
    from metarl.api import make

    learner = make("maml", env="mountaincar-hills", iterations=1, hidden_sizes=(8,), meta_batch_size=2,
                   episodes_per_task=1, validation_tasks=2, max_episode_steps=30, inner_lr=0.1).learner
    result = evaluate(learner, num_tasks=4, seed=1, options=MamlEvalOptions(steps=2, episodes=2, pretrained=False))
    rates = result.details["success_by_step"]
    assert len(rates) == 3 and all(0.0 <= r <= 1.0 for r in rates) and len(result.details["success_ci95_by_step"]) == 3
