"""The errors a user can cause, as opposed to bugs.

The CLI prints a ``UserError`` as one line (``metarl: error: ...``) and exits with status 2; any
other exception is a bug and gets its full traceback. So raise a ``UserError`` subclass exactly
where a value the user chose (a flag, a config field, a path, a missing optional package) is
refused, with a message naming the value and what is allowed, and let everything else propagate.

Each class also subclasses the builtin a caller would have caught before (``ValueError``,
``FileExistsError``, ``ImportError``, ...), so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user caused and can fix; its message alone says what and how."""


class ConfigError(UserError, ValueError):
    """A bad config or flag value: out of range, unknown name, inconsistent with another field."""


class ConfigTypeError(ConfigError, TypeError):
    """A config or flag value of the wrong type (a float where a count is needed)."""


class RunDirectoryError(UserError, OSError):
    """A run directory that cannot be used: missing, already holding a run, in use, unwritable."""


class RunExistsError(RunDirectoryError, FileExistsError):
    """A new run was asked for in a directory that already holds one."""


class RunNotFoundError(RunDirectoryError, FileNotFoundError):
    """A run was asked for (to resume, evaluate, report) where there is none."""


class RunInUseError(RunDirectoryError):
    """Another process holds the run directory's lock: it is training or resuming that run."""


class CheckpointError(UserError, ValueError):
    """A checkpoint that cannot be used: missing, corrupt, foreign, or from a newer format."""


class UnreadableCheckpointError(CheckpointError):
    """A checkpoint file that cannot be read at all (missing, truncated, corrupt, not plain tensors);
    resuming falls back to an older one, unlike a foreign or newer-format checkpoint."""


class MissingExtraError(UserError, ImportError):
    """An optional dependency is not installed; the message names the ``pip install 'metarl[extra]'``.

    Raise it where an optional package is imported on behalf of a user's choice (an env family
    needing MuJoCo, the Ray backend), never for a package metarl itself requires.
    """


class NoRendererError(UserError, NotImplementedError):
    """A family that cannot draw its observations was asked for frames (``render_frames``)."""
