"""Profiles to and from plain dicts (the YAML shape), strictly, driven by the dataclass types.

Datetimes become ISO-8601 UTC strings ("2025-01-31T09:00:00Z"); keys keep the dataclass order,
with `schema_version` first. Reading refuses missing required keys, unknown keys, wrong types and
a schema version newer than this clmwizard knows, naming the file and the field.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

from clmwizard.errors import ClmWizardError
from clmwizard.store.profile import SCHEMA_VERSION, Profile


class _Invalid(Exception):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.problem = problem


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    names = {str: "text", bool: "true/false", int: "a number", float: "a number"}
    names.update({list: "a list", dict: "a mapping", datetime: "a date"})
    return names.get(type(value), type(value).__name__)


def _format_datetime(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("clmwizard stores only timezone-aware datetimes")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return _format_datetime(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    return value


def _decode(value: Any, kind: Any, path: str) -> Any:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _decode(value, inner, path)
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(arg) for arg in args)
            raise _Invalid(path, f"must be one of {choices}, not {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise _Invalid(path, f"must be a list, not {_describe(value)}")
        return [_decode(item, args[0], f"{path}[{i}]") for i, item in enumerate(value)]
    if kind is datetime:
        return _decode_datetime(value, path)
    if dataclasses.is_dataclass(kind):
        return _decode_dataclass(value, kind, path)
    if kind is bool or kind is str:
        if not isinstance(value, kind):
            raise _Invalid(path, f"must be {_describe(kind())}, not {_describe(value)}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(path, f"must be a whole number, not {_describe(value)}")
        return value
    raise TypeError(f"no YAML mapping for {kind!r} at {path}")


def _decode_datetime(value: Any, path: str) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _Invalid(
                path, f"must be a date like 2025-01-31T09:00:00Z, not {value!r}"
            ) from None
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise _Invalid(path, f"must be a date like 2025-01-31T09:00:00Z, not {_describe(value)}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _Invalid(path, "must include a time zone (end it with Z for UTC)")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01 00:00 +05:00 is before the year 1 in UTC
        raise _Invalid(path, f"is out of range: {value!r}") from None


def _decode_dataclass(value: Any, cls: Any, path: str) -> Any:
    if not isinstance(value, Mapping):
        raise _Invalid(path or "(top level)", f"must be a mapping, not {_describe(value)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    prefix = f"{path}." if path else ""
    unknown = [str(key) for key in value if key not in fields]
    if unknown:
        raise _Invalid(prefix + unknown[0], "is not a field clmwizard knows")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in value:
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if required:
                raise _Invalid(prefix + name, "is missing")
            continue
        kwargs[name] = _decode(value[name], hints[name], prefix + name)
    return cls(**kwargs)


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    """The YAML shape of a profile: schema_version first, then the fields in order."""
    data = _encode(profile)
    data.pop("schema_version", None)
    for optional in ("trusted_auth_server", "layout", "connector_name", "microsoft_user"):
        if data.get(optional) is None:  # only written when set: older files stay alike
            data.pop(optional, None)
    for record in data.get("publications") or []:  # likewise what connect and heartbeat add
        for key in ("flow_url", "heartbeat", "secret_rotated_at", "rotation_proven_at"):
            if record.get(key) is None:
                record.pop(key, None)
        for connector in record.get("connectors") or []:
            if connector.get("connection_name") is None:
                connector.pop("connection_name", None)
    if not data.get("trusted_api_hosts"):
        data.pop("trusted_api_hosts", None)
    return {"schema_version": SCHEMA_VERSION, **data}


def profile_from_dict(data: Mapping[str, Any], *, source: str) -> Profile:
    """Build a Profile from its YAML shape; `source` (e.g. the file path) names it in errors."""
    fix = "Correct the file by hand, or delete it and set the profile up again with `clmwizard`."
    if not isinstance(data, Mapping):
        raise ClmWizardError(
            f"The profile file {source} is not valid.",
            cause=f"It should hold a mapping of fields but holds {_describe(data)}.",
            fix=fix,
            code="invalid_profile",
        )
    version = data.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise ClmWizardError(
            f"The profile file {source} was written by a newer clmwizard.",
            cause=f"It has schema version {version}; this clmwizard understands up to "
            f"{SCHEMA_VERSION}.",
            fix="Upgrade clmwizard (`pip install --upgrade clmwizard`) and try again.",
            field="schema_version",
            code="newer_schema",
        )
    try:
        if "schema_version" not in data:
            raise _Invalid("schema_version", "is missing")
        if _decode(version, int, "schema_version") < 1:
            raise _Invalid("schema_version", f"must be 1 or more, not {version!r}")
        profile: Profile = _decode_dataclass(data, Profile, "")
    except _Invalid as invalid:
        raise ClmWizardError(
            f"The profile file {source} is not valid.",
            cause=f"The field `{invalid.path}` {invalid.problem}.",
            fix=fix,
            field=invalid.path,
            code="invalid_profile",
        ) from None
    profile.schema_version = SCHEMA_VERSION
    return profile
