"""Secret-leak scan of publish and rotation: no Microsoft token, refresh token, device code,
service-principal secret or DocuSign secret in any file, output, log (DEBUG, every logger) or
this process's arguments."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from clmwizard.cli import main
from clmwizard.emulator import Emulator
from tests.qualities.security.leaks import (
    emulator_needles,
    files_under,
    find,
    log_text,
    process_texts,
)

Argv = Callable[..., list[str]]


def test_publish_and_rotate_leak_nothing(
    microsoft: Emulator,
    signed_in: Callable[..., None],
    approver: list[str],
    publish_argv: Argv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "msal", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    signed_in()
    outputs: dict[str, str] = {}

    def run(label: str, argv: list[str]) -> int:
        code = main(argv)
        out, err = capsys.readouterr()
        outputs[f"{label} (stdout)"], outputs[f"{label} (stderr)"] = out, err
        return code

    assert run("publish three", publish_argv("--layout", "three")) == 0
    assert run("publish again", publish_argv()) == 0
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", microsoft.spare_secret_key)
    assert run("rotate", ["rotate", "--profile", "acme"]) == 0
    monkeypatch.delenv("CLMWIZARD_SECRET_KEY", raising=False)
    pp = microsoft.power_platform
    monkeypatch.setenv("CLMWIZARD_MS_CLIENT_SECRET", pp.client_secret)
    argv = publish_argv("--service-principal", "--client-id", pp.client_id, "--dry-run")
    assert run("service principal", argv) == 0
    assert run("publish with a wrong environment", publish_argv(environment="nope-env")) != 0

    microsoft_secrets = pp.issued_secrets()
    assert len(microsoft_secrets) > 4  # tokens, refresh tokens, device codes, the SP secret
    needles = emulator_needles(
        microsoft.issued_secrets(),
        [microsoft.secret_key, microsoft.spare_secret_key],
        microsoft.integration_key,
        microsoft=sorted(microsoft_secrets),
    )
    haystacks: dict[str, str | bytes] = {**outputs, **log_text(caplog.records)}
    haystacks.update(files_under(tmp_path))
    own = process_texts([os.getpid()])
    haystacks[f"/proc/{os.getpid()}/cmdline"] = own[f"/proc/{os.getpid()}/cmdline"]
    hits = find(needles, haystacks)
    assert hits == [], "\n".join(hits)
