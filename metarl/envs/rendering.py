"""Gymnasium's own renderers, headless: the physics families draw their frames with them.

``gymnasium_renderer(env_id)`` opens ``gymnasium.make(env_id, render_mode="rgb_array")`` with SDL's
dummy video driver (no display needed), yields the unwrapped env, whose state the family sets
before each ``render()``, and closes it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import gymnasium as gym

from metarl.errors import MissingExtraError


@contextlib.contextmanager
def gymnasium_renderer(env_id: str) -> Iterator[gym.Env]:
    """The unwrapped ``env_id`` in ``rgb_array`` mode, reset once (so every attribute exists), with
    ``SDL_VIDEODRIVER=dummy`` while it is open unless the user chose a driver."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        import pygame  # noqa: F401  (Gymnasium imports it only when rendering)
    except ImportError as err:
        raise MissingExtraError(
            "rendering needs pygame; install it with: pip install 'gymnasium[classic-control]'", name=err.name
        ) from err
    driver = os.environ.get("SDL_VIDEODRIVER")
    os.environ["SDL_VIDEODRIVER"] = driver or "dummy"
    env = gym.make(env_id, render_mode="rgb_array").unwrapped
    try:
        env.reset(seed=0)
        yield env
    finally:
        env.close()
        if driver is None:
            os.environ.pop("SDL_VIDEODRIVER", None)
