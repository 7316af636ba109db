"""Hostile input to the pure parsers: pasted redirects, callback parameters, profile names, host
fields, scope strings. Whatever comes in, the answer is a value that is safe to use or a
ClmWizardError a person can act on; never another exception."""

from __future__ import annotations

import os
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
