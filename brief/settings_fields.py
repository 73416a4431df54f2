"""How `Settings` reads and checks its fields: keyword arguments, then BRIEF_* variables, then
brief.toml, each value converted to its field's type and held to its bounds.

Standard library only, on purpose: every command starts by building settings, and the
pydantic-settings machinery this replaces cost a fresh process ~0.25 s of imports before
`brief status` could print a line (benchmarks/README.md).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Literal

from brief.errors import BriefError

ENV_PREFIX = "BRIEF_"
TOML_FILE = "brief.toml"
_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}


class SettingsError(BriefError, ValueError):
    """A setting that cannot be used, named with where it came from."""

    exit_code = 2


@dataclasses.dataclass(frozen=True)
class Bounds:
    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    min_length: int | None = None

    def problem(self, value: Any) -> str | None:
        if self.min_length is not None and len(value) < self.min_length:
            return f"must be at least {self.min_length} characters long"
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.ge is not None and value < self.ge:
                return f"must be at least {_number(self.ge)}"
            if self.gt is not None and value <= self.gt:
                return f"must be greater than {_number(self.gt)}"
            if self.le is not None and value > self.le:
                return f"must be at most {_number(self.le)}"
        return None


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def field(
    default: Any = dataclasses.MISSING,
    *,
    factory: Any = dataclasses.MISSING,
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    min_length: int | None = None,
    doc: str = "",
    env: tuple[str, ...] = (),
    secret: bool = False,
) -> Any:
    """A settings field: its default, its bounds, what it is for, variables read besides
    BRIEF_<NAME> (after it, in order), and whether it is a secret (left out of repr, which logs
    and tracebacks may show)."""
    metadata = {"bounds": Bounds(ge, le, gt, min_length), "doc": doc, "env": env}
    if factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=factory, metadata=metadata, repr=not secret)
    return dataclasses.field(default=default, metadata=metadata, repr=not secret)


@functools.cache
def _types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def read_settings(cls: type, given: dict[str, Any]) -> dict[str, Any]:
    """Every field's value: given as an argument, else from the environment, else from
    brief.toml in the current folder, else its default; converted and checked."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise TypeError(f"Settings got unknown field(s): {', '.join(unknown)}")
    # A copy (`dataclasses.replace`) gives every field: nothing to read, nothing to fail on.
    complete = len(given) == len(fields)
    environment = {} if complete else {name.upper(): value for name, value in os.environ.items()}
    toml = {} if complete else _toml_values()
    hints = _types(cls)
    values: dict[str, Any] = {}
    for name, f in fields.items():
        names = (f"{ENV_PREFIX}{name}".upper(), *(n.upper() for n in f.metadata.get("env", ())))
        if name in given:
            raw, origin, text = given[name], name, False
        elif env_name := next((n for n in names if n in environment), None):
            raw, origin, text = environment[env_name], env_name, True
        elif name in toml:
            raw, origin, text = toml[name], f"{name} in {TOML_FILE}", False
        else:
            values[name] = f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc]
            continue
        values[name] = _convert(hints[name], f.metadata.get("bounds"), raw, text, origin)
    return values


def _toml_values() -> dict[str, Any]:
    path = Path(TOML_FILE)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"cannot read {path.resolve()}: {exc.strerror or exc}") from exc
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path.resolve()} is not valid TOML: {exc}") from exc


def _convert(kind: Any, bounds: Bounds | None, raw: Any, text: bool, origin: str) -> Any:
    """`raw` as a value of type `kind` within its bounds; `text` when it came from an
    environment variable."""
    try:
        value = _as(kind, raw, text)
        problem = bounds.problem(value) if bounds is not None and value is not None else None
    except (TypeError, ValueError) as exc:
        problem = str(exc)
    if problem:
        raise SettingsError(f"invalid setting {origin}={raw!r}: {problem}")
    return value


def _as(kind: Any, raw: Any, text: bool) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):  # X | None: a blank or missing value is None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _as(inner, raw, text)
    if origin is Literal:
        if raw not in args:
            raise ValueError(f"expected one of {', '.join(map(str, args))}")
        return raw
    if origin is list:
        if text:
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError:
                raise ValueError('expected a JSON list, e.g. ["a", "b"]') from None
        if not isinstance(raw, list | tuple):
            raise TypeError("expected a list")
        return [_as(args[0], item, False) for item in raw]
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError("expected true or false")
    if kind is int:
        if isinstance(raw, str):
            try:
                return int(raw.strip())
            except ValueError:
                raise ValueError("expected a whole number") from None
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise TypeError("expected a whole number")
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError("expected a whole number")
        return int(raw)
    if kind is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise TypeError("expected a number")
        try:
            return float(raw)
        except ValueError:
            raise ValueError("expected a number") from None
    if kind is Path:
        if not isinstance(raw, str | os.PathLike):
            raise TypeError("expected a path")
        return Path(raw)
    if kind is str:
        if not isinstance(raw, str):
            raise TypeError("expected text")
        return raw
    raise TypeError(f"unsupported setting type {kind!r}")  # pragma: no cover - a field of a new type
