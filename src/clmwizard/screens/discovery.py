"""Step 5: the account, its eSignature base URI and the three CLM hosts; then store it all."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import on, work
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, RadioSet, Static

from clmwizard.errors import ClmWizardError, KeyringError
from clmwizard.safe_text import markup_escaped as escape
from clmwizard.screens.base import WizardScreen
from clmwizard.screens.guard import guarded
from clmwizard.store.profile import ClmHosts
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.toggles import TextRadioButton, TextRadioSet
from clmwizard.widgets.wait_line import WaitLine

if TYPE_CHECKING:
    import httpx

    from clmwizard.docusign.hosts import HostCheck
    from clmwizard.store.profile import Profile

HOST_FIELDS = (
    ("general", "General (ApiBaseUrl)"),
    ("upload", "Upload (ApiBaseUploadUrl)"),
    ("download", "Download (ApiBaseDownloadUrl)"),
)


class DiscoveryScreen(WizardScreen):
    STEP = "Discovery"
    BINDINGS = [
        Binding("ctrl+s", "save", "save and continue", key_display="⏎/^s"),
        Binding("enter", "save", "save and continue", show=False),
        Binding("ctrl+d", "discover", "discover again", show=False),
        # Priority: the focused host Input binds ctrl+e too (end of line); check_action lets
        # the key through to it unless a save has just failed on the keyring.
        Binding("ctrl+e", "ephemeral", "keep in memory", show=False, priority=True),
    ]
    keyring_failed = False
    # True while a host lookup runs: the inputs still hold the previous account's hosts then,
    # so saving would store hosts that are not this account's.
    looking_up = False

    def __init__(self) -> None:
        super().__init__()
        # Hosts the user confirmed on this screen (host keys); saved as profile.confirmed_hosts.
        self.confirmed_here: list[str] = []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "ephemeral":
            return self.keyring_failed and self.wizard.context.demo is None
        return True

    def compose_body(self) -> Iterable[Widget]:
        draft = self.wizard.draft
        assert draft.userinfo is not None
        accounts = draft.userinfo.accounts
        from clmwizard.docusign.discovery import choose_account

        default = choose_account(
            draft.userinfo, draft.account.account_id if draft.account else None
        )
        draft.account = default
        if len(accounts) > 1:
            yield Label("Account (this user has several)", classes="field-label")
            with TextRadioSet(id="account"):
                for account in accounts:
                    label = (
                        f"{escape(account.account_name)}  [dim]{escape(account.account_id)}[/dim]"
                    )
                    if account.is_default:
                        label += "  [dim](default)[/dim]"
                    yield TextRadioButton(
                        label,
                        value=account.account_id == default.account_id,
                        name=account.account_id,
                    )
        yield Static("", id="account-line", classes="choice-echo" if len(accounts) > 1 else "")
        yield Static("", id="esign-line")
        with Vertical(classes="form"):
            for key, label in HOST_FIELDS:
                yield Label(f"CLM {label}", classes="field-label")
                yield Input(placeholder="https://…", id=f"host-{key}")
                yield FieldMessage(id=f"host-{key}-message")
            yield FieldMessage(id="hosts-message")
        yield WaitLine(id="discovery-wait")
        yield FieldMessage(id="discovery-message")
        yield FieldMessage(id="clm-message")
        yield Static(
            "\n  Check the hosts (edit them if your CLM admin says otherwise), then press "
            "[b]enter[/b] to save the profile.",
            id="discovery-next",
        )

    def on_mount(self) -> None:
        self._show_account()
        self.action_discover()

    def _show_account(self) -> None:
        account = self.wizard.draft.account
        assert account is not None
        self.query_one("#account-line", Static).update(
            f"Account: [b]{escape(account.account_name)}[/b] — {account.account_id}"
        )
        self.query_one("#esign-line", Static).update(
            f"eSignature base URI: {escape(account.base_uri)}  "
            f"[dim](REST: {escape(account.base_uri)}/restapi/v2.1/)[/dim]"
        )

    @on(RadioSet.Changed, "#account")
    def _account_chosen(self, event: RadioSet.Changed) -> None:
        from clmwizard.docusign.discovery import choose_account

        draft = self.wizard.draft
        assert draft.userinfo is not None
        draft.account = choose_account(draft.userinfo, event.pressed.name)
        draft.hosts = None
        self._show_account()
        self.action_discover()

    def action_discover(self) -> None:
        self.looking_up = True
        self.query_one("#discovery-message", FieldMessage).clear()
        self.query_one("#clm-message", FieldMessage).clear()
        self._discover()

    @work(exclusive=True, group="discovery")
    @guarded("#discovery-message")
    async def _discover(self) -> None:
        from clmwizard.docusign.discovery import discover_clm_hosts

        draft = self.wizard.draft
        assert draft.account is not None and draft.tokens is not None
        message = self.query_one("#discovery-message", FieldMessage)
        try:
            async with self.wizard.context.client_factory() as client:
                self._wait("Finding the CLM hosts…", client)
                hosts = await discover_clm_hosts(
                    client, draft.environment, draft.account.account_id, draft.tokens.access_token
                )
        except ClmWizardError as error:
            self.looking_up = False
            self.query_one("#discovery-wait", WaitLine).stop()
            message.show_error(error)
            self.query_one("#host-general", Input).focus()
            return
        draft.hosts = hosts
        for key, _ in HOST_FIELDS:
            self.query_one(f"#host-{key}", Input).value = hosts.for_connector(key)  # type: ignore[arg-type]
        self.looking_up = False
        self.query_one("#discovery-wait", WaitLine).stop()
        message.show_ok("CLM hosts found for this account.")
        self.query_one("#host-general", Input).focus()
        await self._prove_clm(hosts, draft.account.account_id, draft.tokens.access_token)

    async def _prove_clm(self, hosts: ClmHosts, account_id: str, access_token: str) -> None:
        """One authenticated CLM call with the fresh token; never to a host not yet confirmed
        (the token would go there)."""
        from clmwizard.docusign.clm_check import list_attribute_groups
        from clmwizard.docusign.hosts import unconfirmed_hosts

        line = self.query_one("#clm-message", FieldMessage)
        line.clear()
        if unconfirmed_hosts(hosts, self._confirmed()):
            return
        try:
            async with self.wizard.context.client_factory() as client:
                self._wait("Asking CLM for its attribute groups with the new token…", client)
                answer = await list_attribute_groups(
                    client, hosts.general, account_id, access_token
                )
        except ClmWizardError as error:
            line.show_error(error)
            return
        finally:
            self.query_one("#discovery-wait", WaitLine).stop()
        line.show_ok(answer.describe())

    def _wait(self, busy: str, client: httpx.AsyncClient) -> None:
        """The wait's clock, its limit what the HTTP layer allows a request with retries."""
        from clmwizard.http import worst_case_seconds

        limit = worst_case_seconds(client)
        wait = self.query_one("#discovery-wait", WaitLine)
        if limit is None:
            wait.update(f"  {escape(busy)}")
            wait.display = True
        else:
            wait.start(busy, limit)

    @on(Input.Changed)
    def _host_changed(self, event: Input.Changed) -> None:
        """A warning sign (text, not only colour) beside a host outside DocuSign's domains."""
        from clmwizard.docusign.hosts import check_clm_host

        key = (event.input.id or "").removeprefix("host-")
        if key not in dict(HOST_FIELDS):
            return
        message = self.query_one(f"#host-{key}-message", FieldMessage)
        value = event.value.strip()
        verdict = check_clm_host(value) if value else None
        if verdict is None or verdict.trusted or not verdict.host:
            if message.text.startswith("!"):
                message.clear()
            return
        confirmed = verdict.host in self._confirmed()
        suffix = " (confirmed by you)" if confirmed else ": you will be asked to confirm it"
        message.show_warning(f"{verdict.reason}{suffix}")

    def _confirmed(self) -> list[str]:
        existing = self.wizard.draft.existing
        return [*(existing.confirmed_hosts if existing else []), *self.confirmed_here]

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def _hosts_from_inputs(self) -> ClmHosts | None:
        # Plain http off loopback is refused outright (validate_clm_base_url), not confirmable:
        # every Power Automate user's DocuSign token would cross the network in clear text, and
        # no answer from the user can make that safe. Other hosts are confirmable (_save_checked).
        from clmwizard.docusign.discovery import validate_clm_base_url

        values: dict[str, str] = {}
        for key, _ in HOST_FIELDS:
            message = self.query_one(f"#host-{key}-message", FieldMessage)
            message.clear()
            try:
                values[key] = validate_clm_base_url(self.query_one(f"#host-{key}", Input).value)
            except ClmWizardError as error:
                message.show_error(error)
        if len(values) != len(HOST_FIELDS):
            return None
        return ClmHosts(**values)

    def action_save(self) -> None:
        if self.looking_up:
            self.query_one("#discovery-message", FieldMessage).show_note(
                "Still finding this account's CLM hosts: wait for them before saving."
            )
            return
        hosts = self._hosts_from_inputs()
        if hosts is None:
            return
        from clmwizard.docusign.hosts import unconfirmed_hosts

        self.query_one("#hosts-message", FieldMessage).clear()
        unconfirmed = unconfirmed_hosts(hosts, self._confirmed())
        if unconfirmed:
            self._ask_to_confirm(unconfirmed[0])
            return
        self.wizard.draft.hosts = hosts
        self.query_one("#discovery-message", FieldMessage).show_note("Saving the profile…")
        self._save()

    def _ask_to_confirm(self, verdict: HostCheck) -> None:
        from clmwizard.screens.dialogs import ConfirmDialog

        def confirmed() -> None:
            self.confirmed_here.append(verdict.host)
            self.action_save()  # asks about the next unconfirmed host, if any, or saves

        self.confirm(
            ConfirmDialog(
                f"Use {verdict.host}? It is not one of DocuSign's CLM hosts.",
                f"{verdict.reason}. The connector would send every Power Automate user's "
                "DocuSign token there; confirm only if your CLM admin says so "
                "(CLM: Admin → System Domains).",
            ),
            confirmed,
            lambda: self.query_one("#hosts-message", FieldMessage).show_warning(
                f"Not saved: {verdict.host} is not confirmed. Enter your account's CLM hosts "
                "(your CLM admin sees them under Admin → System Domains)."
            ),
        )

    def action_ephemeral(self) -> None:
        if self.wizard.context.demo is None:
            self.wizard.use_memory_secrets()
            self.action_save()

    @work(exclusive=True, group="save")
    @guarded("#discovery-message")
    async def _save(self) -> None:
        from clmwizard.docusign.session import profile_after_login, store_login
        from clmwizard.draft import now_utc
        from clmwizard.store.profile import RSA_PRIVATE_KEY

        draft = self.wizard.draft
        assert draft.tokens and draft.userinfo and draft.account and draft.hosts
        tokens, userinfo, account, hosts = draft.tokens, draft.userinfo, draft.account, draft.hosts
        message = self.query_one("#discovery-message", FieldMessage)
        profile = profile_after_login(
            draft.base_profile(), tokens, userinfo, account, hosts, now=now_utc()
        )
        if self.confirmed_here:
            profile.confirmed_hosts = sorted(
                set(profile.confirmed_hosts) | set(self.confirmed_here)
            )
        profiles, secret_key, rsa_key = (
            self.wizard.context.profiles,
            draft.secret_key,
            draft.rsa_private_key,
        )

        def store() -> Profile:  # the keyring and the profile file block: off the event loop
            secrets = self.wizard.secret_store()
            stored = store_login(profiles, secrets, profile, secret_key, tokens)
            if rsa_key:
                secrets.set_many(stored.name, {RSA_PRIVATE_KEY: rsa_key})
            return stored

        try:
            saved = await asyncio.to_thread(store)
        except KeyringError as error:
            self.keyring_failed = True
            message.show_error(error)
            self.query_one("#discovery-next", Static).update(
                "\n  [b]ctrl+e[/b] keep the secrets in memory for this run only (you can still "
                "copy every field and export; a rerun asks again)",
            )
            return
        except ClmWizardError as error:
            message.show_error(error)
            return
        self._saved(saved)

    def _saved(self, profile: Profile) -> None:
        from clmwizard.flow import Saved

        where = "in memory for this run" if self.wizard.secrets_are_ephemeral else "in the keyring"
        self.app.notify(f"Profile {profile.name} saved; secrets {where}.")
        self.answer(Saved(profile))
