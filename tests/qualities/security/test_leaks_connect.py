"""Secret-leak scan of connect, heartbeat and status (and rotate's heartbeat proof): no Microsoft
token, DocuSign token or code, consent code or secret key in any output, log (DEBUG, every
logger), file, this process's arguments, or the arguments and environment of the browser it
starts — through the consent service's own finish and the portal's (confirmConsentCode), the
failure paths with --debug included."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clmwizard.emulator import Emulator
from clmwizard.store.profiles import ProfileStore
from tests.qualities.security.leaks import LeakScan, assert_no_hits, emulator_needles

Argv = Callable[..., list[str]]
RECORDING_BROWSER = """\
import json, os, sys
from clmwizard.emulator.browser import main
with open(os.environ["LEAK_BROWSER_RECORD"], "a") as record:
    record.write(json.dumps({"argv": sys.argv, "env": dict(os.environ)}) + "\\n")
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("finish", ["service", "confirm"])
def test_connect_heartbeat_status_leak_nothing(
    finish: str,
    microsoft: Emulator,
    acme_publish: Argv,
    monkeypatch: pytest.MonkeyPatch,
    scan: LeakScan,
    tmp_path: Path,
) -> None:
    scan.debug_logs("httpx", "httpcore", "msal", "urllib3", "asyncio", "clmwizard")
    pp = microsoft.power_platform
    if finish == "confirm":  # the portal's path: the code comes back to clmwizard's page
        pp.set_platform(consent_finish="confirm")
    script = tmp_path / "recording_browser.py"
    script.write_text(RECORDING_BROWSER)
    record = tmp_path / "browser-record.jsonl"
    monkeypatch.setenv("LEAK_BROWSER_RECORD", str(record))
    monkeypatch.setenv("BROWSER", f"{sys.executable} {script} %s")
    monkeypatch.setenv("CLMWIZARD_TEST_BROWSER_CA", str(tmp_path / "emulator-ca.pem"))

    acme = ["--profile", "acme"]
    assert scan("publish", acme_publish()) == 0
    assert scan("connect unregistered", ["--debug", "connect", *acme, "--timeout", "20"]) == 1
    for connector in ProfileStore().load("acme").publications[0].connectors:
        assert connector.redirect_url is not None
        microsoft.register_redirect_uri(connector.redirect_url)
    assert scan("connect", ["connect", *acme, "--timeout", "60"]) == 0, scan.outputs
    assert scan("connect again", ["connect", *acme, "--no-browser"]) == 0
    assert scan("heartbeat", ["heartbeat", *acme]) == 0, scan.outputs
    assert scan("status", ["status", *acme]) == 0, scan.outputs
    assert scan("status json", ["status", "--all", "--format", "json"]) == 0
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", microsoft.spare_secret_key)
    assert scan("rotate", ["rotate", *acme]) == 0, scan.outputs
    monkeypatch.delenv("CLMWIZARD_SECRET_KEY", raising=False)
    microsoft.revoke_consent()
    microsoft.advance_clock(8 * 3600 + 60)
    assert scan("heartbeat failing", ["--debug", "heartbeat", *acme]) == 1
    assert scan("status broken", ["--debug", "status", *acme, "--format", "json"]) == 7
    monkeypatch.setenv("CLMWIZARD_TEST_BROWSER_DECISION", "decline")
    assert scan("connect declined", ["--debug", "connect", *acme, "--timeout", "60"]) == 1

    issued = pp.issued_secrets()
    if finish == "confirm":
        assert pp.flows()  # sanity: the run happened
    needles = emulator_needles(
        microsoft,
        microsoft=sorted(issued),
    )
    haystacks: dict[str, Any] = scan.haystacks()
    launches = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(launches) >= 2  # the browser was started for the sign-ins
    for index, launch in enumerate(launches):
        haystacks[f"browser {index} argv"] = " ".join(launch["argv"])
        haystacks[f"browser {index} env"] = json.dumps(launch["env"])
    assert_no_hits(needles, haystacks)
