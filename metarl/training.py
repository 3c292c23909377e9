"""The one training loop every meta-learner runs in.

Levels of the loop, outermost first: meta-iteration > task batch > adaptation step (MAML) or
trial (RL²) > rollout > episode > step. An algorithm implements ``MetaLearner`` (one
meta-iteration, a validation score, its state); the ``Trainer`` owns everything else: metrics,
checkpoints (latest every ``checkpoint_every`` iterations and at the end, best by validation
score), numerical checks, progress display and resuming.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping
from typing import Any, Protocol

import torch

from metarl.runs import RunDirectory, load_checkpoint


class NumericalError(RuntimeError):
    """A NaN or infinity appeared; training stops and the last good checkpoint stays the latest."""


class MetaLearner(Protocol):
    name: str

    def train_iteration(self, iteration: int) -> dict[str, float]:
        """One meta-iteration; returns its metrics (finite floats)."""
        ...

    def validate(self) -> float:
        """Score on the fixed validation tasks; higher is better."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


HEADLINE_KEYS = ("return_post", "trial_return", "return_pre")


class Progress:
    """A tqdm bar on a terminal; on a pipe or file, one plain line every ``every`` iterations so
    that logs stay readable; nothing with ``quiet``."""

    def __init__(self, *, total: int, initial: int, quiet: bool, every: int = 10) -> None:
        self.quiet, self.every, self.total = quiet, every, total
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc="meta-iterations", dynamic_ncols=True)
        self.start = time.monotonic()
        self.initial = initial

    def update(self, iteration: int, metrics: Mapping[str, float]) -> None:
        shown = {k: f"{metrics[k]:.2f}" for k in HEADLINE_KEYS if k in metrics}
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(shown)
        elif not self.quiet and ((iteration + 1) % self.every == 0 or iteration + 1 == self.total):
            done = iteration + 1 - self.initial
            rate = (time.monotonic() - self.start) / max(done, 1)
            left = rate * (self.total - iteration - 1)
            text = " ".join(f"{k}={v}" for k, v in shown.items())
            print(f"iter {iteration + 1}/{self.total} {text} eta {left:.0f}s", file=sys.stderr, flush=True)

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


class Trainer:
    """Runs ``learner`` for ``iterations`` meta-iterations into ``run``."""

    def __init__(
        self,
        *,
        learner: MetaLearner,
        run: RunDirectory,
        iterations: int,
        env: str,
        validate_every: int = 10,
        checkpoint_every: int = 10,
        quiet: bool = False,
    ) -> None:
        for name, value in (("iterations", iterations), ("validate_every", validate_every),
                            ("checkpoint_every", checkpoint_every)):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self.learner, self.run, self.env = learner, run, env
        self.iterations, self.validate_every, self.checkpoint_every = iterations, validate_every, checkpoint_every
        self.quiet = quiet
        self.start_iteration = 0
        self.best_score = -math.inf

    def resume(self) -> int:
        """Restore the learner from the run's latest checkpoint; returns the next iteration."""
        path = self.run.latest_checkpoint()
        if path is None:
            return 0
        data = load_checkpoint(path, expected_algorithm=self.learner.name, expected_env=self.env)
        self.learner.load_state_dict(data["learner"])
        self.best_score = float(data.get("best_score", -math.inf))
        self.start_iteration = int(data["iteration"]) + 1
        self.run.metrics.truncate_after(int(data["iteration"]))
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
        learner_state = self.learner.state_dict()
        check_state_finite(iteration, learner_state)
        state = {"algorithm": self.learner.name, "env": self.env, "learner": learner_state,
                 "best_score": self.best_score, "config": self.run.config}
        self.run.save_checkpoint(state, iteration=iteration, best=best)

    def run_loop(self) -> dict[str, float]:
        """Train to ``iterations``; returns the last iteration's metrics."""
        progress = Progress(total=self.iterations, initial=self.start_iteration, quiet=self.quiet)
        metrics: dict[str, float] = {}
        try:
            for it in range(self.start_iteration, self.iterations):
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
                self.run.log_metrics(it, metrics)
                if best or last or (it + 1) % self.checkpoint_every == 0:
                    self._checkpoint(it, best)
                progress.update(it, metrics)
        finally:
            progress.close()
        return metrics
