import numpy as np
import pytest

from metarl.envs.navigation import NavigationDistribution, NavigationTasks
from metarl.envs.pendulum import PendulumDistribution, PendulumTasks
from metarl.tasks import TaskSplit


def test_same_seed_same_tasks_and_splits_are_independent_streams():
    dist = PendulumDistribution()
    a, b = TaskSplit(distribution=dist, seed=3), TaskSplit(distribution=dist, seed=3)
    np.testing.assert_array_equal(a.test_tasks(5).mass, b.test_tasks(5).mass)
    train = dist.sample(1000, a.train_rng())
    test = a.test_tasks(50)
    assert not np.isin(test.mass, train.mass).any()
    assert not np.array_equal(TaskSplit(distribution=dist, seed=4).test_tasks(5).mass, a.test_tasks(5).mass)
    # drawing training tasks does not move the held-out ones
    rng = a.train_rng()
    dist.sample(7, rng)
    np.testing.assert_array_equal(a.test_tasks(5).length, b.test_tasks(5).length)


def test_batch_operations_keep_the_task_dimension():
    tasks = NavigationTasks(goals=[[0.1, 0.2], [0.3, 0.4], [0.5, -0.5]])
    assert len(tasks) == 3 and tasks.take(1).goals.shape == (1, 2)
    np.testing.assert_array_equal(tasks.repeat(2).goals[:, 0], [0.1, 0.1, 0.3, 0.3, 0.5, 0.5])
    assert len(NavigationTasks.concat([tasks, tasks.take([0])])) == 4
    assert NavigationTasks.from_dict(tasks.to_dict()) == tasks
    assert tasks.take([0, 1]) != tasks
    assert tasks.features().shape == (3, 2) and tasks.features().dtype == np.float32
    with pytest.raises(ValueError):
        tasks.goals[0, 0] = 1.0  # frozen arrays


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: NavigationTasks(goals=[[0.0, np.nan]]), "NaN"),
        (lambda: NavigationTasks(goals=[0.0, 1.0]), r"\[tasks, 2\]"),
        (lambda: PendulumTasks(mass=[1.0, -1.0], length=[1, 1], gravity=[10, 10]), "mass must be > 0"),
        (lambda: PendulumTasks(mass=[1.0], length=[1, 1], gravity=[10, 10]), "disagree"),
        (lambda: PendulumTasks(mass="heavy", length=[1], gravity=[10]), "numeric"),
        (lambda: NavigationDistribution().sample(-2, np.random.default_rng(0)), "n must be >= 1, got -2"),
        (lambda: TaskSplit(distribution=NavigationDistribution(), seed=0).rng("holdout"), "holdout"),
    ],
)
def test_bad_tasks_give_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()
