"""SVG snapshots of every screen and its error states at 100×32.

The world is fixed (profiles, keys, hosts, clock) and DocuSign answers through an
httpx.MockTransport in the context's client factory (fixed values, the real parsing and error
mapping), so the pictures change only when the layout
does. Whole flows over real sockets are tested in test_flows.py. Update with
`scripts/test tests/screens/test_snapshots.py --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.docusign.discovery import parse_userinfo
from clmwizard.docusign.oauth import TokenSet
from clmwizard.screens import consent as consent_module
from clmwizard.screens import export as export_module
from clmwizard.screens import start as start_module
from clmwizard.store.profile import (
    SECRET_KEY,
    HeartbeatRecord,
    Profile,
    PublishedConnector,
)
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore
from tests.support.pilot import make_app, until
from tests.support.records import publish_record
from tests.support.snapshot_world import (
    KEY,
    NOW,
    REDIRECT_PORT,
    SECRET,
    USERINFO,
    fake_network,
    open_signed_in,
    settle,
    signed_in,
)

SIZE = (100, 32)
# The consent snapshots show this fixed port and listen on it: they take turns on one xdist
# worker. The other snapshots only show it.
LISTENS = pytest.mark.xdist_group("snapshot_redirect_port")


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WizardContext]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(start_module, "current_time", lambda: NOW)
    monkeypatch.setattr(export_module, "clock_time", lambda: "12:00:00")
    # The absolute folder is the test's temporary one: shown as a fixed one in the pictures.
    monkeypatch.setattr(
        export_module, "written_folder", lambda path: Path("/home/alex") / path.name
    )
    monkeypatch.setattr(consent_module, "SPINNER", "⠿")
    monkeypatch.setattr(consent_module, "monotonic", lambda: 1000.0)
    monkeypatch.setenv("CLMWIZARD_CLIPBOARD", "manual")
    secrets = MemorySecretStore()
    secrets.set_many("acme", {SECRET_KEY: SECRET})
    yield WizardContext(
        profiles=ProfileStore(tmp_path / "profiles"),
        open_secrets=lambda: secrets,
        open_browser=lambda url: True,
    )


def new_draft(app: ClmWizardApp) -> None:
    draft = app.start_draft(name="acme")
    draft.integration_key = KEY
    draft.secret_key = SECRET
    draft.redirect_uri = f"http://127.0.0.1:{REDIRECT_PORT}/callback"


async def with_new_draft(pilot: Pilot[None]) -> ClmWizardApp:
    """The app once settled, with a new profile's draft filled in."""
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, ClmWizardApp)
    new_draft(app)
    return app


def opening(
    screen: Callable[[Profile], Screen[None]], profile: Profile, *keys: str, settled: bool = False
) -> Callable[[Pilot[None]], Awaitable[None]]:
    """A `run_before` that opens `screen` for `profile`, then presses `keys` and settles."""

    async def run_before(pilot: Pilot[None]) -> None:
        await open_signed_in(pilot, screen(profile), profile)
        if keys or settled:
            await pilot.press(*keys)
            await settle(pilot)

    return run_before


@pytest.fixture
def acme(world: WizardContext) -> Profile:
    """Profile acme, signed in 29 days before NOW, saved in `world`."""
    profile = signed_in("acme", timedelta(days=29))
    world.profiles.save(profile)
    return profile


@pytest.fixture
def fixed_consent(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed state and PKCE verifier, so the consent URL is the same in every run."""
    from clmwizard.docusign import consent

    monkeypatch.setattr(
        consent.secrets, "token_urlsafe", lambda n: "fixed" + "x" * (n + n // 3 - 5)
    )


def test_start_empty(snap_compare: Any, world: WizardContext) -> None:
    assert snap_compare(ClmWizardApp(world), terminal_size=SIZE, run_before=settle)


def test_start_with_profiles(snap_compare: Any, world: WizardContext) -> None:
    world.profiles.save(signed_in("acme", timedelta(days=29)))
    world.profiles.save(signed_in("contoso", timedelta(days=3, hours=1)))
    world.profiles.save(signed_in("fabrikam", timedelta(days=-1)))
    broken = world.profiles.path_for("broken")
    broken.write_text("name: broken\nenvironment: [not, a, name\n")
    assert snap_compare(ClmWizardApp(world), terminal_size=SIZE, run_before=settle)


def published(profile: Profile, connection: str | None, beat: HeartbeatRecord | None) -> Profile:
    """`profile` with one connector published at NOW - 2 days (its connection and heartbeat)."""
    redirect = "https://global.consent.azure-apim.net/redirect/docusign-20clm-5f1e"
    record = publish_record(
        PublishedConnector(
            "clm",
            "shared_docusign-20clm-5f1e",
            "DocuSign CLM",
            "fp",
            redirect,
            connection_name=connection,
        ),
        at=NOW - timedelta(days=2),
        heartbeat=beat,
    )
    profile.publications.append(record)
    return profile


def test_start_with_last_known_health(snap_compare: Any, world: WizardContext) -> None:
    """Each profile's connectors in one line from what it remembers (no network), with the
    age of that knowledge: a succeeded run, a failed one, no connection yet."""
    ok = HeartbeatRecord(
        "flow-1", "clm", "on", "1d", "Succeeded", NOW - timedelta(hours=3), "12 attribute groups"
    )
    failed = HeartbeatRecord(
        "flow-2",
        "clm",
        "on",
        "1d",
        "Failed",
        NOW - timedelta(days=1, hours=2),
        "DocuSign refused the connection's sign-in (Unauthorized: the refresh token has expired)",
    )
    world.profiles.save(published(signed_in("acme", timedelta(days=29)), "conn-1", ok))
    world.profiles.save(published(signed_in("contoso", timedelta(days=20)), "conn-2", failed))
    world.profiles.save(published(signed_in("fabrikam", timedelta(days=25)), None, None))
    assert snap_compare(ClmWizardApp(world), terminal_size=SIZE, run_before=settle)


COLOUR = pytest.mark.parametrize("no_color", [False, True], ids=["colour", "no-color"])


def colour(monkeypatch: pytest.MonkeyPatch, no_color: bool) -> None:
    """NO_COLOR: what a monochrome terminal shows; every choice must still read as text."""
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")


@COLOUR
def test_key_screen_errors_beside_fields(
    snap_compare: Any, world: WizardContext, monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    colour(monkeypatch, no_color)

    async def run_before(pilot: Pilot[None]) -> None:
        from clmwizard.screens.key import KeyScreen

        await settle(pilot)
        await pilot.press("n")  # the step itself, not keys in transit (test_keys_in_transit)
        await until(pilot, lambda: isinstance(pilot.app.screen, KeyScreen))
        await pilot.press(*"acme", "tab", "tab", *"3f6c0e1a-not-a-guid")
        await pilot.press("ctrl+n")
        await settle(pilot)

    assert snap_compare(ClmWizardApp(world), terminal_size=SIZE, run_before=run_before)


@COLOUR
def test_scopes_warns_without_extended(
    snap_compare: Any, world: WizardContext, monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    from clmwizard.screens.scopes import ScopesScreen

    colour(monkeypatch, no_color)

    async def run_before(pilot: Pilot[None]) -> None:
        app = await with_new_draft(pilot)
        app.draft.scopes = ["signature", "spring_read", "spring_write"]
        await app.push_screen(ScopesScreen())
        await settle(pilot)

    assert snap_compare(ClmWizardApp(world), terminal_size=SIZE, run_before=run_before)


@LISTENS
def test_consent_waiting(snap_compare: Any, world: WizardContext, fixed_consent: None) -> None:
    from clmwizard.screens.consent import ConsentScreen

    async def run_before(pilot: Pilot[None]) -> None:
        app = await with_new_draft(pilot)
        await app.push_screen(ConsentScreen())
        await until(pilot, lambda: app.screen.state == "listening")  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(ClmWizardApp(world), terminal_size=SIZE, run_before=run_before)


@LISTENS
def test_consent_port_in_use(
    snap_compare: Any, world: WizardContext, fixed_consent: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clmwizard.screens.consent import ConsentScreen

    world.port_owner = lambda port: "python3 (pid 4242)" if port == REDIRECT_PORT else None
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", REDIRECT_PORT))
        busy.listen()

        async def run_before(pilot: Pilot[None]) -> None:
            app = await with_new_draft(pilot)
            await app.push_screen(ConsentScreen())
            await until(pilot, lambda: app.screen.state == "failed")  # type: ignore[attr-defined]
            await settle(pilot)

        assert snap_compare(ClmWizardApp(world), terminal_size=SIZE, run_before=run_before)


def _tokens_app(world: WizardContext) -> Any:
    from clmwizard.docusign.consent import ConsentRequest
    from clmwizard.screens.tokens import TokensScreen

    async def run_before(pilot: Pilot[None]) -> None:
        app = await with_new_draft(pilot)
        app.draft.consent = ConsentRequest(
            "https://example.invalid", "state", None, app.draft.redirect_uri
        )
        await app.push_screen(TokensScreen("code-fake"))
        await settle(pilot)

    return run_before


def test_tokens_received(snap_compare: Any, world: WizardContext) -> None:
    fake_network(world)
    assert snap_compare(ClmWizardApp(world), terminal_size=SIZE, run_before=_tokens_app(world))


def test_tokens_wrong_secret(snap_compare: Any, world: WizardContext) -> None:
    # what DocuSign answers a wrong secret (no source shows invalid_client)
    wrong_secret = {"error": "invalid_grant", "error_description": "unauthorized_client"}
    fake_network(world, exchange_error=wrong_secret)
    assert snap_compare(ClmWizardApp(world), terminal_size=SIZE, run_before=_tokens_app(world))


@COLOUR
def test_discovery_with_two_accounts(
    snap_compare: Any, world: WizardContext, monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    from clmwizard.screens.discovery import DiscoveryScreen

    colour(monkeypatch, no_color)

    fake_network(world)

    async def run_before(pilot: Pilot[None]) -> None:
        app = await with_new_draft(pilot)
        app.draft.tokens = TokenSet("access-token-fake", "refresh-token-fake", 28800, NOW)
        app.draft.userinfo = parse_userinfo(USERINFO, "https://account-d.docusign.com")
        await app.push_screen(DiscoveryScreen())
        await settle(pilot)

    assert snap_compare(ClmWizardApp(world), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize(
    "keys",
    [(), ("ctrl+l", "right", "tab"), ("r",), ("3",)],
    ids=["security", "upload-definition", "revealed", "manual-copy"],
)
def test_fields(
    snap_compare: Any, world: WizardContext, acme: Profile, keys: tuple[str, ...]
) -> None:
    from clmwizard.screens.fields import FieldsScreen

    run_before = opening(FieldsScreen, acme, *keys, settled=True)
    assert snap_compare(ClmWizardApp(world), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize(
    ("existing", "no_color"),
    [("", False), ("own", False), ("not-ours", False), ("", True)],
    ids=["written", "overwrite-question", "not-ours", "written-no-color"],
)
def test_export(
    snap_compare: Any,
    world: WizardContext,
    acme: Profile,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    existing: str,
    no_color: bool,
) -> None:
    from clmwizard.screens.export import ExportScreen

    colour(monkeypatch, no_color)
    if existing == "own":  # clmwizard's own bundle: the only kind it offers to replace
        from clmwizard.connector.bundle import export_bundle

        export_bundle(acme, tmp_path / "acme-connector")
    elif existing == "not-ours":  # refused with what was found; no question asked
        (tmp_path / "acme-connector").mkdir()
        (tmp_path / "acme-connector" / "notes.txt").write_text("mine")

    run_before = opening(ExportScreen, acme, "enter")
    assert snap_compare(ClmWizardApp(world), terminal_size=SIZE, run_before=run_before)


def test_no_color_is_respected(
    snap_compare: Any, world: WizardContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    world.profiles.save(signed_in("acme", timedelta(days=29)))
    world.profiles.save(signed_in("contoso", timedelta(days=3, hours=1)))
    app = ClmWizardApp(world)
    assert app.no_color
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


# -- 80×24, without colour: the focused field's marker, the results in view ----------------------

SMALL = (80, 24)


@LISTENS
@COLOUR
def test_consent_at_80x24(
    snap_compare: Any,
    world: WizardContext,
    fixed_consent: None,
    monkeypatch: pytest.MonkeyPatch,
    no_color: bool,
) -> None:
    from clmwizard.screens.consent import ConsentScreen

    colour(monkeypatch, no_color)

    async def run_before(pilot: Pilot[None]) -> None:
        app = await with_new_draft(pilot)
        await app.push_screen(ConsentScreen())
        await pilot.pause(0.3)

    assert snap_compare(ClmWizardApp(world), terminal_size=SMALL, run_before=run_before)


@COLOUR
def test_fields_one_connector_at_80x24(
    snap_compare: Any,
    world: WizardContext,
    acme: Profile,
    monkeypatch: pytest.MonkeyPatch,
    no_color: bool,
) -> None:
    """The profile's layout (one connector by default): clm alone, the layout in one line."""
    from clmwizard.screens.fields import FieldsScreen

    colour(monkeypatch, no_color)
    run_before = opening(FieldsScreen, acme)
    assert snap_compare(ClmWizardApp(world), terminal_size=SMALL, run_before=run_before)


@COLOUR
def test_export_written_at_80x24(
    snap_compare: Any,
    world: WizardContext,
    acme: Profile,
    monkeypatch: pytest.MonkeyPatch,
    no_color: bool,
) -> None:
    """Written: the next steps scrolled into view; before, the Folder field has focus (›)."""
    from clmwizard.screens.export import ExportScreen

    colour(monkeypatch, no_color)
    run_before = opening(ExportScreen, acme, "enter")
    assert snap_compare(ClmWizardApp(world), terminal_size=SMALL, run_before=run_before)


def test_export_opens_on_its_folder_field_no_color(
    snap_compare: Any,
    world: WizardContext,
    acme: Profile,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from clmwizard.screens.export import ExportScreen

    colour(monkeypatch, True)
    run_before = opening(ExportScreen, acme)
    assert snap_compare(ClmWizardApp(world), terminal_size=SMALL, run_before=run_before)


def test_every_stored_snapshot_belongs_to_a_test_here() -> None:
    """syrupy's own check for unused snapshots is off under xdist (scripts/test runs it)."""
    stored = Path(__file__).parent / "__snapshots__" / Path(__file__).stem
    tests = {name for name in globals() if name.startswith("test_")}
    orphans = [svg.name for svg in stored.glob("*.svg") if svg.stem.split("[")[0] not in tests]
    assert orphans == []


def mask_live_values(screen: Screen[None], live: dict[str, str]) -> None:
    """What differs from run to run (the emulator's ports, its environment and connector ids)
    replaced by fixed stand-ins in every line the screen shows."""
    from textual.widgets import Static

    for widget in screen.query(Static):
        content = widget.content
        if isinstance(content, str) and any(value in content for value in live):
            for value, fixed in live.items():
                content = content.replace(value, fixed)
            widget.update(content)


@COLOUR
def test_publish_published_at_80x24(
    snap_compare: Any,
    publish_context: WizardContext,
    emu: Any,
    monkeypatch: pytest.MonkeyPatch,
    no_color: bool,
) -> None:
    """The README's demo tour up to a published connector: the connector, its redirect URL on
    a line of its own and DocuSign's verdict in view at 80×24 (the live ids and ports masked)."""
    from clmwizard.screens.publish import PublishScreen
    from tests.support.demo_tour import publish, to_export
    from tests.support.pilot import plain_screen

    colour(monkeypatch, no_color)

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, ClmWizardApp)
        await to_export(pilot, app)
        await pilot.press("ctrl+p")
        screen = await publish(pilot, app, emu)
        assert isinstance(screen, PublishScreen) and screen.phase == "published"
        await settle(pilot)
        [outcome] = screen._published()
        redirect = outcome.redirect_url
        assert redirect is not None and redirect in plain_screen(app)  # in view, whole
        live = {  # the redirect URL first: it holds the port, and an id of its own
            redirect: "https://127.0.0.1:44300/redirect/docusign-20clm-20demo-5f2a",
            emu.power_platform.default_environment: "Default-1234",
            outcome.connector_id: "shared_docusign-20clm-20demo-5f1e",
        }
        mask_live_values(screen, live)
        app.clear_notifications()  # a toast from earlier steps (it goes after a while)
        await settle(pilot)

    assert snap_compare(make_app(publish_context), terminal_size=SMALL, run_before=run_before)
