"""Meta-World families against Meta-World itself: the same tasks as ``metaworld.ML1`` / ``ML10``, the
same episodes as Meta-World's own env stack, success as Meta-World reads it, and the ML1-train
registration of metaworld 3.1.1 (which builds the test split). Needs ``metarl[metaworld]``."""

from __future__ import annotations

import importlib.metadata
import pickle

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch.distributions import Independent, Normal

metaworld = pytest.importorskip("metaworld")

from metaworld.env_dict import ALL_V3_ENVIRONMENTS  # noqa: E402
from metaworld.types import Task  # noqa: E402

from metarl.envs import meta_world  # noqa: E402
from metarl.envs.meta_world import MetaWorldTasks, ML1Distribution, ML1Env, ML10Distribution  # noqa: E402
from metarl.envs.registry import make_env  # noqa: E402
from metarl.errors import ConfigError  # noqa: E402
from metarl.rollout import Sampler  # noqa: E402
from metarl.rollout.trajectories import TrialSequence  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Constant")  # Meta-World's scripted policies warn on use


def rand_vecs(tasks) -> np.ndarray:
    """``[tasks, d]``: the goal data Meta-World pickles into each task."""
    return np.stack([pickle.loads(t.data)["rand_vec"] for t in tasks])


def ml1(task: str, benchmark_seed: int = 0):
    return ML1Distribution(task=task, benchmark_seed=benchmark_seed).task_set(seed=0)


def test_ml1_task_set_is_metaworlds_own_train_and_test_goals():
    ours = ml1("reach-v3", benchmark_seed=3)
    ref = metaworld.ML1("reach-v3", seed=3)  # built anew: the draw is a function of the seed alone
    np.testing.assert_array_equal(rand_vecs(ours.train.task), rand_vecs(ref.train_tasks))
    np.testing.assert_array_equal(rand_vecs(ours.test.task), rand_vecs(ref.test_tasks))
    assert len(ours.train) == len(ours.test) == 50 and set(ours.test.names()) == {"reach-v3"}
    train, test = rand_vecs(ours.train.task), rand_vecs(ours.test.task)
    assert not (train[:, None] == test[None]).all(-1).any()  # no test goal is a training goal
    assert ours.train.goal_index.tolist() == list(range(50))
    assert set(ours.train.class_id) == {list(ALL_V3_ENVIRONMENTS).index("reach-v3")}
    assert not np.array_equal(rand_vecs(ml1("reach-v3", benchmark_seed=0).test.task), test)
    # the run's seed draws training batches; it never changes the tasks
    other = ML1Distribution(task="reach-v3", benchmark_seed=3).task_set(seed=9)
    assert other.test == ours.test and other.seed == 9


def _split_of_registered_env(env_id: str) -> tuple[np.ndarray, bool]:
    envs = gym.make_vec(env_id, env_name="reach-v3", seed=0, meta_batch_size=2)
    try:
        return rand_vecs(envs.envs[0].get_wrapper_attr("tasks")), envs.get_attr("terminate_on_success")[0]
    finally:
        envs.close()


def test_metaworld_3_1_1_registers_ml1_train_as_the_test_split_and_ours_is_the_train_split():
    """``register_mw_envs`` loops ``for split in ["train", "test"]`` and registers a lambda that reads
    ``split`` when called, by then "test"; ML10/ML45 bind it as a default argument (``_split=split``)."""
    if importlib.metadata.version("metaworld") != "3.1.1":
        pytest.skip("checks metaworld 3.1.1's registration")
    ref = metaworld.ML1("reach-v3", seed=0)
    train, test = rand_vecs(ref.train_tasks), rand_vecs(ref.test_tasks)
    got, terminate_on_success = _split_of_registered_env("Meta-World/ML1-train")
    assert (got[:, None] == test[None]).all(-1).any(1).all()  # every goal of "ML1-train" is a test goal
    assert not (got[:, None] == train[None]).all(-1).any()
    assert terminate_on_success  # and it is built by make_ml_envs_test
    assert "split" in gym.spec("Meta-World/ML1-train").vector_entry_point.__code__.co_freevars
    np.testing.assert_array_equal(rand_vecs(ml1("reach-v3").train.task), train)


def test_episodes_equal_metaworlds_own_env_stack_step_for_step_to_the_time_limit():
    envs = metaworld.make_ml_envs_train("push-v3", seed=0, meta_batch_size=1, total_tasks_per_cls=1)
    envs.call("sample_tasks")  # as metalearning_evaluation does: the sub-env's one task, the first train goal
    ref_obs, _ = envs.reset(seed=0)
    ours = ML1Env(tasks=ml1("push-v3").train.take(0))
    obs, _ = ours.reset(seed=0)
    np.testing.assert_array_equal(obs, ref_obs)
    actions = np.random.default_rng(0).uniform(-1, 1, size=(500, 1, 4)).astype(np.float32)
    for t, action in enumerate(actions):
        ref_obs, ref_reward, ref_term, ref_trunc, ref_info = envs.step(action)
        obs, reward, term, trunc, info = ours.step(action)
        if t < 499:
            np.testing.assert_array_equal(obs, ref_obs)
        np.testing.assert_array_equal(reward, ref_reward)
        source = ref_info["final_info"] if t == 499 else ref_info
        np.testing.assert_array_equal(info["success"], np.asarray(source["success"], dtype=float))
        assert (term, trunc) == (ref_term, ref_trunc) and trunc[0] == (t == 499)
    np.testing.assert_array_equal(obs[0], ref_info["final_obs"][0])
    envs.close()


def test_sub_envs_are_reused_per_class_and_a_reused_env_plays_like_a_fresh_one():
    tasks = ml1("reach-v3").test.take([0, 1])
    env = ML1Env(tasks=tasks, episodes_per_task=2, max_episode_steps=30)
    actions = np.random.default_rng(1).uniform(-1, 1, size=(30, 4, 4)).astype(np.float32)

    def play(env, columns):
        out = [env.reset(seed=0)[0]]
        out += [env.step(a[columns])[0] for a in actions]
        return np.stack(out)

    first = play(env, [0, 1, 2, 3])
    env.set_tasks(tasks.take([1, 0]), 1)
    swapped = play(env, [0, 1])  # the env that played goal 0 now plays goal 1
    env.set_tasks(tasks, 2)
    assert sum(len(p) for p in env._pool.values()) == 4  # never more than the largest batch
    np.testing.assert_array_equal(play(env, [0, 1, 2, 3]), first)
    fresh = ML1Env(tasks=tasks.take([1]), max_episode_steps=30)
    np.testing.assert_array_equal(play(fresh, [0]), swapped[:, :1])
    assert not np.array_equal(swapped[:, 0], first[:, 0])


def test_bad_settings_are_clear_errors():
    with pytest.raises(ConfigError, match="max_episode_steps must be <= 500"):
        ML1Env(tasks=ml1("reach-v3").train.take(0), max_episode_steps=501)
    with pytest.raises(ConfigError, match="reach-v3"):
        ML1Distribution(task="reach", benchmark_seed=0).task_set(seed=0)


class Scripted:
    """Meta-World's scripted policy for a task class, as a metarl ``Agent`` (float32 actions: what
    the env's action space takes, so both sides step the simulator with the same numbers)."""

    def __init__(self, name: str) -> None:
        import metaworld.policies as policies

        cls = "Sawyer" + "".join(w.capitalize() for w in name[:-3].split("-")) + "V3Policy"
        self.policy = getattr(policies, cls)()

    def act(self, obs, *, deterministic=True):
        return np.asarray(self.policy.get_action(np.asarray(obs, dtype=np.float64)), dtype=np.float32)

    def observe(self, reward, terminated, truncated, next_obs=None):
        pass

    def reset(self):
        pass


class ScriptedPolicy:
    """The scripted policy as the sampler's feed-forward policy (its mode is the scripted action)."""

    discrete = False

    def __init__(self, name: str) -> None:
        self.agent = Scripted(name)

    def distribution(self, obs, params=None):
        flat = obs.reshape(-1, obs.shape[-1]).double().numpy()
        mean = torch.as_tensor(np.stack([self.agent.act(o) for o in flat])).reshape(*obs.shape[:-1], 4)
        return Independent(Normal(mean, torch.ones_like(mean)), 1)


def test_sampled_episode_success_is_metaworlds_success_at_any_step():
    """drawer-open's scripted policy opens the drawer after ~85-91 steps: an 88-step episode
    succeeds on some goals only."""
    tasks = ml1("drawer-open-v3").test.take(np.arange(8))
    expected, env, agent = [], ALL_V3_ENVIRONMENTS["drawer-open-v3"](), Scripted("drawer-open-v3")
    for task in tasks.task:
        env.set_task(task)
        obs, _ = env.reset()
        hits = []
        for _ in range(88):  # on float32 observations, as the sampler feeds its policy
            obs, _, _, _, info = env.step(agent.act(obs.astype(np.float32)))
            hits.append(info["success"])
        expected.append(max(hits) == 1.0)
    sampler = Sampler(env_factory=meta_world_factory("drawer-open-v3", max_episode_steps=88), seed=0)
    traj = sampler.collect(ScriptedPolicy("drawer-open-v3"), tasks, 1, deterministic=True)
    assert traj.episode_success()[:, 0].tolist() == expected
    assert 0 < sum(expected) < len(expected)


def meta_world_factory(task: str, **kwargs):
    from metarl.envs.registry import EnvFactory

    return EnvFactory(env_type=ML1Env, kwargs={"tasks": ml1(task).train.take(0), **kwargs})


def test_seeds_give_the_same_episodes_and_rl2_gets_previous_action_reward_and_done():
    from metarl.policies.recurrent import RecurrentActorCritic

    tasks = ml1("reach-v3").test.take([0, 3])
    factory = meta_world_factory("reach-v3", max_episode_steps=15)
    torch.manual_seed(0)
    policy = RecurrentActorCritic(obs_dim=39, act_dim=4, hidden_size=8)
    a, b = (Sampler(env_factory=factory, seed=7).collect_trials(policy, tasks, 2) for _ in range(2))
    assert isinstance(a, TrialSequence)
    for name in ("obs", "actions", "rewards", "success", "terminated", "truncated"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert a.truncated[:, 14].all() and a.episode_index[:, 15].eq(1).all()
    obs, prev_action, prev_reward, prev_done = a.policy_inputs()
    assert torch.equal(prev_action[:, 1:], a.actions[:, :-1]) and torch.equal(prev_reward[:, 1:], a.rewards[:, :-1])
    assert prev_done[:, 15].eq(1).all() and prev_done[:, 1:15].eq(0).all() and prev_done[:, 16:].eq(0).all()
    # the sampler fed the policy exactly those inputs: replaying them gives its stored log-probabilities
    dist, _ = policy.evaluate_trials(a)
    torch.testing.assert_close(dist.log_prob(a.actions) * a.mask, a.log_probs)


def fake_benchmark(train: list[str], test: list[str], goals: int = 4):
    class Fake:
        def __init__(self, seed=None):
            self.seed = seed
            self.train_tasks = [Task(env_name=n, data=pickle.dumps(("train", n, g, seed))) for n in train
                                for g in range(goals)]
            self.test_tasks = [Task(env_name=n, data=pickle.dumps(("test", n, g, seed))) for n in test
                               for g in range(goals)]
    return Fake


def test_ml10_lists_are_interleaved_by_class_and_batches_stratified(monkeypatch):
    names = list(ALL_V3_ENVIRONMENTS)
    fake = fake_benchmark(names[:3], names[3:5])
    calls = []
    monkeypatch.setattr(meta_world, "benchmark", lambda kind, seed, task=None: calls.append((kind, seed)) or fake(seed))
    tasks = ML10Distribution(benchmark_seed=987654).task_set(seed=0)  # a seed no other test uses (cached)
    assert calls == [("ML10", 987654)]
    assert isinstance(tasks.train, MetaWorldTasks) and len(tasks.train) == 12 and len(tasks.test) == 8
    assert tasks.test.names()[:4] == [names[3], names[4], names[3], names[4]]
    assert tasks.test.goal_index.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert all(pickle.loads(t.data)[3] == 987654 for t in tasks.train.task)  # built with benchmark_seed
    assert tasks.validation_tasks(3).names() == names[:3]  # the first tasks cover every class
    rng = np.random.default_rng(0)
    for _ in range(20):
        batch = tasks.train_batch(6, rng)
        assert sorted(batch.names()) == sorted(names[:3] * 2)
    goals = np.concatenate([tasks.train_batch(3, rng).goal_index for _ in range(400)])
    assert set(np.bincount(goals, minlength=4) // 100) == {2, 3}  # ~300 of 1200 each: uniform within a class


@pytest.mark.slow
def test_ml10_builds_with_its_five_test_classes_and_steps_one_task_of_each():
    tasks = ML10Distribution().task_set(seed=0)
    test_classes = list(metaworld.env_dict.ML10_V3["test"])
    assert set(tasks.test.names()) == set(test_classes) and len(tasks.test) == 250 and len(tasks.train) == 500
    env = make_env("metaworld-ml10", tasks=tasks.test_tasks(5), max_episode_steps=3)
    env.reset(seed=0)
    *_, truncated, info = env.step(np.zeros((5, 4), np.float32))
    assert info["success"].shape == (5,) and not truncated.any()
    env.close()


def test_rl2_and_maml_train_and_evaluate_on_ml1_through_the_cli(tmp_path, capsys):
    """The CLI builds the benchmark's fixed task set from the env name alone (the family's
    ``task_set``), for training and again when a run is loaded for evaluation."""
    import json

    from metarl.cli import main

    common = ["--env", "metaworld-ml1", "--task-options", "task=reach-v3", "--max-episode-steps", "10",
              "--iterations", "1", "--quiet"]
    rl2 = ["--trials-per-iteration", "2", "--validation-tasks", "2", "--hidden-size", "8", "--minibatches", "1",
           "--episodes-per-trial", "2"]
    maml = ["--meta-batch-size", "2", "--episodes-per-task", "1", "--validation-tasks", "2", "--eval-episodes", "1",
            "--hidden-sizes", "8", "--inner-lr", "0.1"]
    results = {}
    for name, flags, extra in (("rl2", rl2, []), ("maml", maml, ["--pretrain-iterations", "1", "--steps", "1"])):
        run = tmp_path / name
        assert main(["train", name, *common, "--out", str(run), *flags]) == 0
        assert main(["evaluate", str(run), "--tasks", "2", "--json", *extra]) == 0
        results[name] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert results[name]["env"] == "metaworld-ml1" and results[name]["num_tasks"] == 2
    assert len(results["rl2"]["success_by_episode"]) == 2  # RL² reports success per episode of the trial
    assert len(results["maml"]["curve"]["mean"]) == 2  # before and after MAML's one step


def test_ray_workers_sample_the_same_meta_world_episodes_as_local_shards():
    """The factory carries Meta-World's task objects to the workers, which build their own envs."""
    import pathlib

    ray = pytest.importorskip("ray")
    from metarl.policies import GaussianMLPPolicy
    from metarl.rollout import make_sampler
    from tests.rollout.test_sharding import assert_same

    root = pathlib.Path(__file__).resolve().parents[2]
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                 runtime_env={"env_vars": {"PYTHONPATH": str(root)}})
    try:
        factory = meta_world_factory("reach-v3", max_episode_steps=12)
        tasks = ml1("reach-v3").test.take([0, 1, 2])
        policy = GaussianMLPPolicy(obs_dim=39, act_dim=4, hidden_sizes=(8,))
        remote = make_sampler(env_factory=factory, backend="ray", workers=2, seed=3)
        try:
            got = remote.collect(policy, tasks, 2)
        finally:
            remote.close()
        assert_same(got, Sampler(env_factory=factory, shards=2, seed=3).collect(policy, tasks, 2))
        assert got.success is not None
    finally:
        if started:
            ray.shutdown()
