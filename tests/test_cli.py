import json

import pytest

from metarl.cli import main


def test_envs_lists_every_family_with_task_parameters(capsys):
    assert main(["envs", "--json"]) == 0
    rows = {r["env"]: r for r in json.loads(capsys.readouterr().out)}
    assert {"bandit", "tabular-mdp", "navigation2d", "pendulum"} <= set(rows)
    assert set(rows["pendulum"]["task_parameters"]) == {"mass", "length", "gravity"}


def test_evaluate_of_a_missing_run_is_a_one_line_error(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "is not a metarl run" in err and "Traceback" not in err


def test_unknown_command_exits_with_usage():
    with pytest.raises(SystemExit) as exc:
        main(["fly"])
    assert exc.value.code == 2
