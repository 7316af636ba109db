"""`publish` → `connect` → `heartbeat` → `status` end to end: the real client against the
emulator's DocuSign and Power Platform over real sockets (TLS on the Microsoft side), a browser
stand-in following the consent link, both layouts; reruns reuse; every failure has its own
message; the emulator's clock jumps 60 days with the heartbeat on and off."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from clmwizard.cli import main
from clmwizard.commands.status import EXIT_ATTENTION, EXIT_BROKEN
from clmwizard.emulator import Emulator
from clmwizard.errors import EXIT_GRANT_DEAD
from clmwizard.store.profiles import ProfileStore
from tests.support.powerplatform_fixtures import FAST_POLL, DeviceCodeSignIns, microsoft_argv

BROWSER = f"{sys.executable} -m clmwizard.emulator.browser %s"
DAY = 24 * 3600
Argv = Callable[..., list[str]]


@pytest.fixture
def platform(
    microsoft: Emulator,
    signed_in: Callable[..., None],
    approver: DeviceCodeSignIns,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Emulator]:
    """A profile signed in at DocuSign, the browser stand-in as $BROWSER (trusting the
    emulator's CA), the Microsoft user approving device codes."""
    signed_in()
    ca = tmp_path / "emulator-ca.pem"
    monkeypatch.setenv("BROWSER", BROWSER)
    monkeypatch.setenv("CLMWIZARD_TEST_BROWSER_CA", str(ca))
    yield microsoft


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv, poll_seconds=FAST_POLL)
    out, err = capsys.readouterr()
    return code, out, err


def publish(
    emu: Emulator, publish_argv: Argv, capsys: pytest.CaptureFixture[str], *, layout: str
) -> list[str]:
    """Publish and register every redirect URL at DocuSign (what the user does by hand)."""
    code, out, err = run(publish_argv("--layout", layout), capsys)
    assert code == 0, (out, err)
    urls = [c.redirect_url for c in ProfileStore().load("acme").publications[0].connectors]
    return [u for u in urls if u]


def register(emu: Emulator, urls: list[str]) -> None:
    for url in urls:
        emu.register_redirect_uri(url)


def cmd(name: str, *extra: str) -> list[str]:
    return [name, "--profile", "acme", *extra]


def connections(emu: Emulator) -> list[dict[str, Any]]:
    return emu.power_platform.connections()


def statuses(emu: Emulator) -> list[str]:
    return [c["properties"]["statuses"][0]["status"] for c in connections(emu)]


def status_json(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(cmd("status", "--format", "json"), capsys)
    return code, json.loads(out)


@pytest.mark.parametrize("layout", ["single", "three"])
def test_publish_connect_heartbeat_status_then_reruns_reuse(
    layout: str,
    platform: Emulator,
    publish_argv: Argv,
    approver: DeviceCodeSignIns,
    capsys: pytest.CaptureFixture[str],
) -> None:
    register(platform, publish(platform, publish_argv, capsys, layout=layout))
    count = 1 if layout == "single" else 3
    code, out, _ = run(cmd("status"), capsys)  # published, not connected yet
    assert code == 6 and out.count("    connection: none yet\n") == count, out

    code, out, err = run(cmd("connect", "--timeout", "60"), capsys)
    assert code == 0, (out, err)
    assert out.count(": Connected (") == count and out.count("a new connection") == count
    assert out.count("Opened the DocuSign sign-in in your browser") == count
    assert statuses(platform) == ["Connected"] * count
    assert len(approver) == 1  # the publish's Microsoft sign-in, reused silently
    record = ProfileStore().load("acme").publications[0]
    assert all(c.connection_name for c in record.connectors)

    code, out, err = run(cmd("heartbeat"), capsys)
    assert code == 0, (out, err)
    assert "CLM answered" in out and "attribute group" in out
    assert "created, on, every day" in out
    if layout == "three":
        assert "keeps alive: the connection to" in out and "not kept alive" in out
    flows = platform.power_platform.flows()
    assert len(flows) == 1

    code, data = status_json(capsys)
    assert code == 0, data["findings"]
    assert data["verdict"] == "ok"
    assert [c["status"] for c in data["connections"]] == ["Connected"] * count
    assert data["heartbeat"]["state"] == "on"
    assert data["heartbeat"]["runs"][0]["status"] == "Succeeded"
    code, out, _ = run(cmd("status"), capsys)
    assert code == 0 and "✓ acme: OK" in out

    # reruns reuse: no second connection, no second flow
    code, out, err = run(cmd("connect"), capsys)
    assert code == 0, (out, err)
    assert out.count("the profile's connection") == count
    assert out.count("Connected (nothing to sign in)") == count
    code, out, err = run(cmd("heartbeat", "--every", "12h"), capsys)
    assert code == 0 and "updated, on, every 12 hours" in out, (out, err)
    assert len(connections(platform)) == count
    assert len(platform.power_platform.flows()) == 1
    assert len(approver) == 1


def test_a_connection_made_by_hand_is_found(
    platform: Emulator, publish_argv: Argv, capsys: pytest.CaptureFixture[str]
) -> None:
    register(platform, publish(platform, publish_argv, capsys, layout="single"))
    code, out, err = run(cmd("connect", "--timeout", "60"), capsys)
    assert code == 0, (out, err)
    profile = ProfileStore().load("acme")
    profile.publications[0].connectors[0].connection_name = None  # as if made in the portal
    ProfileStore().save(profile)
    code, out, err = run(cmd("connect"), capsys)
    assert code == 0 and "an existing connection" in out, (out, err)
    assert len(connections(platform)) == 1


def test_an_unregistered_redirect_url_names_it_and_a_rerun_carries_on(
    platform: Emulator, publish_argv: Argv, capsys: pytest.CaptureFixture[str]
) -> None:
    (url,) = publish(platform, publish_argv, capsys, layout="single")
    code, out, err = run(cmd("connect", "--timeout", "30"), capsys)
    assert code == 1
    assert "DocuSign rejects the redirect URL" in err and url in err
    assert "Redirect URIs" in err and "run `clmwizard connect --profile acme` again" in err
    assert len(connections(platform)) == 1  # made and remembered: nothing starts over
    register(platform, [url])
    code, out, err = run(cmd("connect", "--timeout", "60"), capsys)
    assert code == 0, (out, err)
    assert "the profile's connection" in out and len(connections(platform)) == 1
    assert statuses(platform) == ["Connected"]


def decline_the_consent(platform: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    platform.revoke_consent()  # else DocuSign remembers the consent and shows no page
    monkeypatch.setenv("CLMWIZARD_TEST_BROWSER_DECISION", "decline")


def delete_the_secret_at_docusign(platform: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    platform.revoke_secret("secret_key")  # the connector still has it


@pytest.mark.parametrize(
    ("trouble", "said"),
    [
        pytest.param(decline_the_consent, ["was declined", "choose Accept"], id="declined"),
        pytest.param(
            delete_the_secret_at_docusign,
            ["refused the client secret", "clmwizard publish --profile acme"],
            id="rotated-away-secret",
        ),
    ],
)
def test_a_failed_connection_sign_in_says_why_in_its_own_words(
    platform: Emulator,
    publish_argv: Argv,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    trouble: Callable[[Emulator, pytest.MonkeyPatch], None],
    said: list[str],
) -> None:
    register(platform, publish(platform, publish_argv, capsys, layout="single"))
    trouble(platform, monkeypatch)
    code, out, err = run(cmd("connect", "--timeout", "60"), capsys)
    assert code == 1, (out, err)
    for words in said:
        assert words in err


@pytest.fixture
def beating(platform: Emulator, publish_argv: Argv, capsys: pytest.CaptureFixture[str]) -> None:
    """The single-layout connector published, connected, its heartbeat flow made and run once."""
    register(platform, publish(platform, publish_argv, capsys, layout="single"))
    assert run(cmd("connect", "--timeout", "60"), capsys)[0] == 0
    code, out, err = run(cmd("heartbeat"), capsys)
    assert code == 0, (out, err)


def test_a_revoked_grant_breaks_the_run_and_status_says_how_to_recover(
    platform: Emulator, beating: None, capsys: pytest.CaptureFixture[str]
) -> None:
    platform.revoke_consent()
    platform.advance_clock(8 * 3600 + 60)  # the access token the connection holds runs out
    code, out, err = run(cmd("heartbeat"), capsys)
    assert code == 1, (out, err)
    assert "✗ Test run" in out and "clmwizard connect --profile acme" in out
    code, data = status_json(capsys)
    assert code == EXIT_BROKEN and data["verdict"] == "broken"
    assert data["connections"][0]["status"] == "Error"
    todos = " ".join(f["todo"] for f in data["findings"])
    assert "clmwizard connect --profile acme" in todos
    whats = " ".join(f["what"] for f in data["findings"])
    assert "Consent for this application was revoked" in whats  # the failing action's words
    # recovery: a new sign-in on the same connection
    code, out, err = run(cmd("connect", "--timeout", "60"), capsys)
    assert code == 0 and "the profile's connection" in out, (out, err)
    assert run(cmd("heartbeat"), capsys)[0] == 0
    assert status_json(capsys)[0] == 0


def test_a_missing_premium_licence_is_named(
    platform: Emulator, publish_argv: Argv, capsys: pytest.CaptureFixture[str]
) -> None:
    register(platform, publish(platform, publish_argv, capsys, layout="single"))
    assert run(cmd("connect", "--timeout", "60"), capsys)[0] == 0
    platform.power_platform.set_platform(premium_licence=False)
    code, out, err = run(cmd("heartbeat"), capsys)
    assert code == 1, (out, err)
    assert "needs a Premium licence" in err and "Power Automate Premium" in err
    assert len(platform.power_platform.flows()) == 0


def test_a_403_from_the_flow_api_is_plain(
    platform: Emulator, publish_argv: Argv, capsys: pytest.CaptureFixture[str]
) -> None:
    register(platform, publish(platform, publish_argv, capsys, layout="single"))
    assert run(cmd("connect", "--timeout", "60"), capsys)[0] == 0
    env = platform.power_platform.default_environment
    platform.inject_fault(
        "flow", f"/providers/Microsoft.ProcessSimple/environments/{env}/flows", status=403
    )
    code, out, err = run(cmd("heartbeat"), capsys)
    assert code == 1, (out, err)
    assert "The Flow API refused to create the heartbeat flow" in err
    assert "Environment Maker" in err


def test_sixty_days_with_the_heartbeat_on_stay_ok(
    platform: Emulator, beating: None, capsys: pytest.CaptureFixture[str]
) -> None:
    platform.advance_clock(60 * DAY)
    code, data = status_json(capsys)
    assert code == 0, data["findings"]
    assert data["connections"][0]["status"] == "Connected"
    assert all(run["status"] == "Succeeded" for run in data["heartbeat"]["runs"])
    assert len(data["heartbeat"]["runs"]) == 5  # the newest five of the daily runs


def test_sixty_days_with_the_heartbeat_off_report_the_dead_connection(
    platform: Emulator, beating: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(cmd("heartbeat", "--off"), capsys)
    assert code == 0 and "turned OFF" in out, (out, err)
    assert run(cmd("status"), capsys)[0] == EXIT_ATTENTION  # off: attention, still connected
    platform.advance_clock(60 * DAY)
    code, out, err = run(cmd("status"), capsys)
    assert code == EXIT_BROKEN, (out, err)
    assert "✗ acme: BROKEN" in out and "Error" in out
    assert "clmwizard connect --profile acme" in out  # how to recover
    assert "clmwizard heartbeat --profile acme" in out
    assert EXIT_BROKEN != EXIT_GRANT_DEAD


def test_status_all_and_the_emulator_flags(
    platform: Emulator, beating: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["status", "--all", "--format", "json", *microsoft_argv(platform)], capsys)
    assert code == 0, (out, err)
    (only,) = json.loads(out)
    assert only["profile"] == "acme" and only["verdict"] == "ok"


ROTATION_PENDING = re.compile(
    r"the old secret is still needed until a heartbeat run after "
    r"\d{4}-\d\d-\d\d \d\d:\d\d \S+ succeeds"
)
PROVEN = (
    "The new secret is proven; delete the old one at DocuSign "
    "(Settings → Apps and Keys → your app → Secret Keys)."
)


def rotate_to_spare(
    platform: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", platform.spare_secret_key)
    code, out, err = run(["rotate", "--profile", "acme"], capsys)
    assert code == 0, (out, err)
    return out


def test_a_rotation_keeps_the_old_secret_until_a_heartbeat_run_8_hours_later(
    platform: Emulator,
    beating: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs_before = len(platform.power_platform.flows()[0]["runs"])
    out = rotate_to_spare(platform, capsys, monkeypatch)
    # The run right after uses the access token the old secret obtained (the platform refreshes
    # only when it ran out): it shows the connectors work, it proves nothing about the secret.
    ran = out.index("The heartbeat run succeeded through the updated connectors")
    assert out.index("now has the new secret key") < ran
    assert "does not prove the new secret yet" in out
    assert re.search(
        r"Keep the old secret key at DocuSign until a heartbeat run after "
        r"\d{4}-\d\d-\d\d \d\d:\d\d \S+ succeeds",
        " ".join(out.split()),
    )
    assert PROVEN not in " ".join(out.split())
    assert len(platform.power_platform.flows()[0]["runs"]) == runs_before + 1
    record = ProfileStore().load("acme").publications[0]
    assert record.secret_rotated_at is not None and record.rotation_proven_at is None

    code, data = status_json(capsys)  # pending: needs attention, says until when
    assert code == EXIT_ATTENTION and data["verdict"] == "attention", data["findings"]
    (rotation,) = data["rotations"]
    assert rotation["state"] == "pending" and rotation["proven_by_run_at"] is None
    assert any(ROTATION_PENDING.search(f["what"]) for f in data["findings"])
    code, out, _ = run(cmd("status"), capsys)
    assert code == EXIT_ATTENTION and ROTATION_PENDING.search(" ".join(out.split())), out

    platform.advance_clock(DAY + 60)  # the daily heartbeat runs, after the 8 hours
    code, data = status_json(capsys)
    assert code == 0, data["findings"]
    (rotation,) = data["rotations"]
    assert rotation["state"] == "proven" and rotation["proven_by_run_at"]
    assert any(f["todo"] == PROVEN and f["level"] == "ok" for f in data["findings"])
    code, out, _ = run(cmd("status"), capsys)
    assert code == 0 and PROVEN in " ".join(out.split()), out
    assert ProfileStore().load("acme").publications[0].rotation_proven_at is not None
    # the user deletes the old secret at DocuSign: the connection refreshes with the new one
    platform.revoke_secret("secret_key")
    platform.advance_clock(8 * 3600 + 60)
    assert run(cmd("heartbeat"), capsys)[0] == 0
    assert status_json(capsys)[0] == 0


def test_a_heartbeat_run_after_the_8_hours_proves_the_rotation(
    platform: Emulator,
    beating: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rotate_to_spare(platform, capsys, monkeypatch)
    code, out, err = run(cmd("heartbeat"), capsys)  # too early: proves nothing
    assert code == 0, (out, err)
    assert "! Keep the old secret key at DocuSign until a heartbeat run after" in out
    assert status_json(capsys)[1]["rotations"][0]["state"] == "pending"
    platform.advance_clock(8 * 3600 + 60)
    code, out, err = run(cmd("heartbeat"), capsys)
    assert code == 0, (out, err)
    assert PROVEN in " ".join(out.split())
    code, data = status_json(capsys)
    assert code == 0 and data["rotations"][0]["state"] == "proven", data["findings"]


def test_an_old_secret_deleted_too_early_breaks_the_run_after_8_hours_in_plain_words(
    platform: Emulator, beating: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The connector still carries the secret deleted at DocuSign (a rotation that never
    reached it): the run right after succeeds on the access token the connection holds, which
    is why such a run proves nothing; once that token ran out the refresh fails."""
    platform.revoke_secret("secret_key")
    code, out, err = run(cmd("heartbeat"), capsys)
    assert code == 0, (out, err)
    platform.advance_clock(8 * 3600 + 60)
    code, out, err = run(cmd("heartbeat"), capsys)
    assert code == 1, (out, err)
    flat = " ".join(out.split())
    assert "DocuSign refused DocuSign CLM acme's client secret" in flat, out
    assert "clmwizard publish --profile acme" in flat
    code, data = status_json(capsys)
    assert code == EXIT_BROKEN and data["connections"][0]["status"] == "Error"


def test_a_rotation_the_heartbeat_cannot_prove_keeps_the_old_secret(
    platform: Emulator,
    beating: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # CLM fails the heartbeat's call (any retry included): the run cannot prove anything
    path = f"/v2/{platform.account_id}/attributegroups"
    platform.inject_fault("general", path, status=503, count=20)
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", platform.spare_secret_key)
    code, out, err = run(["rotate", "--profile", "acme"], capsys)
    assert code == 1, (out, err)
    assert "✗ The heartbeat failed" in out and "HTTP 503" in out
    assert "Keep the old secret key in DocuSign" in out
    assert "delete the old secret key once" not in out


def test_the_portals_consent_path_is_finished_with_the_code(
    platform: Emulator, publish_argv: Argv, capsys: pytest.CaptureFixture[str]
) -> None:
    """The consent service hands the code to the link's redirect URL (clmwizard's return page)
    instead of finishing itself (T, switch consent_finish=confirm): connect confirms it."""
    platform.power_platform.set_platform(consent_finish="confirm")
    register(platform, publish(platform, publish_argv, capsys, layout="single"))
    code, out, err = run(cmd("connect", "--timeout", "60"), capsys)
    assert code == 0, (out, err)
    assert statuses(platform) == ["Connected"]


def test_after_a_service_principal_publish_one_connect_client_id_serves_the_later_commands(
    platform: Emulator,
    publish_argv: Argv,
    approver: DeviceCodeSignIns,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Flow API and the consent link refuse an app-only token: connect, heartbeat and
    status sign in as a person. The profile remembers that sign-in's app registration apart
    from the service principal the publication recorded."""
    from clmwizard.emulator.powerplatform.service import APP_REGISTRATION_CLIENT_ID

    pp = platform.power_platform
    monkeypatch.setenv("CLMWIZARD_MS_CLIENT_SECRET", pp.client_secret)
    code, out, err = run(publish_argv("--service-principal", "--client-id", pp.client_id), capsys)
    assert code == 0, (out, err)
    monkeypatch.delenv("CLMWIZARD_MS_CLIENT_SECRET", raising=False)  # taken out at start
    profile = ProfileStore().load("acme")
    assert profile.publications[0].client_id == pp.client_id and profile.microsoft_user is None
    register(platform, [c.redirect_url or "" for c in profile.publications[0].connectors])

    code, out, err = run(cmd("connect", "--client-id", APP_REGISTRATION_CLIENT_ID), capsys)
    assert code == 0, (out, err)
    assert len(approver) == 1  # one device-code sign-in, with the app registration
    profile = ProfileStore().load("acme")
    assert profile.microsoft_user is not None
    assert profile.microsoft_user.client_id == APP_REGISTRATION_CLIENT_ID
    assert profile.microsoft_user.tenant == pp.tenant
    assert profile.publications[0].client_id == pp.client_id  # the publication's is kept

    code, out, err = run(cmd("heartbeat"), capsys)  # no flag: the remembered sign-in, silently
    assert code == 0, (out, err)
    assert "CLM answered" in out
    code, data = status_json(capsys)
    assert code == 0, data["findings"]
    assert data["remote_checked"] is True and data["heartbeat"]["runs"][0]["status"] == "Succeeded"
    code, out, err = run(cmd("connect"), capsys)
    assert code == 0 and "Connected (nothing to sign in)" in out, (out, err)
    assert len(approver) == 1  # never asked again
