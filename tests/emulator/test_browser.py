"""The browser stand-in: as a function, as `python -m`, and as $BROWSER behind webbrowser."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlencode

import pytest

from clmwizard.emulator import Emulator
from clmwizard.emulator.browser import ConsentError, follow_consent
from tests.emulator.flows import Listener, query_of

BROWSER_COMMAND = f"{sys.executable} -m clmwizard.emulator.browser %s"


def consent_url(emu: Emulator, redirect_uri: str, **extra: str) -> str:
    params = {
        "response_type": "code",
        "scope": "signature spring_read spring_write extended",
        "client_id": emu.integration_key,
        "redirect_uri": redirect_uri,
        "state": "browser-state",
        **extra,
    }
    return f"{emu.auth_server}/oauth/auth?{urlencode(params)}"


@pytest.fixture
def redirect_uri(listener: Listener) -> str:
    """The shared `emu` registers the listener's address."""
    return listener.uri


def test_accept_delivers_the_code_to_the_listener(emu: Emulator, listener: Listener) -> None:
    final = follow_consent(consent_url(emu, listener.uri))
    assert final.startswith(listener.uri + "?")
    [delivered] = listener.paths
    query = query_of(delivered)
    assert query["state"] == "browser-state"
    assert query["code"] in emu.issued_secrets()
    assert query_of(final) == query
    assert [entry[2] for entry in emu.request_log] == ["/oauth/auth", "/oauth/consent"]


def test_decline_delivers_access_denied(emu: Emulator, listener: Listener) -> None:
    follow_consent(consent_url(emu, listener.uri), decision="decline")
    query = query_of(listener.paths[0])
    assert query["error"] == "access_denied"
    assert "code" not in query


def test_already_consented_goes_straight_through(emu: Emulator, listener: Listener) -> None:
    follow_consent(consent_url(emu, listener.uri))
    follow_consent(consent_url(emu, listener.uri))
    assert len(listener.paths) == 2
    assert [entry[2] for entry in emu.request_log] == [
        "/oauth/auth",
        "/oauth/consent",
        "/oauth/auth",
    ]


def test_error_page_raises_with_the_page_message(emu: Emulator, listener: Listener) -> None:
    url = consent_url(emu, listener.uri + "/wrong")
    with pytest.raises(ConsentError) as caught:
        follow_consent(url)
    assert str(caught.value) == (
        "The sign-in page showed an error: "
        "The redirect URI is not registered properly with DocuSign"
    )
    assert listener.paths == []


def test_unreachable_listener_is_an_error_without_the_code(emu: Emulator) -> None:
    dead = "http://127.0.0.1:9/callback"  # the discard port: nothing listens there
    emu.register_redirect_uri(dead)
    with pytest.raises(
        ConsentError, match=r"Could not open http://127.0.0.1:9/callback:"
    ) as caught:
        follow_consent(consent_url(emu, dead))
    assert not any(secret in str(caught.value) for secret in emu.issued_secrets())


def test_bad_decision_argument() -> None:
    with pytest.raises(ValueError, match="accept"):
        follow_consent("http://127.0.0.1:9/", decision="maybe")  # type: ignore[arg-type]


def run_browser(url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clmwizard.emulator.browser", url],
        stdin=subprocess.PIPE,  # left open and empty: it must not wait on stdin
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, **env},
    )


def test_module_main_accepts(emu: Emulator, listener: Listener) -> None:
    result = run_browser(consent_url(emu, listener.uri))
    assert result.returncode == 0, result.stderr
    assert "code" in query_of(listener.paths[0])


def test_module_main_declines_when_told(emu: Emulator, listener: Listener) -> None:
    result = run_browser(consent_url(emu, listener.uri), CLMWIZARD_TEST_BROWSER_DECISION="decline")
    assert result.returncode == 0, result.stderr
    assert query_of(listener.paths[0])["error"] == "access_denied"


def test_module_main_reports_an_error_page(emu: Emulator, listener: Listener) -> None:
    result = run_browser(consent_url(emu, listener.uri, response_type="token"))
    assert result.returncode == 1
    assert "The response type is not supported." in result.stderr
    assert listener.paths == []


def test_module_main_usage() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clmwizard.emulator.browser"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_as_browser_behind_pythons_webbrowser(emu: Emulator, listener: Listener) -> None:
    script = "import sys, webbrowser; sys.exit(0 if webbrowser.open(sys.argv[1]) else 1)"
    result = subprocess.run(
        [sys.executable, "-c", script, consent_url(emu, listener.uri)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "BROWSER": BROWSER_COMMAND},
    )
    assert result.returncode == 0, result.stderr
    assert query_of(listener.paths[0])["state"] == "browser-state"


def test_without_delivery_the_redirect_is_returned_not_requested(
    emu: Emulator, listener: Listener
) -> None:
    """What a browser on another machine ends on, for the SSH user to paste back."""
    final = follow_consent(consent_url(emu, listener.uri), deliver=False)
    assert final.startswith(listener.uri + "?")
    assert listener.paths == []  # nothing was sent to the loopback address
    assert query_of(final)["state"] == "browser-state"
    assert query_of(final)["code"] in emu.issued_secrets()
