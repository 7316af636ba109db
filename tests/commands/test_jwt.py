"""`clmwizard jwt` and the JWT values of `clmwizard credentials`, against the emulator."""

from __future__ import annotations

import json
import uuid

import pytest

from clmwizard.cli import main
from clmwizard.emulator import Emulator
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import KeyringSecretStore
from tests.docusign.helpers import redirect_location
from tests.support.jwt_profiles import jwt_profile, other_rsa_key
from tests.support.keyrings import MemoryKeyring


def test_exit_3_with_the_consent_url_then_0_after_consent(
    emu: Emulator,
    redirect_uri: str,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    jwt_profile(emu, KeyringSecretStore(memory_keyring), redirect_uri=redirect_uri)
    assert main(["jwt", "--profile", "system"]) == 3
    out = capsys.readouterr().out
    assert "consent needed" in out
    url = next(line for line in out.splitlines() if "/oauth/auth?" in line)
    assert url.startswith(f"{emu.auth_server}/oauth/auth?")  # on a line of its own, unindented
    assert "Left to do by hand:\n  1. Consent — a browser signed in to DocuSign" in out
    assert "2. Check again — this terminal: `clmwizard jwt --profile system`" in out
    redirect_location(url)  # the integration user accepts
    assert main(["jwt", "--profile", "system"]) == 0
    out = capsys.readouterr().out
    assert "✓ JWT Grant works for system" in out and emu.user_id in out
    assert "\nLeft to do by hand:\n  1. " in out and "Consent —" not in out
    record = ProfileStore().load("system").jwt_consent
    assert record is not None and record.state == "given"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"jwt_user_id": str(uuid.uuid4())}, "does not know the integration user"),
        ({"private_key": "wrong"}, "wrong key pair is likelier"),
        ({"jwt_user_id": None}, "no integration user GUID"),
    ],
)
def test_refusals_exit_non_zero_with_the_cause(
    emu: Emulator,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, object],
    expected: str,
) -> None:
    if change.get("private_key") == "wrong":
        change = {"private_key": other_rsa_key()}
    jwt_profile(emu, KeyringSecretStore(memory_keyring), **change)  # type: ignore[arg-type]
    emu.grant_jwt_consent(["signature", "spring_read", "spring_write", "extended"])
    code = main(["jwt", "--profile", "system"])
    err = capsys.readouterr().err
    assert code in (1, 2) and expected in err
    assert "PRIVATE KEY" not in err


def test_missing_profile_exits_before_the_keyring(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jwt", "--profile", "nobody"]) != 0
    assert "nobody" in capsys.readouterr().err


def test_credentials_show_the_jwt_values_and_the_key_only_with_reveal(
    emu: Emulator, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    jwt_profile(emu, KeyringSecretStore(memory_keyring))
    body = emu.jwt_private_key.splitlines()[1]
    assert main(["credentials", "--profile", "system", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["integration_key"] == emu.integration_key
    assert shown["jwt_user_id"] == emu.user_id
    assert shown["rsa_private_key"] is None and "rsa_private_key" in shown["masked"]
    assert main(["credentials", "--profile", "system"]) == 0
    text = capsys.readouterr().out
    assert "Integration user GUID (JWT)" in text and body not in text
    assert main(["credentials", "--profile", "system", "--format", "json", "--reveal"]) == 0
    assert json.loads(capsys.readouterr().out)["rsa_private_key"] == emu.jwt_private_key


@pytest.mark.secret_service
@pytest.mark.timeout(60)
def test_on_a_terminal_it_checks_again_after_enter(emu: Emulator, redirect_uri: str) -> None:
    """A child `clmwizard jwt` with a terminal on stdin: consent needed, the user consents and
    presses Enter, the re-check succeeds (exit 0). The RSA key sits in the real Secret Service."""
    import os
    import pty
    import subprocess
    import sys

    from keyring.backends import SecretService

    backend = SecretService.Keyring()
    name = f"jwt-{uuid.uuid4().hex[:10]}"
    store = KeyringSecretStore(backend)
    jwt_profile(emu, store, name=name, redirect_uri=redirect_uri)
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "clmwizard", "jwt", "--profile", name],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"},
        )
        assert process.stdout is not None
        url = ""
        while not url:
            line = process.stdout.readline()
            assert line, process.stderr.read() if process.stderr else ""
            if "/oauth/auth?" in line:
                url = line.strip()
        redirect_location(url)
        os.write(master, b"\n")
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert "✓ JWT Grant works" in out
    finally:
        os.close(master)
        os.close(slave)
        store.delete_profile(name)
