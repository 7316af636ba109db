"""The keyring secret store, against the in-memory keyring and the real Secret Service."""

from __future__ import annotations

import time
import types

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.backends.chainer import ChainerBackend
from keyring.errors import PasswordSetError

from clmwizard.errors import EXIT_KEYRING, KeyringError, UsageError
from clmwizard.redact import redact
from clmwizard.store.profile import ACCESS_TOKEN, REFRESH_TOKEN, SECRET_ITEMS, SECRET_KEY
from clmwizard.store.secrets import (
    EPHEMERAL_DESCRIPTION,
    SERVICE,
    KeyringSecretStore,
    MemorySecretStore,
    check_keyring_backend,
    keyring_round_trip,
    open_secret_store,
)
from tests.support.keyrings import FailingAfterKeyring, MemoryKeyring, SlowKeyring
from tests.support.store_fixtures import Backends, unique_name


def test_store_and_read_back(backend: Backends) -> None:
    store = open_secret_store()
    name = backend.name()
    store.set_many(name, {SECRET_KEY: "sk-9f8e7d6c5b4a", REFRESH_TOKEN: "rt-0a1b2c3d4e5f"})

    assert store.persistent is True
    assert store.get(name, SECRET_KEY) == "sk-9f8e7d6c5b4a"
    assert store.get(name, REFRESH_TOKEN) == "rt-0a1b2c3d4e5f"
    assert store.get(name, ACCESS_TOKEN) is None
    # Where it really lives: service "clmwizard", user "<profile>/<item>".
    assert backend.backend.get_password(SERVICE, f"{name}/{SECRET_KEY}") == "sk-9f8e7d6c5b4a"


def test_values_read_are_registered_for_redaction(backend: Backends) -> None:
    name = backend.name()
    backend.backend.set_password(SERVICE, f"{name}/{REFRESH_TOKEN}", "rt-never-shown-7f3a")
    store = open_secret_store()
    assert store.get(name, REFRESH_TOKEN) == "rt-never-shown-7f3a"
    assert redact("token rt-never-shown-7f3a here") == "token [redacted] here"


def test_overwrite_replaces_the_value(backend: Backends) -> None:
    store = open_secret_store()
    name = backend.name()
    store.set_many(name, {SECRET_KEY: "first-secret-value"})
    store.set_many(name, {SECRET_KEY: "second-secret-value"})
    assert store.get(name, SECRET_KEY) == "second-secret-value"


def test_delete_profile_removes_every_item_and_nothing_else(backend: Backends) -> None:
    store = open_secret_store()
    gone, kept = backend.name(), backend.name()
    store.set_many(gone, dict.fromkeys(SECRET_ITEMS, "value-of-gone"))
    store.set_many(kept, {SECRET_KEY: "value-of-kept"})

    store.delete_profile(gone)

    assert [store.get(gone, item) for item in SECRET_ITEMS] == [None] * len(SECRET_ITEMS)
    assert store.get(kept, SECRET_KEY) == "value-of-kept"
    store.delete_profile(gone)  # deleting again (missing items) is fine


def test_delete_some_items(backend: Backends) -> None:
    store = open_secret_store()
    name = backend.name()
    store.set_many(name, {SECRET_KEY: "sk-value-123", ACCESS_TOKEN: "at-value-456"})
    store.delete(name, [ACCESS_TOKEN, REFRESH_TOKEN])
    assert store.get(name, ACCESS_TOKEN) is None
    assert store.get(name, SECRET_KEY) == "sk-value-123"


def test_round_trip_works_and_leaves_nothing_behind(backend: Backends) -> None:
    store = open_secret_store()
    keyring_round_trip(store)
    if isinstance(backend.backend, MemoryKeyring):
        assert backend.backend.items == {}


def test_hostile_profile_names_never_reach_the_keyring(backend: Backends) -> None:
    store = open_secret_store()
    for name in ("../x", "a/b", "", ".hidden", "x" * 65, "a\0b"):
        with pytest.raises(UsageError) as caught:
            store.set_many(name, {SECRET_KEY: "whatever-value"})
        assert caught.value.field == "profile"


def test_backend_is_named_in_words(backend: Backends) -> None:
    report = check_keyring_backend()
    assert report.usable
    if backend.kind == "secret_service":
        assert report.name == "Secret Service (GNOME Keyring or compatible)"
        assert open_secret_store().description == report.name


# --- refused backends ------------------------------------------------------------------------


@pytest.fixture
def use_backend():  # type: ignore[no-untyped-def]
    previous = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(previous)


def test_fail_backend_is_refused(use_backend) -> None:  # type: ignore[no-untyped-def]
    use_backend(fail.Keyring())
    report = check_keyring_backend()
    assert not report.usable
    assert report.name == "no keyring (keyring's fail backend)"
    assert report.problem == "No keyring service was found, so secrets cannot be stored."
    assert "gnome-keyring" in report.fix and "--ephemeral" in report.fix

    with pytest.raises(KeyringError) as caught:
        open_secret_store()
    assert caught.value.exit_code == EXIT_KEYRING
    assert caught.value.what == (
        "clmwizard will not store secrets in this keyring: no keyring (keyring's fail backend)."
    )
    assert "--ephemeral" in caught.value.fix


def test_null_backend_is_refused(use_backend) -> None:  # type: ignore[no-untyped-def]
    use_backend(null.Keyring())
    report = check_keyring_backend()
    assert not report.usable
    assert report.problem == "The null keyring silently discards every secret written to it."
    with pytest.raises(KeyringError, match="null keyring"):
        open_secret_store()


def _plaintext_backend() -> KeyringBackend:
    """A stand-in for keyrings.alt's PlaintextKeyring (keyrings.alt is not installed)."""
    module = types.ModuleType("keyrings.alt.file")

    class PlaintextKeyring(MemoryKeyring):
        __module__ = module.__name__

        @classmethod
        def priority(cls) -> float:  # type: ignore[override]
            raise RuntimeError("never chosen automatically")

    return PlaintextKeyring()


def test_plaintext_backend_is_refused(use_backend) -> None:  # type: ignore[no-untyped-def]
    use_backend(_plaintext_backend())
    report = check_keyring_backend()
    assert not report.usable
    assert report.name == "keyrings.alt.file.PlaintextKeyring"
    assert "keeps secrets in a file on disk" in report.problem
    with pytest.raises(KeyringError, match=r"keyrings\.alt\.file\.PlaintextKeyring"):
        open_secret_store()


def test_chainer_whose_only_member_is_plaintext_is_refused(
    use_backend, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ChainerBackend, "backends", [_plaintext_backend()])
    use_backend(ChainerBackend())
    report = check_keyring_backend()
    assert not report.usable
    assert report.name == "a chain of keyrings (keyrings.alt.file.PlaintextKeyring)"
    assert report.problem.startswith(
        "Secrets would be written to its first member, keyrings.alt.file.PlaintextKeyring:"
    )


def test_chainer_with_a_real_keyring_first_is_accepted(
    use_backend, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ChainerBackend, "backends", [MemoryKeyring(), _plaintext_backend()])
    use_backend(ChainerBackend())
    assert check_keyring_backend().usable


# --- timeouts and rollback -------------------------------------------------------------------


def test_slow_keyring_hits_the_timeout() -> None:
    store = KeyringSecretStore(SlowKeyring(delay=1.5), timeout=0.2)
    started = time.monotonic()
    with pytest.raises(KeyringError) as caught:
        store.get("work", SECRET_KEY)
    assert time.monotonic() - started < 1.0
    assert caught.value.what == "The keyring did not answer in 0.2 s."
    assert caught.value.cause == (
        "It may be locked and waiting for a password prompt nobody can see."
    )
    assert "--ephemeral" in caught.value.fix
    # While that call is still stuck, the next one fails at once instead of waiting again.
    started = time.monotonic()
    with pytest.raises(KeyringError, match="did not answer"):
        store.set_many("work", {SECRET_KEY: "value-abcdef"})
    assert time.monotonic() - started < 0.1


def test_default_timeout_is_three_seconds(memory_keyring: MemoryKeyring) -> None:
    store = open_secret_store()
    assert isinstance(store, KeyringSecretStore)
    assert store.timeout == 3.0


def test_half_written_profile_is_rolled_back() -> None:
    backend = FailingAfterKeyring(ok_writes=2)
    store = KeyringSecretStore(backend)
    with pytest.raises(KeyringError) as caught:
        store.set_many(
            "work", {SECRET_KEY: "sk-new-1", REFRESH_TOKEN: "rt-new-2", ACCESS_TOKEN: "at-new-3"}
        )
    assert backend.items == {}
    assert "PasswordSetError: simulated failure" in caught.value.cause


class FailOnUser(MemoryKeyring):
    """Fails writes for one user name; restoring other items still works."""

    def __init__(self, inner: KeyringBackend, failing_username: str) -> None:
        super().__init__()
        self.inner = inner
        self.failing_username = failing_username

    def get_password(self, service: str, username: str) -> str | None:
        return self.inner.get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        if username == self.failing_username:
            raise PasswordSetError("simulated failure")
        self.inner.set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self.inner.delete_password(service, username)


def test_rollback_restores_previous_values(backend: Backends) -> None:
    name = backend.name()
    before = KeyringSecretStore(backend.backend)
    before.set_many(name, {SECRET_KEY: "sk-old-value", REFRESH_TOKEN: "rt-old-value"})

    store = KeyringSecretStore(FailOnUser(backend.backend, f"{name}/{ACCESS_TOKEN}"))
    with pytest.raises(KeyringError):
        store.set_many(
            name, {SECRET_KEY: "sk-new-value", REFRESH_TOKEN: "rt-new-value", ACCESS_TOKEN: "at-x"}
        )

    assert before.get(name, SECRET_KEY) == "sk-old-value"
    assert before.get(name, REFRESH_TOKEN) == "rt-old-value"
    assert before.get(name, ACCESS_TOKEN) is None


def test_round_trip_detects_a_keyring_that_loses_writes() -> None:
    class Forgetful(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            pass

    with pytest.raises(KeyringError) as caught:
        keyring_round_trip(KeyringSecretStore(Forgetful()))
    assert "did not give back a test secret" in caught.value.what
    assert "returned nothing" in caught.value.cause


def test_locked_keyring_error_says_so() -> None:
    from keyring.errors import KeyringLocked

    class Locked(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise KeyringLocked("Failed to unlock the collection!")

    with pytest.raises(KeyringError) as caught:
        KeyringSecretStore(Locked()).get("work", SECRET_KEY)
    assert (
        caught.value.what == "The keyring is locked, so clmwizard could not read work/secret_key."
    )


# --- ephemeral -------------------------------------------------------------------------------


def test_ephemeral_store_never_touches_keyring(use_backend) -> None:  # type: ignore[no-untyped-def]
    use_backend(fail.Keyring())
    store = open_secret_store(ephemeral=True)
    assert isinstance(store, MemorySecretStore)
    assert store.persistent is False
    assert store.description == EPHEMERAL_DESCRIPTION == "memory — this run only"
    name = unique_name()
    store.set_many(name, {SECRET_KEY: "sk-ephemeral"})
    assert open_secret_store(ephemeral=True).get(name, SECRET_KEY) == "sk-ephemeral"
    store.delete_profile(name)
    assert store.get(name, SECRET_KEY) is None


def test_memory_store_round_trip() -> None:
    keyring_round_trip(MemorySecretStore())
