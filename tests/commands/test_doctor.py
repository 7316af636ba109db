"""`clmwizard doctor` through the real command line entry point."""

from __future__ import annotations

import os
import time
import webbrowser
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from clmwizard import __version__
from clmwizard.cli import main
from clmwizard.commands import doctor
from clmwizard.emulator import Emulator
from clmwizard.errors import EXIT_KEYRING
from clmwizard.store.profile import ClmHosts, Profile
from clmwizard.store.profiles import ProfileStore
from tests.support.keyrings import MemoryKeyring, SlowKeyring
from tests.support.powerplatform_fixtures import DeviceCodeSignIns
from tests.support.store_fixtures import Backends, make_profile


@pytest.fixture
def use_backend() -> Iterator[object]:
    previous = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(previous)


@pytest.fixture
def fresh_webbrowser(monkeypatch: pytest.MonkeyPatch) -> None:
    """webbrowser caches what it found on first use: make it look again."""
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})


def _doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["doctor"])
    return code, capsys.readouterr().out.splitlines()


@pytest.mark.display
def test_all_good(backend: Backends, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = _doctor(capsys)
    assert code == 0
    if backend.kind == "secret_service":
        assert lines[0] == "✓ Keyring: Secret Service (GNOME Keyring or compatible)"
    else:
        assert lines[0] == "✓ Keyring: tests.support.keyrings.MemoryKeyring"
    assert lines[1] == "✓ Keyring round trip: a test secret was stored, read, deleted"
    assert lines[2] == "✓ Clipboard: xclip"
    assert lines[3] == "✓ Browser: true"  # tests point $BROWSER at `true`
    assert lines[4].startswith("✓ Config folder: ")
    assert lines[5].startswith("✓ Python 3.") and lines[5].endswith(f"clmwizard {__version__}")
    assert lines[-1] == "Secrets can be stored safely here."
    assert all(line.startswith("✓") for line in lines[:6])
    if isinstance(backend.backend, MemoryKeyring):
        assert backend.backend.items == {}


@pytest.mark.parametrize(
    ("chosen", "name", "problem"),
    [
        (
            fail.Keyring,
            "no keyring (keyring's fail backend)",
            "No keyring service was found, so secrets cannot be stored.",
        ),
        (
            null.Keyring,
            "null keyring (discards everything)",
            "The null keyring silently discards every secret written to it.",
        ),
    ],
)
def test_unsafe_keyring_exits_4_with_the_fix(
    chosen: type[KeyringBackend],
    name: str,
    problem: str,
    use_backend,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_backend(chosen())
    code, lines = _doctor(capsys)
    assert code == EXIT_KEYRING == 4
    assert lines[0] == f"✗ Keyring: {name}"
    assert lines[1] == f"  {problem}"
    assert lines[2].startswith("  Fix: Install and start a Secret Service")
    assert "--ephemeral" in lines[2]
    assert lines[-1].startswith("✗ Secrets cannot be stored safely here.")


def test_slow_keyring_times_out_quickly(
    use_backend,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(doctor, "KEYRING_TIMEOUT", 0.2)
    use_backend(SlowKeyring(delay=2.0))
    started = time.monotonic()
    code, lines = _doctor(capsys)
    assert time.monotonic() - started < 1.5
    assert code == EXIT_KEYRING
    assert lines[1] == "✗ Keyring round trip failed"
    assert lines[2] == "  The keyring did not answer in 0.2 s."


def test_no_display_is_named_as_the_reason_the_clipboard_is_missing(
    memory_keyring: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, lines = _doctor(capsys)
    assert code == 0  # a missing clipboard does not stop secrets being stored
    assert lines[2] == (
        "✗ Clipboard: OSC 52 only — works in most terminals over SSH; "
        "not in tmux without set-clipboard on"
    )
    # xclip is installed here (scripts/test runs under Xvfb with it): the display is what lacks.
    assert lines[3] == (
        "  Why: no display: neither DISPLAY nor WAYLAND_DISPLAY is set, as over SSH "
        "(xclip is installed, but needs one)."
    )
    assert lines[4].startswith("  Fix: Over SSH, select the value with the mouse")
    assert "apt install" not in lines[4]


@pytest.mark.display
def test_no_clipboard_program_is_named_when_a_display_is_there(
    tmp_path: Path,
    memory_keyring: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert os.environ.get("DISPLAY"), "run under xvfb-run (scripts/test does)"
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no xclip, xsel or wl-copy to be found
    code, lines = _doctor(capsys)
    assert code == 0
    index = lines.index(
        "✗ Clipboard: OSC 52 only — works in most terminals over SSH; "
        "not in tmux without set-clipboard on"
    )
    assert lines[index + 1] == (
        "  Why: no clipboard program: none of xclip, xsel or wl-copy is installed."
    )
    assert lines[index + 2].startswith("  Fix: Install one, e.g. `sudo apt install xclip`")


@pytest.mark.parametrize("browser", ["w3m", "lynx", "/usr/bin/elinks", "www-browser %s"])
def test_text_browser_is_flagged(
    browser: str,
    memory_keyring: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BROWSER", browser)
    check = doctor.check_browser()
    assert not check.ok
    assert check.line == f"Browser: {browser.split()[0]} (a text browser)"
    assert check.details == [
        "A text browser cannot finish a DocuSign sign-in (it needs JavaScript)."
    ]
    assert "clmwizard login --no-browser" in check.fix
    code, lines = _doctor(capsys)
    assert code == 0
    assert f"✗ Browser: {browser.split()[0]} (a text browser)" in lines


def test_headless_box_has_no_browser(
    tmp_path: Path,
    memory_keyring: object,
    fresh_webbrowser: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    for variable in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PATH", str(empty))
    code, lines = _doctor(capsys)
    assert code == 0
    index = lines.index("✗ Browser: none found")
    assert lines[index + 1].startswith(
        "  Fix: Use the paste fallback: `clmwizard login --no-browser`"
    )


def test_config_folder_readable_by_others_is_flagged(
    config_dir: Path, memory_keyring: object, capsys: pytest.CaptureFixture[str]
) -> None:
    ProfileStore().save(make_profile("work"))
    assert doctor.check_config_folder().line == (f"Config folder: {config_dir} (private, mode 700)")
    config_dir.chmod(0o755)
    (config_dir / "profiles" / "work.yaml").chmod(0o644)

    code, lines = _doctor(capsys)

    assert code == 0
    index = lines.index(f"✗ Config folder: {config_dir} can be read by other users")
    assert lines[index + 1] == f"  {config_dir} has mode 755"
    assert lines[index + 2] == f"  {config_dir / 'profiles' / 'work.yaml'} has mode 644"
    assert lines[index + 3] == f"  Fix: chmod -R go-rwx {config_dir}"


def test_config_folder_not_created_yet(config_dir: Path) -> None:
    check = doctor.check_config_folder()
    assert check.ok
    assert check.line == f"Config folder: {config_dir} (not created yet; it will be private)"


Argv = Callable[..., list[str]]


def secrets_in_connectors(emu: Emulator) -> list[str]:
    pp = emu.power_platform
    return [c["clientSecrets"]["token"] for c in pp.connectors(pp.default_environment)]


DAY = 24 * 3600


def test_doctor_reports_the_stored_microsoft_sign_in(
    microsoft: Emulator,
    signed_in: Callable[..., None],
    approver: DeviceCodeSignIns,
    publish_argv: Argv,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in()
    main(["doctor", "--profile", "acme"])
    assert "Microsoft sign-in: none stored" in capsys.readouterr().out
    assert main(publish_argv("--dry-run")) == 0
    capsys.readouterr()
    main(["doctor", "--profile", "acme"])
    out = capsys.readouterr().out
    assert f"Microsoft sign-in: stored for {microsoft.power_platform.user_principal_name}" in out


def save_profile(auth: str, clm: str, hosts: ClmHosts | None) -> None:
    ProfileStore().save(
        Profile(
            name="acme",
            environment="custom",
            auth_server=auth,
            clm_auth_server=clm,
            integration_key="3f6c0e1a-58d2-4c1e-9b2d-0a1b2c3d4e5f",
            scopes=["signature", "extended"],
            redirect_uri="http://127.0.0.1:8765/callback",
            clm_hosts=hosts,
        )
    )


def test_every_server_of_a_running_emulator_answers(
    emu: Emulator, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    hosts = ClmHosts(**emu.clm_hosts)
    save_profile(emu.auth_server, emu.clm_auth_server, hosts)
    main(["doctor", "--profile", "acme"])
    out = capsys.readouterr().out
    for url in (emu.auth_server, emu.clm_auth_server, *emu.clm_hosts.values()):
        line = next(line for line in out.splitlines() if url in line)
        assert " answers: " in line and line.startswith("✓ "), line
        assert "to a bare request" in line and "Reachable" not in line


def test_a_dead_server_is_named_with_a_fix(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    save_profile("http://127.0.0.1:9", "http://127.0.0.1:9", None)
    main(["--profile", "acme", "doctor"])
    out = capsys.readouterr().out
    assert "✗ OAuth server does not answer: http://127.0.0.1:9 (ConnectError)" in out
    assert "Check the network, a proxy" in out


def test_without_a_profile_doctor_says_how_to_check_servers(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["doctor"])
    assert "add --profile NAME" in capsys.readouterr().out


def test_clm_works_is_one_authenticated_call(
    emu: Emulator, signed_in: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    signed_in()
    main(["doctor", "--profile", "acme"])
    out = capsys.readouterr().out
    assert "✓ CLM works: CLM answered: " in out and " attribute groups (" in out
    emu.inject_fault("general", f"/v2/{emu.account_id}/attributegroups", status=401, count=0)
    main(["doctor", "--profile", "acme"])
    out = capsys.readouterr().out
    assert "✗ CLM works: no. CLM refused the token (HTTP 401" in out
    assert "spring_read" in out


def test_a_host_answering_404_is_not_said_to_work(
    emu: Emulator, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    save_profile(emu.auth_server, emu.clm_auth_server, ClmHosts(**emu.clm_hosts))
    main(["doctor", "--profile", "acme"])
    out = capsys.readouterr().out
    assert "(HTTP 404 to a bare request)" in out
    assert "✓ CLM works" not in out  # answering is not working: no account, no token here
    assert "✗ CLM works: not checked, the profile has no CLM" in out
