"""The run directory: config, metrics, checkpoints; nothing in it is ever half-written.

Layout of ``RUN/``::

    config.json            the full resolved config (written once, atomically)
    metrics.csv            one row per iteration (rewritten atomically when it changes)
    tb/                    TensorBoard events of the same metrics
    checkpoints/ckpt_000123.pt, latest.json, best.pt

Every file is written to a temporary name in the same directory, flushed, fsynced and renamed over
the target, so a crash at any moment leaves either the old or the new file, never a torn one.
Checkpoints are plain dicts of tensors and Python scalars and load with ``weights_only=True``: an
arbitrary pickle is refused, never executed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

CHECKPOINT_FORMAT = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, corrupt, foreign, or from a newer format."""


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's legacy and torch's global generators (the sampler draws actions from
    torch's). Components with their own ``numpy.random.Generator`` are seeded separately."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file, fsync and rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would hide results from the user's group
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_json(path: Path | str, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def save_torch(path: Path | str, obj: Any) -> None:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(
    path: Path | str, *, expected_algorithm: str | None = None, expected_env: str | None = None
) -> dict[str, Any]:
    """Load and check a checkpoint written by ``RunDirectory.save_checkpoint``.

    Raises ``CheckpointError`` with the reason for a missing, truncated or corrupt file, a file that
    is not a metarl checkpoint (or would need arbitrary code to load), a newer format, or another
    algorithm's or env's checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for truncated / foreign files
        raise CheckpointError(
            f"cannot read checkpoint {path}: it is truncated, corrupt or not a plain-tensor "
            f"checkpoint (only weights_only loading is allowed): {type(err).__name__}: {str(err)[:200]}"
        ) from err
    if not isinstance(data, dict) or "format_version" not in data:
        raise CheckpointError(f"{path} is not a metarl checkpoint (no format_version)")
    version = data["format_version"]
    if not isinstance(version, int) or version > CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} has checkpoint format {version!r}; this metarl reads formats <= {CHECKPOINT_FORMAT}"
        )
    if expected_algorithm is not None and data.get("algorithm") != expected_algorithm:
        raise CheckpointError(
            f"{path} is a {data.get('algorithm')!r} checkpoint, expected {expected_algorithm!r}"
        )
    if expected_env is not None and data.get("env") != expected_env:
        raise CheckpointError(f"{path} is a checkpoint for env {data.get('env')!r}, expected {expected_env!r}")
    return data


class MetricsLog:
    """``metrics.csv``: one row per iteration, columns the union of all keys seen, in first-seen order.

    Rows are kept in memory and the whole file is rewritten atomically on every ``append``: at a few
    thousand rows this costs milliseconds and can never leave a torn line.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        self.columns: list[str] = ["iteration"]
        if path.is_file():
            with path.open(newline="") as f:
                reader = csv.DictReader(f)
                self.columns = list(reader.fieldnames or ["iteration"])
                self.rows = [{k: v for k, v in row.items() if v != ""} for row in reader]

    def append(self, iteration: int, metrics: Mapping[str, float]) -> None:
        row = {"iteration": iteration, **metrics}
        self.columns += [k for k in row if k not in self.columns]
        self.rows.append(row)
        self._write()

    def truncate_after(self, iteration: int) -> None:
        """Drop rows of iterations after ``iteration`` (the ones a resumed run will redo)."""
        self.rows = [r for r in self.rows if int(r["iteration"]) <= iteration]
        self._write()

    def _write(self) -> None:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_bytes(self.path, out.getvalue().encode())


class RunDirectory:
    """One training run on disk. ``resume=False`` refuses a directory that already holds a run."""

    def __init__(self, *, path: Path | str, config: Mapping[str, Any] | None = None, resume: bool = False,
                 keep_checkpoints: int = 3, tensorboard: bool = True) -> None:
        self.path = Path(path)
        self.keep_checkpoints = keep_checkpoints
        config_path = self.path / "config.json"
        if resume:
            if not config_path.is_file():
                raise FileNotFoundError(f"cannot resume {self.path}: it holds no run (no config.json)")
            self.config = json.loads(config_path.read_text())
        else:
            if config_path.exists():
                raise FileExistsError(
                    f"{self.path} already holds a run; choose another --out, or continue it with --resume"
                )
            if config is None:
                raise ValueError("a new run needs its config")
            self.config = dict(config)
            write_json(config_path, self.config)
        self.checkpoint_dir = self.path / "checkpoints"
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        self.metrics = MetricsLog(self.path / "metrics.csv")
        self._tb = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(log_dir=str(self.path / "tb"))

    def update_config(self, **changes: Any) -> None:
        """Rewrite ``config.json`` with ``changes`` (a resumed run's extended ``iterations``), atomically."""
        self.config = {**self.config, **changes}
        write_json(self.path / "config.json", self.config)

    def log_metrics(self, iteration: int, metrics: Mapping[str, float]) -> None:
        self.metrics.append(iteration, metrics)
        if self._tb is not None:
            for key, value in metrics.items():
                if isinstance(value, int | float) and math.isfinite(value):
                    self._tb.add_scalar(key, value, iteration)
            self._tb.flush()

    def save_checkpoint(self, state: Mapping[str, Any], *, iteration: int, best: bool = False) -> Path:
        """Write ``state`` (plus format version and iteration) as the latest checkpoint, and as
        ``best.pt`` too when ``best``; keep the newest ``keep_checkpoints`` numbered files."""
        envelope = {**state, "format_version": CHECKPOINT_FORMAT, "iteration": iteration}
        path = self.checkpoint_dir / f"ckpt_{iteration:06d}.pt"
        save_torch(path, envelope)
        write_json(self.checkpoint_dir / "latest.json", {"file": path.name, "iteration": iteration})
        if best:
            save_torch(self.checkpoint_dir / "best.pt", envelope)
        for old in sorted(self.checkpoint_dir.glob("ckpt_*.pt"))[: -self.keep_checkpoints]:
            old.unlink()
        return path

    def latest_checkpoint(self) -> Path | None:
        pointer = self.checkpoint_dir / "latest.json"
        if not pointer.is_file():
            return None
        return self.checkpoint_dir / json.loads(pointer.read_text())["file"]

    def best_checkpoint(self) -> Path | None:
        path = self.checkpoint_dir / "best.pt"
        return path if path.is_file() else None

    def write_json(self, name: str, obj: Any) -> Path:
        path = self.path / name
        write_json(path, obj)
        return path

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None
