"""The local rows of the fault matrix (`matrix.LOCAL_CELLS`): a second run, SIGTERM / SIGHUP,
a full disk and a read-only profile folder, each run for real against the emulator.

"core" rows call the session functions the CLI and the wizard share, with a profile store whose
writer fails as the disk would (a seam, not a patch); "cli" rows run `python -m clmwizard` in
child processes against the real Secret Service (the grant lock and the signals are about
processes)."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from clmwizard.cli import main
from clmwizard.docusign.session import refresh_profile, rotate_secret, store_login
from clmwizard.emulator import Emulator
from clmwizard.errors import ClmWizardError
from clmwizard.store.profile import ACCESS_TOKEN, REFRESH_TOKEN, SECRET_KEY
from clmwizard.store.profiles import ProfileStore, Writer
from clmwizard.store.secrets import KeyringSecretStore
from tests.qualities.crash.harness import Child, new_consent, sign_in_here, start
from tests.qualities.reliability.harness import check_message
from tests.qualities.reliability.matrix import LOCAL_CELLS, LOCAL_STORED, LocalCell
from tests.support.keyrings import MemoryKeyring

PROFILE = "acme"
ITEMS = (SECRET_KEY, REFRESH_TOKEN, ACCESS_TOKEN)


def failing_writer(fault: str) -> Writer:
    code = errno.ENOSPC if fault == "disk_full" else errno.EROFS

    def write(fd: int, data: bytes) -> None:
        raise OSError(code, os.strerror(code))

    return write


def state(secrets: KeyringSecretStore) -> State:
    return (
        ProfileStore().path_for(PROFILE).read_bytes(),
        {item: secrets.get(PROFILE, item) for item in ITEMS},
    )


State = tuple[bytes, dict[str, str | None]]


def check(cell: LocalCell, before: State, after: State, emu: Emulator) -> None:
    assert cell.stored in LOCAL_STORED
    (yaml_before, old), (yaml_after, new) = before, after
    if cell.stored == "unchanged":
        assert (yaml_after, new) == (yaml_before, old)
        return
    assert new[REFRESH_TOKEN] != old[REFRESH_TOKEN] and new[ACCESS_TOKEN] != old[ACCESS_TOKEN]
    rotated = cell.stored.startswith("rotated")
    assert new[SECRET_KEY] == (emu.spare_secret_key if rotated else old[SECRET_KEY])
    if cell.stored.endswith("keyring_only"):
        assert yaml_after == yaml_before
    else:
        assert yaml_after != yaml_before
    # Whatever the fault, what is stored works.
    assert main(["refresh", "--profile", PROFILE]) == 0


@pytest.mark.parametrize(
    "cell", [c for c in LOCAL_CELLS if c.surface == "core"], ids=lambda cell: cell.id
)
def test_core_cell(
    cell: LocalCell,
    emu: Emulator,
    config_dir: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secrets = KeyringSecretStore(memory_keyring)
    sign_in_here(emu, PROFILE, emu.secret_key, monkeypatch)
    broken = ProfileStore(writer=failing_writer(cell.fault))
    before = state(secrets)
    with pytest.raises(ClmWizardError) as caught:
        if cell.step == "refresh":
            asyncio.run(refresh_profile(PROFILE, broken, secrets))
        elif cell.step == "rotate":
            asyncio.run(rotate_secret(PROFILE, emu.spare_secret_key, broken, secrets))
        else:  # a second sign-in (the consent flow itself is the network matrix's business)
            profile, tokens = new_consent(emu, PROFILE)
            store_login(broken, secrets, profile, emu.spare_secret_key, tokens)
    error = caught.value
    check_message(error.render(), cell.says)
    assert error.exit_code == cell.exit
    check(cell, before, state(secrets), emu)
    capsys.readouterr()


@pytest.mark.secret_service
@pytest.mark.parametrize(
    "cell", [c for c in LOCAL_CELLS if c.surface == "cli"], ids=lambda cell: cell.id
)
def test_cli_cell(
    cell: LocalCell,
    emu: Emulator,
    tmp_path: Path,
    config_dir: Path,
    secret_service: KeyringBackend,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secrets = KeyringSecretStore(secret_service)
    emu.state.reuse_revokes_grant = True
    try:
        sign_in_here(emu, PROFILE, emu.secret_key, monkeypatch)
        before = state(secrets)
        argv = ["refresh", "--profile", PROFILE]
        stdin = ""
        if cell.step == "rotate":
            argv, stdin = (
                ["rotate", "--profile", PROFILE, "--secret-key-stdin"],
                emu.spare_secret_key,
            )
        if cell.fault == "concurrent":
            runs = [start(argv, stdin), start(["refresh", "--profile", PROFILE])]
            results = [(run.communicate(timeout=90), run.returncode) for run in runs]
            for out_err, code in results:
                assert code == cell.exit, out_err
            check_message(results[0][0][0] + results[0][0][1], cell.says)
        else:
            sent = signal.SIGTERM if cell.fault == "sigterm" else signal.SIGHUP
            outcome = Child(tmp_path, [config_dir]).run(argv, stdin=stdin, kill_at=0, send=sent)
            assert outcome.returncode == cell.exit, outcome.stderr
            check_message(outcome.stderr, cell.says)
        capsys.readouterr()
        check(cell, before, state(secrets), emu)
    finally:
        secrets.delete_profile(PROFILE)
