"""A training run killed with SIGKILL at several points, or stopped with SIGINT / SIGTERM (which
checkpoint the finished iteration), and resumed ends exactly like the same run uninterrupted: same
parameters bit for bit, same metrics and TensorBoard scalars, no duplicated or missing rows."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from metarl.runs import load_checkpoint

TRAIN = ["train", "rl2", "--env", "bandit", "--seed", "3", "--iterations", "8", "--trials-per-iteration", "16",
         "--episodes-per-trial", "5", "--hidden-size", "16", "--validation-tasks", "8", "--checkpoint-every", "1",
         "--validate-every", "3", "--quiet"]
VOLATILE = ("time_", "env_steps_per_second", "gradient_steps_per_second")
COMMON = ["--seed", "3", "--iterations", "8", "--checkpoint-every", "1", "--validate-every", "3", "--quiet"]
KILLED_RUNS = {
    "rl2": TRAIN,
    "varibad": ["train", "varibad", "--env", "gridworld", "--trials-per-iteration", "4", "--encoder-hidden-size",
                "8", "--vae-buffer-size", "10", "--vae-batch-trials", "3", "--precollect-frames", "0",
                "--validation-tasks", "4", "--minibatches", "2", *COMMON],
    "pearl": ["train", "pearl", "--env", "navigation2d-sparse", "--hidden-sizes", "16", "--encoder-sizes", "16",
              "--train-tasks", "6", "--tasks-per-iteration", "2", "--initial-steps", "20", "--steps-prior", "20",
              "--steps-posterior", "40", "--extra-rl-steps-posterior", "20", "--gradient-steps", "4",
              "--meta-batch", "3", "--batch-size", "16", "--embedding-batch-size", "16", "--replay-capacity",
              "500", "--validation-tasks", "3", *COMMON],
}
KILLED_RUNS["pearl-pipeline"] = [*KILLED_RUNS["pearl"], "--pipeline"]  # killed while the collection thread runs
HEADLINE = {"rl2": "trial_return", "varibad": "trial_return", "pearl": "return_posterior"}


def _cli(*args: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "METARL_DEBUG": "1"}
    return subprocess.Popen([sys.executable, "-m", "metarl", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _latest_iteration(run: Path) -> int:
    with (run / "checkpoints" / "latest.json").open() as f:
        import json

        return int(json.load(f)["iteration"])


def _kill_after(proc: subprocess.Popen, run: Path, iteration: int, timeout: float = 120.0) -> None:
    """SIGKILL ``proc`` as soon as the checkpoint of ``iteration`` exists (mid-way through the next)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if _latest_iteration(run) >= iteration:
                break
        except (FileNotFoundError, ValueError, KeyError):
            pass
        if proc.poll() is not None:
            pytest.fail(f"training ended before iteration {iteration}: {proc.stderr.read()[-2000:]}")
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _rows(run: Path) -> list[dict[str, str]]:
    with (run / "metrics.csv").open() as f:
        return [{k: v for k, v in r.items() if not k.startswith(VOLATILE)} for r in csv.DictReader(f)]


def _final_params(run: Path, algorithm: str = "rl2") -> dict[str, torch.Tensor]:
    """Every tensor of the final checkpoint's learner state (weights, optimisers, buffers), by path."""
    data = load_checkpoint(run / "checkpoints" / f"ckpt_{7:06d}.pt", expected_algorithm=algorithm)
    out: dict[str, torch.Tensor] = {}

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, torch.Tensor):
            out[prefix] = value
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}", v)
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                walk(f"{prefix}.{i}", v)

    walk("learner", data["learner"])
    return out


@pytest.mark.parametrize("algorithm", sorted(KILLED_RUNS))
def test_sigkill_at_several_points_then_resume_matches_the_uninterrupted_run(tmp_path, faults, algorithm):
    train, algorithm = KILLED_RUNS[algorithm], KILLED_RUNS[algorithm][1]
    straight = tmp_path / "straight"
    proc = _cli(*train, "--out", str(straight))
    assert proc.wait(timeout=300) == 0, proc.stderr.read()

    killed = tmp_path / "killed"
    proc = _cli(*train, "--out", str(killed))
    for point in (1, 4, 6):
        faults.injected("sigkill")
        _kill_after(proc, killed, point)
        proc = _cli("train", algorithm, "--resume", str(killed), "--quiet")
    assert proc.wait(timeout=300) == 0, proc.stderr.read()

    assert _rows(killed) == _rows(straight)
    assert [int(r["iteration"]) for r in _rows(killed)] == list(range(8))
    a, b = _final_params(straight, algorithm), _final_params(killed, algorithm)
    assert len(a) > 0 and a.keys() == b.keys()
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    assert not list(killed.rglob("*.tmp"))
    tag = HEADLINE[algorithm]
    assert _tensorboard(killed, tag) == _tensorboard(straight, tag)
    for _ in range(3):
        faults.survived("sigkill")


def _last_row(run: Path) -> int:
    try:
        with (run / "metrics.csv").open() as f:
            return max((int(r["iteration"]) for r in csv.DictReader(f)), default=-1)
    except FileNotFoundError:
        return -1


def _signal_after_row(proc: subprocess.Popen, run: Path, iteration: int, signum: int) -> tuple[int, str]:
    """Send ``signum`` once iteration ``iteration`` is logged (mid-way through a later one); returns
    the exit status and stderr."""
    deadline = time.monotonic() + 120.0
    while _last_row(run) < iteration:
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"training ended before iteration {iteration}: {proc.stderr.read()[-2000:]}")
        time.sleep(0.01)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err


def _tensorboard(run: Path, tag: str) -> list[tuple[int, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tb"))
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_sigint_and_sigterm_checkpoint_the_finished_iteration_and_resume_matches_the_uninterrupted_run(tmp_path,
                                                                                                   faults):
    rare = ["--checkpoint-every", "100", "--validate-every", "100"]  # only the signal (and the end) checkpoint
    straight = tmp_path / "straight"
    proc = _cli(*TRAIN, *rare, "--out", str(straight))
    assert proc.wait(timeout=300) == 0, proc.stderr.read()

    run = tmp_path / "stopped"
    proc = _cli(*TRAIN, *rare, "--out", str(run))
    for signum, after, code in ((signal.SIGINT, 1, 130), (signal.SIGTERM, 4, 143)):
        faults.injected(signal.Signals(signum).name)
        status, err = _signal_after_row(proc, run, after, signum)
        stopped_at = _last_row(run)
        assert status == code, err
        assert after <= stopped_at < 7, err
        assert _latest_iteration(run) == stopped_at, err
        assert f"stopped after iteration {stopped_at}" in err
        assert f"resume with: metarl train rl2 --resume {run}" in err
        faults.survived(signal.Signals(signum).name)
        proc = _cli("train", "rl2", "--resume", str(run), "--quiet")
    assert proc.wait(timeout=300) == 0, proc.stderr.read()

    assert _rows(run) == _rows(straight)
    a, b = _final_params(straight), _final_params(run)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    steps = _tensorboard(run, "trial_return")
    assert [s for s, _ in steps] == list(range(8))  # the resumed iterations once each, none left from before
    assert steps == [(s, v) for s, v in _tensorboard(straight, "trial_return")]
