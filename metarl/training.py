"""The one training loop every meta-learner runs in.

Levels of the loop, outermost first: meta-iteration > task batch > adaptation step (MAML) or
trial (RL²) > rollout > episode > step. An algorithm implements ``MetaLearner`` (one
meta-iteration, a validation score, its state); the ``Trainer`` owns everything else: metrics,
checkpoints (latest every ``checkpoint_every`` iterations and at the end, best by validation
score), numerical checks, progress display, stopping cleanly on SIGINT / SIGTERM, and resuming.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

import torch

from metarl.runs import RunDirectory
from metarl.tasks import check_count


class NumericalError(RuntimeError):
    """A NaN or infinity appeared; training stops and the last good checkpoint stays the latest."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGINT or SIGTERM. A ``KeyboardInterrupt`` so that code catching Ctrl-C
    catches it, and only code that means to.

    ``iteration``: the last finished iteration, ``checkpoint``: where it was saved (``None`` when
    nothing was written: no run directory, or the second signal abandoned the iteration under way),
    ``run``: the run directory (``None`` without one), ``exit_code``: 128 + the signal number, the
    status a shell reports for a process killed by that signal (130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, message: str, *, signum: int, iteration: int | None, checkpoint: Path | None,
                 run: Path | None, algorithm: str | None) -> None:
        super().__init__(message)
        self.signum, self.iteration, self.checkpoint = signum, iteration, checkpoint
        self.run, self.algorithm = run, algorithm

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class MetaLearner(Protocol):
    """What the ``Trainer`` drives. A learner may also declare ``headline_metrics``, a class
    attribute ``tuple[str, ...]`` naming the metrics the progress display shows (default: none)."""

    name: str

    def train_iteration(self, iteration: int) -> dict[str, float]:
        """One meta-iteration; returns its metrics (finite floats)."""
        ...

    def validate(self) -> float:
        """Score on the fixed validation tasks; higher is better."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


class Progress:
    """A tqdm bar on a terminal; on a pipe or file, one plain line every ``every`` iterations so
    that logs stay readable; nothing with ``quiet``. Shows the metrics named in ``keys``."""

    def __init__(self, *, total: int, initial: int, quiet: bool, keys: Sequence[str] = (), every: int = 10,
                 desc: str = "meta-iterations") -> None:
        self.quiet, self.every, self.total, self.keys, self.desc = quiet, every, total, tuple(keys), desc
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, dynamic_ncols=True)
        self.start = time.monotonic()
        self.initial = initial

    def update(self, iteration: int, metrics: Mapping[str, float]) -> None:
        shown = {k: f"{metrics[k]:.2f}" for k in self.keys if k in metrics}
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(shown)
        elif not self.quiet and ((iteration + 1) % self.every == 0 or iteration + 1 == self.total):
            done = iteration + 1 - self.initial
            rate = (time.monotonic() - self.start) / max(done, 1)
            left = rate * (self.total - iteration - 1)
            label = "" if self.desc == "meta-iterations" else f"{self.desc}: "
            parts = [f"{label}iter {iteration + 1}/{self.total}", *(f"{k}={v}" for k, v in shown.items()),
                     f"eta {left:.0f}s"]
            print(" ".join(parts), file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def check_finite(iteration: int, metrics: Mapping[str, float]) -> None:
    for key, value in metrics.items():
        if isinstance(value, int | float) and not math.isfinite(value):
            raise NumericalError(f"iteration {iteration}: {key} is {value}; training stopped")


def check_state_finite(iteration: int, state: Any, prefix: str = "") -> None:
    """Refuse to checkpoint a learner whose parameters (or optimizer moments) hold a NaN or infinity."""
    if isinstance(state, torch.Tensor):
        if state.is_floating_point() and not bool(torch.isfinite(state).all()):
            raise NumericalError(f"iteration {iteration}: {prefix} contains NaN or infinity; training stopped")
    elif isinstance(state, Mapping):
        for key, value in state.items():
            check_state_finite(iteration, value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(state, list | tuple):
        for i, value in enumerate(state):
            check_state_finite(iteration, value, f"{prefix}[{i}]")


class StopSignals:
    """While active (a ``with`` block in the main thread), the first SIGINT or SIGTERM only sets
    ``received``: the loop finishes its iteration and stops at a clean point. A second one calls
    ``abandon`` (which raises) at once. Elsewhere (a worker thread) signals keep their handlers."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, abandon: Any) -> None:
        self.received: int | None = None
        self._abandon = abandon
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            self._abandon(signum)
        self.received = signum
        with contextlib.suppress(RuntimeError):  # stderr busy in the interrupted frame: skip the note
            print(f"metarl: {signal.Signals(signum).name} received: finishing this iteration and writing a "
                  "checkpoint (send it again to stop at once)", file=sys.stderr, flush=True)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


class Trainer:
    """Runs ``learner`` for ``iterations`` meta-iterations into ``run``.

    ``run=None`` trains without a directory: nothing is written and nothing can be resumed (the
    Python API's in-memory training). ``env`` is stored in checkpoints and checked on resume.
    """

    def __init__(
        self,
        *,
        learner: MetaLearner,
        run: RunDirectory | None,
        iterations: int,
        env: str | None = None,
        validate_every: int = 10,
        checkpoint_every: int = 10,
        quiet: bool = False,
    ) -> None:
        for name, value in (("iterations", iterations), ("validate_every", validate_every),
                            ("checkpoint_every", checkpoint_every)):
            check_count(name, value)
        self.learner, self.run, self.env = learner, run, env
        self.iterations, self.validate_every, self.checkpoint_every = iterations, validate_every, checkpoint_every
        self.quiet = quiet
        self.start_iteration = 0
        self.best_score = -math.inf
        self._checkpointed: tuple[int, Path] | None = None  # the newest checkpoint on disk: (iteration, file)

    def resume(self) -> int:
        """Restore the learner from the run's newest readable checkpoint (an unreadable newer one
        is skipped with a warning) and forget the metrics logged after it; returns the next iteration."""
        if self.run is None:
            raise ValueError("resume() needs a run directory; this Trainer was made with run=None")
        found = self.run.load_latest_checkpoint(expected_algorithm=self.learner.name, expected_env=self.env)
        if found is None:  # killed before its first checkpoint: start over
            self.run.rewind(-1)
            self.start_iteration = 0
            return 0
        path, data = found
        self.learner.load_state_dict(data["learner"])
        self.best_score = float(data.get("best_score", -math.inf))
        iteration = int(data["iteration"])
        self.start_iteration = iteration + 1
        self._checkpointed = (iteration, path)
        self.run.rewind(iteration)
        return self.start_iteration

    def _train_iteration(self, iteration: int) -> dict[str, float]:
        """One iteration; an error raised because a NaN reached the learner's weights mid-update
        (torch's distributions refuse NaN logits, say) is reported as the numerical fault it is."""
        try:
            return dict(self.learner.train_iteration(iteration))
        except (ValueError, RuntimeError) as err:
            try:
                check_state_finite(iteration, self.learner.state_dict())
            except NumericalError as fault:
                raise fault from err
            raise

    def _checkpoint(self, iteration: int, best: bool) -> None:
        if self.run is None:
            return
        learner_state = self.learner.state_dict()
        check_state_finite(iteration, learner_state)
        state = {"algorithm": self.learner.name, "env": self.env, "learner": learner_state,
                 "best_score": self.best_score, "config": self.run.config}
        self._checkpointed = (iteration, self.run.save_checkpoint(state, iteration=iteration, best=best))

    def _step(self, it: int) -> dict[str, float]:
        """Iteration ``it``: train, validate when due, log, checkpoint when due."""
        started = time.perf_counter()
        metrics = self._train_iteration(it)
        check_finite(it, metrics)
        last = it + 1 == self.iterations
        best = False
        if (it + 1) % self.validate_every == 0 or last:
            score = float(self.learner.validate())
            check_finite(it, {"validation_score": score})
            metrics["validation_score"] = score
            best = score > self.best_score
            self.best_score = max(self.best_score, score)
        metrics["time_iteration"] = time.perf_counter() - started
        if self.run is not None:
            self.run.log_metrics(it, metrics)
        if best or last or (it + 1) % self.checkpoint_every == 0:
            self._checkpoint(it, best)
        return metrics

    def _interrupted(self, signum: int, finished: int, *, abandoned: bool = False) -> TrainingInterrupted:
        """The exception to stop with after iteration ``finished`` (checkpointed here unless
        ``abandoned``: the learner is then mid-iteration and the run keeps its newest checkpoint)."""
        name = signal.Signals(signum).name
        if not abandoned and finished >= 0 and (self._checkpointed is None or self._checkpointed[0] != finished):
            self._checkpoint(finished, best=False)
        saved = self._checkpointed
        if self.run is None:
            where = "nothing was saved (no run directory)"
        elif saved is None:
            where = f"{self.run.path} has no checkpoint yet"
        else:
            where = f"checkpoint of iteration {saved[0]}: {saved[1]}"
        what = f"abandoned iteration {finished + 1}" if abandoned else f"stopped after iteration {finished}"
        return TrainingInterrupted(
            f"{name}: {what}; {where}", signum=signum, iteration=saved[0] if saved else None,
            checkpoint=saved[1] if saved else None, run=self.run.path if self.run else None,
            algorithm=self.run.config.get("algorithm", self.learner.name) if self.run else self.learner.name,
        )

    def run_loop(self) -> dict[str, float]:
        """Train to ``iterations``; returns the last iteration's metrics.

        On SIGINT / SIGTERM (main thread only) the iteration under way is finished and checkpointed,
        then ``TrainingInterrupted`` is raised; a second signal raises it at once, abandoning the
        iteration. A signal during the last iteration lets the run complete.
        """
        progress = Progress(total=self.iterations, initial=self.start_iteration, quiet=self.quiet,
                            keys=getattr(self.learner, "headline_metrics", ()))
        metrics: dict[str, float] = {}
        current = self.start_iteration

        def abandon(signum: int) -> None:
            raise self._interrupted(signum, current - 1, abandoned=True)

        try:
            with StopSignals(abandon) as stop:
                for it in range(self.start_iteration, self.iterations):
                    if stop.received is not None:
                        raise self._interrupted(stop.received, it - 1)
                    current = it
                    metrics = self._step(it)
                    progress.update(it, metrics)
                    if stop.received is not None and it + 1 < self.iterations:
                        raise self._interrupted(stop.received, it)
        finally:
            progress.close()
        return metrics
