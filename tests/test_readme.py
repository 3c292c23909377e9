"""Every Python snippet in the README runs, in order, in one namespace."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_snippet_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"readme_snippet_{index}"}
    exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), namespace)


def test_learn_continues_only_its_own_run(tmp_path):
    """``learn(out=...)`` into another run's directory is refused like ``metarl train --out``; a
    learner loaded from its best checkpoint continues its own run from there, redoing the
    iterations logged after it."""
    import metarl
    from metarl.errors import RunExistsError

    small = {"trials_per_iteration": 8, "validation_tasks": 4, "hidden_size": 8, "minibatches": 2}
    run = tmp_path / "run"
    metarl.RL2(env="bandit", seed=0, **small).learn(iterations=3, out=run, validate_every=1, checkpoint_every=1)
    with pytest.raises(RunExistsError):
        metarl.RL2(env="bandit", seed=1, **small).learn(iterations=1, out=run)
    loaded = metarl.load(run)
    best = loaded.iterations_done - 1
    loaded.learn(iterations=2, out=run, validate_every=1, checkpoint_every=1)
    rows = [int(line.split(",")[0]) for line in (run / "metrics.csv").read_text().splitlines()[1:]]
    assert rows == list(range(best + 3)), rows
