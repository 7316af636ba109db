"""Hostile profile files: whatever bytes or YAML document sits in `<name>.yaml`, loading it gives
the profile or a ClmWizardError naming the file; YAML tags never build Python objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clmwizard.errors import ClmWizardError
from clmwizard.store.profiles import ProfileStore, profile_from_dict, profile_to_dict
from tests.support.store_fixtures import make_profile

FIELDS = [
    "schema_version",
    "name",
    "environment",
    "auth_server",
    "clm_auth_server",
    "integration_key",
    "scopes",
    "redirect_uri",
    "use_pkce",
    "clm_hosts",
    "consented_at",
    "exports",
    "last_refresh_at",
]
HOSTILE = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+05:00",
            "9999-12-31T23:59:59-05:00",
            "2025-01-31T09:00:00",
            "2025-13-01T00:00:00Z",
            "demo",
            "three",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), inner, max_size=4),
    ),
    max_leaves=12,
)


def valid_dict() -> dict[str, Any]:
    return profile_to_dict(make_profile("acme"))


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    (tmp_path / "profiles").mkdir()
    return ProfileStore(tmp_path / "profiles")


def load_written(store: ProfileStore, data: bytes) -> None:
    path = store.path_for("acme")
    path.write_bytes(data)
    try:
        profile = store.load("acme")
    except ClmWizardError as error:
        assert str(path) in error.what, error.what
        assert error.fix
        return
    assert profile.name == "acme"
    assert store.exists("acme")


@HOSTILE
@given(changes=st.dictionaries(st.sampled_from(FIELDS), values, max_size=3))
def test_a_profile_with_hostile_fields_loads_or_names_the_file(
    store: ProfileStore, changes: dict[str, Any]
) -> None:
    data = {**valid_dict(), **changes}
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return
    load_written(store, text.encode())
    try:
        profile_from_dict(data, source="the test file")
    except ClmWizardError as error:
        assert "the test file" in error.what


@HOSTILE
@given(document=values)
def test_any_yaml_document_loads_or_names_the_file(store: ProfileStore, document: Any) -> None:
    try:
        text = yaml.safe_dump(document, allow_unicode=True)
    except yaml.YAMLError:
        return
    load_written(store, text.encode())


@HOSTILE
@given(data=st.binary(max_size=400))
@example(data=b"[" * 5000)
@example(data=b"{a: " * 3000)
@example(data=b"a: &a [*a]\nscopes: *a\n")
@example(data=b"\xef\xbb\xbfname: acme\n")
@example(data=b"\xff\xfe\x00\x00")
@example(data=b"- " * 3000)
@example(data=b"a: !!binary AAAA\n")
@example(data=b"a: !!timestamp 0001-01-01 00:00:00+05:00\n")
def test_arbitrary_bytes_load_or_name_the_file(store: ProfileStore, data: bytes) -> None:
    load_written(store, data)


@pytest.mark.parametrize("field", ["consented_at", "last_refresh_at", "access_token_expires_at"])
@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+05:00", "0001-01-01 00:00:00+05:00", "9999-12-31T23:00:00-05:00"],
)
def test_a_date_at_the_edge_of_time_is_refused_with_the_field(
    store: ProfileStore, field: str, moment: str
) -> None:
    data = {**valid_dict(), field: "placeholder"}
    text = yaml.safe_dump(data).replace("placeholder", moment)
    store.path_for("acme").write_text(text)
    with pytest.raises(ClmWizardError) as caught:
        store.load("acme")
    assert caught.value.field == field
    assert str(store.path_for("acme")) in caught.value.what


def test_a_self_referencing_document_is_refused(store: ProfileStore) -> None:
    data = valid_dict()
    text = yaml.safe_dump({k: v for k, v in data.items() if k != "scopes"})
    store.path_for("acme").write_text(text + "scopes: &loop [signature, *loop]\n")
    with pytest.raises(ClmWizardError) as caught:
        store.load("acme")
    assert caught.value.code == "invalid_profile"


@pytest.mark.parametrize(
    "tag",
    [
        '!!python/object/apply:os.system ["touch {marker}"]',
        "!!python/object:builtins.object {{}}",
        '!!python/name:os.system ""',
        '!!python/object/new:subprocess.Popen [["touch", "{marker}"]]',
    ],
)
def test_python_tags_are_refused_and_never_run(
    store: ProfileStore, tmp_path: Path, tag: str
) -> None:
    marker = tmp_path / "pwned"
    store.path_for("acme").write_text(
        yaml.safe_dump(valid_dict()) + "account_name: " + tag.format(marker=marker) + "\n"
    )
    with pytest.raises(ClmWizardError) as caught:
        store.load("acme")
    assert "is not valid YAML" in caught.value.what
    assert "could not determine a constructor" in caught.value.cause
    assert not marker.exists()
    listing = store.list()
    assert [(item.name, item.profile, type(item.error)) for item in listing] == [
        ("acme", None, ClmWizardError)
    ]


# --- a profile rewritten to send the secrets elsewhere ---------------------------------------


def test_an_auth_server_changed_outside_a_sign_in_is_refused_until_confirmed(
    emu: Any,
    config_dir: Path,
    memory_keyring: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Another local user (or a sync tool) points auth_server elsewhere: refresh and rotate do
    not send the secret key and refresh token there until the user confirms it once."""
    import sys

    from clmwizard.cli import main
    from tests.support.login import login_argv

    monkeypatch.setenv("BROWSER", f"{sys.executable} -m clmwizard.emulator.browser %s")
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.secret_key)
    assert main(login_argv(emu, profile="acme", timeout=15)) == 0
    store = ProfileStore()
    signed_in = store.load("acme")
    assert signed_in.trusted_auth_server == emu.auth_server  # chosen at sign-in: confirmed
    # The same server under another name (an attacker's would be elsewhere; this one answers).
    elsewhere = emu.auth_server.replace("127.0.0.1", "localhost")
    store.update("acme", lambda profile: setattr(profile, "auth_server", elsewhere))
    capsys.readouterr()
    before = len(emu.request_log)
    for argv in (["refresh", "--profile", "acme"], ["rotate", "--profile", "acme"]):
        monkeypatch.setenv("CLMWIZARD_SECRET_KEY", emu.spare_secret_key)
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"to {elsewhere}, which is not a DocuSign server" in err
        assert f"clmwizard {argv[0]} --profile acme --trust-server" in err
    assert len(emu.request_log) == before  # nothing was sent anywhere
    assert main(["refresh", "--profile", "acme", "--trust-server"]) == 0
    assert store.load("acme").trusted_auth_server == elsewhere  # asked once, not forever
    assert main(["refresh", "--profile", "acme"]) == 0


def test_docusign_servers_need_no_confirmation() -> None:
    from clmwizard.docusign.session import is_docusign_auth_server

    assert is_docusign_auth_server("https://account-d.docusign.com")
    assert is_docusign_auth_server("https://account.docusign.com/")
    assert not is_docusign_auth_server("http://account.docusign.com")
    assert not is_docusign_auth_server("https://account.docusign.com.evil.example")
    profile = make_profile("work")
    assert "trusted_auth_server" not in profile_to_dict(profile)  # files stay as they were
