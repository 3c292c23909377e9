"""Config trees as values: replacing leaves by name, and the JSON form of ``config.json``.

The tree: every leaf of a (nested) config dataclass with its dotted path and flat flag name
(``FlagSpec``). ``metarl.config_cli`` builds the command line on it.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import difflib
import enum
import pathlib
import types
import typing
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal

from tyro.constructors import ConstructorRegistry, PrimitiveTypeInfo, UnsupportedTypeAnnotationError

from metarl.errors import ConfigError


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
