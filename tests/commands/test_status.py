"""`clmwizard status`, `connect` and `heartbeat` where no Power Platform is needed: the verdict
from what the profile remembers, the exit codes (documented), the JSON keys, --all, and the
command-line refusals (nothing published, no connection, a second connect at once)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clmwizard.cli import main
from clmwizard.commands.status import EXIT_ATTENTION, EXIT_BROKEN
from clmwizard.errors import EXIT_USAGE
from clmwizard.store.profile import PublishedConnector
from clmwizard.store.profiles import ProfileStore
from tests.support.keyrings import MemoryKeyring
from tests.support.records import PUBLIC_CLIENT, publish_record
from tests.support.store_fixtures import make_profile


def save(
    name: str, *, published: bool = False, dies_in_days: float = 20, **changes: object
) -> None:
    profile = make_profile(name, **changes)
    profile.refresh_token_expires_at = datetime.now(UTC) + timedelta(days=dies_in_days)
    profile.last_refresh_at = datetime.now(UTC) - timedelta(days=1)
    if published:
        profile.publications = [
            publish_record(
                PublishedConnector(
                    key="clm",
                    connector_id="shared_docusign-20clm-5f01",
                    display_name="DocuSign CLM",
                    secret_fingerprint="0" * 16,
                    redirect_url="https://global.consent.azure-apim.net/redirect/x",
                    connection_name="abc123",
                ),
                environment_id="env-one",
                **PUBLIC_CLIENT,
            )
        ]
    ProfileStore().save(profile)


def test_exit_codes_are_distinct_and_documented() -> None:
    assert len({0, EXIT_ATTENTION, EXIT_BROKEN, 1, 2, 3, 4, 5}) == 8
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"`{EXIT_ATTENTION}` needs attention" in readme
    assert f"`{EXIT_BROKEN}` broken" in readme


def test_a_grant_only_profile_is_judged_by_its_grant(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    save("alive")
    assert main(["status", "--profile", "alive"]) == 0
    out = capsys.readouterr().out
    assert "✓ alive: OK" in out
    assert "connectors: none published (only the DocuSign grant is checked) — " in out
    assert "clmwizard publish --profile alive, then connect and heartbeat" in out
    save("dead", dies_in_days=-1)
    assert main(["status", "--profile", "dead"]) == EXIT_BROKEN
    out = capsys.readouterr().out
    assert "✗ dead: BROKEN" in out and "clmwizard login --profile dead" in out


def test_without_a_microsoft_sign_in_it_says_what_it_could_not_check(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    save("acme", published=True)
    assert main(["status", "--profile", "acme", "--format", "json"]) == EXIT_ATTENTION
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "attention" and data["remote_checked"] is False
    assert data["connections"] == [
        {
            "connector": "clm",
            "connector_id": "shared_docusign-20clm-5f01",
            "connection": "abc123",
            "status": "unknown",
            "error": None,
            "kept_alive_by_heartbeat": False,
        }
    ]
    assert data["heartbeat"] == {
        "state": "none",
        "flow_id": None,
        "every": None,
        "last_result": None,
        "runs": [],
    }
    todos = " ".join(f["todo"] for f in data["findings"])
    assert "clmwizard connect --profile acme" in todos
    assert "clmwizard heartbeat --profile acme" in todos
    assert main(["status", "--profile", "acme"]) == EXIT_ATTENTION
    out = capsys.readouterr().out
    assert out.count("not checked") == 1  # said once, with what to do
    assert "! Power Automate was not checked: no Microsoft sign-in is cached" in out


def test_all_lists_every_profile_and_exits_with_the_worst(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    save("one")
    save("two", dies_in_days=-3)
    assert main(["status", "--all", "--format", "json"]) == EXIT_BROKEN
    data = json.loads(capsys.readouterr().out)
    assert [(d["profile"], d["verdict"]) for d in data] == [("one", "ok"), ("two", "broken")]
    (ProfileStore().root / "bad.yaml").write_text("schema_version: [\n")  # unreadable
    assert main(["status", "--all"]) == EXIT_BROKEN
    out = capsys.readouterr().out
    assert "✗ bad: BROKEN" in out and "✓ one: OK" in out and "✗ two: BROKEN" in out


def test_status_needs_a_profile_or_all(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["status"])
    assert caught.value.code == EXIT_USAGE


def test_connect_and_heartbeat_need_something_published(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    save("bare")
    assert main(["connect", "--profile", "bare"]) == EXIT_USAGE
    assert "clmwizard publish --profile bare" in capsys.readouterr().err
    save("pub", published=True)
    profile = ProfileStore().load("pub")
    profile.publications[0].connectors[0].connection_name = None
    ProfileStore().save(profile)
    assert main(["heartbeat", "--profile", "pub"]) == EXIT_USAGE
    assert "clmwizard connect --profile pub" in capsys.readouterr().err
    assert main(["heartbeat", "--profile", "pub", "--every", "daily"]) == EXIT_USAGE


def test_one_connect_per_profile_at_a_time(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    save("acme", published=True)
    with ProfileStore().task_lock("acme", "connect"):
        assert main(["connect", "--profile", "acme", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "`clmwizard connect` for profile 'acme' is in use" in err
    assert "clmwizard connect --profile acme" in err  # who holds it
