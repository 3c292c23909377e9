"""Every ``metarl`` command in the README runs, in order, in a scratch directory, with the budget
flags shrunk (iterations, batch and task counts) so that the whole walk takes seconds."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from metarl.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
SMALL = {
    "maml": ["--iterations", "2", "--meta-batch-size", "2", "--episodes-per-task", "2", "--validation-tasks", "2",
             "--eval-episodes", "2", "--eval-steps", "1"],
    "rl2": ["--iterations", "2", "--trials-per-iteration", "8", "--validation-tasks", "8"],
    "varibad": ["--iterations", "2", "--trials-per-iteration", "4", "--encoder-hidden-size", "8",
                "--vae-buffer-size", "10", "--vae-batch-trials", "3", "--precollect-frames", "0",
                "--validation-tasks", "4", "--minibatches", "2"],
    "pearl": ["--iterations", "1", "--gradient-steps", "5", "--train-tasks", "4", "--tasks-per-iteration", "2",
              "--hidden-sizes", "16", "--encoder-sizes", "16", "--validation-tasks", "2", "--eval-trajectories", "3",
              "--exploration", "1"],
}


def readme_commands() -> list[list[str]]:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("metarl ")]


def shrink(argv: list[str]) -> list[str]:
    argv = list(argv)
    if "--tasks" in argv:
        argv[argv.index("--tasks") + 1] = "20"
    if argv[:1] == ["train"] and "--resume" not in argv and "--dry-run" not in argv:
        argv += SMALL[argv[1]]
    return argv


def test_readme_commands_run_in_order(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    commands = readme_commands()
    assert any(c[:2] == ["train", "maml"] for c in commands) and any(c[:1] == ["evaluate"] for c in commands)
    for argv in commands:
        if argv[:1] == ["bench"]:
            continue  # benchmarks are measured by `metarl bench` itself, not in the test suite
        code = main(["train", *argv[1:], "--quiet"] if argv[:1] == ["train"] and "--resume" in argv
                    else shrink(argv))
        assert code == 0, (argv, capsys.readouterr().err)


@pytest.mark.parametrize("argv", [["envs"], ["baselines", "bandit", "--tasks", "5", "--episodes", "3"]])
def test_small_commands_print_something(argv, capsys):
    assert main(argv) == 0
    assert capsys.readouterr().out.strip()
