"""Start: set up a new profile, or pick a saved one to re-consent, rotate, refresh or export."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from textual import on, work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from clmwizard.errors import ClmWizardError
from clmwizard.safe_text import markup_escaped as escape
from clmwizard.screens.base import WizardScreen
from clmwizard.screens.dialogs import ConfirmDialog, SecretPrompt
from clmwizard.screens.guard import guarded, guarded_thread
from clmwizard.store.profile import Profile
from clmwizard.wait_clock import SPINNER
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.toggles import TextOptionList

if TYPE_CHECKING:
    from clmwizard.flow import Choice
    from clmwizard.powerplatform.last_known import LastKnown
    from clmwizard.store.profiles import ProfileListing
    from clmwizard.store.secrets import SecretStore

NEW = "+new"


def delete_detail(secrets_in_memory: bool) -> str:
    """What deleting a profile removes, and what stays until revoked (and where)."""
    where = "held in memory" if secrets_in_memory else "in the keyring"
    return (
        f"Its settings file and its secrets {where} (secret key, tokens) are removed from this "
        "computer. The integration key in DocuSign is not touched, and what was granted stays "
        "until you revoke it: the DocuSign grant (revoke it in DocuSign under Profile → Connected "
        "Apps) and any connectors made from this profile (delete them in Power Automate under "
        "Data → Custom connectors)."
    )


WARN_WITHIN = timedelta(days=7)
HEALTH_MARK = {"ok": ("✓", "green"), "attention": ("!", "yellow"), "broken": ("✗", "red")}
HEALTH_LIMIT = 60.0


def current_time() -> datetime:
    return datetime.now(UTC)


def expiry_markup(profile: Profile, now: datetime) -> str:
    expires = profile.refresh_token_expires_at
    if expires is None:
        return "[dim]not signed in[/dim]"
    left = expires - now
    when = expires.astimezone(UTC).strftime("%Y-%m-%d")
    if left <= timedelta(0):
        return f"[red]✗ expired {when}: re-consent (c)[/red]"
    if left <= WARN_WITHIN:
        # Only `extended` lets a refresh push the expiry out; otherwise consent again.
        action = "refresh (f)" if "extended" in profile.scopes else "re-consent (c)"
        return f"[yellow]! expires {when} ({left.days} d): {action}[/yellow]"
    return f"[dim]grant until[/dim] {when}"


def jwt_user(profile: Profile) -> str:
    """The JWT user in a few characters: the signed-in user's email, or the GUID's start."""
    user = profile.jwt_user_id or ""
    if profile.user_email and profile.user_id and profile.user_id.lower() == user.lower():
        return escape(f"{profile.user_email:.32}")
    return escape(f"{user[:8]}…")


def jwt_markup(profile: Profile) -> str:
    """The start screen's JWT line, for a profile with a JWT integration user."""
    record = profile.jwt_consent
    if record is None or record.user_id != profile.jwt_user_id:  # none, or about another user
        return "[dim]○ JWT: not checked yet — press j[/dim]"
    if record.state == "given":
        when = record.checked_at.astimezone(UTC).strftime("%Y-%m-%d")
        return f"[green]✓ JWT: consent given for {jwt_user(profile)} (checked {when})[/green]"
    return "[yellow]! JWT: consent needed — press j[/yellow]"


class StartScreen(WizardScreen):
    BINDINGS = [
        # The footer fits 80 columns with the common keys; f1 lists the others.
        Binding("n", "new", "new"),
        Binding("e", "export", "export"),
        Binding("p", "publish", "publish"),
        Binding("s", "rotate", "rotate secret"),
        Binding("d", "delete", "delete"),
        Binding("c", "reconsent", "re-consent", show=False),
        Binding("f", "refresh", "refresh", show=False),
        Binding("j", "jwt", "check JWT", show=False),
        Binding("k", "checklist", "rotation checklist", show=False),
        # Not in the footer (full at 80 columns): the line below the profiles names it.
        Binding("h", "health", "check health", show=False),
    ]

    PROFILE_ACTIONS = frozenset(
        {
            "reconsent",
            "rotate",
            "refresh",
            "export",
            "delete",
            "jwt",
            "publish",
            "checklist",
            "health",
        }
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return False
        if action in self.PROFILE_ACTIONS:
            return self._highlighted_listing() is not None
        return True

    def _highlighted_listing(self) -> ProfileListing | None:
        options = self.query_one("#profiles", OptionList)
        if options.highlighted is None:
            return None
        return self.listings.get(options.get_option_at_index(options.highlighted).id or "")

    @on(OptionList.OptionHighlighted, "#profiles")
    def _highlight_changed(self) -> None:
        self.refresh_bindings()

    def __init__(self, select: str | None = None) -> None:
        super().__init__()
        self.select = select
        self.listings: dict[str, ProfileListing] = {}
        # Each profile's last known health: what it remembers, or what h just found out.
        self.health: dict[str, LastKnown] = {}
        self.checked: dict[str, LastKnown] = {}

    def compose_body(self) -> Iterable[Widget]:
        yield Static(
            "From a DocuSign integration key to a Power Automate connector for DocuSign CLM.\n"
            "[dim]Pick a profile, or start a new one. You need the integration key and a secret "
            "key from DocuSign: Settings → Apps and Keys.[/dim]",
            id="intro",
        )
        if self.wizard.context.demo is not None:
            yield Static(
                "[b]Demo:[/b] everything runs against a built-in DocuSign emulator. Its secrets "
                "are test values held in memory for this run; nothing is saved to your keyring.",
                id="demo-note",
                classes="note",
            )
        yield TextOptionList(
            Option("Loading profiles…", id="loading", disabled=True), id="profiles"
        )
        yield Static("", id="empty-state")
        yield Static("", id="health-hint")
        yield FieldMessage(id="start-message")

    @property
    def message(self) -> FieldMessage:
        return self.query_one("#start-message", FieldMessage)

    def on_mount(self) -> None:
        self.call_after_refresh(self.load_profiles)  # after the first frame is on screen

    def on_screen_resume(self) -> None:
        self.load_profiles()

    @work(thread=True, exclusive=True, group="profiles")
    @guarded_thread("#start-message")
    def load_profiles(self) -> None:
        import asyncio

        from clmwizard.powerplatform.last_known import last_known

        listings = self.wizard.context.profiles.list()
        health: dict[str, LastKnown] = {}
        now = current_time()
        for listing in listings:  # what each profile remembers: no network
            known = asyncio.run(last_known(listing.profile, now)) if listing.profile else None
            if known is not None:
                health[listing.name] = known
        self.app.call_from_thread(self._show_profiles, listings, health)

    def _show_profiles(
        self, listings: list[ProfileListing], health: dict[str, LastKnown] | None = None
    ) -> None:
        if health is not None:
            self.health = health
        self.listings = {listing.name: listing for listing in listings}
        options = self.query_one("#profiles", OptionList)
        options.clear_options()
        unknown = self._unknown_selection()
        new_label = f"+ New profile {escape(unknown)}" if unknown else "+ New profile"
        options.add_option(Option(f"[b]{new_label}[/b]  [dim](n)[/dim]", id=NEW))
        now = current_time()
        for listing in listings:
            described = (
                self._describe(listing, now)
                + self._health_line(listing.name, now)
                + self._memory_note(listing.name)
            )
            options.add_option(Option(described, id=listing.name))
        if unknown:
            self.message.show_warning(
                f"There is no profile named {unknown} yet. Press enter to create it with that name."
            )
        hint = self.query_one("#health-hint", Static)
        hint.display = bool(self.health or self.checked)  # takes no line until it has words
        hint.update(
            "[dim]Under a profile: its connectors' last known health and its age (no network "
            "asked); h asks Power Automate again.[/dim]"
        )
        self.query_one("#empty-state", Static).update(
            ""
            if listings
            else "No profiles yet. Press enter to set one up: it takes a few minutes, and every "
            "value the Power Automate portal asks for comes out at the end."
        )
        index = 0
        if self.select and self.select in self.listings:
            index = 1 + list(self.listings).index(self.select)
        elif listings and not unknown:
            index = 1
        options.highlighted = index
        options.focus()

    def _health_line(self, name: str, now: datetime) -> str:
        """The profile's connectors in one line: the last known health and its age."""
        known = self.checked.get(name) or self.health.get(name)
        if known is None:
            return ""
        from clmwizard.powerplatform.last_known import age

        mark, colour = HEALTH_MARK[known.verdict]
        when = ("checked " if name in self.checked else "") + age(known.at, now)
        what = known.what if len(known.what) <= 62 else known.what[:61] + "…"
        return f"\n{'':<17}[{colour}]{mark} {escape(what)}[/{colour}] [dim]{when}[/dim]"

    def _unknown_selection(self) -> str:
        """The name given with --profile when no such profile exists (offered as a new one)."""
        return self.select if self.select and self.select not in self.listings else ""

    def _memory_note(self, name: str) -> str:
        """Marks a profile whose secrets this run kept in memory: they go when clmwizard does."""
        if self.wizard.context.demo is not None or not self.wizard.secrets_in_memory(name):
            return ""
        return (
            "\n[yellow]! secrets in memory only, for this run: gone when clmwizard exits "
            "(re-consent (c) to store them)[/yellow]"
        )

    @staticmethod
    def _describe(listing: ProfileListing, now: datetime) -> str:
        name = escape(listing.name)
        if listing.profile is None:
            what = listing.error.what if listing.error else "unreadable"
            problem = escape(what.replace(str(listing.path), listing.path.name))
            return f"[b]{name:<16}[/b] [red]✗ {problem}[/red]"
        profile = listing.profile
        account = escape(f"{profile.account_name or 'no account yet':<20.20}")  # cut, then escape
        line = (
            f"[b]{name:<16}[/b] {profile.environment:<10} {account} {expiry_markup(profile, now)}"
        )
        if profile.jwt_user_id:
            line += f"\n{'':<17}{jwt_markup(profile)}"
        return line

    def _selected(self) -> Profile | None:
        listing = self._highlighted_listing()
        if listing is None:
            return None
        if listing.profile is None:
            error = listing.error or ClmWizardError(f"Profile {listing.name} cannot be read.")
            self.message.show_error(error)
            return None
        return listing.profile

    @on(OptionList.OptionSelected, "#profiles")
    def _open(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == NEW:
            self.action_new()
            return
        profile = self._selected()
        if profile is None:
            return
        if profile.is_signed_in:
            self._open_fields(profile)
        else:
            self._continue_setup(profile)

    # -- actions -------------------------------------------------------------------------

    def action_new(self) -> None:
        from clmwizard.flow import Choice

        name = self._unknown_selection() or ("" if self.wizard.context.demo is None else "demo")
        self._begin(Choice.new(name))

    def _begin(self, choice: Choice) -> None:
        """Start a flow; what this screen said before is stale when it comes back."""
        self.message.clear()
        self.wizard.begin(choice)

    def _continue_setup(self, profile: Profile) -> None:
        from clmwizard.flow import Choice

        self._begin(Choice.resume(profile))

    def action_reconsent(self) -> None:
        profile = self._selected()
        if profile is not None:
            self._continue_setup(profile)

    def _open_fields(self, profile: Profile) -> None:
        from clmwizard.flow import Choice

        self._begin(Choice.at("Fields", profile))

    def _signed_in(self, not_yet: str = "") -> Profile | None:
        """The selected profile once it is signed in; before that, a warning (`not_yet`, or that
        it is not signed in yet) and None."""
        profile = self._selected()
        if profile is None or profile.is_signed_in:
            return profile
        self.message.show_warning(
            not_yet or f"{profile.name} is not signed in yet: press enter to continue its setup."
        )
        return None

    def action_export(self) -> None:
        from clmwizard.flow import Choice

        profile = self._signed_in()
        if profile is not None:
            self._begin(Choice.at("Export", profile))

    def action_publish(self) -> None:
        from clmwizard.flow import Choice

        profile = self._signed_in()
        if profile is not None:
            self.wizard.begin(Choice.at("Publish", profile))

    def action_checklist(self) -> None:
        profile = self._selected()
        if profile is not None:
            self._show_checklist(profile.name)

    def _show_checklist(self, name: str) -> None:
        from clmwizard.screens.rotation import RotationChecklist

        def closed(_: None) -> None:
            self.load_profiles()

        self.app.push_screen(RotationChecklist(name), callback=closed)

    def action_jwt(self) -> None:
        profile = self._selected()
        if profile is None:
            return
        if not profile.jwt_user_id:
            self.message.show_warning(
                f"{profile.name} has no JWT integration user: press c and add the user GUID and "
                "the RSA key file on the Key screen → Advanced."
            )
            return
        from clmwizard.flow import Choice

        self.wizard.begin(Choice.at("JWT", profile))

    def action_refresh(self) -> None:
        profile = self._selected()
        if profile is not None:
            self._with_trusted_server(profile, "refresh", self._start_refresh)

    def _start_refresh(self, name: str, trust_server: bool) -> None:
        self.message.show_note(f"Refreshing {name}…")
        self._refresh(name, trust_server)

    def _with_trusted_server(
        self, profile: Profile, doing: str, then: Callable[[str, bool], None]
    ) -> None:
        """Run `then(name, trust_server)`, asking once first when the profile's OAuth server is
        not DocuSign's and was never confirmed (a profile saved before that was recorded)."""
        from clmwizard.docusign.session import unconfirmed_auth_server

        server = unconfirmed_auth_server(profile)
        if server is None:
            then(profile.name, False)
            return
        name = profile.name
        self.confirm(
            ConfirmDialog(
                f"Send {name}'s secret key and refresh token to {server}?",
                f"{server} is not a DocuSign OAuth server, and this profile does not record "
                f"that you confirmed it (profiles saved by older versions do not). Confirm only "
                f"if it is yours (the demo's emulator, a test server or your proxy); the "
                f"answer is kept in the profile. The {doing} goes ahead after a yes.",
            ),
            lambda: then(name, True),
            lambda: self.message.show_warning(
                f"Nothing sent: {server} is not confirmed. If the profile's server was "
                "changed by someone else, consent again with c (re-consent)."
            ),
        )

    @work(exclusive=True, group="profile-action")
    @guarded("#start-message")
    async def _refresh(self, name: str, trust_server: bool = False) -> None:
        from clmwizard.docusign.session import refresh_profile

        message = self.message
        try:
            secrets = await self._secrets()
            async with self.wizard.context.client_factory() as client:
                result = await refresh_profile(
                    name,
                    self.wizard.context.profiles,
                    secrets,
                    client=client,
                    trust_server=trust_server,
                )
        except ClmWizardError as error:
            message.show_error(error)
            return
        expires = result.profile.refresh_token_expires_at
        until = expires.strftime("%Y-%m-%d %H:%M UTC") if expires else "unknown"
        message.show_ok(f"{name} refreshed. The refresh token now lasts until {until}.")
        self.load_profiles()

    def action_health(self) -> None:
        profile = self._selected()
        if profile is None:
            return
        if not profile.publications:
            self.message.show_note(
                f"{profile.name} has published no connector: its grant line above says all."
            )
            return
        self._check_health(profile)

    @work(exclusive=True, group="health")
    async def _check_health(self, profile: Profile) -> None:
        """Ask Power Automate (the cached Microsoft sign-in, never a new one) how the
        profile's connections and heartbeat are; a clock beside it while it asks."""
        import asyncio
        import time

        message = self.message
        started = time.monotonic()
        what = f"Checking {profile.name}'s connectors, connections and heartbeat"

        def show_clock() -> None:
            waited = time.monotonic() - started
            frame = SPINNER[int(waited * 10) % len(SPINNER)]
            message.show_note(
                f"{frame} {what}…  {int(waited) // 60}:{int(waited) % 60:02d} / "
                f"{int(HEALTH_LIMIT) // 60}:{int(HEALTH_LIMIT) % 60:02d}"
            )

        show_clock()
        timer = self.set_interval(0.1, show_clock)
        try:
            known = await asyncio.wait_for(self._remote_health(profile), HEALTH_LIMIT)
        except TimeoutError:
            timer.stop()
            message.show_warning(f"{what}: no answer within {HEALTH_LIMIT:.0f} s. h tries again.")
            return
        except Exception as error:  # a server's failure is a message, never a crash
            from clmwizard.screens.platform_step import server_failure

            timer.stop()
            message.show_error(server_failure(error))
            return
        timer.stop()
        if known is None:
            message.show_warning(
                f"No Microsoft sign-in is cached for {profile.name}: publish (p) signs in once, "
                "then h checks without asking again."
            )
            return
        self.checked[profile.name] = known
        self._show_profiles(list(self.listings.values()))
        level = {"ok": message.show_ok, "attention": message.show_warning}
        text = f"{profile.name}: {known.what}" + (f" — {known.todo}" if known.todo else "")
        if known.verdict == "broken":
            message.show_error(ClmWizardError(f"{profile.name}: {known.what}", fix=known.todo))
        else:
            level[known.verdict](text)

    async def _remote_health(self, profile: Profile) -> LastKnown | None:
        import asyncio

        from clmwizard.powerplatform.health import assess
        from clmwizard.powerplatform.last_known import summarise
        from clmwizard.powerplatform.setup import flow_sign_in, make_apis, user_settings
        from clmwizard.powerplatform.signin import sign_in_silently
        from clmwizard.screens.platform_step import latest_record
        from clmwizard.store.profile import SECRET_KEY

        record = latest_record(profile)
        assert record is not None
        settings = user_settings(
            profile, record, flow_url=record.flow_url, base=self.wizard.context.microsoft()
        )
        secrets = await self._secrets()
        stored = await asyncio.to_thread(secrets.get, profile.name, SECRET_KEY)
        async with self.wizard.context.client_factory(ca_bundle=settings.ca_bundle) as http:
            who = await sign_in_silently(settings, secrets, profile.name, http)
            if who is None:
                return None
            flow_who = await flow_sign_in(http, settings, secrets, profile.name)
            pair = make_apis(http, settings, who, flow_who, secrets=secrets, profile=profile.name)
            apis = {r.environment_id: pair for r in profile.publications}
            health = await assess(profile, stored_secret=stored, apis=apis)
        known = summarise(health, profile)
        return dataclasses.replace(known, at=health.checked_at)

    async def _secrets(self) -> SecretStore:
        import asyncio

        return await asyncio.to_thread(self.wizard.secret_store)

    def action_rotate(self) -> None:
        profile = self._signed_in(
            "Rotation proves the new secret with a refresh: finish this profile's setup first."
        )
        if profile is not None:
            self._with_trusted_server(profile, "rotation", self._start_rotation)

    def _start_rotation(self, name: str, trust_server: bool) -> None:
        async def prove(new_secret: str) -> None:
            from clmwizard.docusign.session import rotate_secret

            secrets = await self._secrets()
            async with self.wizard.context.client_factory() as client:
                await rotate_secret(
                    name,
                    new_secret,
                    self.wizard.context.profiles,
                    secrets,
                    client=client,
                    trust_server=trust_server,
                )

        def done(new_secret: str | None) -> None:
            if new_secret is None:
                return
            self.message.show_ok(
                f"New secret key proven and stored for {name}. Keep the old one in DocuSign "
                "until the checklist is done (k shows it again)."
            )
            self._show_checklist(name)

        self.app.push_screen(
            SecretPrompt(
                f"Rotate the secret key of {name}",
                "Add a new secret key in DocuSign (Apps and Keys → your key → Add secret key) and "
                "paste it here. It is proven with a refresh before it replaces the old one; if "
                "the check fails nothing changes.",
                check=prove,
                **self._demo_spare_secret(),
            ),
            callback=done,
        )

    def _demo_spare_secret(self) -> dict[str, str]:
        demo = self.wizard.context.demo
        if demo is None:
            return {}
        return {
            "prefill": demo.spare_secret_key,
            "note": "Demo: filled in with the emulator's spare secret key (a second key it "
            "accepts), so you can try a rotation. Press enter.",
        }

    def action_delete(self) -> None:
        profile = self._selected()
        if profile is None:
            return
        name = profile.name
        self.confirm(
            ConfirmDialog(
                f"Delete profile {name}?",
                delete_detail(
                    self.wizard.context.demo is not None or self.wizard.secrets_in_memory(name)
                ),
                yes="Delete",
            ),
            lambda: self._delete(name),
        )

    @work(exclusive=True, group="profile-action")
    @guarded("#start-message")
    async def _delete(self, name: str) -> None:
        import asyncio

        try:  # like the CLI: an unusable keyring refuses the delete, items are never left
            secrets = await self._secrets()
            await asyncio.to_thread(self.wizard.context.profiles.delete, name, secrets)
        except ClmWizardError as error:
            self.message.show_error(error)
            return
        self.message.show_ok(
            f"Profile {name} deleted here. Its DocuSign grant and any connectors stay until you "
            "revoke them (DocuSign: Profile → Connected Apps; Power Automate: Data → Custom "
            "connectors)."
        )
        self.load_profiles()
