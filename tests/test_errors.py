"""Only errors the user caused are one-line CLI errors; a bug keeps its traceback."""

from __future__ import annotations

import pytest

from metarl import api, cli
from metarl.envs.registry import Family
from metarl.errors import (
    CheckpointError,
    ConfigError,
    ConfigTypeError,
    MissingExtraError,
    RunExistsError,
    RunNotFoundError,
    UserError,
)
from metarl.runs import CheckpointError as ReexportedCheckpointError
from metarl.tasks import check_count


def test_a_type_error_from_inside_a_command_is_a_bug_not_a_user_error(monkeypatch, capsys):
    def buggy(*args, **kwargs):
        raise TypeError("unsupported operand type(s) for +: 'Tensor' and 'NoneType'")

    monkeypatch.setattr(api, "read_run", buggy)
    with pytest.raises(TypeError, match="unsupported operand"):
        cli.main(["evaluate", "some-run"])
    assert "metarl: error" not in capsys.readouterr().err


@pytest.mark.parametrize("error", [ValueError("bad shape"), ImportError("No module named 'scipy'"),
                                   FileNotFoundError(2, "No such file or directory", "/pkg/data.json")])
def test_builtin_errors_from_inside_are_not_swallowed(error, monkeypatch):
    def buggy(*args, **kwargs):
        raise error

    monkeypatch.setattr(api, "read_run", buggy)
    with pytest.raises(type(error)):
        cli.main(["evaluate", "some-run"])


@pytest.mark.parametrize("error", [ConfigError("lr must be > 0, got -1"), RunNotFoundError("runs/x is not a run"),
                                   MissingExtraError("env 'ant' needs mujoco; pip install 'metarl[mujoco]'")])
def test_user_errors_print_one_line_and_exit_2(error, monkeypatch, capsys):
    def refuses(*args, **kwargs):
        raise error

    monkeypatch.setattr(api, "read_run", refuses)
    assert cli.main(["evaluate", "some-run"]) == 2
    err = capsys.readouterr().err
    assert err == f"metarl: error: {error}\n"


def test_user_error_classes_keep_their_builtin_bases():
    assert issubclass(ConfigError, ValueError) and issubclass(ConfigTypeError, TypeError)
    assert issubclass(RunExistsError, FileExistsError) and issubclass(RunNotFoundError, FileNotFoundError)
    assert issubclass(MissingExtraError, ImportError) and issubclass(CheckpointError, ValueError)
    assert ReexportedCheckpointError is CheckpointError
    for cls in (ConfigError, ConfigTypeError, RunExistsError, RunNotFoundError, MissingExtraError, CheckpointError):
        assert issubclass(cls, UserError)


def test_check_count_raises_user_errors_naming_the_value():
    with pytest.raises(ConfigTypeError, match="workers must be an integer, got 2.5"):
        check_count("workers", 2.5)
    with pytest.raises(ConfigTypeError, match="got True"):
        check_count("workers", True)
    with pytest.raises(ConfigError, match="shards must be >= 1, got 0"):
        check_count("shards", 0)
    assert check_count("retries", 0, minimum=0) == 0


def test_a_family_whose_optional_extra_is_missing_says_what_to_install():
    family = Family(name="fake-mujoco", module="metarl_no_such_module.envs", env_class="X", gym_id="x",
                    summary="", requires="mujoco")
    with pytest.raises(MissingExtraError, match=r"pip install 'metarl\[mujoco\]'"):
        family.env_type()


def test_ray_missing_is_a_missing_extra(monkeypatch):
    import builtins

    from metarl.rollout import ray_sampler

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'", name="ray")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(MissingExtraError, match=r"metarl\[distributed\]"):
        ray_sampler.import_ray()
