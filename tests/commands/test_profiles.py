"""`clmwizard profiles` through the real command line entry point."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import keyring
import pytest
import yaml
from keyring.backends import fail

from clmwizard.cli import main
from clmwizard.errors import EXIT_USAGE
from clmwizard.store.profile import ACCESS_TOKEN, REFRESH_TOKEN, SECRET_ITEMS, SECRET_KEY
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import open_secret_store
from tests.support.store_fixtures import Backends, make_profile


class FakeTerminal:
    def isatty(self) -> bool:
        return True


def _now() -> datetime:
    return datetime.now(UTC)


def test_empty_state(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles"]) == 0
    assert capsys.readouterr().out == (
        "No profiles yet. Run `clmwizard` or `clmwizard login` to create one.\n"
    )


def test_list_shows_expiry_warnings_and_corrupt_files(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = ProfileStore()
    now = _now()
    store.save(make_profile("fine", refresh_token_expires_at=now + timedelta(days=20)))
    store.save(make_profile("soon", refresh_token_expires_at=now + timedelta(days=3, hours=1)))
    store.save(make_profile("dead", refresh_token_expires_at=now - timedelta(days=1)))
    store.save(make_profile("fresh", signed_in=False))
    (store.root / "junk.yaml").write_text("name: [oops\n", encoding="utf-8")

    assert main(["profiles", "list"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line and line[0] != " "}

    assert out.splitlines()[0].split() == [
        "NAME", "ENVIRONMENT", "ACCOUNT", "LAST", "REFRESH", "REFRESH", "TOKEN", "EXPIRES"
    ]  # fmt: skip
    assert "Contoso Legal (a1b2c3d4-e5f6-4711-8899-aabbccddeeff)" in lines["fine"]
    assert "2025-03-02 12:00 UTC" in lines["fine"]  # last refresh
    assert "⚠" not in lines["fine"] and "expired" not in lines["fine"]
    assert "⚠ expires in 3 days — run `clmwizard refresh`" in lines["soon"]
    assert "expired" in lines["dead"] and "sign in again" in lines["dead"]
    assert "not signed in" in lines["fresh"] and "never" in lines["fresh"]
    assert lines["junk"].startswith(f"junk  ✗ cannot be read: {store.root / 'junk.yaml'}")
    assert "The YAML parser stopped" in out
    # Sorted by name, the unreadable one after the table.
    assert [line.split()[0] for line in out.splitlines()[1:5]] == ["dead", "fine", "fresh", "soon"]


def test_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    store = ProfileStore()
    store.save(make_profile("soon", refresh_token_expires_at=_now() + timedelta(days=2)))
    (store.root / "junk.yaml").write_text("- a list\n", encoding="utf-8")
    assert main(["profiles", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [entry["name"] for entry in data] == ["junk", "soon"]
    assert "It should hold a mapping" in data[0]["error"]
    assert data[1]["refresh_token_status"] == "expiring"
    assert data[1]["account_id"] == "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
    assert data[1]["last_refresh_at"] == "2025-03-02T12:00:00Z"


def test_show_reports_secrets_only_as_present_or_absent(
    backend: Backends, capsys: pytest.CaptureFixture[str]
) -> None:
    name = backend.name()
    ProfileStore().save(make_profile(name))
    open_secret_store().set_many(name, {SECRET_KEY: "sk-show-me-not", REFRESH_TOKEN: "rt-nope-123"})

    assert main(["profiles", "show", name]) == 0
    out = capsys.readouterr().out
    assert "sk-show-me-not" not in out and "rt-nope-123" not in out
    assert "    secret_key: present\n" in out
    assert "    refresh_token: present\n" in out
    assert "    access_token: absent\n" in out
    assert "  integration_key: 4c6d1b0e-3a5f-4c5e-9b1a-2f7e8d9c0a1b\n" in out
    assert "    upload: https://apiuploaduatna11.springcm.com\n" in out

    assert main(["profiles", "show", name, "--format", "yaml"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["secrets"] == {
        SECRET_KEY: "present", REFRESH_TOKEN: "present", ACCESS_TOKEN: "absent",
        "rsa_private_key": "absent", "ms_token_cache": "absent",
    }  # fmt: skip
    assert data["account_name"] == "Contoso Legal"


def test_show_without_a_keyring_says_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    ProfileStore().save(make_profile("work"))
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        assert main(["profiles", "show", "work", "--format", "json"]) == 0
    finally:
        keyring.set_keyring(previous)
    data = json.loads(capsys.readouterr().out)
    assert data["secrets"] == dict.fromkeys(SECRET_ITEMS, "unknown (keyring unavailable)")


def test_show_missing_profile_and_missing_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "show", "ghost"]) == 1
    err = capsys.readouterr().err
    assert "✗ There is no profile named 'ghost'." in err
    assert main(["profiles", "show"]) == EXIT_USAGE
    assert "`clmwizard profiles show` needs a profile name." in capsys.readouterr().err
    assert main(["profiles", "show", "../etc"]) == EXIT_USAGE
    assert "'../etc' is not a valid profile name." in capsys.readouterr().err


def test_delete_with_yes_removes_file_and_keyring_items(
    backend: Backends, capsys: pytest.CaptureFixture[str]
) -> None:
    name = backend.name()
    store = ProfileStore()
    store.save(make_profile(name))
    open_secret_store().set_many(name, dict.fromkeys(SECRET_ITEMS, "doomed-secret-value"))

    assert main(["profiles", "delete", name, "--yes"]) == 0

    assert f"✓ Deleted profile {name}" in capsys.readouterr().out
    assert not store.exists(name)
    secrets = open_secret_store()
    assert [secrets.get(name, item) for item in SECRET_ITEMS] == [None] * len(SECRET_ITEMS)


def test_delete_ends_with_what_is_left_elsewhere_and_how_to_remove_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """clmwizard deletes the file and the keyring items; the connector, its flow, the redirect
    URL at DocuSign and the bundle stay, each named with where to remove it."""
    from clmwizard.store.profile import (
        ExportRecord,
        HeartbeatRecord,
        PublishedConnector,
        PublishRecord,
    )

    redirect = "https://global.consent.azure-apim.net/redirect/docusign-clm-5f1e"
    profile = make_profile("acme")
    profile.exports.append(ExportRecord("/tmp/acme-connector", "single", _now()))
    profile.publications.append(
        PublishRecord(
            environment_id="Default-1234",
            layout="single",
            power_apps_url="https://api.powerapps.com",
            authority="https://login.microsoftonline.com",
            tenant="organizations",
            client_id="client",
            connectors=[
                PublishedConnector(
                    "clm", "shared_docusign-clm-5f1e", "DocuSign CLM", "fp", redirect, None, "c-1"
                )
            ],
            heartbeat=HeartbeatRecord("flow-1", "clm", "on", "1d"),
        )
    )
    ProfileStore().save(profile)
    assert main(["profiles", "delete", "acme", "--yes"]) == 0
    out = capsys.readouterr().out
    assert (
        "Connector    DocuSign CLM  id shared_docusign-clm-5f1e (environment Default-1234)" in out
    )
    assert "Heartbeat    flow flow-1, on" in out and "Bundle       /tmp/acme-connector" in out
    assert "1. Delete the connectors (their connections go with them) — Power Automate" in out
    assert "2. Delete the heartbeat flow" in out
    assert "3. Remove this redirect URL — DocuSign: Settings → Apps and Keys" in out
    assert f"\n{redirect}\n" in out  # on a line of its own
    assert "4. Delete the bundle folder(s) above" in out
    assert "5. Delete the secret key if nothing else uses it" in out
    assert not ProfileStore().exists("acme")


def test_delete_without_a_terminal_refuses(
    memory_keyring: object, capsys: pytest.CaptureFixture[str]
) -> None:
    ProfileStore().save(make_profile("work"))
    assert main(["profiles", "delete", "work"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "✗ Not deleting profile 'work' without confirmation." in err
    assert "clmwizard profiles delete work --yes" in err
    assert ProfileStore().exists("work")


@pytest.mark.parametrize(("answer", "deleted"), [("y", True), ("", False), ("no", False)])
def test_delete_asks_on_a_terminal(
    answer: str,
    deleted: bool,
    memory_keyring: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ProfileStore().save(make_profile("work"))
    prompts: list[str] = []
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    monkeypatch.setattr("builtins.input", lambda prompt: prompts.append(prompt) or answer)

    assert main(["profiles", "delete", "work"]) == 0

    assert prompts == ["Delete profile work and its keyring items? [y/N] "]
    assert ProfileStore().exists("work") is not deleted
    out = capsys.readouterr().out
    assert ("✓ Deleted profile work" in out) is deleted
    assert ("Kept profile work." in out) is not deleted


def test_delete_refused_by_an_unsafe_keyring_keeps_the_profile(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ProfileStore().save(make_profile("work"))
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        assert main(["profiles", "delete", "work", "--yes"]) == 4
    finally:
        keyring.set_keyring(previous)
    assert "will not store secrets in this keyring" in capsys.readouterr().err
    assert ProfileStore().exists("work")


def test_show_prints_publications_as_lines_not_a_python_dict(
    memory_keyring: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from clmwizard.store.profile import PublishedConnector, PublishRecord

    profile = make_profile("acme")
    url = "https://global.consent.azure-apim.net/redirect/shared-docusign-clm"
    profile.publications.append(
        PublishRecord(
            "Default-1234", "single", "https://api.powerapps.com", "https://login", "orgs", "cid",
            [PublishedConnector("clm", "shared-docusign-clm", "DocuSign CLM", "fp", url)],
        )
    )  # fmt: skip
    ProfileStore().save(profile)
    assert main(["profiles", "show", "acme"]) == 0
    out = capsys.readouterr().out
    assert "{'" not in out and "[{" not in out
    assert "  publications:\n    - environment_id: Default-1234\n" in out
    assert "        connector_id: shared-docusign-clm\n" in out
    assert f"        redirect_url: {url}\n" in out
