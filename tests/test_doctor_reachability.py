"""`clmwizard doctor --profile NAME` checks that the profile's servers answer."""

from __future__ import annotations

import pytest

from clmwizard.cli import main
from clmwizard.emulator import Emulator
from clmwizard.store.profile import ClmHosts, Profile
from clmwizard.store.profiles import ProfileStore
from tests.support.keyrings import MemoryKeyring


def save_profile(auth: str, clm: str, hosts: ClmHosts | None) -> None:
    ProfileStore().save(
        Profile(
            name="acme",
            environment="custom",
            auth_server=auth,
            clm_auth_server=clm,
            integration_key="3f6c0e1a-58d2-4c1e-9b2d-0a1b2c3d4e5f",
            scopes=["signature", "extended"],
            redirect_uri="http://127.0.0.1:8765/callback",
            clm_hosts=hosts,
        )
    )


def test_every_server_of_a_running_emulator_answers(
    emulator: Emulator, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    hosts = ClmHosts(**emulator.clm_hosts)
    save_profile(emulator.auth_server, emulator.clm_auth_server, hosts)
    main(["doctor", "--profile", "acme"])
    out = capsys.readouterr().out
    for url in (emulator.auth_server, emulator.clm_auth_server, *emulator.clm_hosts.values()):
        line = next(line for line in out.splitlines() if url in line)
        assert line.startswith("✓ Reachable:"), line


def test_a_dead_server_is_named_with_a_fix(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    save_profile("http://127.0.0.1:9", "http://127.0.0.1:9", None)
    main(["--profile", "acme", "doctor"])
    out = capsys.readouterr().out
    assert "✗ Reachable: OAuth server http://127.0.0.1:9: no (ConnectError)" in out
    assert "Check the network, a proxy" in out


def test_without_a_profile_doctor_says_how_to_check_servers(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["doctor"])
    assert "add --profile NAME" in capsys.readouterr().out
