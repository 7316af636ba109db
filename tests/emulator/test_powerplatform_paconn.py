"""The proof: Microsoft's own paconn (0.0.21, a client nobody here wrote) creates and updates
connectors on the emulator's Power Platform over TLS, from a bundle `clmwizard export` wrote
after a real emulator login, and the emulator stores what paconn meant.

paconn lives in its own venv (`.venv-paconn`, made by scripts/test): it pulls ~50 packages and
is never a runtime dependency. Its ADAL login cannot be pointed at a non-Microsoft authority, so
the test signs in through the emulator's device code flow (MSAL, paconn's client id and resource)
and writes the token where paconn keeps it (`~/.paconn/accessTokens.json`, in a temporary HOME).
paconn's icon upload needs an `<account>.blob.<suffix>` host: the blob store answers
`clmwizardemu.blob.localhost`, reached through a CONNECT proxy that stands in for name resolution.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clmwizard.cli import main
from clmwizard.emulator import Emulator
from tests.emulator.platform_helpers import ca_file, device_code_sign_in
from tests.support.connect_proxy import connect_proxy
from tests.support.keyrings import MemoryKeyring
from tests.support.login import login_argv
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
PACONN = ROOT / ".venv-paconn" / "bin" / "paconn"
PROFILE = "paconn"


@pytest.fixture(params=[("three", "general"), ("single", "clm")], ids=["three", "single"])
def bundle(
    request: pytest.FixtureRequest,
    emu: Emulator,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> Path:
    """`clmwizard login` (consent accepted by the emulator's browser), then `export`; the
    folder of one connector of the layout."""
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    emu.register_redirect_uri(redirect_uri)
    monkeypatch.setenv("BROWSER", f"{sys.executable} -m clmwizard.emulator.browser %s")
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    assert main(login_argv(emu, profile=PROFILE, redirect_uri=redirect_uri, timeout=30)) == 0
    layout, connector = request.param
    out = tmp_path / "bundle"
    assert main(["export", "--profile", PROFILE, "--out", str(out), "--layout", layout]) == 0
    capsys.readouterr()
    return out / connector


@pytest.fixture
def paconn_home(emu: Emulator, tmp_path: Path) -> Path:
    """A HOME whose ~/.paconn/accessTokens.json holds a token from the emulator's Entra."""
    if not PACONN.exists():
        pytest.fail("paconn is missing: scripts/test makes .venv-paconn (paconn==0.0.21)")
    pp = emu.power_platform
    pp.set_policies(device_code_interval=1)
    _, result = device_code_sign_in(emu, tmp_path)
    home = tmp_path / "home"
    (home / ".paconn").mkdir(parents=True)
    token = {
        "token_type": "Bearer",
        "access_token": result["access_token"],
        "expires_on": int(emu.now()) + int(result["expires_in"]),
        "oid": result["id_token_claims"]["oid"],
    }
    (home / ".paconn" / "accessTokens.json").write_text(json.dumps(token), encoding="utf-8")
    return home


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    with connect_proxy() as running:
        yield running


def run_paconn(
    args: list[str], cwd: Path, home: Path, ca: Path, proxy_url: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "REQUESTS_CA_BUNDLE": str(ca),
        "CURL_CA_BUNDLE": str(ca),
        "HTTPS_PROXY": proxy_url,
        "NO_PROXY": "127.0.0.1",
    }
    return subprocess.run(
        [str(PACONN), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_paconn_create_and_update(
    emu: Emulator,
    bundle: Path,
    paconn_home: Path,
    proxy: tuple[str, list[str]],
    tmp_path: Path,
) -> None:
    pp = emu.power_platform
    pp.set_policies(subdomain_blob_urls=True)
    env = pp.default_environment
    ca = ca_file(emu, tmp_path)
    proxy_url, tunnelled = proxy
    folder = tmp_path / "connector"
    shutil.copytree(bundle, folder)

    def paconn(*args: str) -> subprocess.CompletedProcess[str]:
        return run_paconn(list(args), folder, paconn_home, ca, proxy_url)

    files = [
        "--api-prop",
        "apiProperties.json",
        "--api-def",
        "apiDefinition.swagger.json",
        "--icon",
        "icon.png",
    ]
    created = paconn(
        "create", "-e", env, "--pau", pp.power_apps_url, *files, "--secret", "first-secret", "-w"
    )
    assert created.returncode == 0, created.stdout + created.stderr
    (stored,) = pp.connectors(env)
    assert f"{stored['name']} created successfully" in created.stdout + created.stderr
    settings = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
    assert settings["connectorId"] == stored["name"] and settings["environment"] == env
    assert settings["powerAppsUrl"] == pp.power_apps_url

    definition = json.loads((folder / "apiDefinition.swagger.json").read_text(encoding="utf-8"))
    properties = json.loads((folder / "apiProperties.json").read_text(encoding="utf-8"))
    sent: dict[str, Any] = stored["properties"]
    assert sent["openApiDefinition"] == definition
    assert sent["backendService"]["serviceUrl"] == (
        f"{definition['schemes'][0]}://{definition['host']}{definition['basePath']}"
    )
    assert sent["displayName"] == definition["info"]["title"]
    assert sent["description"] == definition["info"]["description"]
    for key, value in properties["properties"].items():
        if key != "connectionParameters":
            assert sent[key] == value, key
    assert stored["clientSecrets"] == {"token": "first-secret"}
    oauth = sent["connectionParameters"]["token"]["oAuthSettings"]
    assert "clientSecret" not in oauth
    assert oauth["clientId"] == emu.integration_key
    assert pp.blob(sent["iconUri"]) == (folder / "icon.png").read_bytes()
    assert any(host.startswith(pp.storage_host) for host in tunnelled)

    validated = paconn(
        "validate", "--api-def", "apiDefinition.swagger.json", "--pau", pp.power_apps_url
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "validated successfully" in validated.stderr  # certification rules included

    definition["info"]["title"] = "Renamed By Update API"  # certification objects to "API"
    definition["info"]["description"] = "Changed by paconn update against the local emulator."
    (folder / "apiDefinition.swagger.json").write_text(json.dumps(definition), encoding="utf-8")
    objected = paconn(
        "validate", "--api-def", "apiDefinition.swagger.json", "--pau", pp.power_apps_url
    )
    assert "info.title: The title must not contain 'API'" in objected.stderr
    updated = paconn("update", "-s", "settings.json", "--secret", "second-secret")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    (after,) = pp.connectors(env)
    assert after["name"] == stored["name"]
    assert after["properties"]["displayName"] == sent["displayName"]  # paconn sends none
    assert after["properties"]["description"] == definition["info"]["description"]
    assert after["properties"]["openApiDefinition"]["info"]["title"] == "Renamed By Update API"
    assert after["clientSecrets"] == {"token": "second-secret"}
    assert pp.blob(after["properties"]["iconUri"]) == (folder / "icon.png").read_bytes()
