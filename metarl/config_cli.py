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

import contextlib
import dataclasses
import io
import os
import re
from collections.abc import Collection, Iterator, Sequence
from typing import Annotated, Any

import tyro
from tyro.constructors import (
    ConstructorRegistry,
    StructConstructorSpec,
    StructTypeInfo,
)

from metarl.config_tree import (
    FlagSpec,
    _flat_name,
    _get,
    _is_config,
    _resolve,
    config_from_dict,
    config_to_dict,
    flag_specs,
    flags_of,
    get_leaf,
    leaf_path,
    replace_leaves,
)
from metarl.errors import ConfigError  # re-exported: config_cli.ConfigError is metarl.errors.ConfigError


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


# ----------------------------------------------------------------------------- resume
def resume_changes(stored: Any, given_args: Sequence[str], *, safe: Collection[str], prog: str = "--resume") -> Any:
    """The stored config with the flags given alongside ``--resume`` applied, checked by
    ``check_resume``. A flag repeating the stored value is accepted."""
    new = parse_config(type(stored), default=stored, args=given_args, prog=prog)
    return check_resume(stored, new, safe=safe)


def check_resume(stored: Any, new: Any, *, safe: Collection[str]) -> Any:
    """``new`` if it differs from ``stored`` only in leaves named in ``safe`` (paths, leaf names or
    flags, e.g. ``iterations``: it extends the run); otherwise a ``ConfigError`` naming each other
    changed flag with its stored and given values."""
    specs = flag_specs(type(stored))
    allowed = {_resolve(specs, name, "safe field").path for name in safe}
    flag = {s.path: s.flag for s in specs}
    refused = [f"{flag[path]} (stored {a!r}, given {b!r})"
               for path, (a, b) in changed_fields(stored, new).items() if path not in allowed]
    if refused:
        names = ", ".join(flag[p] for p in sorted(allowed)) or "none"
        raise ConfigError(f"a resumed run keeps its config; these flags would change it: {'; '.join(refused)}. "
                          f"Flags allowed with --resume: {names}; start a new run for the others")
    return new


__all__ = ["FlagSpec", "apply_overrides", "changed_fields", "check_resume", "config_from_dict", "config_to_dict",
           "flag_specs", "flags_of", "get_leaf", "help_text", "leaf_path", "override_args", "parse_config",
           "replace_leaves", "resume_changes"]
