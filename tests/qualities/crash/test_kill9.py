"""kill -9 at every durable step of login storage, rotation and export.

Each case first runs the command to the end to count its durable steps (keyring writes and
deletes, bundle files, renames, removals; see child.py), then, for every step, restores the
starting state, runs the command again in a child process against the emulator and the real
Secret Service, kills it (-9) just before that step, and checks what is left: the profile is the
old one or the new one and parses, the stored secret key is one DocuSign accepts and a refresh
with what is stored works, the bundle folder is the old one, the new one complete, or absent."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from clmwizard.cli import main
from clmwizard.connector.bundle import build_bundle
from clmwizard.connector.ownership import MARK_FILE
from clmwizard.emulator import Emulator
from clmwizard.store.profile import REFRESH_TOKEN, SECRET_KEY, Profile
from clmwizard.store.profiles import ProfileStore
from tests.qualities.crash.harness import Child, Outcome, Scene, login_argv

pytestmark = [pytest.mark.secret_service, pytest.mark.timeout(240)]


def secret_accepted(emu: Emulator, secret: str) -> bool:
    """DocuSign's verdict on the secret alone: a refresh with a bogus token is refused for the
    token, not for the client. A wrong secret gets invalid_grant too (as at DocuSign), so the
    emulator is told to answer it with invalid_client here, which tells the two apart."""
    emu.configure_app(wrong_secret_error="invalid_client")
    basic = base64.b64encode(f"{emu.integration_key}:{secret}".encode()).decode()
    answer = httpx.post(
        f"{emu.auth_server}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "not-a-token"},
        headers={"Authorization": f"Basic {basic}"},
    )
    return answer.json().get("error") == "invalid_grant"


def profile_files(config_dir: Path, name: str) -> list[str]:
    """What a listing sees: every profile file loads, and only finished files are listed."""
    listings = ProfileStore().list()
    assert all(item.error is None for item in listings), [str(i.error) for i in listings]
    assert all(not p.name.startswith(name) for p in (config_dir / "profiles").glob("*.tmp"))
    return [item.name for item in listings]


def census(outcome: Outcome) -> list[str]:
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.killed_at is None and outcome.steps
    return outcome.steps


def test_kill_during_login_storage_leaves_the_old_or_the_new_sign_in(
    scene: Scene, child: Child, config_dir: Path
) -> None:
    emu, name, store = scene.emu, scene.name, scene.store
    old, new = emu.secret_key, emu.spare_secret_key
    scene.sign_in(old)
    first = ProfileStore().load(name)
    steps = census(child.run(login_argv(emu, name), secret=new))
    assert steps == [
        "keyring set secret_key (self-test)",
        "keyring delete secret_key (self-test)",
        "keyring set secret_key",
        "keyring set refresh_token",
        "keyring set access_token",
        f"replace .{name}.*.tmp -> {name}.yaml",
    ]
    finished = ProfileStore().load(name)
    assert finished.consented_at and first.consented_at
    assert finished.consented_at > first.consented_at
    assert store.get(name, SECRET_KEY) == new
    seen = set()
    for index, step in enumerate(steps):
        scene.sign_in_again(old)
        before = ProfileStore().load(name)
        outcome = child.run(login_argv(emu, name), secret=new, kill_at=index)
        assert outcome.killed_at == step
        assert profile_files(config_dir, name) == [name]
        after = ProfileStore().load(name)
        assert after == before, step  # the profile is written last: still the old one
        stored = store.get(name, SECRET_KEY)
        assert stored in (old, new), step
        seen.add(("old" if stored == old else "new", store.get(name, REFRESH_TOKEN) is not None))
        assert secret_accepted(emu, stored)
        assert scene.refresh() == 0, (step, scene.err())
        scene.err()
    assert seen == {("old", True), ("new", True)}


def test_kill_during_first_login_leaves_no_profile_or_a_working_one(
    scene: Scene, child: Child, config_dir: Path
) -> None:
    emu, name = scene.emu, scene.name
    steps = census(child.run(login_argv(emu, name), secret=emu.secret_key))
    for index, step in enumerate(steps):
        scene.store.delete_profile(name)
        ProfileStore().path_for(name).unlink(missing_ok=True)
        outcome = child.run(login_argv(emu, name), secret=emu.secret_key, kill_at=index)
        assert outcome.killed_at == step
        listed = profile_files(config_dir, name)
        assert listed in ([], [name]), step
        if listed:
            assert scene.refresh() == 0, scene.err()
        scene.err()


def test_kill_during_rotation_keeps_a_secret_that_works(
    scene: Scene, child: Child, config_dir: Path
) -> None:
    emu, name, store = scene.emu, scene.name, scene.store
    old, new = emu.secret_key, emu.spare_secret_key
    rotate = ["rotate", "--profile", name, "--secret-key-stdin"]
    scene.sign_in(old)
    steps = census(child.run(rotate, stdin=new))
    assert ProfileStore().load(name).last_rotation_at is not None
    assert store.get(name, SECRET_KEY) == new
    results = {}
    for index, step in enumerate(steps):
        scene.sign_in_again(old)
        before = ProfileStore().load(name)
        outcome = child.run(rotate, stdin=new, kill_at=index)
        assert outcome.killed_at == step
        assert profile_files(config_dir, name) == [name]
        assert ProfileStore().load(name) == before, step  # the profile is updated last
        stored = store.get(name, SECRET_KEY)
        assert stored in (old, new), step
        assert secret_accepted(emu, stored)
        results[step] = scene.refresh()
        if results[step] == 3:  # the dead grant is explained, lost answer included
            assert "answer was lost" in scene.err()
        scene.err()
    # The refresh DocuSign answered used up the old refresh token: a kill before the new one is
    # stored (the first keyring write) loses the grant, whatever the client does. From the first
    # write on, what is stored always works.
    first_write = steps[0]
    assert first_write == "keyring set refresh_token", steps
    assert results.pop(first_write) == 3
    assert results == dict.fromkeys(results, 0), results


def test_kill_during_the_heartbeat_refresh_keeps_a_working_grant_once_stored(
    scene: Scene, child: Child, config_dir: Path
) -> None:
    name = scene.name
    heartbeat = ["refresh", "--profile", name]
    scene.sign_in()
    steps = census(child.run(heartbeat))
    assert steps == [
        "keyring set refresh_token",
        "keyring set access_token",
        f"replace .{name}.*.tmp -> {name}.yaml",
    ]
    results = {}
    for index, step in enumerate(steps):
        scene.sign_in_again()
        before = ProfileStore().load(name)
        assert child.run(heartbeat, kill_at=index).killed_at == step
        assert profile_files(config_dir, name) == [name]
        assert ProfileStore().load(name) == before
        results[step] = scene.refresh()
        if results[step] == 3:  # the dead grant is explained, lost answer included
            assert "answer was lost" in scene.err()
        scene.err()
    # As for rotation: only a kill between DocuSign's answer and the first write loses the grant.
    assert results == {steps[0]: 3, steps[1]: 0, steps[2]: 0}


def bundle_state(out: Path, old: dict[str, bytes], new: dict[str, bytes]) -> str:
    if not out.exists():
        return "absent"
    files = {
        str(path.relative_to(out)): path.read_bytes()
        for path in out.rglob("*")
        if path.is_file() and path.name != MARK_FILE
    }
    if files == old:
        return "old"
    if files == new:
        return "new"
    raise AssertionError(f"half a bundle in {out}: {sorted(files)}")


def test_kill_during_export_leaves_the_old_bundle_or_the_complete_new_one(
    child: Child, tmp_path: Path, config_dir: Path, profile_name: str
) -> None:
    from tests.support.store_fixtures import make_profile

    name = profile_name
    profile: Profile = make_profile(name, exports=[])
    ProfileStore().save(profile)
    out = tmp_path / "out" / "bundle"
    old = build_bundle(profile, "single")
    new = build_bundle(profile, "three")
    assert old != new
    export = ["export", "--profile", name, "--out", str(out), "--layout", "three", "--force"]

    def old_bundle() -> None:
        assert main([*export[:-3], "--layout", "single", "--force"]) == 0

    old_bundle()
    steps = census(child.run(export))
    assert bundle_state(out, old, new) == "new"
    assert steps[-4:] == [
        "rename bundle -> .bundle.old-*",
        "rename .bundle.new-* -> bundle",
        "rmtree .bundle.old-*",
        f"replace .{name}.*.tmp -> {name}.yaml",
    ]
    assert len(steps) == len(new) + 1 + 4  # the files, the mark, three moves, the profile
    states = {}
    for index, step in enumerate(steps):
        old_bundle()  # the next export cleans up what the killed one left (issue 13)
        assert list(out.parent.glob(".bundle.*")) == []
        outcome = child.run(export, kill_at=index)
        assert outcome.killed_at == step
        state = bundle_state(out, old, new)
        states[state] = states.get(state, 0) + 1
        if state == "absent":  # between moving the old aside and the new into place
            aside = list(out.parent.glob(".bundle.old-*"))
            assert len(aside) == 1 and bundle_state(aside[0], old, new) == "old"
        assert profile_files(config_dir, name) == [name]
    assert states == {"old": len(new) + 2, "absent": 1, "new": 2}, states
