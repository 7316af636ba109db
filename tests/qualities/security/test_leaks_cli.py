"""Secret-leak scan of the command line: every command, the error paths and --debug, then a search
for every secret the emulator issued (and the PKCE verifiers) in the config folder, the bundle,
stdout/stderr, the logs (DEBUG, every logger, httpx and httpcore included) and the arguments and
environment of every process. Zero hits, except the reveals the user asked for."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from clmwizard import http as http_layer
from clmwizard.cli import build_command_parser, main
from clmwizard.commands import credentials as credentials_command
from clmwizard.commands import login as login_command
from clmwizard.docusign.consent import ConsentRequest
from clmwizard.emulator import Emulator
from clmwizard.redact import register_secret
from tests.qualities.security.leaks import (
    Needles,
    Run,
    assert_no_hits,
    clearers_seen,
    client_logs,
    debug_logs,
    emulator_needles,
    files_under,
    find,
    process_texts,
    recorded_clearers,
)
from tests.support.keyrings import MemoryKeyring
from tests.support.login import login_argv

RECORDING_BROWSER = """\
import json, os, sys
from clmwizard.emulator.browser import follow_consent
with open(os.environ["LEAK_BROWSER_RECORD"], "a") as record:
    record.write(json.dumps({"argv": sys.argv, "env": dict(os.environ)}) + "\\n")
follow_consent(sys.argv[1], os.environ.get("CLMWIZARD_TEST_BROWSER_DECISION", "accept"))
"""


@pytest.fixture
def verifiers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every PKCE verifier `login` makes, captured as it is made."""
    captured: list[str] = []
    real = login_command.build_consent_request

    def recording(*args: Any, **kwargs: Any) -> ConsentRequest:
        request = real(*args, **kwargs)
        if request.code_verifier:
            captured.append(request.code_verifier)
        return request

    monkeypatch.setattr(login_command, "build_consent_request", recording)
    return captured


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$BROWSER: the emulator's browser stand-in, recording the argv and environment it got."""
    script = tmp_path / "recording_browser.py"
    script.write_text(RECORDING_BROWSER)
    record = tmp_path / "browser-record.jsonl"
    monkeypatch.setenv("LEAK_BROWSER_RECORD", str(record))
    monkeypatch.setenv("BROWSER", f"{sys.executable} {script} %s")
    return record


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_layer, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(http_layer, "RETRY_AFTER_CAP", 0.05)


@pytest.mark.display
def test_every_command_and_error_path_leaks_no_secret(
    emu: Emulator,
    redirect_uri: str,
    memory_keyring: MemoryKeyring,
    config_dir: Path,
    tmp_path: Path,
    browser: Path,
    verifiers: list[str],
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    debug_logs(caplog, "httpx", "httpcore", "clmwizard", "keyring", "asyncio")  # and the root
    run = Run(capfd)
    bundle = tmp_path / "bundle"
    clearers = recorded_clearers(monkeypatch, credentials_command)

    # A wrong secret first (the exchange fails), with --debug: the traceback is shown, redacted.
    wrong_secret = emu.spare_secret_key[:-4] + "0000"
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", wrong_secret)
    assert (
        run(
            "login wrong secret",
            ["--debug", *login_argv(emu, redirect_uri=redirect_uri, timeout=15)],
        )
        != 0
    )
    assert "Traceback" in run.err("login wrong secret")
    # The real sign-in, the secret from the environment.
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    assert run("login", login_argv(emu, redirect_uri=redirect_uri, timeout=15)) == 0
    # And once more with the secret on stdin, in debug mode.
    monkeypatch.delenv("CLMWIZARD_SECRET_KEY", raising=False)
    argv = login_argv(emu, "--secret-key-stdin", redirect_uri=redirect_uri, timeout=15)
    assert run("login stdin", ["--debug", *argv], stdin=emu.secret_key + "\n") == 0

    commands = {
        "fields": "fields --profile acme",
        "fields json": "fields --profile acme --format json",
        "fields yaml": "fields --profile acme --format yaml",
        "export": f"export --profile acme --out {bundle}",
        "export single": f"export --profile acme --out {bundle} --layout single --force",
        "credentials text": "credentials --profile acme",
        "credentials json": "credentials --profile acme --format json",
        "credentials yaml": "credentials --profile acme --format yaml",
        "credentials copy": "credentials --profile acme --copy secret_key",
        "credentials copy token": "credentials --profile acme --copy refresh_token",
        "refresh": "refresh --profile acme",
        "refresh debug": "--debug refresh --profile acme",
    }
    for label, command in commands.items():
        assert run(label, command) == 0, run.err(label)
    rotate = "rotate --profile acme --secret-key-stdin"
    assert run("rotate", rotate, stdin=emu.spare_secret_key) == 0
    assert run("rotate same", f"--debug {rotate}", stdin=emu.spare_secret_key) == 2
    assert run("profiles", "profiles") == 0
    assert run("profiles show", "profiles show acme") == 0
    assert run("profiles show json", "profiles show acme --format json") == 0
    assert run("doctor", "doctor") in (0, 1)

    # Error paths, with --debug (a traceback of the real error, redacted).
    emu.revoke_secret("spare_secret_key")
    assert run("refresh revoked secret", "--debug refresh --profile acme") == 3
    assert "stored secret key" in run.err("refresh revoked secret")
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    assert run("relogin", login_argv(emu, redirect_uri=redirect_uri, timeout=15)) == 0
    emu.revoke_consent()
    monkeypatch.setenv("CLMWIZARD_DEBUG", "1")
    assert run("refresh revoked consent", "refresh --profile acme") == 3
    assert "consent was probably revoked" in run.err("refresh revoked consent")
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)  # each run takes it out
    assert run("relogin 2", login_argv(emu, redirect_uri=redirect_uri, timeout=15)) == 0
    emu.advance_clock(31 * 86400)
    assert run("refresh dead grant", "refresh --profile acme") == 3
    assert "expired" in run.err("refresh dead grant")
    emu.revoke_consent()  # so the consent page shows again, and is declined
    monkeypatch.setenv("CLMWIZARD_TEST_BROWSER_DECISION", "decline")
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    assert run("login declined", login_argv(emu, redirect_uri=redirect_uri, timeout=15)) != 0
    monkeypatch.delenv("CLMWIZARD_TEST_BROWSER_DECISION")
    emu.inject_fault("clm_auth", "/", status=500, count=0)
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    assert run("login discovery fails", login_argv(emu, redirect_uri=redirect_uri, timeout=15)) != 0
    emu.clear_faults()

    # An unexpected exception (a bug) whose text carries the refresh token, under --debug.
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)  # each run takes it out
    assert run("relogin 3", login_argv(emu, redirect_uri=redirect_uri, timeout=15)) == 0
    secret = memory_keyring.items[("clmwizard", "acme/secret_key")]
    token = memory_keyring.items[("clmwizard", "acme/refresh_token")]

    def bug(request: httpx.Request) -> httpx.Response:
        raise RuntimeError(f"bug while refreshing with {secret} and {token}")

    def broken_client(**options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(bug))

    assert run("refresh bug", "refresh --profile acme", client_factory=broken_client) == 1
    # A crash whose local variables hold a secret redaction does not know: --debug shows the
    # traceback without locals, so it cannot show it.
    crash_local = "never-registered-" + secrets.token_hex(16)

    def crashing_refresh(request: httpx.Request) -> httpx.Response:
        held = crash_local  # noqa: F841 -- a local the crash report must not show
        raise RuntimeError("a bug while refreshing")

    def crashing_client(**options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(crashing_refresh))

    crash = "--debug refresh --profile acme"
    assert run("refresh crash", crash, client_factory=crashing_client) == 1
    assert "Traceback" in run.err("refresh crash") and "crashing_refresh" in run.err(
        "refresh crash"
    )
    assert "Unexpected error: RuntimeError" in run.err("refresh bug")
    assert "Traceback" in run.err("refresh bug")
    assert "[redacted]" in run.err("refresh bug")

    # The reveals the user asked for: they show exactly the stored secrets.
    stored_secret = memory_keyring.items[("clmwizard", "acme/secret_key")]
    stored_refresh = memory_keyring.items[("clmwizard", "acme/refresh_token")]
    reveal_fields = "fields --profile acme --format json --reveal --layout three"
    assert run("fields reveal", reveal_fields, reveal=True) == 0
    revealed = json.loads(run.revealed["fields reveal (stdout)"])
    assert {revealed[c]["client_secret"] for c in ("general", "upload", "download")} == {
        stored_secret
    }
    reveal_credentials = "credentials --profile acme --format json --reveal"
    assert run("credentials reveal", reveal_credentials, reveal=True) == 0
    shown = json.loads(run.revealed["credentials reveal (stdout)"])
    assert (shown["secret_key"], shown["refresh_token"]) == (stored_secret, stored_refresh)

    # Now look for every secret everywhere.
    needles = emulator_needles(
        emu,
        pkce_verifier=verifiers,
        typed_secret=[wrong_secret],
        crash_local=[crash_local],
    )
    assert len(verifiers) >= 7 and len(emu.issued_secrets()) >= 20
    haystacks: dict[str, Any] = {}
    haystacks.update(files_under(config_dir, bundle))
    haystacks.update(run.outputs)
    haystacks.update(client_logs(caplog.records))
    browser_runs = [json.loads(line) for line in browser.read_text().splitlines()]
    assert len(browser_runs) >= 7
    for index, seen in enumerate(browser_runs):
        haystacks[f"browser {index} argv"] = "\0".join(seen["argv"])
        # login takes CLMWIZARD_SECRET_KEY out of the environment its browser inherits.
        assert "CLMWIZARD_SECRET_KEY" not in seen["env"]
        haystacks[f"browser {index} environment"] = "\0".join(
            f"{k}={v}" for k, v in seen["env"].items()
        )
    assert len(clearers) == 2
    with clearers_seen(clearers) as clearer_texts:
        assert len(clearer_texts) == 4  # both clearers still waiting: argv and environment
        assert all(b"--after" in clearer_texts[f"/proc/{p}/cmdline"] for p in clearers)
        haystacks.update(clearer_texts)
        haystacks.update(process_texts())
    assert len(haystacks) > 60
    assert_no_hits(needles, haystacks)

    # The scan is not blind: the reveals do hold the secrets, in the forms it looks for.
    assert find(needles, run.revealed)
    assert any(
        "secret key" in hit and "fields reveal" in hit for hit in find(needles, run.revealed)
    )


def test_the_scan_finds_a_planted_secret_in_every_form(tmp_path: Path) -> None:
    secret = "4f1d2c3b-aaaa-4bbb-8ccc-0123456789ab"
    key = "0e7a2c84-1111-4222-8333-444455556666"
    needles = Needles()
    needles.add("secret key", secret, key)
    import base64
    from urllib.parse import quote

    basic = base64.b64encode(f"{key}:{secret}".encode()).decode()
    samples = {
        "plain": f"x {secret} y",
        "quoted": quote(f"?s={secret}"),
        "basic": f"Authorization: Basic {basic}",
        "truncated": f"secret starts {secret[:18]}…",
    }
    assert {hit.rsplit(" in ", 1)[1] for hit in find(needles, samples)} == set(samples)
    (tmp_path / "f").write_bytes(secret.encode())
    assert find(needles, files_under(tmp_path)) != []


def test_no_command_takes_a_secret_on_the_command_line() -> None:
    """Secrets come from the environment, stdin or a prompt: no option carries one."""
    allowed = {"integration_key", "account_id", "redirect_uri", "auth_server", "clm_auth_server"}
    suspicious = ("secret", "token", "password", "code", "key", "verifier", "assertion")
    from clmwizard.cli import COMMANDS

    for command in COMMANDS:
        parser = build_command_parser(command)
        for action in parser._actions:
            takes_value = action.nargs != 0 and action.option_strings
            if not takes_value or action.dest in allowed:
                continue
            assert not any(word in action.dest for word in suspicious), (command, action.dest)


def test_the_redaction_registry_holds_what_login_received(
    emu: Emulator, redirect_uri: str, memory_keyring: MemoryKeyring, browser: Path,
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A traceback can only be redacted if every secret was registered as it arrived."""
    from clmwizard.redact import redact

    register_secret(None)
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    assert main(login_argv(emu, redirect_uri=redirect_uri, timeout=15)) == 0
    capfd.readouterr()
    microsoft = emu.power_platform.issued_secrets()  # the Power Platform side: not login's
    for secret in emu.issued_secrets() - {emu.spare_secret_key} - microsoft:
        assert redact(f"<{secret}>") == "<[redacted]>"
