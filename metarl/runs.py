"""The run directory: config, metrics, checkpoints; nothing in it is ever half-written.

Layout of ``RUN/``::

    config.json            the full resolved config (written once, atomically)
    metrics.csv            one row per iteration (rewritten atomically when it changes)
    tb/                    TensorBoard events of the same metrics
    checkpoints/ckpt_000123.pt, latest.json, best.pt
    .lock                  held (flock) by the one process using the run; holds its PID

Every file is written to a temporary name in the same directory, flushed, fsynced and renamed over
the target, so a crash at any moment leaves either the old or the new file, never a torn one.
Checkpoints are plain dicts of tensors and Python scalars and load with ``weights_only=True``: an
arbitrary pickle is refused, never executed.
"""

from __future__ import annotations

import csv
import errno
import fcntl
import io
import json
import math
import os
import random
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from metarl.errors import (
    CheckpointError,
    RunDirectoryError,
    RunExistsError,
    RunInUseError,
    RunNotFoundError,
    UnreadableCheckpointError,
)

__all__ = [
    "CHECKPOINT_FORMAT", "CheckpointError", "CheckpointFallbackWarning", "MetricsLog", "RunDirectory",
    "UnreadableCheckpointError", "atomic_write_bytes", "load_checkpoint", "read_run_config", "save_torch",
    "seed_everything", "write_json",
]

CHECKPOINT_FORMAT = 1


class CheckpointFallbackWarning(UserWarning):
    """Resuming skipped an unreadable checkpoint and used an older one."""


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


def _unreadable_detail(err: BaseException) -> str:
    """What torch said about a file it could not load, without its advice to retry with
    ``weights_only=False``: that would execute whatever the file holds."""
    text = str(err)
    if "WeightsUnpickler error:" in text:
        text = text.partition("WeightsUnpickler error:")[2]
    elif "Weights only load failed" in text:
        text = ""
    first = next((line.strip() for line in text.split("\n") if line.strip()), "").split(". ")[0][:200]
    return f"{type(err).__name__}: {first}" if first and "weights_only" not in first else type(err).__name__


def load_checkpoint(
    path: Path | str, *, expected_algorithm: str | None = None, expected_env: str | None = None
) -> dict[str, Any]:
    """Load and check a checkpoint written by ``RunDirectory.save_checkpoint``.

    Raises ``UnreadableCheckpointError`` (a ``CheckpointError``) with the reason for a missing,
    truncated or corrupt file or one that is not a metarl checkpoint (or would need arbitrary code
    to load), and ``CheckpointError`` for a newer format or another algorithm's or env's checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise UnreadableCheckpointError(f"no checkpoint at {path}")
    try:
        with warnings.catch_warnings():  # torch's note on the pickle protocol of a foreign file
            warnings.simplefilter("ignore", UserWarning)
            data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for truncated / foreign files
        raise UnreadableCheckpointError(
            f"cannot read checkpoint {path}: it is truncated, corrupt or not a plain-tensor checkpoint (metarl "
            f"loads tensors and plain Python values only, never arbitrary objects): {_unreadable_detail(err)}"
        ) from err
    if not isinstance(data, dict) or "format_version" not in data:
        raise UnreadableCheckpointError(f"{path} is not a metarl checkpoint (no format_version)")
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


def read_run_config(path: Path | str) -> dict[str, Any]:
    """``RUN/config.json`` of an existing run; ``RunNotFoundError`` naming ``path`` if there is none."""
    config_path = Path(path) / "config.json"
    if not config_path.is_file():
        raise RunNotFoundError(f"{path} is not a metarl run (no config.json)")
    try:
        config = json.loads(config_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunDirectoryError(f"cannot read {config_path}: {err}") from err
    if not isinstance(config, dict):
        raise RunDirectoryError(f"{config_path} does not hold a run config (a JSON object)")
    return config


class MetricsLog:
    """``metrics.csv``: one row per iteration, columns the union of all keys seen, in first-seen order.

    A row whose keys the header already has is appended as one line (one ``write`` of the whole
    line, flushed and fsynced), so a long run costs the same per iteration at its end as at its
    start; a row with a new key rewrites the file atomically under the wider header (rare: the
    first iterations, the first validation). A kill can at worst leave the last line unfinished;
    reading the log drops such a line, and resuming truncates to the checkpoint anyway.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        self.columns: list[str] = ["iteration"]
        if path.is_file():
            text = path.read_text()
            torn = bool(text) and not text.endswith("\n")
            lines = text.splitlines(keepends=True)
            if torn:
                lines = lines[:-1]  # a line cut short by a kill mid-write
            reader = csv.DictReader(io.StringIO("".join(lines)))
            self.columns = list(reader.fieldnames or ["iteration"])
            self.rows = [{k: v for k, v in row.items() if v != ""} for row in reader]
            if torn:
                self._write()

    def append(self, iteration: int, metrics: Mapping[str, float]) -> None:
        row = {"iteration": iteration, **metrics}
        new = [k for k in row if k not in self.columns]
        self.rows.append(row)
        if new or not self.path.is_file():
            self.columns += new
            self._write()
            return
        line = io.StringIO()
        csv.DictWriter(line, fieldnames=self.columns, lineterminator="\n").writerow(row)
        with self.path.open("a", newline="") as f:
            f.write(line.getvalue())
            f.flush()
            os.fsync(f.fileno())

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


class RunLock:
    """An exclusive ``flock`` on ``RUN/.lock`` for as long as one process uses the run, so that a
    second ``--resume`` (or a new run into the same ``--out``) cannot write under a live one.

    The kernel drops the lock when the holder dies, however it dies: a stale ``.lock`` file is
    harmless and never removed (removing it would let two processes lock two different files).
    """

    def __init__(self, run_path: Path) -> None:
        self.path = run_path / ".lock"
        self._fd: int | None = None
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        except OSError as err:
            raise RunDirectoryError(f"cannot lock run {run_path}: {err.strerror or err} ({self.path})") from err
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 32, 0).decode(errors="replace").strip()
            self.release()
            if holder == str(os.getpid()):
                raise RunInUseError(f"run {run_path} is already open in this process (a RunDirectory of it "
                                    "was not closed); close it first") from None
            pid = f" (PID {holder})" if holder.isdigit() else ""
            raise RunInUseError(
                f"run {run_path} is in use by another process{pid}: it is training or resuming this run; wait "
                "for it to finish or stop it first (two writers would overwrite each other's checkpoints and metrics)"
            ) from None
        except OSError as err:
            if err.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL):
                self.release()
                raise
            warnings.warn(f"{run_path}: this filesystem cannot lock files ({err.strerror}); nothing stops a "
                          "second process from writing into this run", stacklevel=3)
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __del__(self) -> None:  # a RunDirectory dropped without close() frees its run too
        self.release()


class RunDirectory:
    """One training run on disk, locked against other processes until ``close()`` (or the ``with``
    block's end). ``resume=False`` refuses a directory that already holds a run."""

    def __init__(self, *, path: Path | str, config: Mapping[str, Any] | None = None, resume: bool = False,
                 keep_checkpoints: int = 3, tensorboard: bool = True) -> None:
        self.path = Path(path)
        self.keep_checkpoints = keep_checkpoints
        self._tensorboard, self._tb, self._purge_step = tensorboard, None, None
        self._lock: RunLock | None = None
        if resume:
            read_run_config(self.path)  # a missing run is named before anything is created in it
        elif config is None:
            raise ValueError("a new run needs its config")
        else:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise RunDirectoryError(f"cannot create run directory {self.path}: {err.strerror or err}") from err
        self._lock = RunLock(self.path)
        try:
            self._open(config, resume)
        except BaseException:
            self.close()
            raise

    def _open(self, config: Mapping[str, Any] | None, resume: bool) -> None:
        if resume:
            self.config = read_run_config(self.path)
        else:
            if (self.path / "config.json").exists():
                raise RunExistsError(
                    f"{self.path} already holds a run; choose another --out, or continue it with --resume"
                )
            self.config = dict(config or {})
            write_json(self.path / "config.json", self.config)
        self.checkpoint_dir = self.path / "checkpoints"
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        self.metrics = MetricsLog(self.path / "metrics.csv")

    def __enter__(self) -> RunDirectory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _writer(self) -> Any:
        """The TensorBoard writer, opened on first use so that a resumed run opens it with the
        ``purge_step`` of ``rewind``: TensorBoard then hides the killed process's later steps."""
        if self._tb is None and self._tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(log_dir=str(self.path / "tb"), purge_step=self._purge_step)
        return self._tb

    def rewind(self, iteration: int) -> None:
        """Forget what was logged after ``iteration`` (``-1``: everything), the iterations a resumed
        run redoes: their metrics rows are dropped, and their TensorBoard events purged."""
        self.metrics.truncate_after(iteration)
        self._purge_step = iteration + 1
        if self._tb is not None:
            self._tb.close()
            self._tb = None

    def update_config(self, **changes: Any) -> None:
        """Rewrite ``config.json`` with ``changes`` (a resumed run's extended ``iterations``), atomically."""
        self.config = {**self.config, **changes}
        write_json(self.path / "config.json", self.config)

    def log_metrics(self, iteration: int, metrics: Mapping[str, float]) -> None:
        self.metrics.append(iteration, metrics)
        tb = self._writer()
        if tb is not None:
            for key, value in metrics.items():
                if isinstance(value, int | float) and math.isfinite(value):
                    tb.add_scalar(key, value, iteration)
            tb.flush()

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

    def _resume_candidates(self) -> tuple[list[Path], list[str]]:
        """Checkpoints to resume from, newest first: the one ``latest.json`` names, then the older
        numbered ones; and the problems met on the way (an unreadable pointer)."""
        numbered = sorted(self.checkpoint_dir.glob("ckpt_*.pt"), reverse=True)
        try:
            latest = self.latest_checkpoint()
        except (OSError, ValueError, KeyError, TypeError) as err:
            return numbered, [f"{self.checkpoint_dir / 'latest.json'}: unreadable ({type(err).__name__}: {err})"]
        if latest is None:
            return numbered, []
        return [latest, *(p for p in numbered if p.name < latest.name)], []

    def load_latest_checkpoint(
        self, *, expected_algorithm: str | None = None, expected_env: str | None = None
    ) -> tuple[Path, dict[str, Any]] | None:
        """The newest readable checkpoint and its content, ``None`` if the run has none yet.

        An unreadable (truncated, corrupt) newer one is skipped with a ``CheckpointFallbackWarning``
        naming it and why; a foreign or newer-format one is an error. ``CheckpointError`` naming
        every file and its problem when checkpoints exist but none is readable.
        """
        candidates, skipped = self._resume_candidates()
        for path in candidates:
            try:
                data = load_checkpoint(path, expected_algorithm=expected_algorithm, expected_env=expected_env)
            except UnreadableCheckpointError as err:
                skipped.append(str(err))
                continue
            if skipped:
                warnings.warn(f"resuming {self.path} from {path.name}, skipping newer unreadable checkpoints: "
                              + "; ".join(skipped), CheckpointFallbackWarning, stacklevel=2)
            return path, data
        if skipped:
            raise CheckpointError(f"cannot resume {self.path}: no readable checkpoint: " + "; ".join(skipped))
        return None

    def best_checkpoint(self) -> Path | None:
        path = self.checkpoint_dir / "best.pt"
        return path if path.is_file() else None

    def write_json(self, name: str, obj: Any) -> Path:
        path = self.path / name
        write_json(path, obj)
        return path

    def close(self) -> None:
        """Flush TensorBoard and release the run for other processes; idempotent."""
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None
