"""One process per run directory: a second one (a resume, or a new run into the same --out) is
refused while the first holds the run, naming the run and the holder's PID; the lock goes with the
holder, however it ends."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from metarl.cli import main
from metarl.errors import RunDirectoryError, RunInUseError
from metarl.runs import RunDirectory

HOLDER = textwrap.dedent("""
    import sys
    from metarl.runs import RunDirectory
    run = RunDirectory(path=sys.argv[1], resume=sys.argv[2] == "resume", config={"algorithm": "rl2"},
                       tensorboard=False)
    run.log_metrics(0, {"loss": 1.0})
    print("holding", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    run.close()
""")


def _holder(path, mode="new") -> subprocess.Popen:
    """Another process that opens the run ``path`` and keeps it open until its stdin closes."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), mode], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line == "holding\n", proc.stderr.read()
    return proc


def _rows(path):
    with (path / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


def test_a_second_process_cannot_open_a_run_in_use_and_can_once_it_is_closed(tmp_path):
    run_path = tmp_path / "run"
    holder = _holder(run_path)
    try:
        with pytest.raises(RunInUseError, match=rf"{run_path} is in use by another process \(PID {holder.pid}\)"):
            RunDirectory(path=run_path, resume=True, tensorboard=False)
        with pytest.raises(RunInUseError, match="in use by another process"):
            RunDirectory(path=run_path, config={"algorithm": "rl2"}, tensorboard=False)
        assert [r["iteration"] for r in _rows(run_path)] == ["0"]  # nothing truncated under the holder
    finally:
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0
    with RunDirectory(path=run_path, resume=True, tensorboard=False) as run:
        run.metrics.truncate_after(-1)
    assert _rows(run_path) == []


def test_a_resume_is_locked_too_and_a_killed_holder_frees_the_run(tmp_path):
    run_path = tmp_path / "run"
    RunDirectory(path=run_path, config={"algorithm": "rl2"}, tensorboard=False).close()
    holder = _holder(run_path, "resume")
    with pytest.raises(RunInUseError, match=f"PID {holder.pid}"):
        RunDirectory(path=run_path, resume=True, tensorboard=False)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)
    RunDirectory(path=run_path, resume=True, tensorboard=False).close()


def test_the_cli_refuses_to_resume_a_run_in_use_in_one_line(tmp_path, capsys):
    run_path = tmp_path / "run"
    holder = _holder(run_path)
    try:
        assert main(["train", "rl2", "--resume", str(run_path), "--quiet"]) == 2
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    err = capsys.readouterr().err
    assert err.startswith(f"metarl: error: run {run_path} is in use by another process (PID {holder.pid})")
    assert err.count("\n") == 1


def test_the_same_process_twice_is_refused_and_close_releases(tmp_path):
    run = RunDirectory(path=tmp_path / "run", config={}, tensorboard=False)
    with pytest.raises(RunInUseError, match="already open in this process"):
        RunDirectory(path=tmp_path / "run", resume=True, tensorboard=False)
    run.close()
    run.close()  # idempotent
    RunDirectory(path=tmp_path / "run", resume=True, tensorboard=False).close()


def test_missing_and_existing_runs_and_unusable_paths_are_run_directory_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a metarl run"):
        RunDirectory(path=tmp_path / "nothing", resume=True)
    assert not (tmp_path / "nothing").exists()
    RunDirectory(path=tmp_path / "r", config={}, tensorboard=False).close()
    with pytest.raises(FileExistsError, match="already holds a run"):
        RunDirectory(path=tmp_path / "r", config={}, tensorboard=False)
    (tmp_path / "file").write_text("")
    with pytest.raises(RunDirectoryError, match="cannot create run directory"):
        RunDirectory(path=tmp_path / "file" / "run", config={}, tensorboard=False)
