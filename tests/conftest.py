"""Shared fixtures. ``faults`` counts the faults reliability tests inject and survive, and the run
ends with one summary line of them."""

from __future__ import annotations

from collections import Counter

import pytest

_INJECTED: Counter[str] = Counter()
_SURVIVED: Counter[str] = Counter()


class FaultLog:
    def injected(self, kind: str) -> None:
        _INJECTED[kind] += 1

    def survived(self, kind: str) -> None:
        _SURVIVED[kind] += 1


@pytest.fixture
def faults() -> FaultLog:
    return FaultLog()


def pytest_terminal_summary(terminalreporter) -> None:
    if _INJECTED:
        kinds = ", ".join(f"{k} {_SURVIVED[k]}/{n}" for k, n in sorted(_INJECTED.items()))
        total_in, total_ok = sum(_INJECTED.values()), sum(_SURVIVED.values())
        terminalreporter.write_line(f"faults injected: {total_in}, survived: {total_ok} ({kinds})")


def pytest_configure(config) -> None:
    # One thread per process: on a 2-core CI machine torch's default of 2 threads oversubscribes
    # the cores as soon as anything else runs, and small matmuls are faster on one thread anyway.
    import torch

    torch.set_num_threads(1)
