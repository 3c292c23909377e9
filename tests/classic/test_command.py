"""The ``metarl baselines`` command: argument checks, table and JSON output."""

import argparse
import json

import pytest

from metarl.classic import command


def _run(argv, capsys):
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    code = command.main(parser.parse_args(argv))
    return code, capsys.readouterr()


def test_json_is_one_object(capsys):
    code, out = _run(["bandit", "--arms", "3", "--episodes", "20", "--tasks", "50", "--json"], capsys)
    assert code == 0
    data = json.loads(out.out)
    assert set(data) == {"random", "greedy", "epsilon-greedy", "ucb1", "thompson", "gittins", "bayes-optimal"}
    assert len(data["ucb1"]["per_episode"]) == 20
    assert data["ucb1"]["exact"] is None and data["bayes-optimal"]["exact"] > data["random"]["mean"]
    assert data["ucb1"]["constant"].startswith("c=")
    assert data["random"]["stderr"] > 0


def test_table_names_constant_used(capsys):
    code, out = _run(["bandit", "--episodes", "10", "--tasks", "20", "--only", "ucb1", "thompson"], capsys)
    assert code == 0
    lines = out.out.splitlines()
    assert lines[1].split() == ["baseline", "mean", "stderr", "constant"]
    assert any(line.startswith("ucb1") and "c=0.02" in line for line in lines)
    assert len(lines) == 4


def test_bayes_optimal_reports_its_exact_value(capsys):
    code, out = _run(["bandit", "--tasks", "400", "--json", "--only", "bayes-optimal"], capsys)
    assert code == 0
    entry = json.loads(out.out)["bayes-optimal"]
    assert entry["exact"] == pytest.approx(6.659987874779542, abs=1e-12)  # the DP at k=5, n=10
    assert abs(entry["mean"] - entry["exact"]) < 4 * entry["stderr"]
    assert len(entry["per_episode"]) == 10 and entry["constant"] == "exact DP over 1951 states"
    code, out = _run(["bandit", "--tasks", "20", "--only", "bayes-optimal", "greedy"], capsys)
    header, bayes, greedy = out.out.splitlines()[1:]
    assert header.split() == ["baseline", "mean", "stderr", "exact", "constant"]
    assert bayes.split()[3] == "6.6600" and len(greedy.split()) == 3


def test_bayes_optimal_beyond_its_limit(capsys):
    code, out = _run(["bandit", "--episodes", "100", "--tasks", "4", "--only", "bayes-optimal"], capsys)
    assert code == 2 and "n=100 pulls" in out.err and "at k=5 is n=28" in out.err and out.out == ""
    code, out = _run(["bandit", "--episodes", "30", "--tasks", "4", "--json"], capsys)
    assert code == 0 and "bayes-optimal" not in json.loads(out.out)
    assert "note: left out bayes-optimal: k=5 arms and n=30 pulls" in out.err


def test_mdp_and_navigation_run(capsys):
    code, out = _run(["mdp", "--episodes", "2", "--tasks", "10", "--json", "--only", "psrl"], capsys)
    assert code == 0 and set(json.loads(out.out)) == {"psrl"}
    code, out = _run(["navigation", "--episodes", "1", "--tasks", "10", "--json"], capsys)
    assert code == 0 and json.loads(out.out)["stay"]["mean"] < 0


@pytest.mark.parametrize(("argv", "message"), [
    (["bandit", "--tasks", "-1"], "--tasks must be >= 2"),
    (["bandit", "--episodes", "0"], "--episodes must be >= 1"),
    (["bandit", "--arms", "1"], "--arms must be >= 2"),
    (["mdp", "--only", "ucb1"], "unknown mdp baseline"),
])
def test_bad_arguments_get_clear_messages(argv, message, capsys):
    code, out = _run(argv, capsys)
    assert code == 2
    assert message in out.err and out.out == ""
