"""kill -9 between the connector updates of a rotation (in a child process, against the emulator
with its Power Platform over TLS and the real Secret Service): the next `rotate` finishes, every
connector ends with the new secret and the profile knows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from clmwizard.cli import main
from clmwizard.emulator import Emulator
from clmwizard.powerplatform.records import secret_fingerprint
from clmwizard.store.profile import SECRET_ITEMS
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import SERVICE
from tests.qualities.crash.harness import Child, sign_in_here
from tests.support.powerplatform_fixtures import DeviceCodeSignIns

pytestmark = [pytest.mark.secret_service, pytest.mark.timeout(240)]


def publish(emu: Emulator, name: str, environment: str) -> None:
    pp = emu.power_platform
    argv = ["publish", "--profile", name, "--environment", environment, "--layout", "three"]
    argv += ["--authority", pp.authority_host, "--tenant", pp.tenant]
    argv += ["--power-apps-url", pp.power_apps_url, "--flow-url", pp.flow_url]
    assert main(argv) == 0


def connector_secrets(emu: Emulator, environment: str) -> list[str]:
    return [c["clientSecrets"]["token"] for c in emu.power_platform.connectors(environment)]


def test_kill_between_connector_updates_then_rotate_again_finishes(
    emu: Emulator,
    approver: DeviceCodeSignIns,  # the CA trusted (inherited by the child), device codes approved
    tmp_path: Path,
    config_dir: Path,
    profile_name: str,
    secret_service: KeyringBackend,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new = emu.secret_key, emu.spare_secret_key
    census_env, crash_env = emu.power_platform.environments
    census_name = f"{profile_name}-census"
    child = Child(tmp_path, [config_dir])
    try:
        sign_in_here(emu, census_name, old, monkeypatch)
        publish(emu, census_name, census_env)
        census = child.run(["rotate", "--profile", census_name], secret=new)
        assert census.returncode == 0, census.stderr
        assert connector_secrets(emu, census_env) == [new] * 3
        records = [i for i, step in enumerate(census.steps) if step.endswith(f"{census_name}.yaml")]
        # the rotation's own profile write, then one per connector
        assert len(records) == 4, census.steps
    finally:
        for item in SECRET_ITEMS:
            if secret_service.get_password(SERVICE, f"{census_name}/{item}") is not None:
                secret_service.delete_password(SERVICE, f"{census_name}/{item}")

    sign_in_here(emu, profile_name, old, monkeypatch)
    publish(emu, profile_name, crash_env)
    between = records[2]  # after the first connector was updated and recorded
    outcome = child.run(["rotate", "--profile", profile_name], secret=new, kill_at=between)
    assert outcome.killed_at is not None and outcome.killed_at.endswith(f"{profile_name}.yaml")
    profile = ProfileStore().load(profile_name)
    fingerprints = [c.secret_fingerprint for c in profile.publications[0].connectors]
    fresh = secret_fingerprint(profile.integration_key, new)
    assert fingerprints.count(fresh) == 1  # one recorded, the next updated but not recorded
    assert sorted(connector_secrets(emu, crash_env)) == sorted([new, new, old])
    capsys.readouterr()

    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", new)
    assert main(["rotate", "--profile", profile_name]) == 0
    out = capsys.readouterr().out
    assert "already stored" in out and "delete the old secret key" in out
    assert connector_secrets(emu, crash_env) == [new] * 3
    profile = ProfileStore().load(profile_name)
    assert {c.secret_fingerprint for c in profile.publications[0].connectors} == {fresh}
