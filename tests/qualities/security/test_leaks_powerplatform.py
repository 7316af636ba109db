"""Secret-leak scan of publish and rotation: no Microsoft token, refresh token, device code,
service-principal secret or DocuSign secret in any file, output, log (DEBUG, every logger) or
this process's arguments."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clmwizard.emulator import Emulator
from tests.qualities.security.leaks import LeakScan, assert_no_hits, emulator_needles

Argv = Callable[..., list[str]]


def test_publish_and_rotate_leak_nothing(
    microsoft: Emulator,
    acme_publish: Argv,
    monkeypatch: pytest.MonkeyPatch,
    scan: LeakScan,
) -> None:
    scan.debug_logs("httpx", "httpcore", "msal", "urllib3")

    assert scan("publish three", acme_publish("--layout", "three")) == 0
    assert scan("publish again", acme_publish()) == 0
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", microsoft.spare_secret_key)
    assert scan("rotate", ["rotate", "--profile", "acme"]) == 0
    monkeypatch.delenv("CLMWIZARD_SECRET_KEY", raising=False)
    pp = microsoft.power_platform
    monkeypatch.setenv("CLMWIZARD_MS_CLIENT_SECRET", pp.client_secret)
    argv = acme_publish("--service-principal", "--client-id", pp.client_id, "--dry-run")
    assert scan("service principal", argv) == 0
    assert scan("publish with a wrong environment", acme_publish(environment="nope-env")) != 0

    microsoft_secrets = pp.issued_secrets()
    assert len(microsoft_secrets) > 4  # tokens, refresh tokens, device codes, the SP secret
    needles = emulator_needles(
        microsoft,
        microsoft=sorted(microsoft_secrets),
    )
    haystacks: dict[str, str | bytes] = scan.haystacks()
    assert_no_hits(needles, haystacks)
