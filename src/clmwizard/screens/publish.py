"""Step 8 (optional): publish the profile's connectors to Power Automate.

Sign in to Microsoft (device code; a cached sign-in silently) → pick the environment → the plan
(create / update / adopt: adoption asks) → publish with live progress per connector → each
connector's id and redirect URL, and whether DocuSign accepts that redirect URL (r re-checks).
MSAL is blocking: it runs in threads (powerplatform.signin); everything else is async.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from textual import on, work
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Label, Static

from clmwizard.errors import ClmWizardError
from clmwizard.safe_text import markup_escaped as escape
from clmwizard.screens.base import WizardScreen
from clmwizard.screens.device_code_keys import (
    DeviceCodeKeys,
    device_code_bindings,
    device_code_key_enabled,
)
from clmwizard.screens.dialogs import ConfirmDialog
from clmwizard.screens.guard import guarded
from clmwizard.store.profile import Profile
from clmwizard.widgets.device_code import DeviceCodePanel
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.toggles import TextRadioButton, TextRadioSet

if TYPE_CHECKING:
    import httpx

    from clmwizard.connector.bundle import Layout
    from clmwizard.powerplatform.api import PowerAppsApi, PowerEnvironment
    from clmwizard.powerplatform.publish import PlannedConnector, PublishPlan, PublishResult
    from clmwizard.powerplatform.redirect import RedirectCheck
    from clmwizard.powerplatform.settings import MicrosoftSettings
    from clmwizard.powerplatform.signin import DeviceCode, MicrosoftSignIn

Phase = Literal["signing_in", "environment", "planning", "planned", "publishing", "published"]
VERDICT_MARK = {"not_registered": "✗", "unknown": "?"}


def profile_layout(profile: Profile, environment_id: str | None = None) -> Layout:
    """The profile's layout, the same in the header and the plan (and on Fields and Export):
    one choice, whatever the environment (`environment_id` is not consulted)."""
    from clmwizard.store.profile import profile_layout as chosen_layout

    return chosen_layout(profile)


class PublishScreen(DeviceCodeKeys, WizardScreen):
    STEP = "Publish"
    BINDINGS = [
        Binding("enter", "next", "next"),
        *device_code_bindings(),
        Binding("1", "copy_redirect(0)", "copy URL", key_display="1-3"),
        Binding("1", "copy_only_redirect", "copy URL", key_display="1"),  # one connector
        Binding("2", "copy_redirect(1)", "copy redirect URL", show=False),
        Binding("3", "copy_redirect(2)", "copy redirect URL", show=False),
        Binding("r", "recheck", "re-check"),
        Binding("g", "register_demo", "register (demo)"),
        Binding("ctrl+q", "app.quit", "quit"),
    ]

    def __init__(self, profile: Profile) -> None:
        super().__init__()
        self.profile = profile
        self.phase: Phase = "signing_in"
        self.code: DeviceCode | None = None
        self.who: MicrosoftSignIn | None = None
        self.environments: list[PowerEnvironment] = []
        self.plan: PublishPlan | None = None
        self.result: PublishResult | None = None
        self.checks: dict[str, RedirectCheck] = {}
        self.progress_lines: dict[str, str] = {}
        self._cancel = threading.Event()
        self.signin_failed = False
        self._settings: MicrosoftSettings | None = None
        self._adopt_lock = asyncio.Lock()

    # -- layout ----------------------------------------------------------------------------

    def compose_body(self) -> Iterable[Widget]:
        layout = profile_layout(self.profile)
        with Vertical(classes="form"):
            yield Static(
                f"Publish {escape(self.profile.name)}'s connectors to Power Automate "
                f"({'one connector' if layout == 'single' else 'three connectors'}, the "
                "profile's layout). Optional: esc goes back to Export.",
                id="publish-intro",
            )
            yield Label("Microsoft sign-in", classes="field-label")
            yield DeviceCodePanel("Signing in to Microsoft…", id="signin")
            yield FieldMessage(id="signin-message")
            yield Label("Environment", classes="field-label", id="env-label")
            yield Vertical(id="environments")
            yield Static("", id="env-choice", classes="choice-echo")
            yield FieldMessage(id="env-message")
            yield Static("", id="plan")
            yield Static("", id="progress")
            yield Static("", id="outcome")
            yield FieldMessage(id="publish-message")

    def on_mount(self) -> None:
        self.query_one("#environments").styles.height = "auto"
        self._sign_in()

    def on_unmount(self) -> None:
        self._cancel.set()  # a device code still being polled stops with the screen

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        waiting = self.phase == "signing_in" and self.code is not None
        sign_in = device_code_key_enabled(action, waiting=waiting, wizard=self.wizard)
        if sign_in is not None:
            return sign_in
        if action == "copy_redirect":
            index = parameters[0] if parameters else 0
            return (
                self.phase == "published"
                and isinstance(index, int)
                and index < len(self._published())
                and len(self._published()) > 1
            )
        if action == "copy_only_redirect":
            return self.phase == "published" and len(self._published()) == 1
        if action == "register_demo":
            demo = self.wizard.context.demo
            return (
                self.phase == "published"
                and demo is not None
                and demo.register_redirect_uri is not None
                and any(c.verdict == "not_registered" for c in self.checks.values())
            )
        if action == "recheck":
            return self.phase == "published" and bool(self._published())
        if action == "next":
            return self.phase in ("environment", "planned", "published") or self.signin_failed
        return True

    def _set_phase(self, phase: Phase) -> None:
        self.phase = phase
        self.refresh_bindings()

    @property
    def settings(self) -> MicrosoftSettings:
        if self._settings is None:
            self._settings = self.wizard.context.microsoft()
        return self._settings

    # -- sign-in -----------------------------------------------------------------------------

    @work(exclusive=True, group="publish")
    @guarded("#signin-message", then="_sign_in_failed")
    async def _sign_in(self, allow_cached: bool = True) -> None:
        message = self.query_one("#signin-message", FieldMessage)
        try:
            settings = self.settings
            secrets = await asyncio.to_thread(self.wizard.secret_store)
            who = await self.device_code_sign_in(
                settings, secrets, self.profile.name, allow_cached=allow_cached
            )
        except ClmWizardError as error:
            message.show_error(error)
            self._sign_in_failed()
            return
        self.who = who
        self.code = None
        self.signin_panel.say(f"✓ Signed in to Microsoft as [b]{escape(who.username)}[/b]")
        message.show_note("")
        self._load_environments()

    def _sign_in_failed(self) -> None:
        self.code = None
        self.signin_panel.say("Not signed in to Microsoft. Press [b]enter[/b] to try again.")
        self.signin_failed = True
        self.refresh_bindings()

    # -- environment -------------------------------------------------------------------------

    def _microsoft_client(self) -> httpx.AsyncClient:
        """The Power Apps client, made by the context's factory (tests answer through it)."""
        return self.wizard.context.client_factory(ca_bundle=self.settings.ca_bundle)

    def _api(self, http: Any) -> PowerAppsApi:
        from clmwizard.powerplatform.setup import make_api

        assert self.who is not None
        return make_api(http, self.who, self.settings)

    @work(exclusive=True, group="environments")
    @guarded("#env-message", then="_environments_failed")
    async def _load_environments(self) -> None:
        from clmwizard.powerplatform.setup import default_environment, list_environments
        from clmwizard.powerplatform.signin import forget_sign_in

        message = self.query_one("#env-message", FieldMessage)
        message.show_note("Reading your Power Platform environments…")
        assert self.who is not None
        try:
            async with self._microsoft_client() as http:
                environments = await list_environments(self._api(http), self.who)
        except ClmWizardError as error:
            if error.code != "http_401" or not self.who.from_cache:
                raise
            # A cached token the service refused (revoked): drop it and sign in once more.
            secrets = await asyncio.to_thread(self.wizard.secret_store)
            await asyncio.to_thread(forget_sign_in, secrets, self.profile.name)
            message.show_note("Microsoft refused the cached sign-in; signing in again.")
            self.who = None
            self._sign_in(allow_cached=False)
            return
        self.environments = environments[:50]
        chosen = default_environment(self.environments, self.profile)
        box = self.query_one("#environments", Vertical)
        radio = TextRadioSet(
            *(
                TextRadioButton(
                    escape(self._describe(environment)),
                    value=environment.environment_id == chosen,
                    name=environment.environment_id,
                )
                for environment in self.environments
            ),
            id="environment",
        )
        await box.mount(radio)
        radio.focus()
        self._environment_chosen()
        message.show_note("Choose the environment (arrows, space), then enter.")
        self._set_phase("environment")

    @staticmethod
    def _describe(environment: PowerEnvironment) -> str:
        default = " (default)" if environment.is_default else ""
        name = environment.display_name
        default = "" if "(default)" in name else default
        return f"{name}{default} — {environment.environment_id}"

    def _chosen_environment(self) -> str | None:
        radios = self.query("#environment")
        if not radios:
            return None
        return radios.first(TextRadioSet).chosen_name

    @on(TextRadioSet.Changed, "#environment")
    def _environment_chosen(self) -> None:
        if self.phase == "planned":  # another environment: a new plan first
            self.plan = None
            self.query_one("#plan", Static).update("")
            self._set_phase("environment")
        chosen = self._chosen_environment()
        found = next((e for e in self.environments if e.environment_id == chosen), None)
        self.query_one("#env-choice", Static).update(
            f"Environment: {escape(self._describe(found))}" if found else ""
        )

    def _environments_failed(self) -> None:
        """The list could not be read: enter signs in again (silently) and reads it again."""
        self.signin_failed = True
        self.refresh_bindings()

    def _plan_failed(self) -> None:
        self._set_phase("environment")

    def _publish_failed(self) -> None:
        self._set_phase("planned")

    # -- plan and publish --------------------------------------------------------------------

    def action_next(self) -> None:
        from clmwizard.flow import Next

        if self.signin_failed and self.phase == "signing_in":
            self.signin_failed = False
            self.refresh_bindings()
            self.signin_panel.say("Signing in to Microsoft…")
            self._sign_in()
        elif self.phase == "environment":
            self._plan()
        elif self.phase == "planned":
            self._publish()
        elif self.phase == "published":
            self.answer(Next())

    @work(exclusive=True, group="publish")
    @guarded("#env-message", then="_plan_failed")
    async def _plan(self) -> None:
        from clmwizard.powerplatform.publish import describe_plan, plan_publish

        environment = self._chosen_environment()
        if environment is None:
            return
        self._set_phase("planning")
        message = self.query_one("#env-message", FieldMessage)
        message.show_note(f"Reading what exists in {environment}…")
        try:
            profile = await asyncio.to_thread(self.wizard.context.profiles.load, self.profile.name)
            self.profile = profile
            async with self._microsoft_client() as http:
                plan = await plan_publish(
                    self._api(http), profile, environment, profile_layout(profile, environment)
                )
        except ClmWizardError as error:
            error.fix = error.fix.replace(" with --environment", " above")  # the CLI's words
            message.show_error(error)
            self._set_phase("environment")
            return
        self.plan = plan
        message.show_note("")
        lines = describe_plan(plan)
        adopt = any(item.action == "adopt" for item in plan.connectors)
        self.query_one("#plan", Static).update(
            "[b]The plan[/b]\n"
            + "\n".join(escape(line) for line in lines)
            + "\n  Press [b]enter[/b] to publish"
            + (" (you are asked before any existing connector is adopted)." if adopt else ".")
        )
        self._set_phase("planned")
        self.query_one("#plan", Static).scroll_visible()

    @work(exclusive=True, group="publish")
    @guarded("#publish-message", then="_publish_failed")
    async def _publish(self) -> None:
        from clmwizard.powerplatform.publish import publish
        from clmwizard.powerplatform.setup import docusign_secret

        plan = self.plan
        if plan is None:
            return
        self._set_phase("publishing")
        message = self.query_one("#publish-message", FieldMessage)
        message.show_note("Publishing… (keys still work: the publish runs in the background)")
        self.progress_lines = {item.key: "waiting" for item in plan.connectors}
        self._show_progress()
        try:
            secrets = await asyncio.to_thread(self.wizard.secret_store)
            secret = await asyncio.to_thread(docusign_secret, secrets, self.profile)
            async with self._microsoft_client() as http:
                result = await publish(
                    plan,
                    self._api(http),
                    self.wizard.context.profiles,
                    self.settings,
                    secret,
                    adopt=self._ask_adoption,
                    progress=self._progress,
                )
        except ClmWizardError as error:
            message.show_error(error)
            self._set_phase("planned")
            return
        self.result = result
        await self._check_redirects()
        self._show_outcome()
        self._set_phase("published")
        self.set_focus(None)  # the environment is chosen: its list's keys leave the footer
        outcome = self.query_one("#outcome", Static)
        self.call_after_refresh(outcome.scroll_visible, top=True, animate=False)

    def _progress(self, key: str, what: str) -> None:
        self.progress_lines[key] = what
        self._show_progress()

    def _show_progress(self) -> None:
        if self.plan is None:
            return
        names = {item.key: item.payload.display_name for item in self.plan.connectors}
        self.query_one("#progress", Static).update(
            "[b]Publishing[/b]\n"
            + "\n".join(
                f"  {escape(names.get(key, key))}: {escape(what)}"
                for key, what in self.progress_lines.items()
            )
        )

    async def _ask_adoption(self, item: PlannedConnector) -> bool:
        async with self._adopt_lock:  # one question at a time
            answer = await self.app.push_screen_wait(
                ConfirmDialog(
                    f"A connector named {item.payload.display_name!r} already exists "
                    f"({item.connector_id}). Adopt it?",
                    "Adopting updates it with this profile's definition and secret key, and "
                    "clmwizard keeps it up to date from now on. No leaves it alone.",
                    yes="Adopt",
                    no="Leave it",
                )
            )
            return bool(answer)

    # -- the result --------------------------------------------------------------------------

    def _published(self) -> list[Any]:
        if self.result is None:
            return []
        return [o for o in self.result.outcomes if o.exists and o.error is None]

    async def _check_redirects(self) -> None:
        from clmwizard.powerplatform.redirect import check_redirect_url

        urls = [o.redirect_url for o in self._published() if o.redirect_url]
        if not urls:
            return
        async with self.wizard.context.client_factory() as docusign:
            checks = await asyncio.gather(
                *(check_redirect_url(docusign, self.profile, url) for url in urls)
            )
        self.checks = {check.redirect_url: check for check in checks}
        self.wizard.closing.verdicts.update(  # for the summary printed when the wizard ends
            {check.redirect_url: f"{VERDICT_MARK[check.verdict]} {check.line}" for check in checks}
        )

    def _show_outcome(self) -> None:
        from clmwizard.powerplatform.publish import summarise

        result = self.result
        if result is None:
            return
        lines = [f"[b]Connectors in {escape(result.environment_id)} now[/b]"]
        lines += [f"  {escape(line)}" for line in summarise(result)]
        published = self._published()
        if published:
            lines.append(
                "[b]Redirect URLs[/b] [dim](register each on the integration key in DocuSign: "
                "Apps and Keys → your app → Redirect URIs; before a sign-in DocuSign can only "
                "say when one is NOT)[/dim]"
            )
        for index, outcome in enumerate(published):
            lines.append(
                f"  {index + 1}. {escape(outcome.display_name)}  id "
                f"{escape(outcome.connector_id or '')}"
            )
            if outcome.redirect_url is None:
                lines.append(f"     redirect URL unknown: {escape(outcome.redirect_hint)}")
                continue
            lines.append(escape(outcome.redirect_url))  # unindented: a selection takes it whole
            check = self.checks.get(outcome.redirect_url)
            if check is not None:
                lines.append(
                    f"     {VERDICT_MARK[check.verdict]} at DocuSign: {escape(check.line)}"
                )
        self.query_one("#outcome", Static).update("\n".join(lines))
        message = self.query_one("#publish-message", FieldMessage)
        copy_keys = "1" if len(published) == 1 else f"1-{min(len(published), 3)}"
        errors = [o.error for o in result.outcomes if o.error is not None]
        if result.record_error is not None:
            errors.append(result.record_error)
        if errors:
            message.show_error(errors[0])
        elif any(o.skipped for o in result.outcomes):
            message.show_warning("Some connectors were left alone (see above).")
        elif any(c.verdict == "not_registered" for c in self.checks.values()):
            demo = " (in the demo, g registers them for you)" if self.wizard.context.demo else ""
            message.show_warning(
                f"Register the redirect URLs marked ✗ in DocuSign ({copy_keys} to copy), then "
                f"press r to ask DocuSign again{demo}. enter finishes."
            )
        else:
            message.show_ok(
                f"Published. {copy_keys} to copy a redirect URL · r asks DocuSign again · enter "
                "finishes."
            )

    def action_copy_only_redirect(self) -> None:
        self.action_copy_redirect(0)

    def action_copy_redirect(self, index: int) -> None:
        published = self._published()
        if index < len(published) and published[index].redirect_url:
            self.wizard.copy_value("Redirect URL", published[index].redirect_url)

    @work(exclusive=True, group="recheck")
    @guarded("#publish-message")
    async def action_register_demo(self) -> None:
        """The demo only: register the redirect URLs on the emulator's integration key, as the
        user would in DocuSign's Apps and Keys, then ask DocuSign again."""
        demo = self.wizard.context.demo
        if demo is None or demo.register_redirect_uri is None:
            return
        for url, check in self.checks.items():
            if check.verdict == "not_registered":
                await asyncio.to_thread(demo.register_redirect_uri, url)
        await self._recheck()

    @work(exclusive=True, group="recheck")
    @guarded("#publish-message")
    async def action_recheck(self) -> None:
        await self._recheck()

    async def _recheck(self) -> None:
        self.query_one("#publish-message", FieldMessage).show_note("Asking DocuSign again…")
        await self._check_redirects()
        self._show_outcome()

    def action_back(self) -> None:
        self._cancel.set()
        super().action_back()
