"""Shared pieces of the fault matrix tests: injecting a cell's fault, counting the requests a
step sent, and snapshots of what is stored."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from clmwizard.emulator import Emulator
from clmwizard.http import make_client
from tests.qualities.reliability.matrix import TARGETS

TIMEOUT = 0.5  # the client timeout of short_client (the product default is 20 s)
LATENCY = TIMEOUT + 0.3  # injected latency: beyond the timeout
CONSENT_TIMEOUT = 1.5  # seconds the consent wait lasts in the tests (--timeout)
CONSENT_LATENCY = CONSENT_TIMEOUT + 0.4


def short_client(*, timeout: float = TIMEOUT, **options: Any) -> httpx.AsyncClient:
    """The client factory the matrix builds the CLI and the wizard with: TIMEOUT at most."""
    return make_client(timeout=min(timeout, TIMEOUT), **options)


INJECTED: dict[str, dict[str, Any]] = {
    "latency": {"latency": LATENCY, "count": 1},
    "5xx_once": {"status": 503, "count": 1},
    "5xx_always": {"status": 500, "count": 0},
    "drop": {"drop": True, "count": 1},
    "malformed": {"malformed": True, "count": 1},
    "429": {"status": 429, "retry_after": 2, "count": 1},
    "drip": {"drip": 0.2, "count": 1},  # under TIMEOUT between bytes, far beyond it in total
    "bad_gzip": {"bad_gzip": True, "count": 1},
}


def inject(emu: Emulator, step: str, fault: str) -> None:
    """Switch the cell's fault on: an injected one, or a change of the emulator's state."""
    origin, prefix = TARGETS[step]
    if fault in INJECTED:
        options = dict(INJECTED[fault])
        if fault == "latency" and step == "consent":
            options["latency"] = CONSENT_LATENCY
        if step == "consent" and options.get("count"):
            # clmwizard's own consent check asks /oauth/auth first: the fault strikes it and
            # the browser's request after it alike
            options["count"] = int(options["count"]) + 1
        emu.inject_fault(origin, prefix, **options)
    elif fault == "revoked_consent":
        emu.revoke_consent()
    elif fault == "revoked_secret":
        emu.revoke_secret("secret_key")
    elif fault != "expired_code":  # expired_code: the browser lingers (see browser.py)
        raise ValueError(fault)


def requests_to(emu: Emulator, step: str, since: int) -> int:
    """How many requests the step's endpoint received after log entry `since`."""
    origin, prefix = TARGETS[step]
    return sum(
        1
        for logged_origin, _, path in emu.request_log[since:]
        if logged_origin == origin and path.startswith(prefix)
    )


@dataclass(frozen=True)
class Snapshot:
    """The profile file's bytes and the secrets stored for one profile."""

    profile_yaml: bytes | None
    secrets: dict[str, str]

    @classmethod
    def take(cls, profile_path: Path, secrets: dict[str, str]) -> Snapshot:
        data = profile_path.read_bytes() if profile_path.exists() else None
        return cls(data, dict(secrets))


def check_stored(kind: str, before: Snapshot, after: Snapshot, *, spare_secret: str) -> None:
    """`after` is what STORED[kind] says, compared with `before` where it matters."""
    import yaml

    from clmwizard.store.profile import ACCESS_TOKEN, REFRESH_TOKEN, SECRET_KEY
    from clmwizard.store.serialise import profile_from_dict

    items = {SECRET_KEY, REFRESH_TOKEN, ACCESS_TOKEN}
    if kind in ("nothing", "unchanged", "none"):
        assert after == before, "something was stored"
        if kind == "nothing":
            assert after.profile_yaml is None and after.secrets == {}
        return
    assert after.profile_yaml is not None and set(after.secrets) == items
    hosts = profile_from_dict(yaml.safe_load(after.profile_yaml), source="profile").clm_hosts
    if kind == "complete":
        assert hosts is not None
    elif kind == "no_hosts":
        assert hosts is None
    elif kind in ("updated", "rotated"):
        assert after.profile_yaml != before.profile_yaml
        assert after.secrets[REFRESH_TOKEN] != before.secrets[REFRESH_TOKEN]
        assert after.secrets[ACCESS_TOKEN] != before.secrets[ACCESS_TOKEN]
        expected = spare_secret if kind == "rotated" else before.secrets[SECRET_KEY]
        assert after.secrets[SECRET_KEY] == expected
    else:
        raise ValueError(kind)


def check_message(text: str, says: tuple[str, ...]) -> None:
    for fragment in says:
        assert fragment in text, f"{fragment!r} not in:\n{text}"
    assert "Traceback" not in text and "Unexpected error" not in text, text


def settle(emu: Emulator, refresh_token: str, timeout: float = 5.0) -> None:
    """Wait until the emulator has handled the slow refresh the client gave up on.

    A user who retries does so after the server finished; retrying while the server still
    sleeps on the injected latency would race it.
    """
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with emu.state.lock:
            token = emu.state.refresh_tokens.get(refresh_token)
            if token is not None and token.used:
                return
        time.sleep(0.02)
    raise AssertionError("the emulator never handled the slow refresh")
