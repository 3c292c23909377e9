"""Errors a user can cause; the CLI prints these as one line (anything else is a bug: traceback)."""

from __future__ import annotations


class UserError(Exception):
    """A problem with what the user asked for (a flag, a name, a run directory), not a bug."""


class ConfigError(UserError, ValueError):
    """A config value, name or flag that is not allowed; the message names it and what is."""
