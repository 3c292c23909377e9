"""PEARL registers through its entry point; a checkout whose installed metadata predates it (an
editable install made before ``pyproject.toml`` named it) gets it registered here."""

from __future__ import annotations

from metarl.algorithms import pearl
from metarl.algorithms.registry import algorithms, register_algorithm

if "pearl" not in algorithms():
    register_algorithm(pearl.ALGORITHM)
