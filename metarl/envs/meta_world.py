"""Meta-World 3.x benchmarks: ML1 (one task class, any of its 50), ML10 and ML45, as task families.

Each benchmark's tasks are Meta-World's own: ``metaworld.ML1(name, seed=s)``, ``metaworld.ML10(seed=s)``
and ``metaworld.ML45(seed=s)`` draw 50 goals per class for training and 50 others for testing (ML1:
the same class, test goals drawn with seed ``s + 1``; ML10 / ML45: 5 held-out classes). A run's
``task_set`` is those fixed lists (``MetaWorldTaskSet``), the same for every training seed; the
``benchmark_seed`` task option (default 0) picks another draw of them. The goal is hidden from the
observation (Meta-World's ML setting, ``partially_observable=True``): observation ``[39]`` float64,
action ``[4]`` in [-1, 1], episode length 500 (``max_path_length``), reward Meta-World's v2.

A task carries Meta-World's opaque ``Task`` (``task``: its class name and pickled goal data) with
its class (``class_id``, the index in ``ALL_V3_ENVIRONMENTS``) and its place among its class's goals
(``goal_index``). Lists are interleaved by class (task j has class ``j % classes``), so the first n
test or validation tasks cover the classes evenly. Training batches are stratified by class, as
Meta-World's vector envs give each class ``meta_batch_size / classes`` sub-environments.

The env reports ``info["success"]`` every step; an episode succeeds if it is 1 at any step
(``Trajectories.episode_success``; ``metarl.success.evaluate_success`` runs Meta-World's evaluation
protocol). Meta-World's reset ignores its seed: with the goal fixed by the task, an episode is a
function of the actions alone, so seeded actions give the same episodes.

Meta-World 3.1.1's gymnasium id ``Meta-World/ML1-train`` builds the *test* split: its registration
lambda reads the loop variable ``split`` when it is called, after the loop has left it at "test".
Nothing here goes through those ids; the benchmarks are built from ``metaworld.ML1`` and friends.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from metarl.envs.base import BatchedTaskEnv
from metarl.envs.gym_adapter import GymTaskAdapter
from metarl.errors import ConfigError, MissingExtraError
from metarl.tasks import FixedTaskSet, TaskBatch, TaskDistribution, check_count

EPISODE_LENGTH = 500  # SawyerXYZEnv.max_path_length: Meta-World's envs refuse a 501st step


def _metaworld() -> Any:
    try:
        import metaworld
    except ImportError as err:
        raise MissingExtraError(f"Meta-World envs need {err.name}; install it with: pip install 'metarl[metaworld]'",
                                name=err.name) from err
    return metaworld


def class_names() -> list[str]:
    """Meta-World's 50 task classes in ``ALL_V3_ENVIRONMENTS`` order (``class_id`` indexes this)."""
    return list(_metaworld().ALL_V3_ENVIRONMENTS)


@dataclasses.dataclass(frozen=True)
class MetaWorldTasks(TaskBatch):
    """``task [tasks]``: Meta-World ``Task`` objects; ``class_id``, ``goal_index [tasks]`` int64."""

    task: Any
    class_id: np.ndarray
    goal_index: np.ndarray

    int_fields: ClassVar[tuple[str, ...]] = ("class_id", "goal_index")
    opaque_fields: ClassVar[tuple[str, ...]] = ("task",)

    def names(self) -> list[str]:
        """The class name of every task (``"reach-v3"``)."""
        return [t.env_name for t in self.task]


@functools.lru_cache(maxsize=8)
def benchmark(kind: str, seed: int, task: str | None = None) -> Any:
    """Meta-World's benchmark object (built once per process: ML1 draws 100 goals through
    simulator resets, ML10 750, ML45 2,500)."""
    mw = _metaworld()
    if kind == "ML1":
        if task not in mw.ALL_V3_ENVIRONMENTS:
            raise ConfigError(f"ML1 task must be a Meta-World v3 task name, got {task!r}; "
                              f"allowed: {', '.join(mw.ML1.ENV_NAMES)}")
        return mw.ML1(task, seed=seed)
    return getattr(mw, kind)(seed=seed)


def _interleaved(tasks: list[Any]) -> MetaWorldTasks:
    """Meta-World's list (class after class) as ``MetaWorldTasks`` in goal-major order."""
    ids = {name: i for i, name in enumerate(class_names())}
    order = list(dict.fromkeys(t.env_name for t in tasks))
    by_class = {name: [t for t in tasks if t.env_name == name] for name in order}
    goals = max(len(v) for v in by_class.values())
    rows = [(by_class[name][g], ids[name], g) for g in range(goals) for name in order if g < len(by_class[name])]
    task, class_id, goal_index = zip(*rows, strict=True)
    return MetaWorldTasks(task=list(task), class_id=list(class_id), goal_index=list(goal_index))


@functools.lru_cache(maxsize=8)
def _task_lists(kind: str, seed: int, task: str | None = None) -> tuple[MetaWorldTasks, MetaWorldTasks]:
    """The benchmark's train and test lists, interleaved (read-only arrays: safe to share)."""
    bench = benchmark(kind, seed, task)
    return _interleaved(bench.train_tasks), _interleaved(bench.test_tasks)


@dataclasses.dataclass(frozen=True, kw_only=True)
class MetaWorldTaskSet(FixedTaskSet):
    """A benchmark's fixed lists; training batches are stratified by class: draw j of a batch is a
    goal of class ``perm[j % classes]`` (``perm`` a random order), so a batch of a multiple of the
    number of classes holds each class equally often, and within a class the goal is uniform."""

    def train_batch(self, n: int, rng: np.random.Generator) -> MetaWorldTasks:
        n = check_count("n", n)
        ids = self.train.class_id
        classes, starts, counts = np.unique(np.sort(ids), return_index=True, return_counts=True)
        by_class = np.argsort(ids, kind="stable")
        pick = rng.permutation(len(classes))[np.arange(n) % len(classes)]
        within = np.floor(rng.random(n) * counts[pick]).astype(np.int64)
        return self.train.take(by_class[starts[pick] + within])


@dataclasses.dataclass(frozen=True, kw_only=True)
class MetaWorldDistribution(TaskDistribution):
    """Tasks of one Meta-World benchmark (``kind``), from the goals drawn with ``benchmark_seed``.

    ``sample`` draws training tasks as ``MetaWorldTaskSet.train_batch`` does; ``task_set`` is the
    benchmark's train and test lists (what a run uses); ``default`` its first training task.
    """

    task_type = MetaWorldTasks
    kind: ClassVar[str]
    benchmark_seed: int = 0

    def __post_init__(self) -> None:
        check_count("benchmark_seed", self.benchmark_seed, minimum=0)

    def _lists(self) -> tuple[MetaWorldTasks, MetaWorldTasks]:
        return _task_lists(self.kind, self.benchmark_seed)

    def task_set(self, *, seed: int) -> MetaWorldTaskSet:
        """The benchmark's train and test tasks; ``seed`` (the run's) seeds the training batches."""
        train, test = self._lists()
        return MetaWorldTaskSet(train=train, test=test, seed=seed)

    def sample(self, n: int, rng: np.random.Generator) -> MetaWorldTasks:
        return self.task_set(seed=0).train_batch(n, rng)

    def default(self) -> MetaWorldTasks:
        return self.task_set(seed=0).train.take(0)

    def describe(self) -> dict[str, str]:
        return {"task": f"Meta-World's {self.kind} goals (50 per class, train / test fixed by benchmark_seed, "
                        f"default 0)", "class_id": "the task class", "goal_index": "the goal within its class"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ML1Distribution(MetaWorldDistribution):
    """ML1: 50 train and 50 test goals of the one class ``task`` (any Meta-World v3 name)."""

    kind: ClassVar[str] = "ML1"
    task: str = "reach-v3"

    def _lists(self) -> tuple[MetaWorldTasks, MetaWorldTasks]:
        return _task_lists("ML1", self.benchmark_seed, self.task)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ML10Distribution(MetaWorldDistribution):
    """ML10: 10 training classes, 5 held-out test classes, 50 goals each."""

    kind: ClassVar[str] = "ML10"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ML45Distribution(MetaWorldDistribution):
    """ML45: 45 training classes, 5 held-out test classes, 50 goals each."""

    kind: ClassVar[str] = "ML45"


def make_sawyer(name: str) -> gym.Env:
    """One Meta-World env of class ``name``, as ``metaworld._init_each_env`` builds it (v2 reward),
    without its wrappers: the time limit, success and task handling are the family's."""
    return _metaworld().ALL_V3_ENVIRONMENTS[name](reward_function_version="v2")


class MetaWorldEnv(GymTaskAdapter):
    """Sub-environment i runs task ``i // episodes_per_task`` on a Meta-World env of its class.

    Envs are kept per class and reused across ``set_tasks`` (building one costs ~0.3 s): the k-th
    sub-environment of a class gets that class's k-th env, so the envs held are at most the largest
    batch's count per class. A task reaches its env by Meta-World's ``set_task``.
    """

    reports_success: ClassVar[bool] = True
    default_max_episode_steps: ClassVar[int] = EPISODE_LENGTH

    def __init__(self, *, tasks: TaskBatch | None = None, **kwargs: Any) -> None:
        self._pool: dict[str, list[gym.Env]] = {}
        first = tasks if tasks is not None else self.distribution_type().default()
        if not isinstance(first, MetaWorldTasks):
            raise TypeError(f"{self.family} needs MetaWorldTasks, got {type(first).__name__}")
        name = first.task[0].env_name
        super().__init__(make_env=functools.partial(self._pooled, name), configure=_unused, tasks=first, **kwargs)
        if self.max_episode_steps > EPISODE_LENGTH:
            raise ConfigError(f"{self.family}: max_episode_steps must be <= {EPISODE_LENGTH} (Meta-World's envs end "
                              f"every episode there), got {self.max_episode_steps}")

    def set_tasks(self, tasks: TaskBatch, episodes_per_task: int = 1) -> None:
        BatchedTaskEnv.set_tasks(self, tasks, episodes_per_task)
        envs, used = [], {}
        for task in self.params["task"]:
            k = used[task.env_name] = used.get(task.env_name, -1) + 1
            env = self._pool[task.env_name][k] if k < len(self._pool.get(task.env_name, ())) else \
                self._pooled(task.env_name)
            env.set_task(task)
            envs.append(env)
        self._envs, self._seeded = envs, [True] * len(envs)  # Meta-World's reset ignores seeds
        space = self.single_observation_space
        self._obs = np.zeros((self.num_envs, *space.shape), dtype=space.dtype)
        self._truncated = np.zeros(self.num_envs, dtype=bool)
        self._success = np.zeros(self.num_envs)

    def _pooled(self, name: str) -> gym.Env:
        """A new env of class ``name``, kept in the pool."""
        env = make_sawyer(name)
        self._pool.setdefault(name, []).append(env)
        return env

    def _transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        reward = np.zeros(self.num_envs)
        terminated = np.zeros(self.num_envs, dtype=bool)
        self._truncated = np.zeros(self.num_envs, dtype=bool)
        self._success = np.zeros(self.num_envs)
        for i in np.flatnonzero(~self._needs_reset):  # a finished sub-env waits for its reset
            self._obs[i], reward[i], terminated[i], self._truncated[i], info = self._envs[i].step(actions[i])
            self._success[i] = float(info["success"])
        return reward, terminated

    def _step_info(self) -> dict[str, np.ndarray]:
        return {"success": self._success.copy()}

    def close_extras(self, **kwargs: Any) -> None:
        for pool in self._pool.values():
            for env in pool:
                env.close()


def _unused(env: gym.Env, task: dict[str, np.ndarray]) -> None:
    """Tasks are set in ``MetaWorldEnv.set_tasks`` (which picks the env of the task's class)."""


class ML1Env(MetaWorldEnv):
    """Meta-World ML1: one class (``--task-options task=reach-v3``), 50 train and 50 test goals."""

    family = "metaworld-ml1"
    distribution_type = ML1Distribution


class ML10Env(MetaWorldEnv):
    """Meta-World ML10: 10 train classes, 5 test classes."""

    family = "metaworld-ml10"
    distribution_type = ML10Distribution


class ML45Env(MetaWorldEnv):
    """Meta-World ML45: 45 train classes, 5 test classes."""

    family = "metaworld-ml45"
    distribution_type = ML45Distribution
