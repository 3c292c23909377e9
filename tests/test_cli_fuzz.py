"""A fuzz pass over the training flags: any value for any flag either validates, or fails with
exit status 2 and one line naming the problem; never a traceback, and nothing is written."""

from __future__ import annotations

import importlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metarl.cli import main
from metarl.config_cli import flag_specs

ODD_VALUES = ["-1", "0", "1", "nan", "inf", "-inf", "abc", "", "1e309", "99999999999999999999", "0.5", "-0.0",
              "true", "lstm", "none", "[1, 2]", "é", "3 4"]
ENVS = {"rl2": "bandit", "maml": "navigation2d"}


def _fields(algorithm: str) -> list[str]:
    try:
        module = importlib.import_module(f"metarl.algorithms.{algorithm}")
    except ImportError:
        return []
    return [spec.name for spec in flag_specs(module.CONFIG) if spec.name != "env"]  # the leaves, by flag name


@pytest.mark.parametrize("algorithm", sorted(ENVS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_flag_value_validates_or_fails_cleanly(algorithm, data, capsys, tmp_path, faults):
    fields = _fields(algorithm)
    if not fields:
        pytest.skip(f"{algorithm} not available")
    field = data.draw(st.sampled_from(fields))
    value = data.draw(st.sampled_from(ODD_VALUES))
    argv = ["train", algorithm, "--env", ENVS[algorithm], "--dry-run", "--out", str(tmp_path / "run"),
            f"--{field.replace('_', '-')}", value]
    faults.injected("bad flag")
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own type / choice errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert field in err or field.replace("_", "-") in err or repr(value) in err or value in err, err
    assert not (tmp_path / "run").exists()
    faults.survived("bad flag")


def test_unknown_env_and_preset_are_named(capsys):
    assert main(["train", "rl2", "--env", "atari", "--dry-run"]) == 2
    assert "'atari'" in capsys.readouterr().err
