"""`export --force` replaces only a bundle clmwizard wrote, cleans up after an interrupted
export, and keeps paconn's connector ids across a re-export (issues 10, 13 and 11 part 4)."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from clmwizard.connector.bundle import build_bundle, export_bundle, write_files
from clmwizard.connector.ownership import MARK_FILE
from clmwizard.errors import ClmWizardError
from clmwizard.store.profile import Profile
from clmwizard.store.profiles import ProfileStore
from tests.support.cli import Cli, Ran, cli
from tests.support.connector_profiles import make_profile

NAME = "acme-demo"
CONNECTOR_ID = "shared_docusign-20clm-20general-5f3a9c1e2b7d4a60"
ENVIRONMENT = "Default-2b7f0c4e-1a9d-4e3b-8c6f-5d0a7e9b1c24"
__all__ = ["cli"]  # the fixture


@pytest.fixture
def saved() -> Profile:
    profile = make_profile()
    ProfileStore().save(profile)
    return profile


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


@pytest.fixture
def forced(saved: Profile, cli: Cli) -> Callable[..., Ran]:
    """`clmwizard export --profile acme-demo --out OUT --force [extra…]` of the saved profile."""

    def export(out: str, *extra: str) -> Ran:
        return cli("export", "--profile", NAME, "--out", out, "--force", *extra)

    return export


def _user_files(folder: Path) -> dict[str, bytes]:
    (folder / "projects" / "thesis").mkdir(parents=True)
    (folder / "projects" / "thesis" / "chapter1.tex").write_text("\\chapter{One}\n")
    (folder / ".ssh").mkdir()
    (folder / ".ssh" / "id_ed25519").write_text("not really a key\n")
    return _tree(folder)


def test_force_into_the_current_folder_holding_other_files(
    forced: Callable[..., Ran],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = _user_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, err = forced(".")
    assert code != 0 and out == ""
    assert "is the current folder" in err and "will not write a bundle over it" in err
    assert _tree(tmp_path) == before
    assert Path.cwd() == tmp_path


def test_force_into_the_home_folder(
    forced: Callable[..., Ran],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    before = _user_files(home)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.setenv("HOME", str(home))
    code, _, err = forced("~")
    assert code != 0
    assert "is your home folder" in err
    assert _tree(home) == before


def test_force_into_a_folder_above_the_current_one(
    forced: Callable[..., Ran],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = _user_files(tmp_path)
    monkeypatch.chdir(tmp_path / "projects" / "thesis")
    code, _, err = forced(str(tmp_path))
    assert code != 0
    assert "is a folder above the current one" in err
    assert _tree(tmp_path) == before
    code, _, err = forced("../..")
    assert code != 0 and "is a folder above the current one" in err
    assert _tree(tmp_path) == before


def test_force_into_a_folder_that_is_not_a_bundle(
    forced: Callable[..., Ran], tmp_path: Path
) -> None:
    out = tmp_path / "docs"
    out.mkdir()
    before = _user_files(out)
    code, _, err = forced(str(out))
    assert code != 0
    assert "files clmwizard did not write: .ssh/, .ssh/id_ed25519, projects/" in err
    assert "only a bundle it wrote itself" in err
    assert _tree(out) == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".docs")]


def forced_refusal(saved: Profile, out: Path) -> ClmWizardError:
    """`export --force` into `out`, refused: the error."""
    with pytest.raises(ClmWizardError) as caught:
        export_bundle(saved, out, force=True)
    return caught.value


def test_own_bundle_with_a_file_added_is_refused(saved: Profile, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    export_bundle(saved, out)
    (out / "general" / "notes.md").write_text("mine\n")
    before = _tree(out)
    refused = forced_refusal(saved, out)
    assert "clmwizard's bundle plus files clmwizard did not write: general/notes.md" in str(refused)
    assert _tree(out) == before


def test_old_version_bundle_with_a_file_added_is_refused(saved: Profile, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    for relative, data in build_bundle(saved).items():
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_bytes(data)
    (out / "upload" / "extra.json").write_text("{}\n")
    refused = forced_refusal(saved, out)
    assert "files clmwizard did not write: upload/extra.json" in refused.what
    assert (out / "upload" / "extra.json").exists()


def test_a_symlink_inside_is_refused_and_not_followed(saved: Profile, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    export_bundle(saved, out)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("keep\n")
    os.symlink(precious, out / "general" / "link")
    refused = forced_refusal(saved, out)
    assert "general/link (a link or special file)" in refused.what
    assert (precious / "keep.txt").read_text() == "keep\n"


def test_a_link_as_the_export_folder_is_refused(saved: Profile, tmp_path: Path) -> None:
    real = tmp_path / "real"
    export_bundle(saved, real)
    before = _tree(real)
    os.symlink(real, tmp_path / "link")
    refused = forced_refusal(saved, tmp_path / "link")
    assert "is a symbolic link" in refused.what
    assert _tree(real) == before and (tmp_path / "link").is_symlink()


def test_a_forged_mark_cannot_name_other_files(saved: Profile, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    export_bundle(saved, out)
    (out / "thesis.tex").write_text("mine\n")
    mark = {"written_by": "clmwizard", "version": 1, "files": ["thesis.tex", "README.md"]}
    (out / MARK_FILE).write_text(json.dumps(mark))
    refused = forced_refusal(saved, out)
    assert "names files no bundle has" in refused.what
    assert (out / "thesis.tex").read_text() == "mine\n"


def test_the_mark_lists_what_was_written(saved: Profile, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    result = export_bundle(saved, out, layout="single")
    mark = json.loads((out / MARK_FILE).read_text())
    assert mark["written_by"] == "clmwizard" and mark["version"] == 1
    assert mark["files"] == sorted(p.relative_to(out).as_posix() for p in result.files)


# --- leftovers of an interrupted export (issue 13) -----------------------------------------


def _write(folder: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)


def test_next_export_removes_staging_and_set_aside_leftovers(
    saved: Profile, tmp_path: Path
) -> None:
    out = tmp_path / "bundle"
    export_bundle(saved, out)
    files = build_bundle(saved)
    half = dict(list(sorted(files.items()))[:3])
    _write(tmp_path / ".bundle.new-a1b2c3d4", half)
    _write(tmp_path / ".bundle.old-zz9_x8y7", files)
    (tmp_path / ".bundle.new-00000000").mkdir()  # killed right after mkdtemp
    result = export_bundle(saved, out, force=True)
    assert sorted(p.name for p in tmp_path.iterdir() if "bundle" in p.name) == ["bundle"]
    assert any("Removed 3 unfinished folders" in note for note in result.notes)


def test_leftover_lookalikes_are_left_alone(saved: Profile, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    export_bundle(saved, out)
    foreign = tmp_path / ".bundle.new-abcdefgh"
    _write(foreign, {"README.md": b"x", "diary.txt": b"mine"})
    other_name = tmp_path / ".bundle.backup"
    _write(other_name, {"README.md": b"x"})
    in_use = tmp_path / ".bundle.new-inuse123"
    _write(in_use, {"README.md": b"x"})
    descriptor = os.open(in_use, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        export_bundle(saved, out, force=True)
    finally:
        os.close(descriptor)
    assert (foreign / "diary.txt").read_bytes() == b"mine"
    assert (other_name / "README.md").exists() and (in_use / "README.md").exists()


def test_a_bundle_set_aside_by_a_killed_export_is_put_back_with_its_ids(
    saved: Profile, tmp_path: Path
) -> None:
    out = tmp_path / "bundle"
    export_bundle(saved, out)
    settings = json.loads((out / "general" / "settings.json").read_text())
    settings.update(connectorId=CONNECTOR_ID, environment=ENVIRONMENT)
    (out / "general" / "settings.json").write_text(json.dumps(settings))
    # killed between moving the old bundle aside and renaming the new one into place
    os.rename(out, tmp_path / ".bundle.old-k1ll3d00")
    _write(tmp_path / ".bundle.new-k1ll3d01", build_bundle(saved))
    result = export_bundle(saved, out, force=True)
    assert sorted(p.name for p in tmp_path.iterdir() if "bundle" in p.name) == ["bundle"]
    kept = json.loads((out / "general" / "settings.json").read_text())
    assert (kept["connectorId"], kept["environment"]) == (CONNECTOR_ID, ENVIRONMENT)
    assert any("Put back bundle" in note for note in result.notes)


# --- paconn's settings.json survives a re-export (issue 11 part 4) --------------------------


def _paconn_settings(folder: Path, connector_id: str) -> None:
    """What paconn 0.0.21 writes after `create`, run inside the connector folder."""
    document = {
        "connectorId": connector_id,
        "environment": ENVIRONMENT,
        "apiProperties": "apiProperties.json",
        "apiDefinition": "apiDefinition.swagger.json",
        "icon": "icon.png",
        "script": None,
        "powerAppsApiVersion": "2016-11-01",
        "powerAppsUrl": "https://api.powerapps.com",
    }
    (folder / "settings.json").write_text(json.dumps(document, indent=4))


def test_re_export_keeps_each_folders_connector_id_and_environment(
    saved: Profile, forced: Callable[..., Ran], tmp_path: Path
) -> None:
    out = tmp_path / "bundle"
    export_bundle(saved, out)
    ids = {folder: f"shared_clm-{folder}-5f3a9c1e2b7d4a60" for folder in ("general", "upload")}
    for folder, connector_id in ids.items():
        _paconn_settings(out / folder, connector_id)
    code, _, err = forced(str(out), "--layout", "three")
    assert code == 0, err
    for folder in ("general", "upload", "download"):
        document = json.loads((out / folder / "settings.json").read_text())
        assert document.get("connectorId") == ids.get(folder)
        assert document.get("environment") == (ENVIRONMENT if folder in ids else None)
        assert document["apiDefinition"] == "apiDefinition.swagger.json"


def test_a_top_level_settings_json_from_the_old_readme_is_kept_and_used(
    saved: Profile, tmp_path: Path
) -> None:
    out = tmp_path / "bundle"
    for relative, data in build_bundle(saved).items():  # the previous version: no mark
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_bytes(data)
    _paconn_settings(out, CONNECTOR_ID)  # `paconn create --api-def general/…` run from the top
    top = json.loads((out / "settings.json").read_text())
    top["apiDefinition"] = "general/apiDefinition.swagger.json"
    (out / "settings.json").write_text(json.dumps(top))
    before = (out / "settings.json").read_bytes()
    export_bundle(saved, out, force=True)
    assert (out / "settings.json").read_bytes() == before
    general = json.loads((out / "general" / "settings.json").read_text())
    assert general["connectorId"] == CONNECTOR_ID
    assert "connectorId" not in json.loads((out / "upload" / "settings.json").read_text())
    assert "settings.json" in json.loads((out / MARK_FILE).read_text())["files"]


def test_hostile_settings_values_are_not_carried(saved: Profile, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    export_bundle(saved, out)
    (out / "general" / "settings.json").write_text(
        json.dumps({"connectorId": "x; rm -rf ~", "environment": ENVIRONMENT})
    )
    export_bundle(saved, out, force=True)
    document = json.loads((out / "general" / "settings.json").read_text())
    assert "connectorId" not in document and document["environment"] == ENVIRONMENT


def test_two_exports_at_once_never_leave_half_a_bundle(saved: Profile, tmp_path: Path) -> None:
    import threading

    from clmwizard.errors import ClmWizardError

    out = tmp_path / "bundle"
    export_bundle(saved, out)
    failures: list[str] = []

    def run() -> None:
        for _ in range(8):
            try:
                export_bundle(saved, out, force=True)
            except ClmWizardError as error:  # the other export won the race: said plainly
                failures.append(error.code or "")
            except Exception as error:  # a bug: the CLI would say "This is a bug"
                failures.append(repr(error))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(failures) <= {"write_failed", "out_not_ours", "out_not_empty"}, failures
    export_bundle(saved, out, force=True)
    tree = _tree(out)
    assert json.loads(tree.pop(MARK_FILE))["files"] == sorted(tree)
    assert tree == build_bundle(saved)
    assert sorted(p.name for p in tmp_path.iterdir() if "bundle" in p.name) == ["bundle"]


@pytest.mark.parametrize(
    ("target", "force", "code"),
    [
        ("foreign", False, "out_not_ours"),
        ("foreign", True, "out_not_ours"),
        ("absent", False, "out_not_empty"),  # the bundle set aside would be put back: --force
    ],
)
def test_leftovers_are_left_alone_when_the_target_may_not_be_replaced(
    saved: Profile, tmp_path: Path, target: str, force: bool, code: str
) -> None:
    out = tmp_path / "bundle"
    if target == "foreign":
        _write(out, {"notes.txt": b"the user's own folder"})
    staging, aside = tmp_path / ".bundle.new-a1b2c3d4", tmp_path / ".bundle.old-zz9_x8y7"
    _write(staging, dict(list(sorted(build_bundle(saved).items()))[:3]))
    _write(aside, build_bundle(saved))
    before = {path.name: _tree(path) for path in tmp_path.iterdir()}
    with pytest.raises(ClmWizardError) as refused:
        write_files(build_bundle(saved), out, force=force)
    assert refused.value.code == code
    assert {path.name: _tree(path) for path in tmp_path.iterdir()} == before
    if target == "absent":
        assert "set aside as .bundle.old-zz9_x8y7" in refused.value.what


def test_a_lock_won_after_the_folder_was_replaced_is_refused(tmp_path: Path) -> None:
    """Export B waits for export A's lock on the bundle; A moves that folder aside and puts its
    new bundle in its place. B's lock then guards the folder set aside, not what is at the path:
    it must not go on as if it held the path (it once set A's new bundle aside unlocked, where
    A's next clean-up removed it half while B put it back)."""
    import threading
    import time

    from clmwizard.connector.ownership import held

    folder = tmp_path / "bundle"
    folder.mkdir()
    inode = folder.stat().st_ino
    first = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(first, fcntl.LOCK_EX)
    outcome: list[str] = []

    def second_export() -> None:
        try:
            with held(folder):
                outcome.append("held")
        except FileNotFoundError:
            outcome.append("refused")

    waiter = threading.Thread(target=second_export)
    waiter.start()
    # /proc/locks lists a blocked flock as "->" with the inode it waits for.
    deadline = time.monotonic() + 10
    while not any(
        line.split()[1] == "->" and line.split()[6].endswith(f":{inode}")
        for line in Path("/proc/locks").read_text().splitlines()
        if len(line.split()) > 6
    ):
        assert time.monotonic() < deadline, "the second export never waited for the lock"
        time.sleep(0.01)
    os.rename(folder, tmp_path / ".bundle.old-x")
    folder.mkdir()
    os.close(first)  # releases the lock
    waiter.join(10)
    assert outcome == ["refused"]
    with held(folder):  # a folder nobody replaces is held as before
        probe = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        with pytest.raises(BlockingIOError):
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(probe)
