"""Two copies of clmwizard at once on one profile, against the emulator in theft mode (a reused
refresh token revokes the whole grant) and the real Secret Service: the grant lock serialises
every read-then-write of the tokens, so both runs succeed and nothing is ever written from a
state another run has replaced."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clmwizard.cli import main
from clmwizard.docusign.oauth import TokenSet
from clmwizard.store.profile import REFRESH_TOKEN, SECRET_KEY
from clmwizard.store.profiles import ProfileStore
from tests.qualities.crash.harness import (
    BROWSER,
    Child,
    Scene,
    finish,
    login_argv,
    start,
)

pytestmark = [pytest.mark.secret_service, pytest.mark.timeout(400)]


def test_seven_rounds_of_three_concurrent_refreshes_all_succeed(theft_scene: Scene) -> None:
    """Three at once race as three pairs: 21 racing pairs from 21 runs (without the grant lock
    the first round already fails)."""
    scene = theft_scene
    scene.sign_in()
    refresh = ["refresh", "--profile", scene.name]
    for round_ in range(7):
        runs = [start(refresh) for _ in range(3)]
        results = [finish(run) for run in runs]
        assert [code for code, _ in results] == [0, 0, 0], (round_, results)
        assert not any("revoked" in err for _, err in results)
    assert not any(grant.revoked for grant in scene.emu.state.grants)
    assert scene.refresh() == 0, scene.err()


def test_a_refresh_and_a_rotation_at_once_both_succeed(theft_scene: Scene) -> None:
    scene, theft = theft_scene, theft_scene.emu
    name, store = scene.name, scene.store
    scene.sign_in()
    secrets = [theft.spare_secret_key, theft.secret_key]
    for trial in range(4):  # each way twice; two refreshes race the rotation and each other
        new = secrets[trial % 2]
        rotation = start(["rotate", "--profile", name, "--secret-key-stdin"], stdin=new)
        refreshes = [start(["refresh", "--profile", name]) for _ in range(2)]
        results = [finish(rotation), *(finish(refresh) for refresh in refreshes)]
        assert [code for code, _ in results] == [0, 0, 0], (trial, results)
        assert not any("consent" in err.lower() for _, err in results)
        assert store.get(name, SECRET_KEY) == new
    assert scene.refresh() == 0, scene.err()


def test_a_refresh_that_holds_the_old_grant_never_writes_over_a_new_consent(
    theft_scene: Scene, child: Child, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cron's refresh has DocuSign's answer for the old grant and is about to store it when a
    re-consent (adding `extended` back) finishes: the sign-in waits for the refresh, then its
    token and scopes are the ones kept (before the lock: the old grant's token, written last,
    won, and the profile could lose `extended`)."""
    scene, theft = theft_scene, theft_scene.emu
    name, store = scene.name, scene.store
    monkeypatch.setenv("BROWSER", BROWSER)
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", theft.secret_key)
    assert main([*login_argv(theft, name), "--scopes", "signature spring_read spring_write"]) == 0
    # Cron's refresh holds just before storing the old grant's new refresh token.
    cron = child.start(["refresh", "--profile", name], kill_at=0, secret=theft.secret_key)
    deadline = time.monotonic() + 30
    while child.paused_at() is None:
        assert time.monotonic() < deadline and cron.poll() is None
        time.sleep(0.01)
    grants_before = len(theft.state.grants)
    login: dict[str, int] = {}
    monkeypatch.setenv("CLMWIZARD_SECRET_KEY", theft.secret_key)
    signin = threading.Thread(target=lambda: login.update(code=main(login_argv(theft, name))))
    signin.start()  # the default scopes include `extended`
    while len(theft.state.grants) == grants_before:  # consent given, code exchanged
        assert time.monotonic() < deadline + 30 and signin.is_alive()
        time.sleep(0.01)
    time.sleep(1.0)  # discovery done: the sign-in now waits for the grant lock
    child.go()
    signin.join(60)
    _, cron_err = cron.communicate(timeout=60)
    assert cron.returncode == 0, cron_err
    assert login.get("code") == 0, scene.err()
    profile = ProfileStore().load(name)
    assert "extended" in profile.scopes
    live = theft.state.refresh_tokens[store.get(name, REFRESH_TOKEN) or ""]
    assert "extended" in live.grant.scopes and not live.used  # the new consent's token
    assert scene.refresh() == 0, scene.err()


def test_a_sign_in_keeps_an_export_recorded_while_the_user_was_consenting(
    config_dir: Path,
) -> None:
    """`login` loads the profile before the consent wait; an `export` run meanwhile records its
    bundle; the sign-in's save merges into the profile as stored then (before: the record was
    lost, the sign-in wrote its stale copy)."""
    from clmwizard.docusign.session import store_login
    from clmwizard.store.profile import ExportRecord
    from clmwizard.store.secrets import MemorySecretStore
    from tests.support.store_fixtures import make_profile

    profiles = ProfileStore()
    profiles.save(make_profile("acme", exports=[]))
    loaded_before_consent = profiles.load("acme")
    record = ExportRecord(path="/tmp/bundle", layout="three", at=datetime.now(UTC))
    profiles.update("acme", lambda stored: stored.exports.append(record))  # the export run
    now = datetime.now(UTC)
    signed_in = dataclasses.replace(loaded_before_consent, consented_at=now, last_refresh_at=now)
    tokens = TokenSet("access-merge-test", "refresh-merge-test", 28800, now)
    saved = store_login(profiles, MemorySecretStore(), signed_in, "secret-merge-test", tokens)
    stored = profiles.load("acme")
    assert stored.exports == [record] and saved.exports == [record]
    assert stored.consented_at == now  # and the sign-in itself is saved
