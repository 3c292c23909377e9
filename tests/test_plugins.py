"""A family and an algorithm from outside the package, through the CLI, with metarl's own
algorithms on the outside family too (``--import MODULE``)."""

from __future__ import annotations

import json

import pytest

from metarl.cli import main

PLUGIN = ["--import", "tests.plugins.toy_plugin"]


def test_toy_algorithm_on_toy_family_trains_and_evaluates_through_the_cli(tmp_path, capsys):
    run = tmp_path / "toy"
    assert main([*PLUGIN, "train", "toy", "--env", "toy-line", "--out", str(run), "--iterations", "3", "--quiet"]) == 0
    assert (run / "checkpoints" / "best.pt").is_file()
    assert main([*PLUGIN, "evaluate", str(run), "--tasks", "5", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["algorithm"] == "toy" and result["num_tasks"] == 5 and result["axis"] == "episode"
    assert -20 < result["curve"]["mean"][0] < 0
    assert main([*PLUGIN, "report", str(run)]) == 0


@pytest.mark.parametrize(("algorithm", "flags"), [
    ("maml", ["--meta-batch-size", "2", "--episodes-per-task", "2", "--inner-lr", "0.1", "--validation-tasks", "2",
              "--eval-episodes", "2", "--hidden-sizes", "8"]),
    ("rl2", ["--trials-per-iteration", "8", "--validation-tasks", "4", "--hidden-size", "8", "--minibatches", "2",
             "--episodes-per-trial", "2"]),
])
def test_metarl_algorithms_train_on_a_family_registered_outside(tmp_path, capsys, algorithm, flags):
    run = tmp_path / algorithm
    args = [*PLUGIN, "train", algorithm, "--env", "toy-line", "--out", str(run), "--iterations", "2", "--quiet"]
    assert main([*args, *flags]) == 0
    extra = ["--pretrain-iterations", "1", "--steps", "1"] if algorithm == "maml" else []
    assert main([*PLUGIN, "evaluate", str(run), "--tasks", "3", "--json", *extra]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["env"] == "toy-line" and result["algorithm"] == algorithm


def test_an_unimportable_plugin_is_a_one_line_error(capsys):
    assert main(["--import", "no.such.module", "envs"]) == 2
    assert "--import no.such.module" in capsys.readouterr().err


def _names_in_code(path) -> set[str]:
    """Identifiers and string constants of a module, docstrings left out (they may cite examples)."""
    import ast

    tree = ast.parse(path.read_text())
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            docstrings.add(id(first.value))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            out.add(node.value)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            out.add(node.name)
    return out


def test_generic_modules_name_no_algorithm_or_family():
    """The training loop, API, CLI, report, results, building, registry and rollout are generic: no
    identifier or string in them names an algorithm or a task family."""
    from pathlib import Path

    import metarl

    root = Path(metarl.__file__).parent
    generic = [root / f for f in ("api.py", "training.py", "cli.py", "report.py", "results.py", "building.py",
                                  "agents.py", "runs.py", "algorithms/registry.py", "envs/registry.py",
                                  "success_command.py")]
    generic += sorted((root / "rollout").glob("*.py"))
    names = ["maml", "rl2", "rl²", "bandit", "pendulum", "navigation", "mountaincar", "tabular", "cheetah", "ant-",
             "gridworld"]
    offenders = {}
    for path in generic:
        found = sorted({n for text in _names_in_code(path) for n in names if n in text.lower()})
        if found:
            offenders[str(path.relative_to(root))] = found
    assert offenders == {}
