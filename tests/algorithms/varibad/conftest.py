"""VariBAD registered in this process: an install made before its entry point was added to
``pyproject.toml`` does not list it yet (``pip install -e .`` refreshes the entry points)."""

from __future__ import annotations

import pytest

from metarl.algorithms.registry import register_algorithm
from metarl.algorithms.varibad import ALGORITHM


@pytest.fixture(autouse=True)
def _registered() -> None:
    register_algorithm(ALGORITHM)
