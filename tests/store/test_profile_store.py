"""Profiles as YAML: round trip, strict reading, hostile names, atomic writes, locking."""

from __future__ import annotations

import errno
import multiprocessing
import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import platformdirs
import pytest
import yaml

from clmwizard.errors import ClmWizardError, UsageError
from clmwizard.redact import register_secret
from clmwizard.store import profiles
from clmwizard.store.locking import file_lock
from clmwizard.store.profile import REFRESH_TOKEN, SECRET_ITEMS, SECRET_KEY, ClmHosts, Profile
from clmwizard.store.profiles import (
    ProfileStore,
    ProfileWriteError,
    profile_from_dict,
    profile_to_dict,
    validate_profile_name,
)
from clmwizard.store.secrets import open_secret_store
from tests.support.store_fixtures import Backends, make_profile


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_config_dir_honours_the_environment(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert profiles.config_dir() == config_dir
    assert ProfileStore().root == config_dir / "profiles"
    assert ProfileStore().path_for("work") == config_dir / "profiles" / "work.yaml"
    monkeypatch.delenv("CLMWIZARD_CONFIG_DIR")
    assert profiles.config_dir() == platformdirs.user_config_path("clmwizard")


def test_save_and_load_round_trip() -> None:
    store = ProfileStore()
    profile = make_profile("work")
    store.save(profile)
    assert store.exists("work")
    loaded = store.load("work")
    assert loaded == profile
    assert loaded.consented_at is not None and loaded.consented_at.tzinfo is not None


def test_yaml_is_stable_readable_and_utc() -> None:
    store = ProfileStore()
    offset = timezone(timedelta(hours=2))
    store.save(make_profile("work", consented_at=datetime(2025, 3, 1, 14, 0, tzinfo=offset)))
    text = store.path_for("work").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert list(data)[:3] == ["schema_version", "name", "environment"]
    assert data["schema_version"] == 1
    assert data["consented_at"] == "2025-03-01T12:00:00Z"
    assert data["clm_hosts"]["upload"] == "https://apiuploaduatna11.springcm.com"
    # Saving the same profile again gives the same bytes.
    store.save(store.load("work"))
    assert store.path_for("work").read_text(encoding="utf-8") == text


def test_unicode_survives() -> None:
    store = ProfileStore()
    store.save(make_profile("work", account_name="Müller & Søn — Legal"))
    assert store.load("work").account_name == "Müller & Søn — Legal"
    assert "Müller & Søn — Legal" in store.path_for("work").read_text(encoding="utf-8")


def test_signed_in_profile_yaml_holds_no_secret(backend: Backends) -> None:
    store, secrets = ProfileStore(), open_secret_store()
    name = backend.name()
    values = {SECRET_KEY: "sk-3b9f1c2d7e8a", REFRESH_TOKEN: "rt-8c7d6e5f4a3b"}
    secrets.set_many(name, values)
    store.save(make_profile(name))
    text = store.path_for(name).read_text(encoding="utf-8")
    for value in values.values():
        assert value not in text


def test_saving_a_registered_secret_is_refused() -> None:
    register_secret("leaked-refresh-token-91f0")
    store = ProfileStore()
    with pytest.raises(ClmWizardError, match="it would contain a secret"):
        store.save(make_profile("work", user_name="leaked-refresh-token-91f0"))
    assert not store.exists("work")


def test_atomic_write_modes_and_no_temp_files(tmp_path: Path) -> None:
    root = tmp_path / "fresh" / "config" / "profiles"
    store = ProfileStore(root)
    store.save(make_profile("work"))
    store.save(make_profile("work", account_name="Renamed"))
    assert _mode(root / "work.yaml") == 0o600
    assert _mode(root) == 0o700
    assert _mode(root.parent) == 0o700
    assert sorted(p.name for p in root.iterdir()) == ["work.lock", "work.yaml"]


def saved_work(writer: Callable[[int, bytes], None]) -> tuple[ProfileStore, bytes, ProfileStore]:
    """Profile work saved: the store, the file's bytes, and a store on the same folder writing
    through `writer`."""
    store = ProfileStore()
    store.save(make_profile("work"))
    return store, store.path_for("work").read_bytes(), ProfileStore(store.root, writer=writer)


def full_disk(fd: int, data: bytes) -> None:
    """A writer that fails like a full disk after half the bytes."""
    os.write(fd, data[: len(data) // 2])
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_write_leaves_the_old_file_and_no_temp() -> None:
    store, before, full = saved_work(writer=full_disk)
    with pytest.raises(ProfileWriteError) as caught:
        full.save(make_profile("work", account_name="Never written"))
    assert caught.value.code == "disk_full"
    assert "No space left on device" in caught.value.cause
    assert "Free some space" in caught.value.fix
    assert store.path_for("work").read_bytes() == before
    assert sorted(p.name for p in store.root.iterdir()) == ["work.lock", "work.yaml"]


def read_only(fd: int, data: bytes) -> None:
    raise OSError(errno.EROFS, "Read-only file system")


def test_a_read_only_folder_says_so_and_changes_nothing() -> None:
    # chmod cannot make a folder read-only for root (the CI user), so the writer fails instead.
    store, before, frozen = saved_work(writer=read_only)
    with pytest.raises(ProfileWriteError) as caught:
        frozen.update("work", lambda profile: setattr(profile, "account_name", "Never"))
    assert caught.value.code == "profile_unwritable"
    assert "chmod 700" in caught.value.fix
    assert store.path_for("work").read_bytes() == before


def test_missing_profile_names_path_and_fix() -> None:
    store = ProfileStore()
    with pytest.raises(ClmWizardError) as caught:
        store.load("nope")
    error = caught.value
    assert error.what == "There is no profile named 'nope'."
    assert str(store.path_for("nope")) in error.cause
    assert "clmwizard login --profile nope" in error.fix
    assert "Did you mean" not in error.fix


def test_a_typo_in_a_profile_name_suggests_the_profile_meant() -> None:
    store = ProfileStore()
    store.save(make_profile("demo"))
    store.save(make_profile("sales"))
    with pytest.raises(ClmWizardError) as caught:
        store.load("dmeo")
    assert caught.value.fix.startswith(
        "Did you mean 'demo'? Run the command again with `--profile demo`"
    )
    with pytest.raises(ClmWizardError) as caught:
        store.load("zzz")
    assert "Did you mean" not in caught.value.fix


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        ("name: [unclosed\n", "The YAML parser stopped (line 2, column 1)"),
        ("- just\n- a list\n", "It should hold a mapping of fields but holds a list."),
        ("schema_version: 1\nname: broken\n", "The field `environment` is missing."),
    ],
)
def test_corrupt_file_is_reported_untouched_and_others_still_list(content: str, cause: str) -> None:
    store = ProfileStore()
    store.save(make_profile("alpha"))
    store.save(make_profile("zulu"))
    broken = store.root / "broken.yaml"
    broken.write_text(content, encoding="utf-8")

    with pytest.raises(ClmWizardError) as caught:
        store.load("broken")
    assert str(broken) in caught.value.what
    assert caught.value.cause.startswith(cause)
    assert broken.read_text(encoding="utf-8") == content

    listing = store.list()
    assert [entry.name for entry in listing] == ["alpha", "broken", "zulu"]
    assert listing[0].profile is not None and listing[2].profile is not None
    assert listing[1].profile is None and listing[1].error is not None
    assert str(broken) in listing[1].error.what


def _valid_dict() -> dict[str, object]:
    return profile_to_dict(make_profile("work"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scopes": "signature"}, "The field `scopes` must be a list, not text."),
        ({"use_pkce": "yes"}, "The field `use_pkce` must be true/false, not text."),
        ({"environment": "staging"}, "The field `environment` must be one of 'demo', "),
        ({"clm_hosts": {"general": "x", "upload": "y"}}, "The field `clm_hosts.download` is "),
        ({"consented_at": "yesterday"}, "The field `consented_at` must be a date like"),
        ({"consented_at": "2025-03-01T12:00:00"}, "The field `consented_at` must include a time"),
        (
            {"exports": [{"path": 3, "layout": "three", "at": "2025-01-01T00:00:00Z"}]},
            "The field `exports[0].path` must be text, not a number.",
        ),
        ({"acount_id": "x"}, "The field `acount_id` is not a field clmwizard knows."),
        ({"schema_version": "1"}, "The field `schema_version` must be a whole number"),
        ({"schema_version": 0}, "The field `schema_version` must be 1 or more"),
    ],
)
def test_strict_reading_names_the_file_and_field(change: dict[str, object], message: str) -> None:
    data = {**_valid_dict(), **change}
    with pytest.raises(ClmWizardError) as caught:
        profile_from_dict(data, source="/cfg/profiles/work.yaml")
    assert caught.value.what == "The profile file /cfg/profiles/work.yaml is not valid."
    assert caught.value.cause.startswith(message)


def test_missing_schema_version_is_refused() -> None:
    data = _valid_dict()
    del data["schema_version"]
    with pytest.raises(ClmWizardError, match="`schema_version` is missing"):
        profile_from_dict(data, source="work.yaml")


def test_newer_schema_asks_to_upgrade() -> None:
    store = ProfileStore()
    store.save(make_profile("work"))
    path = store.path_for("work")
    path.write_text(path.read_text().replace("schema_version: 1", "schema_version: 99"))
    with pytest.raises(ClmWizardError) as caught:
        store.load("work")
    assert caught.value.what == f"The profile file {path} was written by a newer clmwizard."
    assert "schema version 99" in caught.value.cause
    assert "Upgrade clmwizard" in caught.value.fix


def test_hand_written_unquoted_dates_and_minimal_profile_load() -> None:
    store = ProfileStore()
    store.root.mkdir(parents=True)
    store.path_for("hand").write_text(
        "schema_version: 1\nname: hand\nenvironment: production\n"
        "auth_server: https://account.docusign.com\nclm_auth_server: https://auth.springcm.com\n"
        "integration_key: ik\nscopes: [signature]\nredirect_uri: http://127.0.0.1:8765/callback\n"
        "consented_at: 2025-03-01T12:00:00Z\n",
        encoding="utf-8",
    )
    profile = store.load("hand")
    assert profile.consented_at == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert profile.use_pkce is True and profile.clm_hosts is None and profile.exports == []


def test_file_name_and_name_field_must_agree() -> None:
    store = ProfileStore()
    store.save(make_profile("work"))
    store.path_for("work").rename(store.path_for("copy"))
    with pytest.raises(ClmWizardError, match="It says it is profile 'work'"):
        store.load("copy")


@pytest.mark.parametrize("name", ["../x", "a/b", "", "x" * 65, ".hidden", "a\0b", "a b", "é"])
def test_hostile_names_are_refused(name: str) -> None:
    with pytest.raises(UsageError) as caught:
        validate_profile_name(name)
    assert caught.value.field == "profile"
    assert "letters, digits, dot, dash and underscore" in caught.value.fix
    store = ProfileStore()
    with pytest.raises(UsageError):
        store.path_for(name)
    with pytest.raises(UsageError):
        store.save(make_profile(name))
    assert not store.root.exists() or list(store.root.iterdir()) == []


@pytest.mark.parametrize("name", ["work", "a", "CLM-prod_2.eu", "x" * 64, "9lives"])
def test_good_names_are_accepted(name: str) -> None:
    assert validate_profile_name(name) == name


def test_list_is_sorted_and_empty_when_nothing_saved() -> None:
    store = ProfileStore()
    assert store.list() == []
    for name in ("mid", "Alpha", "zed"):
        store.save(make_profile(name))
    assert [entry.name for entry in store.list()] == ["Alpha", "mid", "zed"]


def test_update_changes_and_returns_the_profile() -> None:
    store = ProfileStore()
    store.save(make_profile("work", signed_in=False))
    hosts = ClmHosts("https://g.example", "https://u.example", "https://d.example")

    def sign_in(profile: Profile) -> None:
        profile.account_id = "acc-1"
        profile.clm_hosts = hosts

    updated = store.update("work", sign_in)
    assert updated.is_signed_in
    assert store.load("work").clm_hosts == hosts


def test_delete_removes_file_and_keyring_items(backend: Backends) -> None:
    store, secrets = ProfileStore(), open_secret_store()
    name, other = backend.name(), backend.name()
    for each in (name, other):
        store.save(make_profile(each))
        secrets.set_many(each, dict.fromkeys(SECRET_ITEMS, f"secret-of-{each}"))

    store.delete(name, secrets)

    assert not store.exists(name)
    assert [secrets.get(name, item) for item in SECRET_ITEMS] == [None] * len(SECRET_ITEMS)
    assert store.exists(other)
    assert secrets.get(other, SECRET_KEY) == f"secret-of-{other}"
    assert [entry.name for entry in store.list()] == [other]
    with pytest.raises(ClmWizardError, match=f"There is no profile named '{name}'"):
        store.delete(name, secrets)


def test_lock_held_elsewhere_gives_a_clear_message() -> None:
    store = ProfileStore(lock_timeout=0.2)
    store.save(make_profile("work"))
    # flock locks belong to the open file, so a second open in this process conflicts too.
    with file_lock(store.root / "work.lock", what="test"), pytest.raises(ClmWizardError) as caught:
        store.update("work", lambda profile: None)
    assert caught.value.what.startswith("Profile 'work' is in use by another clmwizard: ")
    assert f"process {os.getpid()}" in caught.value.what  # who holds it, from the lock file
    assert str(store.root / "work.lock") in caught.value.cause
    assert (
        caught.value.fix
        == "Wait for it to finish or close it, then try again. Nothing was changed."
    )


def _append_scopes(root: str, tag: str, count: int) -> None:
    store = ProfileStore(Path(root), lock_timeout=30)
    for i in range(count):
        store.update("shared", lambda profile, i=i: profile.scopes.append(f"{tag}-{i}"))


def test_concurrent_writers_lose_no_update(tmp_path: Path) -> None:
    root = tmp_path / "profiles"
    ProfileStore(root).save(make_profile("shared", scopes=[]))
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_append_scopes, args=(str(root), tag, 40)) for tag in ("a", "b")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    scopes = ProfileStore(root).load("shared").scopes
    assert sorted(scopes) == sorted([f"{tag}-{i}" for tag in ("a", "b") for i in range(40)])
    assert [name for name in os.listdir(root) if name.endswith(".tmp")] == []


# --- a shared machine: what others can write is not trusted ------------------------------


def test_a_profile_folder_others_can_write_is_refused_with_the_chmod() -> None:
    store = ProfileStore()
    store.save(make_profile("work"))
    store.root.chmod(0o777)
    for attempt in (lambda: store.load("work"), lambda: store.save(make_profile("work"))):
        with pytest.raises(ClmWizardError) as caught:
            attempt()
        assert caught.value.code == "unsafe_permissions"
        assert f"chmod 700 {store.root}" in caught.value.fix
    assert _mode(store.root) == 0o777  # refused, not quietly "fixed": a profile may be changed
    [listing] = store.list()
    assert listing.error is not None and listing.error.code == "unsafe_permissions"


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_a_profile_file_others_can_write_is_refused_with_the_chmod(mode: int) -> None:
    store = ProfileStore()
    store.save(make_profile("work"))
    store.path_for("work").chmod(mode)
    with pytest.raises(ClmWizardError) as caught:
        store.load("work")
    assert caught.value.code == "unsafe_permissions"
    assert f"chmod 600 {store.path_for('work')}" in caught.value.fix


def test_a_profile_file_of_another_user_is_refused() -> None:
    store = ProfileStore()
    store.save(make_profile("work"))
    other = os.geteuid() + 1000
    try:
        os.chown(store.path_for("work"), other, -1)
    except PermissionError:  # not root: a file of another user cannot be made; use the folder
        pytest.fail("the test suite runs as root in CI; run it there")
    with pytest.raises(ClmWizardError) as caught:
        store.load("work")
    assert caught.value.code == "unsafe_permissions"
    assert "belongs to another user" in caught.value.what


def test_a_symlinked_profiles_folder_is_not_chmodded_through(tmp_path: Path) -> None:
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    link = tmp_path / "config" / "linked"
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(shared)
    store = ProfileStore(link)
    with pytest.raises(ClmWizardError) as caught:
        store.save(make_profile("work"))
    assert caught.value.code == "unsafe_permissions"
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777  # untouched
    assert list(shared.iterdir()) == []
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    ok = tmp_path / "config" / "ok"
    ok.symlink_to(private)
    ProfileStore(ok).save(make_profile("work"))  # a link to a private folder of ours is fine
    assert ProfileStore(ok).load("work").name == "work"


def test_a_dangling_symlink_at_the_lock_file_is_refused_not_created(tmp_path: Path) -> None:
    store = ProfileStore()
    store.save(make_profile("work"))
    store.path_for("work").with_suffix(".lock").unlink()
    target = tmp_path / "planted-target"
    (store.root / "work.lock").symlink_to(target)
    with pytest.raises(ClmWizardError) as caught:
        store.save(make_profile("work", account_name="x"))
    assert caught.value.code == "lock_symlink"
    assert not target.exists()


def test_a_huge_profile_file_is_refused_quickly() -> None:
    import time

    store = ProfileStore()
    store.save(make_profile("work"))
    path = store.path_for("work")
    with path.open("ab") as handle:
        handle.write(b"# padding\n" * (profiles.MAX_PROFILE_BYTES // 10 + 1000))
    start = time.monotonic()
    with pytest.raises(ClmWizardError) as caught:
        store.load("work")
    assert time.monotonic() - start < 1.0
    assert caught.value.code == "invalid_profile" and "too large" in caught.value.what
    [listing] = store.list()
    assert listing.error is not None


def test_a_profile_from_before_the_user_sign_in_and_the_rotation_proof_loads() -> None:
    """Files written before `microsoft_user`, `secret_rotated_at` and `rotation_proven_at`
    existed load with them unset, and a profile without them is written without them."""
    from clmwizard.store.profile import MicrosoftUserSignIn, PublishedConnector
    from tests.support.records import PUBLIC_CLIENT, publish_record

    record = publish_record(
        PublishedConnector("clm", "shared_x", "DocuSign CLM work", "ab" * 8),
        environment_id="env-1",
        **{**PUBLIC_CLIENT, "client_id": "9f1e2d3c-4b5a-4c3d-8e9f-0a1b2c3d4e5f"},
    )
    data = profile_to_dict(make_profile("work", publications=[record]))
    assert "microsoft_user" not in data
    assert "secret_rotated_at" not in data["publications"][0]
    loaded = profile_from_dict(data, source="work.yaml")
    assert loaded.microsoft_user is None
    assert loaded.publications[0].secret_rotated_at is None
    assert loaded.publications[0].rotation_proven_at is None

    store = ProfileStore()
    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    record.secret_rotated_at, record.rotation_proven_at = at, at + timedelta(hours=9)
    user = MicrosoftUserSignIn(
        "6b3a9e1c-2f4d-4c8e-9a7b-1d5e3f7a9c21", "contoso.onmicrosoft.com", "https://login.x/"
    )
    store.save(make_profile("work", publications=[record], microsoft_user=user))
    again = store.load("work")
    assert again.microsoft_user == user
    assert again.publications[0].secret_rotated_at == at
    assert again.publications[0].rotation_proven_at == at + timedelta(hours=9)
