"""After a proven rotation: the checklist that ends with working connectors.

1. copy the new secret key; 2. every connector this profile published (updated automatically
with a Microsoft sign-in) or exported (the portal path and the paconn command); 3. test a flow;
4. only then delete the old secret key in DocuSign. Shown again from the start screen (k).
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from clmwizard.errors import ClmWizardError
from clmwizard.safe_text import markup_escaped as escape
from clmwizard.screens.device_code_keys import DeviceCodeKeys, device_code_bindings
from clmwizard.screens.guard import guarded
from clmwizard.widgets.device_code import DeviceCodePanel
from clmwizard.widgets.field_message import FieldMessage

if TYPE_CHECKING:
    from clmwizard.powerplatform.api import PowerAppsApi
    from clmwizard.powerplatform.rotation import HeartbeatProof, SecretUpdateReport
    from clmwizard.powerplatform.settings import MicrosoftSettings
    from clmwizard.powerplatform.signin import DeviceCode, MicrosoftSignIn
    from clmwizard.screens.base import Wizard
    from clmwizard.store.profile import Profile, PublishRecord

PROOF_LIMIT = 300.0
PORTAL_PATH = (
    "make.powerautomate.com → Data → Custom connectors → {name} → Edit → Security → "
    "Client secret: paste the new secret key → Update connector"
)


def exported_folders(profile: Profile) -> list[tuple[str, str]]:
    """(folder path, connector folder) of the last export, for its paconn commands."""
    from clmwizard.connector.readme import SINGLE_FOLDER
    from clmwizard.store.profile import CONNECTOR_NAMES

    if not profile.exports:
        return []
    last = profile.exports[-1]
    folders = [SINGLE_FOLDER] if last.layout == "single" else list(CONNECTOR_NAMES)
    return [(f"{last.path}/{folder}", folder) for folder in folders]


def checklist_lines(profile: Profile, secret: str, report: SecretUpdateReport | None) -> list[str]:
    """The checklist in plain text lines (markup-free)."""
    from clmwizard.connector.readme import paconn_update
    from clmwizard.connector.swagger import connector_title
    from clmwizard.powerplatform.records import secret_fingerprint
    from clmwizard.powerplatform.rotation_proof import DELETE_OLD_SECRET, latest_due, local_time

    fingerprint = secret_fingerprint(profile.integration_key, secret)
    lines = ["1. Copy the new secret key (s): the connectors you update by hand need it."]
    lines.append("2. Give every connector the new secret key:")
    failed = {
        todo.connector.connector_id: todo.error
        for todo in (report.remaining if report else [])
        if todo.error is not None
    }
    published = False
    for record in profile.publications:
        for connector in record.connectors:
            published = True
            where = f"{connector.display_name} ({connector.connector_id}, {record.environment_id})"
            if connector.secret_fingerprint == fingerprint:
                lines.append(f"   ✓ {where}: published by clmwizard, updated automatically.")
                continue
            error = failed.get(connector.connector_id)
            state = f"✗ {error.what}" if error else "still has the OLD secret key"
            lines.append(f"   • {where}: {state}")
            lines.append("     u updates it (Microsoft sign-in), or in the portal:")
            lines.append("     " + PORTAL_PATH.format(name=connector.display_name))
    if not published:
        folders = exported_folders(profile)
        if folders:
            for path, folder in folders:
                key = None if folder == "clm" else folder
                title = connector_title(profile, key)  # type: ignore[arg-type]
                lines.append(f"   • {title} (exported to {path}, created by you):")
                lines.append("     " + PORTAL_PATH.format(name=title))
                lines.append(f"     or: {paconn_update(path)}")
        else:
            lines.append(
                "   • each CLM connector you created: " + PORTAL_PATH.format(name="your connector")
            )
    lines.append(
        "3. Test a flow that uses each connector (e.g. List attribute groups): it must still run."
    )
    due = latest_due(profile)
    if due is not None:
        lines.append(
            f"4. Keep the OLD secret key at DocuSign until a heartbeat run after "
            f"{local_time(due)} succeeds (a connection uses the access token the old one "
            "obtained for up to 8 hours); clmwizard status says when. Then delete it "
            f"({DELETE_OLD_SECRET} → delete). Until then both keys work."
        )
    else:
        lines.append(
            "4. Only then, and at least 8 hours after the connectors got it (a connection "
            "uses the access token the old one obtained until it runs out): delete the OLD "
            f"secret key in DocuSign ({DELETE_OLD_SECRET} → delete). Until then both keys work."
        )
    return lines


class RotationChecklist(DeviceCodeKeys, ModalScreen[None]):
    SIGNIN_PANEL = "#checklist-signin"
    SIGNIN_MESSAGE = "#checklist-message"
    BINDINGS = [
        Binding("escape", "close", "close"),
        Binding("s", "copy_secret", "copy new secret"),
        Binding("u", "update", "update connectors"),
        *device_code_bindings(show=False),
    ]

    def __init__(self, profile_name: str) -> None:
        super().__init__(classes="dialog-screen")
        self.profile_name = profile_name
        self.profile: Profile | None = None
        self.report: SecretUpdateReport | None = None
        self.proofs: list[HeartbeatProof] = []
        self.code: DeviceCode | None = None
        self._cancel = threading.Event()
        self._secret = ""

    @property
    def wizard(self) -> Wizard:
        from typing import cast

        return cast("Wizard", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                f"After the rotation of {escape(self.profile_name)}: the steps left",
                classes="dialog-title",
            )
            with VerticalScroll(id="checklist-body"):
                yield Static("Reading the profile…", id="checklist")
                yield DeviceCodePanel(
                    lead="Sign in to Microsoft to update them: open", id="checklist-signin"
                )
                yield FieldMessage(id="checklist-message")
            yield Static("[dim]s copy the new secret · u update · esc close[/dim]")

    def on_mount(self) -> None:
        self._load(auto_update=True)

    def on_unmount(self) -> None:
        self._cancel.set()

    @work(exclusive=True, group="checklist")
    @guarded("#checklist-message")
    async def _load(self, *, auto_update: bool) -> None:
        from clmwizard.powerplatform.rotation import connectors_to_update
        from clmwizard.store.profile import SECRET_KEY

        try:
            self.profile = await asyncio.to_thread(
                self.wizard.context.profiles.load, self.profile_name
            )
            secrets = await asyncio.to_thread(self.wizard.secret_store)
            stored = await asyncio.to_thread(secrets.get, self.profile_name, SECRET_KEY)
            self._secret = stored or ""
        except ClmWizardError as error:
            self.query_one("#checklist-message", FieldMessage).show_error(error)
            return
        self._show()
        if auto_update and self._secret and connectors_to_update(self.profile, self._secret):
            await self._update()

    def _show(self) -> None:
        if self.profile is None:
            return
        self.query_one("#checklist", Static).update(
            "\n".join(
                escape(line) for line in checklist_lines(self.profile, self._secret, self.report)
            )
        )

    def action_copy_secret(self) -> None:
        if self._secret:
            self.wizard.copy_value("New secret key", self._secret, secret=True)

    @work(exclusive=True, group="checklist")
    @guarded("#checklist-message")
    async def action_update(self) -> None:
        await self._update()

    async def _update(self) -> None:
        from clmwizard.powerplatform.rotation import update_connector_secrets
        from clmwizard.powerplatform.setup import make_api, settings_from

        message = self.query_one("#checklist-message", FieldMessage)
        message.show_note("Updating the published connectors…")
        base = self.wizard.context.microsoft()
        try:
            async with self.wizard.context.client_factory(ca_bundle=base.ca_bundle) as http:

                async def api_for(record: PublishRecord) -> PowerAppsApi | None:
                    settings = settings_from(record, base=base)
                    who = await self._sign_in(settings)
                    return None if who is None else make_api(http, who, settings)

                self.report = await update_connector_secrets(
                    self.profile_name,
                    self.wizard.context.profiles,
                    self._secret,
                    api_for,
                    progress=lambda text: message.show_note(text.capitalize() + "…"),
                )
            self.profile = await asyncio.to_thread(
                self.wizard.context.profiles.load, self.profile_name
            )
        except ClmWizardError as error:
            message.show_error(error)
            return
        self.code = None
        self.signin_panel.say("")
        self._show()
        if self.report.complete and any(r.heartbeat for r in self.profile.publications):
            await self._prove(base)
        elif self.report.complete:
            from clmwizard.powerplatform.rotation_proof import latest_due, local_time

            due = latest_due(self.profile)
            when = f"after {local_time(due)}" if due else "more than 8 hours after the update"
            message.show_ok(
                f"{len(self.report.updated)} connector(s) updated with the new secret key. "
                f"Keep the old secret key in DocuSign until a flow through each connector ran "
                f"{when} (a connection uses the access token the old one obtained for up to 8 "
                "hours), then delete it."
            )
        else:
            message.show_warning(
                "Some connectors still have the OLD secret key: keep it in DocuSign until they "
                "are updated (u tries again, or follow the portal steps)."
            )

    async def _prove(self, base: MicrosoftSettings) -> None:
        """The heartbeat runs once through each connection: the connectors still work. It may
        use an access token the old secret obtained, so the old secret stays until a run 8
        hours after the update (rotation_proof)."""
        import time

        from clmwizard.powerplatform.rotation import prove_with_heartbeat
        from clmwizard.powerplatform.rotation_proof import (
            DELETE_OLD_SECRET,
            keep_old_secret,
            latest_due,
        )
        from clmwizard.powerplatform.setup import flow_sign_in, make_apis, user_settings
        from clmwizard.screens.platform_step import server_failure
        from clmwizard.wait_clock import SPINNER, clock

        message = self.query_one("#checklist-message", FieldMessage)
        assert self.profile is not None
        started = time.monotonic()

        def show_clock() -> None:
            waited = time.monotonic() - started
            message.show_note(
                f"{SPINNER[int(waited * 10) % len(SPINNER)]} Updated. Proving the new secret: "
                f"the heartbeat runs once through the connection…  {clock(waited)} / "
                f"{clock(PROOF_LIMIT)}"
            )

        show_clock()
        timer = self.set_interval(0.1, show_clock)
        proofs = []
        try:
            for record in self.profile.publications:
                if record.heartbeat is None:
                    continue
                settings = user_settings(self.profile, record, flow_url=record.flow_url, base=base)
                who = await self._sign_in(settings)
                if who is None:
                    return
                secrets = await asyncio.to_thread(self.wizard.secret_store)
                factory = self.wizard.context.client_factory
                async with factory(ca_bundle=settings.ca_bundle) as http:
                    flow_who = await flow_sign_in(http, settings, secrets, self.profile_name)
                    _, flows = make_apis(
                        http, settings, who, flow_who, secrets=secrets, profile=self.profile_name
                    )
                    assert flows is not None
                    proofs.append(
                        await prove_with_heartbeat(
                            flows,
                            self.profile,
                            record,
                            poll=self.wizard.context.poll_seconds,
                            timeout=PROOF_LIMIT,
                        )
                    )
        except Exception as error:  # a server's failure is a message, never a crash
            failure = server_failure(error)
            failure.fix = (
                f"Keep the OLD secret key in DocuSign for now. {failure.fix} "
                "u updates and proves again."
            )
            message.show_error(failure)
            return
        finally:
            timer.stop()
        self.proofs = proofs
        failed = [p for p in proofs if not p.succeeded]
        if failed:
            message.show_error(
                ClmWizardError(
                    "The heartbeat run through the new secret failed: keep the OLD secret key "
                    "in DocuSign.",
                    cause=failed[0].result,
                    fix="Fix what the run says, then u updates and proves again.",
                )
            )
            return
        answered = "; ".join(p.result for p in proofs)
        self.profile = await asyncio.to_thread(self.wizard.context.profiles.load, self.profile_name)
        self._show()
        due = latest_due(self.profile)
        after = (
            keep_old_secret(due)
            if due is not None
            else f"Delete the OLD secret key in DocuSign ({DELETE_OLD_SECRET})."
        )
        message.show_ok(
            f"{len(self.report.updated) if self.report else 0} connector(s) updated, and the "
            f"heartbeat ran through them: CLM answered {answered}. {after}"
        )

    async def _sign_in(self, settings: MicrosoftSettings) -> MicrosoftSignIn | None:
        secrets = await asyncio.to_thread(self.wizard.secret_store)
        try:
            return await self.device_code_sign_in(settings, secrets, self.profile_name)
        except ClmWizardError as error:
            self.query_one("#checklist-message", FieldMessage).show_error(
                f"Microsoft sign-in failed: {error.what} The portal steps below still work."
            )
            return None

    def action_close(self) -> None:
        self._cancel.set()
        self.dismiss(None)
