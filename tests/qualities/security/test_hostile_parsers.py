"""Hostile input to the pure parsers: pasted redirects, callback parameters, profile names, host
fields, scope strings, and what a hostile or compromised server answers (text full of escape
sequences and markup, deep or huge JSON, absurd numbers, ids that are paths, hosts elsewhere,
broken gzip, answers that drip). Whatever comes in, the answer is a value that is safe to use or
a ClmWizardError a person can act on; never another exception."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clmwizard.docusign.callback import parse_redirect_uri
from clmwizard.docusign.consent import ConsentDeclined, code_from_params, code_from_pasted
from clmwizard.docusign.discovery import validate_clm_base_url
from clmwizard.docusign.environments import is_loopback_host, resolve_environment, validate_origin
from clmwizard.docusign.scopes import CATALOGUE, parse_scopes
from clmwizard.emulator import Emulator
from clmwizard.errors import ClmWizardError, UsageError
from clmwizard.store.names import validate_profile_name
from clmwizard.store.profiles import ProfileStore

STATE = "Expected-State_0123456789abc"
FEW = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])

any_text = st.text(max_size=300)
url_ish = st.one_of(
    any_text,
    st.builds(
        lambda scheme, host, rest: f"{scheme}://{host}{rest}",
        st.sampled_from(["http", "https", "HTTP", "ftp", "javascript", ""]),
        st.one_of(
            st.sampled_from(
                [
                    "127.0.0.1",
                    "[::1]",
                    "localhost",
                    "[::1",
                    "::1]",
                    "[fe80::1%eth0]",
                    "0x7f.1",
                    "127.1",
                    "example.com",
                    "apina11.springcm.com",
                    "user:pw@host",
                    "host:99999",
                    "host:-1",
                    "host:abc",
                    "ho st",
                    "ho\x00st",
                    "h\u0130st",
                    "\uff0fevil",
                ]
            ),
            st.text(max_size=40),
        ),
        st.text(max_size=60),
    ),
)


# --- the pasted redirect and the callback parameters -----------------------------------------


def redirect(params: dict[str, str]) -> str:
    return "http://127.0.0.1:8765/callback?" + urlencode(params, quote_via=quote)


@FEW
@given(text=st.one_of(any_text, url_ish))
@example(text="")
@example(text="?")
@example(text="http://[::1/callback?code=abcdefgh&state=" + STATE)
@example(text="code=abcdefghij")
def test_pasted_text_gives_a_code_or_an_actionable_error(text: str) -> None:
    try:
        code = code_from_pasted(text, STATE)
    except ClmWizardError as error:
        assert error.what and not error.what.startswith("✗")
        return
    assert code and code == code.strip()
    assert "\n" not in code and "\x00" not in code


@FEW
@given(
    code=st.text(min_size=1, max_size=80).filter(lambda c: c.strip() == c and c),
    state=st.text(max_size=40),
    extra=st.dictionaries(st.sampled_from(["error", "foo", "code_verifier"]), any_text, max_size=2),
)
def test_a_foreign_state_never_yields_a_code(code: str, state: str, extra: dict[str, str]) -> None:
    if state == STATE:
        return
    params = {"code": code, "state": state, **extra}
    for attempt in (lambda: code_from_pasted(redirect(params), STATE),):
        with pytest.raises(ClmWizardError) as caught:
            attempt()
        assert caught.value.code == "state_mismatch"
    with pytest.raises(ClmWizardError) as caught:
        code_from_params(params, STATE, require_state=True)
    assert caught.value.code == "state_mismatch"


@FEW
@given(code=st.from_regex(r"[A-Za-z0-9._~-]{8,200}", fullmatch=True))
def test_the_right_state_gives_exactly_the_code(code: str) -> None:
    assert code_from_pasted(redirect({"code": code, "state": STATE}), STATE) == code
    assert code_from_pasted(f"  '{redirect({'state': STATE, 'code': code})}'\n", STATE) == code
    assert code_from_params({"code": code, "state": STATE}, STATE, require_state=True) == code


@FEW
@given(
    params=st.dictionaries(st.sampled_from(["code", "error", "error_description", "x"]), any_text)
)
def test_the_listener_needs_the_state_for_a_code_or_an_error(params: dict[str, str]) -> None:
    """Without the state a callback neither completes nor ends the sign-in."""
    try:
        result = code_from_params(params, STATE, require_state=True)
    except ConsentDeclined:
        pytest.fail(f"a callback without state ended the sign-in: {params!r}")
    except ClmWizardError:
        return
    assert result is None


# --- profile names ---------------------------------------------------------------------------


@settings(max_examples=300)
@given(
    name=st.one_of(
        st.text(max_size=80),
        st.from_regex(r"[A-Za-z0-9._/\\-]{1,70}", fullmatch=True),
        st.sampled_from([".", "..", "../x", "a/../b", "a\\b", "con", "x\n", "x\x00y", "a" * 65]),
    )
)
def test_an_accepted_profile_name_stays_inside_the_profiles_folder(name: str) -> None:
    try:
        accepted = validate_profile_name(name)
    except UsageError as error:
        assert error.field == "profile"
        assert error.fix.startswith("A profile name is 1 to 64 characters")
        return
    assert accepted == name
    assert 1 <= len(name) <= 64
    assert Path(name).name == name and name not in (".", "..")
    assert not set(name) & {"/", "\\", "\x00", ":", "\n", "\r", "\t", " "}
    assert name.isascii() and name == name.strip()
    root = Path(os.sep, "srv", "clmwizard", "profiles")
    path = ProfileStore(root).path_for(name)
    assert path.parent == root
    assert os.path.normpath(path) == str(path)
    assert path.name == f"{name}.yaml" and not path.name.startswith(".")


# --- host fields -----------------------------------------------------------------------------


def assert_safe_web_address(value: str) -> None:
    parts = urlsplit(value)
    assert parts.scheme in ("http", "https")
    assert parts.hostname
    assert value == value.strip()
    assert not any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value), value
    assert parts.port is None or 0 < parts.port < 65536
    assert not parts.username and not parts.password and not parts.query and not parts.fragment
    if parts.scheme == "http":
        assert is_loopback_host(parts.hostname)


@FEW
@given(text=url_ish)
@example(text="http://[::1")
@example(text="https://host:99999")
@example(text="https://a b.com")
@example(text="https://h\x00st")
@example(text="https://[::1]x")
@example(text="http://localhost./")
def test_clm_host_field_gives_a_safe_url_or_a_usage_error(text: str) -> None:
    try:
        value = validate_clm_base_url(text)
    except UsageError as error:
        assert error.field == "clm_hosts"
        return
    assert_safe_web_address(value)


@FEW
@given(text=url_ish)
@example(text="http://[::1")
@example(text="https://host:0")
@example(text="https://ho\nst")
def test_environment_origins_give_a_safe_origin_or_a_usage_error(text: str) -> None:
    for check in (
        lambda: validate_origin(text, field="environment", what="The OAuth server"),
        lambda: resolve_environment("demo", text).auth_server,
        lambda: resolve_environment("production", None, text).clm_auth_server,
    ):
        try:
            origin = check()
        except UsageError as error:
            assert error.field == "environment"
            continue
        assert_safe_web_address(origin)
        assert urlsplit(origin).path == ""


@FEW
@given(text=url_ish)
@example(text="http://[::1/callback")
@example(text="http://127.0.0.1:0/callback")
@example(text="http://127.0.0.1:99999/callback")
@example(text="http://192.0.2.2:8765/callback")
@example(text="http://localhost./callback")
def test_redirect_uris_are_loopback_http_or_refused(text: str) -> None:
    try:
        host, port, path = parse_redirect_uri(text)
    except UsageError as error:
        assert error.field == "redirect_uri"
        return
    assert is_loopback_host(host)
    assert 0 < port < 65536
    assert path.startswith("/")


# --- scopes ----------------------------------------------------------------------------------

KNOWN = [scope.name for scope in CATALOGUE]


@FEW
@given(
    text=st.one_of(
        any_text,
        st.lists(st.sampled_from([*KNOWN, "Signature", "spring-read", "", " ", ",", "\t"])).map(
            " ".join
        ),
        st.lists(st.sampled_from(KNOWN), min_size=1).map(",".join),
    )
)
def test_scopes_are_known_names_or_a_usage_error(text: str) -> None:
    try:
        scopes = parse_scopes(text)
    except UsageError as error:
        assert error.field == "scopes"
        return
    assert scopes and len(scopes) == len(set(scopes))
    assert set(scopes) <= set(KNOWN)
    words = {w for w in text.replace(",", " ").split()}
    assert set(scopes) == words
    assert parse_scopes(" ".join(scopes)) == scopes


# --- text from a server, as shown -------------------------------------------------------------

OSC52 = "\x1b]52;c;aGFja2VkIGNsaXBib2FyZA==\x07"  # sets the clipboard
OSC0 = "\x1b]0;retitled by the server\x07"  # retitles the terminal
CSI = "\x1b[2J\x1b[31m"  # clears the screen, turns it red
MARKUP = "[link=https://evil.example]x[/link][/bold][$var][@click=app.quit]q[/] tail\\"
HOSTILE = f"Eve {OSC52}{OSC0}{CSI}\x9b31m\u202eevil{MARKUP}"
UNSAFE = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), 0x202E, 0x2066, 0x200F, 0x2028]}


@FEW
@given(text=st.one_of(st.text(max_size=200), st.just(HOSTILE)))
@example(text=HOSTILE)
def test_visible_text_holds_no_control_character_and_shows_them(text: str) -> None:
    from clmwizard.safe_text import visible

    shown = visible(text)
    assert not set(shown) & UNSAFE
    if not set(text) & UNSAFE:
        assert shown == text
    assert set(visible(text, keep_newlines=True)) & UNSAFE <= {"\n"}


def test_the_stand_ins_say_what_was_there() -> None:
    from clmwizard.safe_text import visible

    assert visible(OSC52) == "␛]52;c;aGFja2VkIGNsaXBib2FyZA==␇"
    assert visible("a\x9bb\x7fc\u202ed\x00") == "a\\x9bb␡c<U+202E>d␀"
    assert visible("x" * 300, limit=10) == "x" * 9 + "…"


@FEW
@given(text=st.one_of(st.text(max_size=120), st.just(HOSTILE), st.just(MARKUP)))
@example(text="a\\")
@example(text="[b]bold[/b] and [/]")
def test_escaped_markup_renders_as_the_visible_text(text: str) -> None:
    """Textual's own escape left `[$var]` and a trailing backslash to be interpreted."""
    from textual.content import Content

    from clmwizard.safe_text import markup_escaped, visible

    rendered = Content.from_markup(f"[b]{markup_escaped(text)}[/b] [dim]after[/dim]").plain
    assert rendered.replace("\u200b", "") == f"{visible(text)} after".replace("\u200b", "")


# --- answers of a hostile server: bounded parsing ----------------------------------------------


@FEW
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
        st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
        st.just(b"[" * 100_000 + b"]" * 100_000),
        st.just(b"1" * 5000),
    )
)
def test_any_answer_body_parses_shallow_or_is_a_network_error(body: bytes) -> None:
    from clmwizard.errors import NetworkError
    from clmwizard.http import MAX_JSON_DEPTH, parse_json

    try:
        value = parse_json(body, "https://account-d.docusign.com/oauth/token", 200)
    except NetworkError as error:
        assert error.code == "malformed"
        return
    depth, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            depth = max(depth, level)
            stack.extend(
                (child, level + 1) for child in (item.values() if isinstance(item, dict) else item)
            )
    assert depth <= MAX_JSON_DEPTH


@FEW
@given(
    value=st.one_of(
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=20),
        st.booleans(),
        st.none(),
        st.sampled_from([1e12, -1, 0, "28800", " 3600 ", [], {}]),
    )
)
def test_expires_in_is_always_a_sane_number_of_seconds(value: object) -> None:
    """1e12 overflowed the expiry date, a negative one made it the past."""
    from datetime import UTC, datetime, timedelta

    from clmwizard.docusign.oauth import access_lifetime

    seconds = access_lifetime(value)
    assert isinstance(seconds, int) and 60 <= seconds <= 86400
    assert datetime.now(UTC) + timedelta(seconds=seconds)


def userinfo_with(**account: object) -> dict[str, object]:
    base = {
        "account_id": "0d8e1b0f-1111-4222-8333-444455556666",
        "account_name": "Northwind",
        "is_default": True,
        "base_uri": "https://demo.docusign.net",
    }
    return {"sub": "u", "name": "n", "email": "e@x", "accounts": [{**base, **account}]}


@pytest.mark.parametrize(
    "account_id",
    ["../../../oauth/userinfo?x=", "0d8e1b0f-1111-4222-8333-44445555666/", 12345, ["x"], "a b"],
)
def test_an_account_id_that_is_not_a_guid_is_refused(account_id: object) -> None:
    from clmwizard.docusign.discovery import parse_userinfo

    with pytest.raises(ClmWizardError) as caught:
        parse_userinfo(userinfo_with(account_id=account_id), "https://h/oauth/userinfo")
    assert caught.value.code == "bad_account_id"
    assert "not a GUID" in caught.value.what


def test_userinfo_names_are_cut_and_base_uris_checked() -> None:
    from clmwizard.docusign.discovery import MAX_NAME_LENGTH, parse_userinfo

    info = parse_userinfo(
        {**userinfo_with(account_name="n" * 100_000, base_uri="http://evil.example"),
         "name": "x" * 100_000},
        "https://h/oauth/userinfo",
    )  # fmt: skip
    assert len(info.name) == MAX_NAME_LENGTH and info.name.endswith("…")
    assert len(info.accounts[0].account_name) == MAX_NAME_LENGTH
    assert info.accounts[0].base_uri == ""  # plain http off loopback is no base URI
    upper = userinfo_with(account_id="0D8E1B0F-1111-4222-8333-444455556666")
    assert parse_userinfo(upper, "https://h").accounts[0].account_id == (
        "0d8e1b0f-1111-4222-8333-444455556666"
    )


# --- CLM hosts: DocuSign's, or confirmed by the user -------------------------------------------


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("https://apina11.springcm.com", True),
        ("https://apiuatna11.springcm.com/", True),
        ("https://apidownloadna11.springcm.com", True),
        ("https://na11.docusign.net", True),
        ("https://springcm.com", True),
        ("http://127.0.0.1:41234", True),
        ("http://[::1]:8080", True),
        ("http://localhost:9", True),
        ("https://clm.evil.example", False),
        ("https://springcm.com.evil.example", False),
        ("https://evilspringcm.com", False),
        ("http://apina11.springcm.com", False),
        ("https://apina11.springcm.co", False),
    ],
)
def test_clm_hosts_outside_docusigns_domains_need_confirmation(url: str, trusted: bool) -> None:
    from clmwizard.docusign.hosts import check_clm_host

    verdict = check_clm_host(url)
    assert verdict.trusted is trusted
    assert bool(verdict.reason) is not trusted


def test_confirmed_hosts_are_matched_by_host_and_port() -> None:
    from clmwizard.docusign.hosts import unconfirmed_hosts
    from clmwizard.store.profile import ClmHosts

    hosts = ClmHosts(
        "https://clm.evil.example", "https://Up.Evil.Example:8443/x", "https://apina11.springcm.com"
    )
    assert [v.host for v in unconfirmed_hosts(hosts, [])] == [
        "clm.evil.example",
        "up.evil.example:8443",
    ]
    assert [v.host for v in unconfirmed_hosts(hosts, ["CLM.evil.example"])] == [
        "up.evil.example:8443"
    ]
    assert unconfirmed_hosts(hosts, ["clm.evil.example", "https://up.evil.example:8443"]) == []
    assert unconfirmed_hosts(hosts, ["up.evil.example"]) != []  # another port is another host


# --- a hostile server over real sockets (the emulator's hostile faults) ------------------------


async def fetch(emu: Emulator, path: str, *, timeout: float = 2.0) -> object:
    from clmwizard.http import get_json_with_retry, make_client

    async with make_client(timeout=timeout) as client:
        return await get_json_with_retry(client, emu.auth_server + path, headers={}, attempts=1)


async def test_a_200_mb_answer_is_refused_without_holding_it(emu: Emulator) -> None:
    """Before the fix the whole answer was read: 650 MB of memory for a 200 MB token answer."""
    import tracemalloc

    from clmwizard.errors import NetworkError

    emu.inject_fault("auth", "/oauth/userinfo", huge=200 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(NetworkError) as caught:
            await fetch(emu, "/oauth/userinfo")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "too_large"
    assert peak < 16 * 1024 * 1024


async def test_an_answer_without_a_length_is_cut_while_it_is_read() -> None:
    """No Content-Length to go by (chunked): the cap is counted as the body arrives."""
    import httpx

    from clmwizard.errors import NetworkError
    from clmwizard.http import MAX_ANSWER_BYTES, send

    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 50 * MAX_ANSWER_BYTES:
            sent += 65536
            yield b"a" * 65536

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=endless()))
    async with httpx.AsyncClient(transport=transport, timeout=5) as client:
        with pytest.raises(NetworkError) as caught:
            await send(client, "GET", "https://account-d.docusign.com/oauth/userinfo")
    assert caught.value.code == "too_large"
    assert sent <= MAX_ANSWER_BYTES + 2 * 65536


async def test_a_gzip_answer_that_does_not_decompress_is_a_clear_error(emu: Emulator) -> None:
    """Before the fix: "Unexpected error: DecodingError … This is a bug"."""
    from clmwizard.errors import NetworkError

    emu.inject_fault("auth", "/oauth/userinfo", bad_gzip=True)
    with pytest.raises(NetworkError) as caught:
        await fetch(emu, "/oauth/userinfo")
    assert caught.value.code == "bad_encoding"
    assert "does not decompress" in caught.value.what


async def test_a_dripping_answer_ends_at_the_total_deadline(emu: Emulator) -> None:
    """One byte every 0.3 s never trips httpx's per-read timeout of 1 s; the total deadline
    (connect + read: 2 s) ends it. Before the fix the request lasted as long as the server kept
    dripping (about 0.3 s per byte of the answer)."""
    import time

    from clmwizard.errors import NetworkError

    emu.inject_fault("auth", "/oauth/userinfo", drip=0.3)
    started = time.monotonic()
    with pytest.raises(NetworkError) as caught:
        await fetch(emu, "/oauth/userinfo", timeout=1.0)
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 3.0


async def test_deeply_nested_answers_are_malformed_not_a_crash(emu: Emulator) -> None:
    """100,000 levels raised RecursionError: "Unexpected error … This is a bug"."""
    from clmwizard.errors import NetworkError

    emu.inject_fault("auth", "/oauth/userinfo", nested=100_000)
    with pytest.raises(NetworkError) as caught:
        await fetch(emu, "/oauth/userinfo")
    assert caught.value.code == "malformed"


# --- a hostile server through the command line -------------------------------------------------

EMULATOR_BROWSER = f"{sys.executable} -m clmwizard.emulator.browser %s"


# The secret key `login` reads from the environment: every CLI run takes it out again, so
# `cli` puts it back before each login (set by the hostile_cli fixture).
LOGIN_SECRET: dict[str, str] = {}


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from clmwizard.cli import main

    if argv and argv[0] == "login" and "secret" in LOGIN_SECRET:
        os.environ["CLMWIZARD_SECRET_KEY"] = LOGIN_SECRET["secret"]
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out + err


def assert_inert(text: str) -> None:
    """Nothing in `text` a terminal would obey: no ESC, BEL, C1 control or bidi override."""
    assert not set(text) & (UNSAFE - {"\n", "\t"}), repr(text[:400])


@pytest.fixture
def hostile_cli(
    emu: Emulator,
    redirect_uri: str,
    memory_keyring: object,
    monkeypatch: pytest.MonkeyPatch,
) -> list[str]:
    monkeypatch.setenv("BROWSER", EMULATOR_BROWSER)
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    monkeypatch.setitem(LOGIN_SECRET, "secret", emu.secret_key)
    from tests.support.login import login_argv

    return login_argv(emu, redirect_uri=redirect_uri, timeout=15)


def test_escape_sequences_from_a_server_never_reach_the_terminal(
    emu: Emulator, hostile_cli: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the fix `login` and `profiles list` printed the OSC 52 and OSC 0 sequences raw:
    the terminal's clipboard was set and its title changed."""
    emu.inject_fault(
        "auth",
        "/oauth/userinfo",
        count=0,
        fields={"name": HOSTILE, "email": f"eve{OSC0}@example.com", "accounts": [
            {"account_name": HOSTILE}]},
    )  # fmt: skip
    code, text = cli(hostile_cli, capsys)
    assert code == 0, text
    assert_inert(text)
    assert "␛]52;c;aGFja2VkIGNsaXBib2FyZA==␇" in text and "[link=https://evil.example]" in text
    for argv in (
        ["profiles"],
        ["profiles", "show", "acme"],
        ["profiles", "show", "acme", "--format", "json"],
        ["profiles", "show", "acme", "--format", "yaml"],
        ["credentials", "--profile", "acme"],
        ["fields", "--profile", "acme"],
        ["refresh", "--profile", "acme"],
        ["doctor", "--profile", "acme"],
    ):
        code, text = cli(argv, capsys)
        assert code in (0, 1), (argv, text)
        assert_inert(text)
    code, text = cli(["profiles", "show", "acme"], capsys)
    assert "␛]0;retitled by the server␇" in text


def test_an_error_description_with_escape_sequences_is_shown_inert(
    emu: Emulator, hostile_cli: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    emu.inject_fault(
        "auth",
        "/oauth/token",
        status=400,
        payload={"error": "invalid_client", "error_description": HOSTILE},
    )
    code, text = cli(["--debug", *hostile_cli], capsys)
    assert code == 1, text
    assert "refused the secret key" in text and "␛]52;c;" in text
    assert_inert(text)


@pytest.mark.parametrize(
    ("path", "fault"),
    [
        ("/oauth/token", {"nested": 100_000}),
        ("/oauth/userinfo", {"nested": 100_000}),
        ("/oauth/token", {"fields": {"expires_in": 1e12}}),
        ("/oauth/token", {"fields": {"expires_in": -5}}),
        ("/oauth/token", {"fields": {"expires_in": "soon"}}),
        ("/oauth/token", {"huge": 200 * 1024 * 1024}),
        ("/oauth/userinfo", {"bad_gzip": True, "count": 0}),
    ],
)
def test_absurd_answers_end_in_a_clear_message_not_a_bug_report(
    emu: Emulator,
    hostile_cli: list[str],
    capsys: pytest.CaptureFixture[str],
    path: str,
    fault: dict[str, object],
) -> None:
    """Before the fix each ended in "Unexpected error … This is a bug" (RecursionError,
    OverflowError, DecodingError) or held the 200 MB answer in memory."""
    emu.inject_fault("auth", path, **fault)
    code, text = cli(hostile_cli, capsys)
    assert "Unexpected error" not in text and "Traceback" not in text, text
    if "expires_in" in str(fault):
        assert code == 0, text
        profile = ProfileStore().load("acme")
        assert profile.access_token_expires_at is not None
        assert profile.consented_at is not None
        lifetime = profile.access_token_expires_at - profile.consented_at
        assert 59 <= lifetime.total_seconds() <= 86401
    else:
        assert code == 5, text
        assert (
            "clmwizard stopped reading" in text
            or "not the expected JSON" in text
            or ("does not decompress" in text)
        )
        assert not ProfileStore().exists("acme")


def test_an_account_id_that_is_a_path_is_refused_and_nothing_stored(
    emu: Emulator, hostile_cli: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    emu.inject_fault(
        "auth",
        "/oauth/userinfo",
        fields={"accounts": [{"account_id": "../../../oauth/userinfo?x="}]},
    )
    code, text = cli(hostile_cli, capsys)
    assert code == 1, text
    assert "not a GUID" in text and "'../../../oauth/userinfo?x='" in text
    assert not ProfileStore().exists("acme")


def test_clm_hosts_elsewhere_need_allow_host_in_login_and_export(
    emu: Emulator, hostile_cli: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Before the fix a discovery answer pointing at clm.evil.example was stored and exported
    without a word."""
    evil = {"ApiBaseUrl": "https://clm.evil.example", "ApiBaseUploadUrl": "https://up.evil.example"}
    emu.inject_fault("clm_auth", "/api/v2/", fields=evil, count=0)
    code, text = cli(hostile_cli, capsys)
    assert code == 2, text
    assert "clm.evil.example, up.evil.example, which is not one of DocuSign's" in text
    assert "--allow-host clm.evil.example --allow-host up.evil.example" in text
    profile = ProfileStore().load("acme")
    assert profile.clm_hosts is None and profile.confirmed_hosts == []  # the sign-in only

    code, text = cli([*hostile_cli, "--allow-host", "clm.evil.example"], capsys)
    assert code == 2 and "up.evil.example, which is not" in text  # every host needs it
    argv = [*hostile_cli, "--allow-host", "clm.evil.example", "--allow-host", "UP.evil.example"]
    code, text = cli(argv, capsys)
    assert code == 0, text
    assert "Using the CLM host clm.evil.example, as you confirmed" in text
    profile = ProfileStore().load("acme")
    assert profile.clm_hosts is not None and profile.clm_hosts.general == evil["ApiBaseUrl"]
    assert profile.confirmed_hosts == ["clm.evil.example", "up.evil.example"]
    code, text = cli(hostile_cli, capsys)  # signing in again: confirmed once is enough
    assert code == 0 and "as you confirmed" in text, text

    out = tmp_path / "bundle"
    code, text = cli(["export", "--profile", "acme", "--out", str(out)], capsys)
    assert code == 0, text
    readme = (out / "README.md").read_text()
    assert "Hosts outside DocuSign's CLM domains" in readme
    assert "`clm.evil.example`, `up.evil.example`" in readme

    # A profile whose hosts nobody confirmed (edited by hand, or by an older clmwizard).
    ProfileStore().update("acme", lambda stored: stored.confirmed_hosts.clear())
    code, text = cli(["export", "--profile", "acme", "--out", str(tmp_path / "b2")], capsys)
    assert code == 2 and "Not exporting" in text, text
    assert not (tmp_path / "b2").exists()
    argv = ["export", "--profile", "acme", "--out", str(tmp_path / "b2")]
    code, text = cli(
        [*argv, "--allow-host", "clm.evil.example", "--allow-host", "up.evil.example"], capsys
    )
    assert code == 0, text
    assert "`clm.evil.example`" in (tmp_path / "b2" / "README.md").read_text()
    assert ProfileStore().load("acme").confirmed_hosts == ["clm.evil.example", "up.evil.example"]


# --- a hostile server through the wizard -------------------------------------------------------

SHOWN = ("␛]52;c;aGFja2VkIGNsaXBib2FyZA==␇", "[/bold][$var][@click=app.quit]q[/]")


@pytest.mark.display
async def test_the_wizard_shows_a_hostile_servers_text_and_does_not_crash(
    config_dir: Path,
) -> None:
    """Before the fix Rich markup in a user or account name crashed the wizard (MarkupError),
    and its crash report showed the secret key; escape sequences went to the terminal."""
    from textual.widgets import Input

    from clmwizard.app import ClmWizardApp
    from clmwizard.context import WizardContext
    from clmwizard.screens.dialogs import SecretPrompt
    from clmwizard.screens.discovery import DiscoveryScreen
    from clmwizard.screens.fields import FieldsScreen
    from clmwizard.screens.start import StartScreen
    from clmwizard.screens.tokens import TokensScreen
    from clmwizard.store.secrets import MemorySecretStore
    from tests.docusign.helpers import loopback_redirect_uri
    from tests.support.pilot import (
        browser_stand_in,
        consent_in_browser,
        fill_key_screen,
        message,
        until,
    )

    def shown_in(svg: str, fragments: tuple[str, ...] = SHOWN) -> bool:
        """The fragments in the screenshot's text (tags stripped; wide enough not to wrap)."""
        import html
        import re

        text = html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")
        return all(fragment in text for fragment in fragments) and "\x1b" not in svg

    with Emulator(redirect_uris=[loopback_redirect_uri()], accounts=2) as emu:
        emu.inject_fault(
            "auth",
            "/oauth/token",
            status=400,
            payload={"error": "invalid_client", "error_description": HOSTILE},
        )
        emu.inject_fault(
            "auth",
            "/oauth/userinfo",
            count=0,
            fields={"name": HOSTILE, "accounts": [{"account_name": HOSTILE},
                                                 {"account_name": HOSTILE}]},
        )  # fmt: skip
        emu.inject_fault(
            "clm_auth", "/api/v2/", count=0, fields={"ApiBaseUrl": f"https://x{OSC0}{MARKUP}"}
        )
        store = MemorySecretStore()
        context = WizardContext(
            profiles=ProfileStore(),
            open_secrets=lambda: store,
            open_browser=browser_stand_in([]),
            consent_timeout=30.0,
        )
        app = ClmWizardApp(context)
        async with app.run_test(size=(320, 40)) as pilot:
            await fill_key_screen(pilot, app, emu, emu.secret_key)
            await pilot.press("ctrl+n")
            await consent_in_browser(pilot, app)
            # The token error, its error_description full of escapes and markup.
            await until(pilot, lambda: "✗" in message(app, "#tokens-message"))
            assert "␛]52;c;" in message(app, "#tokens-message")
            assert shown_in(app.export_screenshot())
            await pilot.press("k")
            await until(pilot, lambda: isinstance(app.screen, SecretPrompt))
            app.screen.query_one("#secret", Input).value = emu.secret_key
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, TokensScreen) and app.screen.done)
            assert shown_in(app.export_screenshot())  # "Signed in as …"
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, DiscoveryScreen))
            await until(pilot, lambda: "✗" in message(app, "#discovery-message"))
            refused = message(app, "#discovery-message")  # the value quoted in its repr form
            assert "'https://x\\x1b]0;retitled by the server\\x07[link=" in refused
            assert shown_in(app.export_screenshot())  # the account names, the refused host
            for key, url in emu.clm_hosts.items():
                app.screen.query_one(f"#host-{key}", Input).value = url
            await pilot.press("ctrl+s")
            await until(pilot, lambda: ProfileStore().exists("acme"), 10)
            await pilot.pause()
            await until(pilot, lambda: isinstance(app.screen, FieldsScreen))
            await pilot.press("escape")  # Fields → the start screen
            await until(pilot, lambda: isinstance(app.screen, StartScreen))
            await until(pilot, lambda: bool(app.screen.listings))  # type: ignore[attr-defined]
            await pilot.pause()
            # The profile's account name, cut to its column.
            assert shown_in(app.export_screenshot(), ("Eve ␛]52;c;",))
        assert app.return_code in (0, None)
