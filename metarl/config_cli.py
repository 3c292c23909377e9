"""Dataclass configs as command-line flags.

Every field of a config dataclass becomes ``--field-name``, its help text taken from
``field(metadata={"help": ...})``. Flags default to "not given" so that a preset supplies the
value unless the user overrides it; ``overrides_from_args`` returns only what was given.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _base_type(tp: Any) -> Any:
    """``X | None`` -> X."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def add_config_arguments(parser: argparse.ArgumentParser, config_type: type, *, skip: tuple[str, ...] = ()) -> None:
    """Add one flag per field of ``config_type`` (except ``skip``) to ``parser``."""
    hints = typing.get_type_hints(config_type)
    group = parser.add_argument_group(f"{config_type.__name__} (defaults come from the env's preset)")
    for field in dataclasses.fields(config_type):
        if field.name in skip or not field.init:
            continue
        tp = _base_type(hints[field.name])
        kwargs: dict[str, Any] = {"dest": field.name, "default": argparse.SUPPRESS,
                                  "help": field.metadata.get("help", "")}
        default = field.default if field.default is not dataclasses.MISSING else None
        if default is not None and not callable(default):
            kwargs["help"] += f" (base default: {default})"
        if tp is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(tp) is Literal:
            kwargs["choices"] = list(typing.get_args(tp))
            kwargs["type"] = type(kwargs["choices"][0])
        elif typing.get_origin(tp) in (tuple, list):
            kwargs["nargs"] = "+"
            kwargs["type"] = typing.get_args(tp)[0]
        elif tp in (int, float, str):
            kwargs["type"] = tp
        else:
            continue
        group.add_argument(_flag(field.name), **kwargs)


def overrides_from_args(args: argparse.Namespace, config_type: type) -> dict[str, Any]:
    """The config fields the user gave on the command line."""
    names = {f.name for f in dataclasses.fields(config_type)}
    out = {}
    for key, value in vars(args).items():
        if key in names:
            out[key] = tuple(value) if isinstance(value, list) else value
    return out


def config_to_dict(config: Any) -> dict[str, Any]:
    """JSON-ready dict of a config dataclass (tuples become lists)."""
    return json_ready(dataclasses.asdict(config))


def json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value


def config_from_dict(config_type: type, data: Mapping[str, Any]) -> Any:
    """Rebuild a config from ``config_to_dict``'s output; unknown keys are an error."""
    hints = typing.get_type_hints(config_type)
    names = {f.name for f in dataclasses.fields(config_type)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{config_type.__name__} has no fields {sorted(unknown)}")
    kwargs = {}
    for key, value in data.items():
        is_seq = typing.get_origin(_base_type(hints[key])) in (tuple, list)
        kwargs[key] = tuple(value) if is_seq and isinstance(value, list) else value
    return config_type(**kwargs)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` strings (a script's ``--set``) -> config field values: numbers, lists (as tuples,
    the configs' sequence type), objects and booleans are read as JSON, anything else is a string."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"overrides take NAME=VALUE, got {item!r}")
        parsed = json.loads(value) if value[:1] in "0123456789-[{tf" else value
        out[name] = tuple(parsed) if isinstance(parsed, list) else parsed
    return out
