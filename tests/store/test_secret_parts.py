"""Long values on a keyring with a small per-item limit (Windows Credential Manager): stored in
parts, all-or-nothing, read back whole, deleted whole; old whole values still read; a half-written
set is never returned; a kill -9 in the middle of writing leaves the old value readable."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import keyring
import pytest

from clmwizard.errors import KeyringError
from clmwizard.store.secrets import (
    PARTS_PREFIX,
    SERVICE,
    KeyringSecretStore,
    open_secret_store,
    value_limit,
)
from tests.support.jwt_profiles import other_rsa_key
from tests.support.keyrings import FakeWindowsCredentialManager, MemoryKeyring

REPO = Path(__file__).parents[2]
ITEM = "rsa_private_key"


def five_kb() -> str:
    return secrets.token_urlsafe(3800)[:5120]


def names(backend: FakeWindowsCredentialManager) -> list[str]:
    return sorted(key.split("\n", 1)[1] for key in backend.items)


def test_the_fake_backend_refuses_what_windows_refuses() -> None:
    backend = FakeWindowsCredentialManager()
    backend.set_password(SERVICE, "p/x", "a" * 1280)
    with pytest.raises(OSError) as caught:
        backend.set_password(SERVICE, "p/x", "a" * 1281)
    assert "[WinError 1783] The stub received bad data." in str(caught.value)
    assert value_limit(backend) is not None and value_limit(MemoryKeyring()) is None


@pytest.mark.parametrize(
    "value", [other_rsa_key(), five_kb(), "é€😀" * 900], ids=["rsa-key", "5kb", "non-ascii"]
)
def test_long_values_round_trip_in_parts_and_are_deleted_whole(value: str) -> None:
    backend = FakeWindowsCredentialManager()
    store = KeyringSecretStore(backend)
    assert store.description == "Windows Credential Manager"
    store.set_many("p", {ITEM: value, "secret_key": "short-secret-value"})
    assert store.get("p", ITEM) == value
    assert store.get("p", "secret_key") == "short-secret-value"
    stored = backend.items
    assert stored[f"{SERVICE}\np/{ITEM}"].startswith(PARTS_PREFIX)
    assert stored[f"{SERVICE}\np/secret_key"] == "short-secret-value"  # short values stay whole
    assert len([n for n in names(backend) if "#" in n]) >= 2
    assert not any(n.endswith("#cleanup") for n in names(backend))
    store.set_many("p", {ITEM: value[::-1]})  # a rewrite leaves only the new parts
    assert store.get("p", ITEM) == value[::-1]
    parts = [n for n in names(backend) if n.startswith(f"p/{ITEM}#")]
    assert len({n.split("#")[1].split(".")[0] for n in parts}) == 1
    store.delete("p", [ITEM])
    assert store.get("p", ITEM) is None
    assert names(backend) == ["p/secret_key"]


def test_a_value_stored_whole_by_an_older_version_still_reads_and_shrinks_back() -> None:
    backend = FakeWindowsCredentialManager()
    backend.set_password(SERVICE, f"p/{ITEM}", "an old short value")
    store = KeyringSecretStore(backend)
    assert store.get("p", ITEM) == "an old short value"
    store.set_many("p", {ITEM: five_kb()})
    store.set_many("p", {ITEM: "short again"})
    assert names(backend) == [f"p/{ITEM}"]
    assert store.get("p", ITEM) == "short again"


def test_other_backends_store_every_value_whole() -> None:
    backend = MemoryKeyring()
    store = KeyringSecretStore(backend)
    value = five_kb()
    store.set_many("p", {ITEM: value})
    assert backend.items == {(SERVICE, f"p/{ITEM}"): value}


def test_a_half_written_set_is_never_returned_and_is_removed() -> None:
    backend = FakeWindowsCredentialManager()
    store = KeyringSecretStore(backend)
    store.set_many("p", {ITEM: five_kb()})
    part = next(n for n in names(backend) if n.endswith(".1"))
    backend.delete_password(SERVICE, part)
    with pytest.raises(KeyringError) as caught:
        store.get("p", ITEM)
    assert caught.value.code == "incomplete_secret"
    assert names(backend) == []  # removed, not half-kept
    assert store.get("p", ITEM) is None
    assert store.notices


def test_a_tampered_part_is_caught_by_the_digest() -> None:
    backend = FakeWindowsCredentialManager()
    store = KeyringSecretStore(backend)
    store.set_many("p", {ITEM: five_kb()})
    part = next(n for n in names(backend) if n.endswith(".0"))
    backend.set_password(SERVICE, part, "x" * 10)
    with pytest.raises(KeyringError):
        store.get("p", ITEM)


def test_a_refused_value_names_the_backend_and_the_size() -> None:
    class TinyKeyring(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            if len(password) > 100:
                raise OSError("value too large")
            super().set_password(service, username, password)

    store = KeyringSecretStore(TinyKeyring())
    with pytest.raises(KeyringError) as caught:
        store.set_many("p", {ITEM: "v" * 500})
    text = caught.value.render()
    assert "tests.support.keyrings" in text or "TinyKeyring" in text
    assert "500 characters" in text and "500 bytes" in text
    assert "v" * 50 not in text


def test_open_secret_store_uses_the_backend_set_with_keyring() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(FakeWindowsCredentialManager())
    try:
        store = open_secret_store()
        value = other_rsa_key()
        store.set_many("p", {ITEM: value})
        assert store.get("p", ITEM) == value
    finally:
        keyring.set_keyring(previous)


def _run_child(keyring_file: Path, steps: Path, pause_at: int, value_file: Path) -> bool:
    """Run the writer; kill -9 it when it pauses. True when it was killed."""
    arguments = [str(keyring_file), str(steps), str(pause_at), str(value_file)]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.store.parts_child", *arguments],
        cwd=REPO,
        env={**os.environ},
    )
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        if steps.exists() and "PAUSED" in steps.read_text():
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
            return True
        time.sleep(0.01)
    process.wait(10)
    assert process.returncode == 0
    return False


@pytest.mark.timeout(180)
def test_kill_9_at_every_change_of_a_write_in_parts_leaves_a_whole_value(tmp_path: Path) -> None:
    old, new = other_rsa_key(), five_kb()
    value_file = tmp_path / "value.txt"
    value_file.write_text(new, encoding="utf-8")
    keyring_file = tmp_path / "keyring.json"

    def start() -> None:
        keyring_file.unlink(missing_ok=True)
        KeyringSecretStore(FakeWindowsCredentialManager(keyring_file)).set_many(
            "crash", {ITEM: old}
        )

    start()
    count_steps = tmp_path / "steps-full.log"
    assert not _run_child(keyring_file, count_steps, -1, value_file)
    total = len(count_steps.read_text().splitlines())
    assert total >= 8  # cleanup note, 5 parts, manifest, old parts and note removed
    outcomes = []
    for pause_at in range(total):
        start()
        steps = tmp_path / f"steps-{pause_at}.log"
        assert _run_child(keyring_file, steps, pause_at, value_file)
        backend = FakeWindowsCredentialManager(keyring_file)
        store = KeyringSecretStore(backend)
        seen = store.get("crash", ITEM)
        assert seen in (old, new), f"killed before change {pause_at}"
        outcomes.append("old" if seen == old else "new")
        store.set_many("crash", {ITEM: "after the crash " + new})  # the next write repairs
        assert store.get("crash", ITEM) == "after the crash " + new
        left = names(backend)
        generations = {n.split("#")[1].split(".")[0] for n in left if "#" in n}
        assert len(generations) == 1 and not any(n.endswith("#cleanup") for n in left), left
        store.delete("crash", [ITEM])
        assert names(backend) == []
    assert outcomes[0] == "old" and outcomes[-1] == "new"
    assert "old" in outcomes and "new" in outcomes


def _race_round(backend: FakeWindowsCredentialManager, lock_file: Path, values: list[str]) -> None:
    """Two writers and two readers at once, each with its own store (as separate processes
    would be): every read is one whole value, and one whole value is left at the end."""
    import threading

    errors: list[BaseException] = []
    seen: list[str | None] = []
    start = threading.Barrier(4)

    def writer(mine: list[str]) -> None:
        store = KeyringSecretStore(backend, lock_file=lock_file)
        start.wait()
        try:
            for value in mine:
                store.set_many("race", {ITEM: value})
        except BaseException as error:
            errors.append(error)

    def reader() -> None:
        store = KeyringSecretStore(backend, lock_file=lock_file)
        start.wait()
        try:
            for _ in range(6):
                seen.append(store.get("race", ITEM))
        except BaseException as error:
            errors.append(error)

    threads = [
        threading.Thread(target=writer, args=(values[1::2],)),
        threading.Thread(target=writer, args=(values[2::2],)),
        threading.Thread(target=reader),
        threading.Thread(target=reader),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert all(value in values for value in seen), "a read returned no whole value"
    final = KeyringSecretStore(backend, lock_file=lock_file)
    assert final.get("race", ITEM) in values[1:]
    left = names(backend)
    generations = {n.split("#")[1].split(".")[0] for n in left if "#" in n}
    assert len(generations) == 1 and not any(n.endswith("#cleanup") for n in left), left


def test_concurrent_readers_and_writers_always_leave_one_whole_value(tmp_path: Path) -> None:
    values = [f"{index}:" + five_kb() for index in range(7)]  # 0 first, then 3 per writer
    started = time.monotonic()
    for _ in range(200):
        backend = FakeWindowsCredentialManager()
        KeyringSecretStore(backend).set_many("race", {ITEM: values[0]})
        _race_round(backend, tmp_path / "parts.lock", values)
    assert time.monotonic() - started < 60


def test_a_reader_removes_only_what_it_proved_broken(tmp_path: Path) -> None:
    """A manifest that does not assemble because a writer replaced it meanwhile is read again,
    never removed."""
    backend = FakeWindowsCredentialManager()
    lock_file = tmp_path / "parts.lock"
    store = KeyringSecretStore(backend, lock_file=lock_file)
    store.set_many("p", {ITEM: "first " + five_kb()})
    manifest = backend.get_password(SERVICE, f"p/{ITEM}")
    assert manifest is not None
    store.set_many("p", {ITEM: "second " + five_kb()})
    newer = backend.get_password(SERVICE, f"p/{ITEM}")
    assert newer is not None

    class Replaced(FakeWindowsCredentialManager):
        """Shows the first (since replaced) manifest once, as a reader racing a writer sees."""

        stale = True

        def get_password(self, service: str, username: str) -> str | None:
            if username == f"p/{ITEM}" and self.stale:
                self.stale = False
                return manifest
            return backend.get_password(service, username)

    racing = KeyringSecretStore(Replaced(), lock_file=lock_file)
    assert racing.get("p", ITEM) == store.get("p", ITEM)
    assert racing.get("p", ITEM) is not None and racing.notices == []
    assert backend.get_password(SERVICE, f"p/{ITEM}") == newer
