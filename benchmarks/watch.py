"""Run ``metarl train`` as a user does (a child process of the real CLI) and watch it from outside.

The parent polls the run's ``metrics.csv`` (rewritten atomically once per iteration, so every read
sees whole rows) and the child's ``/proc/<pid>/statm``: the wall-clock moment each iteration's row
appears, and the child's resident memory then. Nothing is added to the training process, so what
is measured is ``metarl train``'s own code path: validation, checkpoints, metrics and TensorBoard
logging included. This module imports neither torch nor metarl, so that forking the child copies
a small parent (its ``ru_maxrss`` then is the child's own).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Watched:
    """What one ``metarl train`` process did, seen from outside.

    ``row_seconds[i]``: seconds from the child's start to the moment row ``i`` (iteration ``i``)
    was first seen in ``metrics.csv`` (within one poll interval). ``rss``: ``(rows logged, RSS
    MiB)`` samples, one each time new rows appeared. ``rows``: the run's final ``metrics.csv``.
    """

    command: tuple[str, ...]
    wall_s: float
    row_seconds: tuple[float, ...]
    rss: tuple[tuple[int, float], ...]
    peak_rss_mib: float
    rows: tuple[dict[str, str], ...]
    config: dict
    stderr: str


def train_command(algorithm: str, env: str, out: Path, iterations: int, flags: Sequence[str] = ()) -> list[str]:
    """The command line a user types, run by this interpreter from the checkout's root."""
    return [sys.executable, "-m", "metarl", "train", algorithm, "--env", env, "--out", str(out),
            "--iterations", str(iterations), *flags]


def child_env(threads: int | None) -> dict[str, str]:
    """This process's environment with the checkout first on the path; ``threads`` sets torch's
    intra-op thread count through ``OMP_NUM_THREADS`` (``None``: torch's default, as ``metarl train``)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    if threads is not None:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    return env


def torch_threads(env: Mapping[str, str]) -> int:
    """The intra-op thread count a fresh process with ``env`` gets (asked of one, not of this process)."""
    out = subprocess.run([sys.executable, "-c", "import torch; print(torch.get_num_threads())"], env=dict(env),
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def _rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE / 2**20
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def _count_rows(path: Path) -> int | None:
    try:
        return max(path.read_bytes().count(b"\n") - 1, 0)
    except FileNotFoundError:
        return None


def _ident(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def watch_train(command: Sequence[str], *, out: Path, env: Mapping[str, str], poll_s: float = 0.01,
                timeout_s: float | None = None) -> Watched:
    """Run ``command`` (a ``metarl train ... --out out``) to its end, watching ``out/metrics.csv``.

    Raises ``RuntimeError`` with the child's stderr if it fails or outlives ``timeout_s``."""
    metrics = out / "metrics.csv"
    row_seconds: list[float] = []
    rss: list[tuple[int, float]] = []
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(list(command), stdout=stdout, stderr=stderr, env=dict(env), cwd=ROOT)
        seen, status, usage = None, None, None
        while status is None:
            pid, raw, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status, usage = os.waitstatus_to_exitcode(raw), ru
            now = time.perf_counter() - start
            ident = _ident(metrics)
            if ident is not None and ident != seen:
                seen, rows = ident, _count_rows(metrics)
                if rows is not None and rows > len(row_seconds):
                    row_seconds += [now] * (rows - len(row_seconds))
                    mib = _rss_mib(proc.pid) if status is None else None
                    if mib is not None:
                        rss.append((rows, mib))
            if status is None:
                if timeout_s is not None and now > timeout_s:
                    proc.kill()
                    proc.wait()
                    raise RuntimeError(f"{' '.join(command)} ran past {timeout_s} s")
                time.sleep(poll_s)
        wall = time.perf_counter() - start
        proc.returncode = status
        stderr.seek(0)
        err = stderr.read().decode(errors="replace")
    if status != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {status}:\n{err[-2000:]}")
    with metrics.open(newline="") as f:
        rows_read = tuple(csv.DictReader(f))
    config = json.loads((out / "config.json").read_text())
    peak = max([usage.ru_maxrss / 1024, *(m for _, m in rss)])
    return Watched(command=tuple(command), wall_s=wall, row_seconds=tuple(row_seconds), rss=tuple(rss),
                   peak_rss_mib=peak, rows=rows_read, config=config, stderr=err)
