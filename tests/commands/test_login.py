"""`clmwizard login` end to end against the emulator, through main() with real sockets."""

from __future__ import annotations

import io
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from clmwizard.cli import main
from clmwizard.commands import login as login_command
from clmwizard.emulator import Emulator
from clmwizard.store.profiles import ProfileStore
from tests.docusign.helpers import free_port, redirect_location
from tests.support.cli import Cli, Ran
from tests.support.keyrings import MemoryKeyring
from tests.support.login import login_argv
from tests.support.signin_fixtures import BROWSER

Args = Callable[..., list[str]]


@pytest.fixture
def login(emu: Emulator, login_args: Args, memory_keyring: MemoryKeyring, cli: Cli) -> Login:
    """`clmwizard login` against the emulator, its secret key given, the browser stand-in."""

    def run(*extra: str, secret: str | None = None, browser: str = BROWSER) -> Ran:
        return cli(*login_args(*extra), secret=secret or emu.secret_key, browser=browser)

    return run


Login = Callable[..., Ran]


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

    stored = {
        user: value
        for (service, user), value in memory_keyring.items.items()
        if service == "clmwizard"
    }
    assert stored["acme/secret_key"] == emu.secret_key
    assert stored["acme/refresh_token"] and stored["acme/access_token"]
    profile = ProfileStore().load("acme")
    assert profile.account_id == emu.account_id and profile.use_pkce
    assert profile.clm_hosts is not None and profile.clm_hosts.upload == emu.clm_hosts["upload"]
    assert profile.redirect_uri == redirect_uri and profile.environment == "custom"
    assert profile.consented_at is not None and profile.refresh_token_expires_at is not None
    files = "".join(p.read_text() for p in config_dir.rglob("*.yaml"))
    for secret in stored.values():
        assert secret not in files


def test_paste_fallback_on_stdin(
    emu: Emulator,
    login_args: Args,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    read_end, write_end = os.pipe()
    monkeypatch.setattr("sys.stdin", os.fdopen(read_end, "r"))
    writer = os.fdopen(write_end, "w")

    def no_browser_here(url: str) -> None:  # the user opens the URL on another machine
        location = redirect_location(url)
        writer.write("not an address\n")
        writer.write(location + "\n")
        writer.flush()

    monkeypatch.setattr(login_command, "open_browser", no_browser_here)
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    try:
        assert main(login_args()) == 0
    finally:
        writer.close()
    out, err = capsys.readouterr()
    assert "No browser here? Open the address elsewhere and paste the address it ends on." in out
    assert "✗ That is neither an address nor a code." in err and "Paste again" in err
    assert "✓ Signed in as" in out


def test_secret_key_from_stdin_and_no_pkce(
    emu: Emulator,
    login_args: Args,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    cli: Cli,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(emu.secret_key + "\n"))
    code, out, _ = cli(*login_args("--secret-key-stdin", "--no-pkce"), browser=BROWSER)
    assert code == 0
    assert "code_challenge" not in out and "No browser here?" not in out
    assert ProfileStore().load("acme").use_pkce is False


@pytest.mark.parametrize(
    ("secret", "decision", "said", "unsaid"),
    [
        pytest.param(
            None,
            "decline",
            ["✗ You declined the consent in DocuSign (access_denied).", "choose Accept"],
            [],
            id="declined",
        ),
        pytest.param(
            "definitely-wrong-secret",
            "accept",
            [
                "✗ DocuSign refused the code exchange (invalid_grant / unauthorized_client): most ",
                "likely the secret key is wrong",
                "s ago and was sent once, so it has not expired",  # the age the CLI knows
                "Apps and Keys → your app → Secret Keys",
            ],
            ["definitely-wrong-secret"],
            id="wrong-secret",
        ),
    ],
)
def test_a_failed_sign_in_says_why_and_stores_nothing(
    login: Login,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    secret: str | None,
    decision: str,
    said: list[str],
    unsaid: list[str],
) -> None:
    monkeypatch.setenv("CLMWIZARD_TEST_BROWSER_DECISION", decision)
    code, _, err = login(secret=secret)
    assert code == 1
    for words in said:
        assert words in err
    for words in unsaid:
        assert words not in err
    assert not ProfileStore().exists("acme") and memory_keyring.items == {}


def test_timeout_without_browser(
    emu: Emulator,
    login_args: Args,
    redirect_uri: str,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    args = login_args("--no-browser")
    args[args.index("--timeout") + 1] = "0.3"
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert "Open this address to consent:" in out
    assert "✗ DocuSign did not send you back within 0.3 seconds." in err
    assert f"the redirect URI {redirect_uri} is not registered on the integration key" in err


def test_local_checks_fail_before_consent(
    emu: Emulator,
    login_args: Args,
    redirect_uri: str,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    port = int(redirect_uri.rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        assert main(login_args()) == 1
    out, err = capsys.readouterr()
    assert f"✗ Port {port} on 127.0.0.1 is already in use" in err
    assert "Open this address" not in out

    nowhere = f"http://127.0.0.1:{free_port()}"
    args = login_args()
    args[args.index("--auth-server") + 1] = nowhere
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)  # each run takes it out
    assert main(args) == 5
    out, err = capsys.readouterr()
    assert "✗ Could not reach 127.0.0.1:" in err and "Nothing was sent to DocuSign yet." in err
    assert "Open this address" not in out


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (("--integration-key", "12345678"), "account number"),
        (("--redirect-uri", "https://global.consent.azure-apim.net/redirect"), "uses https"),
        (("--scopes", "signature spring_raed"), "did you mean spring_read?"),
        (("--profile", "../etc"), "not a valid profile name"),
        (("--auth-server", "http://account-d.docusign.com"), "plain http"),
    ],
)
def test_bad_input_exits_2(
    login_args: Args,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: tuple[str, str],
    words: str,
) -> None:
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", "some-secret-value")
    args = login_args()
    if change[0] in args:
        args[args.index(change[0]) + 1] = change[1]
    else:
        args += list(change)
    assert main(args) == 2
    assert words in capsys.readouterr().err


def test_no_secret_anywhere_is_a_usage_error(
    login_args: Args, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(login_args()) == 2
    err = capsys.readouterr().err
    assert "✗ No secret key given." in err and "CLMWIZARD_SECRET_KEY" in err


def test_account_choice_and_listing(
    redirect_uri: str,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Emulator(redirect_uris=[redirect_uri], accounts=2) as emu:
        monkeypatch.setenv("BROWSER", BROWSER)
        monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
        base = login_argv(emu, profile="two", redirect_uri=redirect_uri)
        assert main(base) == 0
        out = capsys.readouterr().out
        assert f"({emu.account_id}), the default." in out
        assert "Other accounts of this user (choose with --account-id):" in out
        other = next(a["account_id"] for a in emu.accounts if a["account_id"] != emu.account_id)
        assert other in out
        monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
        assert main([*base, "--account-id", other]) == 0
        assert f"({other}), as asked." in capsys.readouterr().out
        assert ProfileStore().load("two").account_id == other
        monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
        assert main([*base, "--account-id", "00000000-0000-0000-0000-000000000000"]) == 2
        assert (
            "The user has no account 00000000-0000-0000-0000-000000000000."
            in capsys.readouterr().err
        )


def test_discovery_without_spring_scopes_keeps_the_sign_in(emu: Emulator, login: Login) -> None:
    code, _, err = login("--scopes", "signature extended")
    assert code == 1
    assert "! Without spring_read and spring_write every CLM call fails with 401" in err
    assert "✗ CLM refused the token when asked for the account's hosts (HTTP 401)." in err
    assert "Add spring_read and spring_write to the scopes and consent again." in err
    assert "The sign-in itself is saved in profile acme" in err
    profile = ProfileStore().load("acme")
    assert profile.account_id == emu.account_id and profile.clm_hosts is None


def test_ephemeral_warns_and_keeps_the_keyring_empty(
    emu: Emulator,
    login_args: Args,
    memory_keyring: MemoryKeyring,
    cli: Cli,
) -> None:
    code, out, err = cli("--ephemeral", *login_args(), secret=emu.secret_key, browser=BROWSER)
    assert code == 0
    assert "--ephemeral: secrets stay in memory for this run only; nothing is saved" in err
    assert "Secrets stored in    memory" in out
    assert memory_keyring.items == {}


def test_browser_thread_does_not_block_the_listener(
    emu: Emulator, login_args: Args, memory_keyring: MemoryKeyring, cli: Cli
) -> None:
    """A $BROWSER command that blocks until the consent finishes (like the stand-in) is fine,
    and a text browser is refused with an explanation."""
    args = login_args()
    args[args.index("--timeout") + 1] = "0.5"
    code, _, err = cli(*args, secret=emu.secret_key, browser="w3m %s")
    assert code == 1
    assert "The browser here is w3m, a text browser that cannot finish DocuSign's consent" in err
    assert threading.active_count() < 20


def test_a_wrong_key_stops_at_once_with_docusigns_answer(
    emu: Emulator,
    login_args: Args,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config_dir: Path,
) -> None:
    import time

    opened = []
    monkeypatch.setattr("webbrowser.open", lambda *a, **k: opened.append(a) or True)
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    args = login_args()
    wrong = "00000000-1111-2222-3333-444444444444"
    args[args.index("--integration-key") + 1] = wrong
    began = time.monotonic()
    assert main(args) == 1
    assert time.monotonic() - began < 5  # not the 10 s --timeout
    out, err = capsys.readouterr()
    assert "DocuSign answered the consent request" in err
    assert "The client id is not registered with DocuSign" in err
    assert wrong in err and "Copy the integration key again" in err
    assert "Waiting for DocuSign" not in out and opened == []
    assert not ProfileStore().exists("acme") or ProfileStore().load("acme").account_id is None


def test_the_wait_line_says_when_it_gives_up(
    emu: Emulator,
    login_args: Args,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    args = login_args("--no-browser")
    args[args.index("--timeout") + 1] = "0.3"
    assert main(args) == 1
    out, _ = capsys.readouterr()
    assert "Waiting for DocuSign on 127.0.0.1:" in out
    assert "(gives up after 0:00, at " in out and " UTC)" in out


def test_a_clm_that_refuses_the_token_is_named_and_the_sign_in_kept(
    emu: Emulator,
    login_args: Args,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config_dir: Path,
) -> None:
    monkeypatch.setenv("BROWSER", BROWSER)
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    emu.inject_fault("general", f"/v2/{emu.account_id}/attributegroups", status=403, count=0)
    assert main(login_args()) == 0
    out, err = capsys.readouterr()
    assert "✗ CLM refused the call (HTTP 403 to List attribute groups)." in out
    assert "not allowed to read attribute groups" in err
    assert ProfileStore().load("acme").clm_hosts is not None
