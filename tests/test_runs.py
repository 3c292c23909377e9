import csv
import pickle

import pytest
import torch

from metarl.runs import CheckpointError, RunDirectory, load_checkpoint, save_torch


def test_run_directory_round_trip_and_refuses_to_overwrite(tmp_path):
    run = RunDirectory(path=tmp_path / "r", config={"algorithm": "maml", "lr": 0.1})
    run.log_metrics(0, {"return_post": -10.0})
    run.log_metrics(1, {"return_post": -9.0, "kl": 0.01})
    state = {"algorithm": "maml", "learner": {"w": torch.ones(3)}}
    for it in range(5):
        run.save_checkpoint(state, iteration=it, best=(it == 2))
    run.close()
    with (tmp_path / "r" / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["iteration"] for r in rows] == ["0", "1"] and rows[1]["kl"] == "0.01"
    assert len(list((tmp_path / "r" / "checkpoints").glob("ckpt_*.pt"))) == 3
    assert load_checkpoint(run.latest_checkpoint())["iteration"] == 4
    assert load_checkpoint(run.best_checkpoint(), expected_algorithm="maml")["iteration"] == 2
    with pytest.raises(FileExistsError, match="already holds a run"):
        RunDirectory(path=tmp_path / "r", config={"algorithm": "maml"})
    resumed = RunDirectory(path=tmp_path / "r", resume=True, tensorboard=False)
    resumed.metrics.truncate_after(0)
    resumed.log_metrics(1, {"return_post": -8.0})
    with (tmp_path / "r" / "metrics.csv").open() as f:
        assert [r["return_post"] for r in csv.DictReader(f)] == ["-10.0", "-8.0"]
    assert not list((tmp_path / "r").rglob("*.tmp"))


def test_metrics_rows_are_appended_and_a_torn_last_line_is_dropped(tmp_path):
    """A row under the known columns is one appended line (the file is not rewritten: same inode),
    a new column rewrites it under the wider header, and a line cut short by a kill is dropped
    when the log is read again."""
    from metarl.runs import MetricsLog

    path = tmp_path / "metrics.csv"
    log = MetricsLog(path)
    log.append(0, {"a": 1.0})
    inode = path.stat().st_ino
    log.append(1, {"a": 2.0})
    assert path.stat().st_ino == inode and path.read_text() == "iteration,a\n0,1.0\n1,2.0\n"
    log.append(2, {"a": 3.0, "b": 0.5})
    assert path.read_text().splitlines() == ["iteration,a,b", "0,1.0,", "1,2.0,", "2,3.0,0.5"]
    with path.open("a") as f:
        f.write("3,4.0")  # killed mid-line
    again = MetricsLog(path)
    assert [r["iteration"] for r in again.rows] == ["0", "1", "2"] and path.read_text().endswith("0.5\n")
    again.append(3, {"a": 4.0})
    with path.open() as f:
        assert [r["a"] for r in csv.DictReader(f)] == ["1.0", "2.0", "3.0", "4.0"]


def test_foreign_truncated_and_pickled_checkpoints_are_refused(tmp_path):
    good = tmp_path / "good.pt"
    save_torch(good, {"format_version": 1, "algorithm": "rl2", "w": torch.zeros(2)})
    with pytest.raises(CheckpointError, match="'rl2' checkpoint, expected 'maml'"):
        load_checkpoint(good, expected_algorithm="maml")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:50])
    with pytest.raises(CheckpointError, match="truncated, corrupt"):
        load_checkpoint(truncated)

    class Evil:
        def __reduce__(self):
            return (exec, ("raise SystemExit('executed')",))

    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"format_version": 1, "x": Evil()}))
    with pytest.raises(CheckpointError):
        load_checkpoint(evil)
    newer = tmp_path / "newer.pt"
    save_torch(newer, {"format_version": 99})
    with pytest.raises(CheckpointError, match="format 99"):
        load_checkpoint(newer)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
