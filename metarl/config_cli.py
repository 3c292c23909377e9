"""Config dataclasses as command lines, overrides, JSON and resume checks, all through one tyro parser.

A config is a frozen keyword-only dataclass whose fields are leaves (``int``, ``float``, ``str``,
``bool``, ``Literal``, tuples, ...) or nested config dataclasses (an algorithm's network, optimiser
and loss settings). Every leaf is a flag: ``--hidden-sizes 64 64`` when the leaf's name occurs once
in the whole tree, ``--policy.hidden-sizes`` when two sub-configs share it. Help text is the field's
``metadata={"help": ...}`` or its attribute docstring; defaults shown are the preset's (``default=``).

- ``parse_config``: argv -> config, the preset as default; errors are ``ConfigError`` naming the flag.
- ``apply_overrides``: ``NAME=VALUE`` strings (``--set lr=3e-4 hidden_sizes=64,64``) -> config,
  translated to flags and parsed by the same parser.
- ``resume_changes``: flags given with ``--resume`` against the stored config; only ``safe`` may change.
- ``config_to_dict`` / ``config_from_dict``: nested JSON-ready dicts; old flat dicts load by leaf name.
- ``replace_leaves`` / ``get_leaf`` / ``leaf_path``: ``dataclasses.replace`` and attribute access
  through the sub-configs by leaf name or dotted path, so code and presets keep writing
  ``inner_lr=0.05`` wherever the tree puts it.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import difflib
import enum
import io
import json
import os
import pathlib
import re
import types
import typing
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal

import tyro
from tyro.constructors import (
    ConstructorRegistry,
    PrimitiveTypeInfo,
    StructConstructorSpec,
    StructTypeInfo,
    UnsupportedTypeAnnotationError,
)

from metarl.errors import ConfigError  # re-exported: config_cli.ConfigError is metarl.errors.ConfigError


@dataclasses.dataclass(frozen=True)
class FlagSpec:
    """One leaf of a config tree and the flag that sets it."""

    path: str  # dotted field path from the root config, e.g. "policy.hidden_sizes"
    name: str  # the leaf's own field name, "hidden_sizes"
    flag: str  # "--hidden-sizes", or "--policy.hidden-sizes" where the name is not unique
    negation: str | None  # "--no-hidden-sizes"-style flag of a bool leaf; None otherwise
    type: Any  # the field's annotation (Annotated stripped)
    nargs: int | str  # values the flag takes: 1, a fixed count, or "*" for a variable-length sequence
    metavar: str  # what tyro shows, e.g. "INT", "{relu,tanh}", "[INT [INT ...]]"
    owner: type  # the dataclass that declares the field


# ----------------------------------------------------------------------------- the config tree
def _strip(tp: Any) -> Any:
    return typing.get_args(tp)[0] if typing.get_origin(tp) is Annotated else tp


def _fields(cls: type) -> Iterator[tuple[dataclasses.Field, Any]]:
    hints = typing.get_type_hints(cls, include_extras=True)
    for f in dataclasses.fields(cls):
        if f.init:
            yield f, _strip(hints[f.name])


def _is_config(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _walk(cls: type, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field, Any, type]]:
    """(dotted path, field, type, owner) of every leaf, depth first in declaration order."""
    for f, tp in _fields(cls):
        if _is_config(tp):
            yield from _walk(tp, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", f, tp, cls


def _dashed(path: str) -> str:
    return path.replace("_", "-")


def flag_specs(config_type: type) -> list[FlagSpec]:
    """Every leaf of ``config_type`` with its flag. A field whose type tyro cannot parse from the
    command line (a callable, ``Any``, a union of sub-configs, ...) raises at once, naming it: tyro
    itself would quietly fix it at its default and the field would vanish from the CLI."""
    if not _is_config(config_type):
        raise ConfigError(f"{config_type!r} is not a config dataclass")
    leaves = list(_walk(config_type))
    counts: dict[str, int] = {}
    for _, f, _, _ in leaves:
        counts[f.name] = counts.get(f.name, 0) + 1
    out = []
    for path, f, tp, owner in leaves:
        if any(_is_config(a) for a in typing.get_args(tp)):
            raise ConfigError(f"{config_type.__name__}.{path}: a union/optional of sub-configs ({tp}) is not "
                              "supported; give the field one config type")
        spec = ConstructorRegistry.get_primitive_spec(PrimitiveTypeInfo.make(tp, set()))
        if isinstance(spec, UnsupportedTypeAnnotationError):
            raise ConfigError(f"{config_type.__name__}.{path} has type {tp}, which no command-line flag can "
                              "express; use int, float, str, bool, a Literal, a tuple of those, or a sub-config")
        dotted = path if counts[f.name] > 1 else f.name
        head, _, leaf = dotted.rpartition(".")
        negation = "--" + _dashed(f"{head}.no_{leaf}" if head else f"no_{leaf}") if tp is bool else None
        out.append(FlagSpec(path=path, name=f.name, flag="--" + _dashed(dotted), negation=negation, type=tp,
                            nargs=spec.nargs, metavar=spec.metavar or "", owner=owner))
    return out


def flags_of(config_type: type) -> list[str]:
    """All flag names of ``config_type`` (bools' ``--no-`` forms included), in declaration order."""
    out = []
    for spec in flag_specs(config_type):
        out += [spec.flag] + ([spec.negation] if spec.negation else [])
    return out


def _key(name: str) -> str:
    return name.strip().removeprefix("--").replace("-", "_")


def _flat_name(spec: FlagSpec) -> str:
    """The name a leaf goes by in ``make_config(**...)``: its flag's, ``inner_lr`` (``policy.lr`` where
    the leaf name is not unique)."""
    return spec.flag[2:].replace("-", "_")


def _matches(specs: Sequence[FlagSpec], name: str) -> list[FlagSpec]:
    """The leaves ``name`` may mean (a dotted path, a leaf name or a flag, ``-``/``_`` alike): one,
    several where a leaf name occurs in more than one sub-config, or none."""
    key = _key(name)
    exact = [s for s in specs if key in (s.path, _flat_name(s))]
    return exact[:1] or [s for s in specs if s.name == key]


def _hint(specs: Sequence[FlagSpec], name: str) -> str:
    """`` (did you mean a, b?)`` with the leaves whose path or leaf name is close to ``name``, each
    written as its flag is (the leaf name where it is unique, the dotted path otherwise)."""
    key = _key(name)
    flat = {s.path: _flat_name(s) for s in specs}
    names = {**{s.name: flat[s.path] for s in specs}, **{s.path: flat[s.path] for s in specs}}
    close = [names[c] for c in difflib.get_close_matches(key, list(names), n=3, cutoff=0.7)]
    close += [flat[s.path] for s in specs if key in s.name.split("_")]
    close = list(dict.fromkeys(close))
    return f" (did you mean {', '.join(close[:4])}?)" if close else ""


def _resolve(specs: Sequence[FlagSpec], name: str, what: str) -> FlagSpec:
    """The leaf called ``name``: a dotted path, a unique leaf name or a flag (``-``/``_`` alike)."""
    matches = _matches(specs, name)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ConfigError(f"{what} {name!r} is ambiguous: say which of {', '.join(s.path for s in matches)}")
    raise ConfigError(f"{what} {name!r} names no config field{_hint(specs, name)}; "
                      f"fields: {', '.join(s.path for s in specs)}")


def leaf_path(config_type: type, name: str) -> str:
    """The dotted path of the leaf ``name`` names (``inner_lr`` -> ``inner.inner_lr``); a name that
    is unknown or occurs in two sub-configs raises ``ConfigError``."""
    return _resolve(flag_specs(config_type), name, "field").path


def get_leaf(config: Any, name: str) -> Any:
    """The value of the leaf ``name`` names (a unique leaf name, a dotted path or a flag):
    ``get_leaf(config, "inner_lr")`` is ``config.inner.inner_lr``."""
    return _get(config, leaf_path(type(config), name))


# ----------------------------------------------------------------------------- parsing
def _registry(specs: Sequence[FlagSpec], fixed: Collection[FlagSpec]) -> ConstructorRegistry:
    """Tyro's dataclass rule, with each leaf's field renamed to its flat flag or hidden when fixed."""
    marks: dict[tuple[type, str], Any] = {}
    for spec in specs:
        if spec in fixed:
            marks[(spec.owner, spec.name)] = lambda tp: tyro.conf.Suppress[tp]
        elif spec.path != _flat_name(spec):
            marks[(spec.owner, spec.name)] = lambda tp: Annotated[tp, tyro.conf.arg(prefix_name=False)]
    registry, busy = ConstructorRegistry(), []

    @registry.struct_rule
    def rename(info: StructTypeInfo) -> StructConstructorSpec | None:
        if busy or not _is_config(info.type):
            return None
        busy.append(True)
        try:
            spec = ConstructorRegistry.get_struct_spec(info)
        finally:
            busy.pop()
        if not isinstance(spec, StructConstructorSpec):
            return spec
        fields = tuple(dataclasses.replace(f, type=marks[(info.type, f.name)](f.type))
                       if (info.type, f.name) in marks else f for f in spec.fields)
        return dataclasses.replace(spec, fields=fields)

    return registry


_BOX = re.compile(r"[\u2500-\u257f]+|\x1b\[[0-9;]*m|^\s*-{3,}\s*$", re.MULTILINE)


@contextlib.contextmanager
def _wide_terminal() -> Iterator[None]:
    """Tyro wraps its error box to the terminal; a wide one keeps long values on one line."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "10000"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def parse_config(
    config_type: type, *, default: Any, args: Sequence[str], prog: str, description: str = "",
    fixed: Collection[str] = (),
) -> Any:
    """``args`` parsed into a ``config_type``, ``default`` (the preset) supplying every value not given.

    ``fixed``: fields that get no flag and keep ``default``'s value (e.g. ``env``, chosen elsewhere).
    ``--help`` prints and exits 0; anything tyro rejects raises ``ConfigError`` with tyro's message
    (the flag, the bad value and the allowed values or type)."""
    specs = flag_specs(config_type)
    if not isinstance(default, config_type):
        raise ConfigError(f"default must be a {config_type.__name__}, got {type(default).__name__}")
    fixed_specs = {_resolve(specs, name, "fixed field") for name in fixed}
    kwargs = dict(default=default, args=list(args), prog=prog, description=description,
                  registry=_registry(specs, fixed_specs))
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            return tyro.cli(config_type, **kwargs)
    except SystemExit as exit_:
        if not exit_.code:
            raise
    message = io.StringIO()
    with _wide_terminal(), contextlib.redirect_stderr(message), contextlib.suppress(SystemExit):
        tyro.cli(config_type, **kwargs)
    lines = [line.strip() for line in _BOX.sub(" ", message.getvalue()).splitlines() if line.strip()]
    text = " ".join(lines[1:] if len(lines) > 1 else lines)  # the first line is the box's title
    raise ConfigError(re.sub(r"\s+", " ", text) or f"{prog}: cannot parse {list(args)}")


def help_text(config_type: type, *, default: Any, prog: str, description: str = "",
              fixed: Collection[str] = ()) -> str:
    """What ``--help`` prints for ``config_type`` with ``default``'s values, as a string."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        parse_config(config_type, default=default, args=["--help"], prog=prog, description=description, fixed=fixed)
    return out.getvalue()


# ----------------------------------------------------------------------------- NAME=VALUE overrides
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


_TOKEN = re.compile(r"'([^']*)'|\"([^\"]*)\"|([^,\s]+)")


def _values(raw: str) -> list[str]:
    """A sequence override's elements: ``64,64``, ``"64 64"``, ``[64, 64]``, ``'a b','c'``."""
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" and text[0] not in text[1:-1]:
        text = text[1:-1].strip()
    if text[:1] + text[-1:] in ("[]", "()"):
        text = text[1:-1]
    return [next(g for g in m.groups() if g is not None) for m in _TOKEN.finditer(text)]


def override_args(config_type: type, items: Sequence[str]) -> list[str]:
    """``NAME=VALUE`` strings -> the flags that set them (``lr=3e-4`` -> ``--lr=3e-4``). NAME is a
    dotted path or a leaf name; bools take true/false/1/0/yes/no/on/off; sequences take
    ``64,64``, ``"64 64"`` or ``[64,64]``."""
    specs, args = flag_specs(config_type), []
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"overrides take NAME=VALUE, got {item!r}")
        spec = _resolve(specs, name, "override")
        if spec.negation:
            if raw.strip().lower() not in _TRUE + _FALSE:
                raise ConfigError(f"override {item!r}: {spec.path} is a bool, give one of {', '.join(_TRUE + _FALSE)}")
            args.append(spec.flag if raw.strip().lower() in _TRUE else spec.negation)
        elif spec.nargs == 1:
            args.append(f"{spec.flag}={raw}")
        else:
            args += [spec.flag, *_values(raw)]
    return args


def apply_overrides(config: Any, items: Sequence[str]) -> Any:
    """``config`` with the ``NAME=VALUE`` overrides applied (not validated: run the algorithm's
    ``validate`` on the result). A bad name or value raises ``ConfigError`` naming it."""
    if not items:
        return config
    args = override_args(type(config), items)
    try:
        return parse_config(type(config), default=config, args=args, prog="--set")
    except ConfigError as err:
        message = re.sub(r"\s*For full helptext, \w+ --set --help\.?", "", str(err))
        raise ConfigError(f"overrides {' '.join(items)}: {message}") from None


def changed_fields(old: Any, new: Any) -> dict[str, tuple[Any, Any]]:
    """``{dotted path: (old value, new value)}`` of every leaf that differs between two configs."""
    out = {}
    for spec in flag_specs(type(old)):
        a, b = _get(old, spec.path), _get(new, spec.path)
        if a != b:
            out[spec.path] = (a, b)
    return out


def _get(config: Any, path: str) -> Any:
    for part in path.split("."):
        config = getattr(config, part)
    return config


# ----------------------------------------------------------------------------- replace by leaf name
def _groups(cls: type, prefix: str = "") -> dict[str, type]:
    """Dotted path -> type of every sub-config in ``cls``'s tree."""
    out: dict[str, type] = {}
    for f, tp in _fields(cls):
        if _is_config(tp):
            out[prefix + f.name] = tp
            out.update(_groups(tp, f"{prefix}{f.name}."))
    return out


class _Branch(dict):
    """Changes inside one sub-config (unlike a leaf's value that happens to be a dict)."""


def _replace_tree(config: Any, changes: Mapping[str, Any]) -> Any:
    return dataclasses.replace(config, **{name: _replace_tree(getattr(config, name), value)
                                          if isinstance(value, _Branch) else value for name, value in changes.items()})


def _paths_of(config_type: type, names: Collection[str]) -> dict[str, str]:
    """``{dotted path: name}`` of the leaves or sub-configs ``names`` name; every unknown, ambiguous
    or repeated one (two names for one leaf, a leaf inside a sub-config also named) in one error."""
    specs, groups = flag_specs(config_type), _groups(config_type)
    paths: dict[str, str] = {}
    unknown, errors = [], []
    for name in names:
        matches = [] if _key(name) in groups else _matches(specs, name)
        if len(matches) > 1:
            errors.append(f"{name!r} is ambiguous: say which of {', '.join(s.path for s in matches)}")
            continue
        if not matches and _key(name) not in groups:
            unknown.append(name)
            continue
        path = matches[0].path if matches else _key(name)
        clash = next((p for p in paths if p == path or p.startswith(path + ".") or path.startswith(p + ".")), None)
        if clash is not None:
            errors.append(f"{name!r} and {paths[clash]!r} both set {min(path, clash, key=len)}")
            continue
        paths[path] = name
    if unknown:
        listed = ", ".join(f"{name!r}{_hint(specs, name)}" for name in unknown)
        errors.insert(0, f"{config_type.__name__} has no field(s) {listed}; fields: {', '.join(s.path for s in specs)}")
    if errors:
        raise ConfigError("; ".join(errors))
    return paths


def replace_leaves(config: Any, /, **values: Any) -> Any:
    """``config`` with the named leaves replaced: ``dataclasses.replace`` through its sub-configs.

    A name is a leaf name occurring once in the tree (``inner_lr``), a dotted path (``inner.inner_lr``,
    needed where a leaf name occurs in two sub-configs: pass it as ``**{"inner.inner_lr": 0.05}``),
    or a sub-config's path with a whole sub-config as value (``policy=PolicyConfig(...)``). Values
    are taken as given, like ``dataclasses.replace`` (not converted, not validated: run the
    algorithm's ``validate``). Unknown or ambiguous names, and one leaf given twice (by two names,
    or inside a sub-config that is also given), raise ``ConfigError`` naming each."""
    if not values:
        return config
    groups = _groups(type(config))
    tree: dict[str, Any] = {}
    for path, name in _paths_of(type(config), list(values)).items():
        value = values[name]
        if path in groups and not isinstance(value, groups[path]):
            raise ConfigError(f"{name} is a {groups[path].__name__} sub-config; got {value!r} (set its fields "
                              "by name instead)")
        *parents, leaf = path.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, _Branch())
        node[leaf] = value
    return _replace_tree(config, tree)


def parse_overrides(items: Sequence[str], *, config: Any = None) -> dict[str, Any]:
    """Deprecated: ``NAME=VALUE`` strings -> ``{top-level field: value}`` for ``make_config(**...)``.

    With ``config`` (the preset the overrides apply to) values are parsed by the config's own parser
    (``apply_overrides``) and the changed top-level fields are returned. Without it the values are
    untyped: JSON where they parse as JSON (lists become tuples), the raw string otherwise."""
    if config is not None:
        new = apply_overrides(config, items)
        return {f.name: getattr(new, f.name) for f, _ in _fields(type(config))
                if getattr(new, f.name) != getattr(config, f.name)}
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"overrides take NAME=VALUE, got {item!r}")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        out[name] = tuple(parsed) if isinstance(parsed, list) else parsed
    return out


# ----------------------------------------------------------------------------- resume
def resume_changes(stored: Any, given_args: Sequence[str], *, safe: Collection[str], prog: str = "--resume") -> Any:
    """The stored config with the flags given alongside ``--resume`` applied. Only leaves named in
    ``safe`` (paths, leaf names or flags, e.g. ``iterations``: it extends the run) may change; a
    flag that changes any other value raises ``ConfigError`` naming each, with stored and given
    values. A flag repeating the stored value is accepted."""
    specs = flag_specs(type(stored))
    allowed = {_resolve(specs, name, "safe field").path for name in safe}
    new = parse_config(type(stored), default=stored, args=given_args, prog=prog)
    flag = {s.path: s.flag for s in specs}
    refused = [f"{flag[path]} (stored {a!r}, given {b!r})"
               for path, (a, b) in changed_fields(stored, new).items() if path not in allowed]
    if refused:
        names = ", ".join(flag[p] for p in sorted(allowed)) or "none"
        raise ConfigError(f"a resumed run keeps its config; these flags would change it: {'; '.join(refused)}. "
                          f"Flags allowed with --resume: {names}; start a new run for the others")
    return new


# ----------------------------------------------------------------------------- JSON
def config_to_dict(config: Any) -> dict[str, Any]:
    """JSON-ready nested dict of a config: sub-configs become dicts, tuples lists, enums names."""
    return {f.name: _to_json(getattr(config, f.name)) for f, _ in _fields(type(config))}


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return config_to_dict(value)
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_to_json(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, pathlib.PurePath):
        return str(value)
    return value


def config_from_dict(config_type: type, data: Mapping[str, Any]) -> Any:
    """Rebuild a config from ``config_to_dict``'s output. Unknown keys raise ``ConfigError`` naming
    them; missing ones take the dataclass default (runs written before a field existed still load).
    A flat dict (the format before sub-configs) loads too: a key that is no top-level field is put
    where its leaf name, or dotted path, is in the tree, if that is unambiguous."""
    specs = flag_specs(config_type)
    tops = {f.name: tp for f, tp in _fields(config_type)}
    nested = copy.deepcopy({key: value for key, value in data.items() if key in tops})
    for key, value in data.items():
        if key in tops:
            continue
        try:
            spec = _resolve(specs, key, "key")
        except ConfigError as err:
            raise ConfigError(f"{config_type.__name__} cannot load {key!r}: {err}") from None
        *parents, leaf = spec.path.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{config_type.__name__}: {key!r} and {part!r} both set {spec.path}")
        if leaf in node:
            raise ConfigError(f"{config_type.__name__}: {spec.path} is given twice (as {key!r} and nested)")
        node[leaf] = value
    return _build(config_type, nested, config_type.__name__)


def _build(cls: type, data: Mapping[str, Any], where: str) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a dict of {cls.__name__}'s fields, got {data!r}")
    fields = dict((f.name, tp) for f, tp in _fields(cls))
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where} has no field(s) {unknown}; fields: {', '.join(fields)}")
    kwargs = {name: _from_json(fields[name], value, f"{where}.{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ConfigError(f"{where}: {err}") from None


def _from_json(tp: Any, value: Any, where: str) -> Any:
    """``value`` as a ``tp``: lists back to tuples, ints widened to float; wrong types raise."""
    tp, origin, args = _strip(tp), typing.get_origin(_strip(tp)), typing.get_args(_strip(tp))
    if _is_config(tp):
        return _build(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            with contextlib.suppress(ConfigError):
                return _from_json(arg, value, where)
    elif origin is Literal:
        if value in args:
            return value
    elif origin in (tuple, list, set, frozenset) and isinstance(value, list | tuple):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) == len(value):
                return tuple(_from_json(a, v, where) for a, v in zip(args, value, strict=True))
        else:
            return origin(_from_json(args[0] if args else Any, v, where) for v in value)
    elif origin is dict and isinstance(value, Mapping):
        return {k: _from_json(args[1] if args else Any, v, where) for k, v in value.items()}
    elif tp is Any or tp is type(None) and value is None:
        return value
    elif tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    elif isinstance(tp, type) and issubclass(tp, enum.Enum) and value in tp.__members__:
        return tp[value]
    elif isinstance(tp, type) and issubclass(tp, pathlib.PurePath) and isinstance(value, str):
        return tp(value)
    elif isinstance(tp, type) and isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
        return value
    raise ConfigError(f"{where}={value!r} is not a {getattr(tp, '__name__', tp)}")


# ----------------------------------------------------------------------------- argparse bridge
def add_config_arguments(parser: argparse.ArgumentParser, config_type: type, *, skip: tuple[str, ...] = ()) -> None:
    """Deprecated bridge for ``metarl/cli.py`` until it is rebuilt on ``parse_config``: one argparse
    flag per leaf, "not given" by default, stored under the leaf's flat name (``overrides_from_args``
    then gives ``make_config`` keywords). A type it cannot express raises."""
    group = parser.add_argument_group(f"{config_type.__name__} (defaults come from the env's preset)")
    for spec in flag_specs(config_type):
        if spec.path in skip or _flat_name(spec) in skip:
            continue
        field = next(f for f, _ in _fields(spec.owner) if f.name == spec.name)
        kwargs: dict[str, Any] = {"dest": _flat_name(spec), "default": argparse.SUPPRESS,
                                  "help": field.metadata.get("help", "")}
        tp, present = spec.type, [a for a in typing.get_args(spec.type) if a is not type(None)]
        if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(present) == 1:
            tp = present[0]  # ``int | None``: None is "not given", which every bridged flag is by default
        base = typing.get_args(tp)[0] if typing.get_origin(tp) in (tuple, list) else tp
        if tp is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(base) is Literal:
            kwargs.update(choices=list(typing.get_args(base)), type=type(typing.get_args(base)[0]))
        elif base in (int, float, str):
            kwargs["type"] = base
        else:
            raise ConfigError(f"{config_type.__name__}.{spec.path}: type {spec.type} has no argparse flag")
        if spec.nargs != 1:
            kwargs["nargs"] = "*"
        group.add_argument(spec.flag, **kwargs)


def overrides_from_args(args: argparse.Namespace, config_type: type) -> dict[str, Any]:
    """Deprecated bridge: the leaves ``add_config_arguments`` flags set, by flat name (lists as tuples)."""
    names = {_flat_name(spec) for spec in flag_specs(config_type)}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in vars(args).items() if k in names}
