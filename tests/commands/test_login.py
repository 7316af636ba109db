"""`clmwizard login` end to end against the emulator, through main() with real sockets."""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clmwizard.commands import login as login_command
from clmwizard.emulator import Emulator
from clmwizard.store.profiles import ProfileStore
from tests.docusign.helpers import free_port, redirect_location
from tests.support.cli import Cli, Ran
from tests.support.keyrings import MemoryKeyring
from tests.support.signin_fixtures import BROWSER

Login = Callable[..., Ran]
NO_SECRET = ""  # `secret=NO_SECRET`: the run has no CLMWIZARD_SECRET_KEY at all


@pytest.fixture
def login(
    emu: Emulator, login_args: Callable[..., list[str]], memory_keyring: MemoryKeyring, cli: Cli
) -> Login:
    """`clmwizard [before…] login … [extra…]` against the emulator with its secret key and the
    browser stand-in; `flags` give a login flag another value (`timeout="0.3"`), or add it."""

    def run(
        *extra: str,
        before: tuple[str, ...] = (),
        secret: str | None = None,
        browser: str = BROWSER,
        **flags: str,
    ) -> Ran:
        args = login_args(*extra, profile=flags.pop("profile", "acme"))
        for name, value in flags.items():
            flag = "--" + name.replace("_", "-")
            if flag in args:
                args[args.index(flag) + 1] = value
            else:
                args += [flag, value]
        if secret == NO_SECRET:
            return cli(*before, *args, browser=browser)
        return cli(*before, *args, secret=secret or emu.secret_key, browser=browser)

    return run


def stored(keyring: MemoryKeyring) -> dict[str, str]:
    return {
        user: value for (service, user), value in keyring.items.items() if service == "clmwizard"
    }


def test_login_through_the_browser_stores_everything(
    emu: Emulator,
    login: Login,
    redirect_uri: str,
    memory_keyring: MemoryKeyring,
    config_dir: Path,
) -> None:
    code, out, err = login()
    assert code == 0
    assert (
        "Register this redirect URI on the integration key (Apps and Keys → your app):\n"
        f"  {redirect_uri}" in out
    )
    assert f"  {emu.auth_server}/oauth/auth?response_type=code&scope=signature%20spring_read" in out
    assert f"Using account Northwind Traders ({emu.account_id}), the default." in out
    assert f"✓ Signed in as {emu.user_name} <{emu.user_email}>" in out
    assert "✓ CLM answered: " in out and " attribute groups (127.0.0.1:" in out
    for host in emu.clm_hosts.values():
        assert host in out
    assert "(each refresh renews it: `extended`)" in out
    assert "clmwizard fields --profile acme" in out and "clmwizard export --profile acme" in out
    assert "Left to do by hand:\n  1. Create the connector — this terminal: " in out
    assert "Keep it alive — Power Automate" in out
    assert emu.secret_key not in out + err

    secrets = stored(memory_keyring)
    assert secrets["acme/secret_key"] == emu.secret_key
    assert secrets["acme/refresh_token"] and secrets["acme/access_token"]
    profile = ProfileStore().load("acme")
    assert profile.account_id == emu.account_id and profile.use_pkce
    assert profile.clm_hosts is not None and profile.clm_hosts.upload == emu.clm_hosts["upload"]
    assert profile.redirect_uri == redirect_uri and profile.environment == "custom"
    assert profile.consented_at is not None and profile.refresh_token_expires_at is not None
    files = "".join(p.read_text() for p in config_dir.rglob("*.yaml"))
    for secret in secrets.values():
        assert secret not in files


def test_paste_fallback_on_stdin(login: Login, monkeypatch: pytest.MonkeyPatch) -> None:
    read_end, write_end = os.pipe()
    monkeypatch.setattr("sys.stdin", os.fdopen(read_end, "r"))
    writer = os.fdopen(write_end, "w")

    def no_browser_here(url: str) -> None:  # the user opens the URL on another machine
        location = redirect_location(url)
        writer.write("not an address\n")
        writer.write(location + "\n")
        writer.flush()

    monkeypatch.setattr(login_command, "open_browser", no_browser_here)
    try:
        code, out, err = login(browser="true")
    finally:
        writer.close()
    assert code == 0
    assert "No browser here? Open the address elsewhere and paste the address it ends on." in out
    assert "✗ That is neither an address nor a code." in err and "Paste again" in err
    assert "✓ Signed in as" in out


def test_secret_key_from_stdin_and_no_pkce(
    emu: Emulator, login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(emu.secret_key + "\n"))
    code, out, _ = login("--secret-key-stdin", "--no-pkce", secret=NO_SECRET)
    assert code == 0
    assert "code_challenge" not in out and "No browser here?" not in out
    assert ProfileStore().load("acme").use_pkce is False


def test_ephemeral_warns_and_keeps_the_keyring_empty(
    login: Login, memory_keyring: MemoryKeyring
) -> None:
    code, out, err = login(before=("--ephemeral",))
    assert code == 0
    assert "--ephemeral: secrets stay in memory for this run only; nothing is saved" in err
    assert "Secrets stored in    memory" in out
    assert memory_keyring.items == {}


# What a login that cannot finish is given (extra arguments, other flag values, the run's secret
# and browser, what the browser stand-in presses), then its exit code and what it says.
FAILURES = [
    pytest.param(
        {"decision": "decline"},
        1,
        ["✗ You declined the consent in DocuSign (access_denied).", "choose Accept"],
        [],
        id="consent-declined",
    ),
    pytest.param(
        {"secret": "definitely-wrong-secret"},
        1,
        [
            "✗ DocuSign refused the code exchange (invalid_grant / unauthorized_client): most ",
            "likely the secret key is wrong",
            "s ago and was sent once, so it has not expired",  # the age the CLI knows
            "Apps and Keys → your app → Secret Keys",
        ],
        ["definitely-wrong-secret"],
        id="wrong-secret",
    ),
    pytest.param(
        {"extra": ("--no-browser",), "timeout": "0.3"},
        1,
        [
            "out:Open this address to consent:",
            "✗ DocuSign did not send you back within 0.3 seconds.",
            "the redirect URI {redirect_uri} is not registered on the integration key",
        ],
        [],
        id="no-browser-times-out",
    ),
    pytest.param(
        {"extra": ("--no-browser",), "timeout": "0.3"},
        1,
        ["out:Waiting for DocuSign on 127.0.0.1:", "out:(gives up after 0:00, at ", "out: UTC)"],
        [],
        id="the-wait-line-says-when-it-gives-up",
    ),
    pytest.param(
        {"auth_server": "http://127.0.0.1:{free_port}"},
        5,
        ["✗ Could not reach 127.0.0.1:", "Nothing was sent to DocuSign yet."],
        ["out:Open this address"],
        id="auth-server-unreachable",
    ),
    pytest.param(
        {"browser": "w3m %s", "timeout": "0.5"},
        1,
        ["The browser here is w3m, a text browser that cannot finish DocuSign's consent"],
        [],
        id="text-browser",
    ),
    pytest.param(
        {"secret": NO_SECRET},
        2,
        ["✗ No secret key given.", "CLMWIZARD_SECRET_KEY"],
        [],
        id="no-secret-anywhere",
    ),
    pytest.param({"integration_key": "12345678"}, 2, ["account number"], [], id="key-is-a-number"),
    pytest.param(
        {"redirect_uri": "https://global.consent.azure-apim.net/redirect"},
        2,
        ["uses https"],
        [],
        id="redirect-uri-https",
    ),
    pytest.param(
        {"scopes": "signature spring_raed"}, 2, ["did you mean spring_read?"], [], id="scope-typo"
    ),
    pytest.param({"profile": "../etc"}, 2, ["not a valid profile name"], [], id="profile-name"),
    pytest.param(
        {"auth_server": "http://account-d.docusign.com"}, 2, ["plain http"], [], id="plain-http"
    ),
]


@pytest.mark.parametrize(("given", "exit_code", "said", "unsaid"), FAILURES)
def test_a_login_that_cannot_finish_says_why_and_stores_nothing(
    login: Login,
    redirect_uri: str,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    given: dict[str, Any],
    exit_code: int,
    said: list[str],
    unsaid: list[str],
) -> None:
    """Lines are looked for on stderr, or on stdout where they start with `out:`."""
    given = dict(given)
    if "decision" in given:
        monkeypatch.setenv("CLMWIZARD_TEST_BROWSER_DECISION", given.pop("decision"))
    extra = given.pop("extra", ())
    flags = {
        name: value.format(free_port=free_port()) if isinstance(value, str) else value
        for name, value in given.items()
    }
    code, out, err = login(*extra, **flags)
    assert code == exit_code

    def where(words: str) -> tuple[str, str]:
        if words.startswith("out:"):
            return words.removeprefix("out:"), out
        return words.format(redirect_uri=redirect_uri), err

    for words, text in map(where, said):
        assert words in text
    for words, text in map(where, unsaid):
        assert words not in text
    assert not ProfileStore().exists("acme") and memory_keyring.items == {}
    assert threading.active_count() < 20  # a browser that never finishes does not block a thread


def test_a_busy_callback_port_fails_before_consent(login: Login, redirect_uri: str) -> None:
    port = int(redirect_uri.rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        code, out, err = login()
    assert code == 1
    assert f"✗ Port {port} on 127.0.0.1 is already in use" in err
    assert "Open this address" not in out


@pytest.mark.parametrize("emu", [2], indirect=True)
def test_account_choice_and_listing(emu: Emulator, login: Login) -> None:
    code, out, _ = login(profile="two")
    assert code == 0
    assert f"({emu.account_id}), the default." in out
    assert "Other accounts of this user (choose with --account-id):" in out
    other = next(a["account_id"] for a in emu.accounts if a["account_id"] != emu.account_id)
    assert other in out
    code, out, _ = login(profile="two", account_id=other)
    assert code == 0
    assert f"({other}), as asked." in out
    assert ProfileStore().load("two").account_id == other
    code, _, err = login(profile="two", account_id="00000000-0000-0000-0000-000000000000")
    assert code == 2
    assert "The user has no account 00000000-0000-0000-0000-000000000000." in err


def test_discovery_without_spring_scopes_keeps_the_sign_in(emu: Emulator, login: Login) -> None:
    code, _, err = login("--scopes", "signature extended")
    assert code == 1
    assert "! Without spring_read and spring_write every CLM call fails with 401" in err
    assert "✗ CLM refused the token when asked for the account's hosts (HTTP 401)." in err
    assert "Add spring_read and spring_write to the scopes and consent again." in err
    assert "The sign-in itself is saved in profile acme" in err
    profile = ProfileStore().load("acme")
    assert profile.account_id == emu.account_id and profile.clm_hosts is None


def test_a_wrong_key_stops_at_once_with_docusigns_answer(
    login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda *a, **k: opened.append(a) or True)
    wrong = "00000000-1111-2222-3333-444444444444"
    began = time.monotonic()
    code, out, err = login(browser="true", integration_key=wrong)
    assert code == 1
    assert time.monotonic() - began < 5  # not the 10 s --timeout
    assert "DocuSign answered the consent request" in err
    assert "The client id is not registered with DocuSign" in err
    assert wrong in err and "Copy the integration key again" in err
    assert "Waiting for DocuSign" not in out and opened == []
    assert not ProfileStore().exists("acme") or ProfileStore().load("acme").account_id is None


def test_a_clm_that_refuses_the_token_is_named_and_the_sign_in_kept(
    emu: Emulator, login: Login
) -> None:
    emu.inject_fault("general", f"/v2/{emu.account_id}/attributegroups", status=403, count=0)
    code, out, err = login()
    assert code == 0
    assert "✗ CLM refused the call (HTTP 403 to List attribute groups)." in out
    assert "not allowed to read attribute groups" in err
    assert ProfileStore().load("acme").clm_hosts is not None
