"""MuJoCo's warnings as Python warnings while metarl builds sub-environments.

MuJoCo's C library prints each warning to stderr every time it occurs. Building a batch of
sub-environments compiles one model each, so a deprecation in a model file (Gymnasium's
``half_cheetah.xml`` uses ``settotalmass``, deprecated in MuJoCo 4) printed hundreds of identical
lines into every log. Routed through ``warnings.warn``, Python's filters apply: shown once per
process by default, silenced or turned into errors like any other warning.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import warnings
from collections.abc import Iterator


class MujocoWarning(UserWarning):
    """A warning MuJoCo's C library raised (the text is MuJoCo's)."""


def _warn(message: str) -> None:
    try:
        warnings.warn(f"MuJoCo: {message}", MujocoWarning, stacklevel=2)
    except Exception:  # a filter set to "error" must not raise through MuJoCo's C callback
        print(f"MuJoCo: {message}", file=sys.stderr)


@contextlib.contextmanager
def mujoco_warnings_as_python() -> Iterator[None]:
    """Route MuJoCo's warnings to ``warnings.warn`` inside the block, where MuJoCo is installed and no
    handler of the user's is set; the previous (C default) handler is restored after."""
    mujoco = sys.modules.get("mujoco")
    if mujoco is None and importlib.util.find_spec("mujoco") is not None:
        mujoco = importlib.import_module("mujoco")
    if mujoco is None or mujoco.get_mju_user_warning() is not None:
        yield
        return
    mujoco.set_mju_user_warning(_warn)
    try:
        yield
    finally:
        mujoco.set_mju_user_warning(None)


__all__ = ["MujocoWarning", "mujoco_warnings_as_python"]
