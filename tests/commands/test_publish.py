"""`clmwizard publish` end to end: a real `clmwizard login` against the DocuSign emulator, then
the emulator's Power Platform over real TLS sockets: device code sign-in, both layouts, updates
on rerun, dry run, environment choice, adoption, redirect-URL check, service principal."""

from __future__ import annotations

import sys
import threading
import webbrowser
from collections.abc import Callable
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from clmwizard.emulator import Emulator
from clmwizard.errors import EXIT_KEYRING
from clmwizard.powerplatform.redirect import UNKNOWN_LINE
from clmwizard.store.profiles import ProfileStore
from tests.support.cli import Cli, Ran
from tests.support.keyrings import FailingAfterKeyring, MemoryKeyring
from tests.support.powerplatform_fixtures import DeviceCodeSignIns

Argv = Callable[..., list[str]]


def stored_connectors(emu: Emulator) -> list[dict[str, Any]]:
    return emu.power_platform.connectors(emu.power_platform.default_environment)


Publish = Callable[..., Ran]


@pytest.fixture
def publish(signed_in: Callable[..., None], publish_argv: Argv, cli: Cli) -> Publish:
    """Profile acme signed in to DocuSign; each call is one `clmwizard publish` run against the
    emulator's Power Platform (`profile=`, `environment=` as for `publish_argv`)."""
    signed_in()

    def run(*extra: str, profile: str = "acme", environment: str | None = "default") -> Ran:
        return cli(*publish_argv(*extra, profile=profile, environment=environment))

    return run


@pytest.mark.parametrize("layout", ["single", "three"])
def test_publish_creates_then_updates_without_duplicates(
    layout: str,
    microsoft: Emulator,
    approver: DeviceCodeSignIns,
    publish: Publish,
) -> None:
    code, out, err = publish("--layout", layout)
    assert code == 0, (out, err)  # published; DocuSign does not know the redirect URL yet
    count = 1 if layout == "single" else 3
    assert len(approver) == 1 and "enter the code" in out
    assert f"✓ Signed in to Microsoft as {microsoft.power_platform.user_principal_name}" in out
    connectors = stored_connectors(microsoft)
    assert len(connectors) == count
    record = ProfileStore().load("acme").publications[0]
    assert record.layout == layout and len(record.connectors) == count
    for connector in record.connectors:
        assert connector.connector_id in out and connector.redirect_url
        assert connector.redirect_url in out
    assert out.count("DocuSign says it is NOT registered") == count
    assert microsoft.secret_key not in out + err
    assert "Left to do by hand:\n  1. Register this redirect URL (DocuSign says it is not " in out

    for connector in record.connectors:
        assert connector.redirect_url is not None
        microsoft.register_redirect_uri(connector.redirect_url)
    code, out, err = publish()  # the layout is remembered
    assert code == 0, (out, err)
    assert len(approver) == 1  # the cached sign-in was used silently
    assert len(stored_connectors(microsoft)) == count
    # A registered redirect URL gets DocuSign's sign-in (a 302 here): that proves nothing.
    assert out.count(UNKNOWN_LINE) == count and "NOT registered" not in out
    assert out.count(": update ") == count
    assert "1. Register this redirect URL, unless done already — DocuSign: " in out


def test_dry_run_changes_nothing(
    microsoft: Emulator,
    approver: DeviceCodeSignIns,
    publish: Publish,
) -> None:
    code, out, _ = publish("--dry-run", "--layout", "three")
    assert code == 0 and "Dry run: nothing was created or changed." in out
    assert out.count(": create") == 3
    assert stored_connectors(microsoft) == []
    assert ProfileStore().load("acme").publications == []


def test_several_environments_without_a_terminal_are_listed(
    microsoft: Emulator,
    approver: DeviceCodeSignIns,
    publish: Publish,
) -> None:
    code, _, err = publish(environment=None)
    assert code == 2 and "choose one with --environment" in err
    for environment in microsoft.power_platform.environments:
        assert environment in err
    assert "␊" not in err  # the error's own line breaks are not shown as control pictures
    assert "(default)" in err and "(default) (default)" not in err
    assert stored_connectors(microsoft) == []


@pytest.fixture
def first_published(
    approver: DeviceCodeSignIns, publish: Publish, signed_in: Callable[..., None]
) -> None:
    """Another profile, `first`, signed in and published into the same environment; then acme
    signed in again (its DocuSign sign-in is the current one)."""
    signed_in(profile="first")
    assert publish(profile="first").code == 0
    signed_in(profile="acme")


def test_a_connector_of_the_same_name_is_not_taken_without_asking(
    microsoft: Emulator, publish: Publish, first_published: None
) -> None:
    (theirs,) = stored_connectors(microsoft)
    code, out, err = publish("--name", "DocuSign CLM first")
    assert code == 2 and "adopt?" in out and "not touched" in err
    assert stored_connectors(microsoft) == [theirs]
    assert ProfileStore().load("acme").publications == []


def test_two_profiles_publish_into_one_environment_without_an_adoption_prompt(
    microsoft: Emulator, publish: Publish, first_published: None
) -> None:
    code, out, err = publish()
    assert code == 0, (out, err)
    assert "adopt" not in out + err
    names = sorted(c["properties"]["displayName"] for c in stored_connectors(microsoft))
    assert names == ["DocuSign CLM acme", "DocuSign CLM first"]
    # A chosen name is used and remembered: the next publish (no --name) keeps it.
    code, out, _ = publish("--name", "CLM Sales")
    assert code == 0 and "Name: CLM Sales." in out
    assert ProfileStore().load("acme").connector_name == "CLM Sales"
    code, out, err = publish("--name", "CLM API")
    assert code == 2 and 'contains "API"' in err


def test_no_maker_role_is_said_plainly_and_nothing_is_left_unreported(
    microsoft: Emulator,
    approver: DeviceCodeSignIns,
    publish: Publish,
) -> None:
    microsoft.power_platform.set_maker(microsoft.power_platform.default_environment, False)
    code, out, err = publish()
    assert code == 1, (out, err)
    assert "Environment Maker" in err and "EnvironmentAccess" in err


@pytest.fixture
def service_principal(microsoft: Emulator, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The emulator's service principal: its secret in the environment, the flags naming it."""
    pp = microsoft.power_platform
    monkeypatch.setenv("CLMWIZARD_MS_CLIENT_SECRET", pp.client_secret)
    return ["--service-principal", "--client-id", pp.client_id]


def test_service_principal_publishes_with_the_secret_from_the_environment(
    microsoft: Emulator,
    publish: Publish,
    service_principal: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pp = microsoft.power_platform
    monkeypatch.setenv("CLMWIZARD_CA_BUNDLE", pp.ca_cert)  # the PEM text itself works too
    code, out, err = publish(*service_principal)
    assert code == 0, (out, err)
    assert f"service principal {pp.client_id}" in out
    assert len(stored_connectors(microsoft)) == 1
    assert pp.client_secret not in out + err


@pytest.mark.parametrize("trouble", ["absent", "discards", "refuses writes"])
def test_a_keyring_that_cannot_keep_the_sign_in_is_refused_as_for_docusign(
    trouble: str,
    microsoft: Emulator,
    approver: DeviceCodeSignIns,
    memory_keyring: MemoryKeyring,
    publish: Publish,
) -> None:
    if trouble == "refuses writes":
        broken: KeyringBackend = FailingAfterKeyring(ok_writes=0)
        broken.items.update(memory_keyring.items)  # the DocuSign sign-in is there
    else:
        broken = fail.Keyring() if trouble == "absent" else null.Keyring()
    keyring.set_keyring(broken)
    code, out, err = publish()
    assert code == EXIT_KEYRING, (out, err)
    assert "keyring" in err.lower()
    assert stored_connectors(microsoft) == []


# Each of Entra's answers with its own words and its own fix.
SIGN_IN_TROUBLES = [
    ("declined", "The sign-in was declined.", "accept the sign-in"),
    ("expired", "The sign-in code expired", "within 15 minutes"),
    ("unknown code", "did not recognise the sign-in code", "newest code"),
    (
        "public client flows off",
        "does not allow public client flows",
        "a public client: --client-id",
    ),
    ("admin consent", "An administrator must first consent", "grant consent"),
    ("conditional access", "conditional-access policy", "compliant device"),
]


@pytest.mark.parametrize(("trouble", "words", "fix"), SIGN_IN_TROUBLES)
def test_microsoft_sign_in_failures_are_said_plainly(
    trouble: str,
    words: str,
    fix: str,
    microsoft: Emulator,
    publish: Publish,
) -> None:
    pp = microsoft.power_platform
    if trouble == "admin consent":
        pp.set_policies(admin_consent_required=True)
    if trouble == "conditional access":
        pp.set_policies(conditional_access_blocked=True)
    stop = threading.Event()

    def user() -> None:
        while not stop.wait(0.05):
            for code in pp.pending_device_codes():
                if trouble == "declined":
                    pp.decline_device_code(code)
                elif trouble == "expired":
                    microsoft.advance_clock(901)
                elif trouble == "unknown code":
                    pp.forget_device_code(code)
                else:
                    pp.approve_device_code(code)

    thread = threading.Thread(target=user, daemon=True)
    thread.start()
    # An app registration without public client flows: here, the service principal's own.
    extra = ["--client-id", pp.client_id] if trouble == "public client flows off" else []
    try:
        code, out, err = publish(*extra)
    finally:
        stop.set()
        thread.join(2)
    assert code == 1, (out, err)
    assert words in err and fix in err and "Microsoft said:" in err
    assert "refused the service principal" not in err  # not a wrong client secret
    assert stored_connectors(microsoft) == []


def test_a_revoked_cached_token_is_dropped_and_the_sign_in_asked_once_more(
    microsoft: Emulator,
    approver: DeviceCodeSignIns,
    publish: Publish,
) -> None:
    assert publish()[0] == 0 and len(approver) == 1
    microsoft.power_platform.revoke_access_tokens()  # MSAL's cached token no longer works
    code, out, err = publish()
    assert code == 0, (out, err)
    assert "refused the cached sign-in (HTTP 401); signing in again" in out
    assert len(approver) == 2 and len(stored_connectors(microsoft)) == 1


def test_a_service_principal_without_an_environment_is_told_to_give_one(
    microsoft: Emulator, publish: Publish, service_principal: list[str]
) -> None:
    code, out, err = publish(*service_principal, environment=None)
    assert code == 2, (out, err)
    assert "A service principal cannot list the environments" in err and "--environment" in err
    assert stored_connectors(microsoft) == []


def test_browser_sign_in_publishes(
    microsoft: Emulator,
    publish: Publish,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BROWSER", f"{sys.executable} -m tests.powerplatform.browser_stand_in %s")
    # webbrowser reads $BROWSER once per process (login already used it); a real run is fresh.
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    code, out, err = publish("--browser")
    assert code == 0, (out, err)
    assert f"Signed in to Microsoft as {microsoft.power_platform.user_principal_name}" in out
    assert len(stored_connectors(microsoft)) == 1


def test_throttling_is_waited_out_with_retry_after(
    microsoft: Emulator,
    approver: DeviceCodeSignIns,
    publish: Publish,
) -> None:
    microsoft.inject_fault(
        "powerapps", "/providers/Microsoft.PowerApps/apis", status=429, retry_after=1, count=1
    )
    code, out, err = publish()
    assert code == 0, (out, err)
    assert len(stored_connectors(microsoft)) == 1


def test_the_device_code_wait_shows_a_clock_until_the_sign_in_returns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import sys
    import time
    from datetime import UTC, datetime, timedelta

    from clmwizard.commands.publish import device_code_shown
    from clmwizard.powerplatform.signin import DeviceCode

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code = DeviceCode(
        "ABCD-EFGH",
        "https://microsoft.com/devicelogin",
        "",
        datetime.now(UTC) + timedelta(minutes=15),
    )
    with device_code_shown() as show:
        show(code)
        deadline = time.monotonic() + 5
        while "0:00 of" not in terminal.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)  # the clock's first line, drawn by its thread
    shown = terminal.getvalue()
    out = capsys.readouterr().out
    assert "enter the code ABCD-EFGH" in out
    assert "Waiting for the code to be entered  0:00 of 14:5" in shown
    assert shown.endswith("\r\x1b[K")


@pytest.mark.parametrize("form", ["text", "json"])
def test_validation_warnings_are_shown_and_errors_stop_with_each_shown(
    form: str,
    microsoft: Emulator,
    approver: DeviceCodeSignIns,
    publish: Publish,
) -> None:
    pp = microsoft.power_platform
    warning = "Warning: paths./attributegroups.get: The summary could be shorter."
    pp.set_behaviour(validation_format=form, validation_findings=[warning])
    code, out, err = publish("--layout", "three")
    assert code == 0, (out, err)
    assert out.count("validation warning:") == 3 and "The summary could be shorter." in out
    assert len(stored_connectors(microsoft)) == 3
    errors = ["Error: host: The first problem.", "Error: info: The second problem."]
    pp.set_behaviour(validation_findings=[warning, *errors])
    code, out, err = publish()
    assert code == 1, (out, err)
    assert "The first problem." in err and "The second problem." in err
    assert "validation warning:" in out  # shown beside the connector it belongs to
    assert len(stored_connectors(microsoft)) == 3  # nothing created, nothing changed
