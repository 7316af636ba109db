"""SIGTERM and SIGHUP (what cron, systemd, container runtimes and a closed terminal send) never
lose the grant: the durable step under way is finished, then the command stops with 128+signal.

Against the emulator in theft mode (a reused refresh token revokes the whole grant) and the real
Secret Service, in a child process signalled before every durable step of `refresh` and `rotate`
and at spread-out moments of a whole run. kill -9 cannot be caught: test_kill9.py shows what it
can still lose (the one keyring write after DocuSign's answer)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from clmwizard.store.profile import REFRESH_TOKEN, SECRET_KEY
from clmwizard.store.profiles import ProfileStore
from tests.qualities.crash.harness import Child, Scene, finish, start

pytestmark = [pytest.mark.secret_service, pytest.mark.timeout(300)]

SIGNALS = [signal.SIGTERM, signal.SIGHUP]


def test_theft_mode_revokes_the_grant_when_a_refresh_token_comes_back(theft_scene: Scene) -> None:
    """The emulator mode the other tests rely on: replaying a used token kills the new one."""
    scene, name, store = theft_scene, theft_scene.name, theft_scene.store
    scene.sign_in()
    used = store.get(name, "refresh_token")
    assert scene.refresh() == 0
    assert used is not None
    store.set_many(name, {"refresh_token": used})  # what a stale concurrent run would send
    assert scene.refresh() == 3
    assert all(grant.revoked for grant in scene.emu.state.grants)


@pytest.mark.parametrize("sent", SIGNALS, ids=lambda s: s.name)
@pytest.mark.parametrize("command", ["refresh", "rotate"])
def test_a_signal_at_any_durable_step_finishes_it_and_keeps_the_grant(
    theft_scene: Scene, child: Child, sent: signal.Signals, command: str
) -> None:
    scene, theft = theft_scene, theft_scene.emu
    name, store = scene.name, scene.store
    argv = ["refresh", "--profile", name]
    # A rotation goes back and forth between the two secrets the emulator knows.
    secrets = [theft.spare_secret_key, theft.secret_key]
    if command == "rotate":
        argv = ["rotate", "--profile", name, "--secret-key-stdin"]
    stdin = secrets[0] if command == "rotate" else ""
    scene.sign_in()
    full = child.run(argv, stdin=stdin)
    assert full.returncode == 0, full.stderr
    steps = full.steps
    assert steps[0] == "keyring set refresh_token"  # the new token first, alone
    # Each run starts from what the one before left (checked whole just below), not from a
    # new sign-in: the steps must be the same either way.
    for index, step in enumerate(steps):
        stdin = secrets[(index + 1) % 2] if command == "rotate" else ""
        before = ProfileStore().load(name)
        outcome = child.run(argv, stdin=stdin, kill_at=index, send=sent)
        assert outcome.killed_at == step
        assert outcome.returncode == 128 + sent, (step, outcome.stderr)
        assert f"Interrupted ({sent.name})" in outcome.stderr
        assert outcome.steps == steps, step  # every durable step was still done
        after = ProfileStore().load(name)
        assert after.last_refresh_at != before.last_refresh_at, step
        if command == "rotate":
            assert store.get(name, SECRET_KEY) == stdin
        assert scene.refresh() == 0, (step, scene.err())
        scene.err()


def test_sigterm_at_spread_out_moments_of_a_refresh_never_loses_the_grant(
    theft_scene: Scene,
) -> None:
    scene, theft = theft_scene, theft_scene.emu
    name, store = scene.name, scene.store
    scene.sign_in()
    argv = ["refresh", "--profile", name]
    started = time.monotonic()
    code, stderr = finish(start(argv))
    assert code == 0, stderr
    whole = time.monotonic() - started  # the signals are spread over one run's length
    codes = []
    for attempt in range(10):
        for sent in SIGNALS:
            process = start(argv)
            time.sleep(whole * (0.3 + attempt * 0.07))
            process.send_signal(sent)
            code, stderr = finish(process)
            codes.append(code)
            # 0: it had finished; 128+n: stopped cleanly; -n: killed before the CLI started.
            assert code in (0, 128 + sent, -sent), stderr
            # The grant is kept: the stored refresh token is the live one (a used one sent
            # again would revoke the grant in theft mode).
            live = theft.state.refresh_tokens[store.get(name, REFRESH_TOKEN) or ""]
            assert not live.used and not live.grant.revoked, (attempt, sent, stderr)
    assert any(code > 128 for code in codes), codes  # some landed inside the CLI
    assert scene.refresh() == 0, scene.err()


def test_a_signal_while_the_main_thread_holds_the_bookkeeping_lock_is_held_not_deadlocked() -> None:
    """The handler runs in the main thread between two bytecodes, possibly inside `deferred()`'s
    own bookkeeping: it must not wait for a lock that thread holds (it did, under load)."""
    from clmwizard import interrupts

    interrupts.install()
    with pytest.raises(interrupts.Interrupted) as caught, interrupts.deferred():
        with interrupts._lock:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler has run by now, and returned
        assert interrupts.pending() == signal.SIGTERM
    assert caught.value.exit_code == 143
    assert interrupts.pending() is None
