"""Step 1: the integration key, its secret key and the environment."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import on, work
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Collapsible, Input, Label, RadioSet, Static

from clmwizard.docusign.environments import Environment
from clmwizard.errors import ClmWizardError, UsageError
from clmwizard.safe_text import markup_escaped as escape
from clmwizard.screens.base import WizardScreen
from clmwizard.screens.guard import guarded
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.secret_input import SecretInput
from clmwizard.widgets.toggles import TextCheckbox, TextRadioButton, TextRadioSet

ENVIRONMENTS = (
    ("demo", "Developer account (account-d.docusign.com)"),
    ("production", "Production (account.docusign.com)"),
    ("custom", "Custom server (an emulator or a proxy)"),
)
ENVIRONMENT_WORDS = {"demo": "Developer", "production": "Production", "custom": "custom server"}


def environment_words(name: str, auth_server: str = "") -> str:
    """The environment choice in words: "Production — account.docusign.com"."""
    from urllib.parse import urlsplit

    words = ENVIRONMENT_WORDS.get(name, name)
    if name == "demo":
        return f"{words} — account-d.docusign.com"
    if name == "production":
        return f"{words} — account.docusign.com"
    host = urlsplit(auth_server).netloc if "://" in auth_server else auth_server
    return f"{words} — {host}" if host else f"{words} — enter its OAuth server below"


class KeyScreen(WizardScreen):
    STEP = "Key"
    BINDINGS = [
        Binding("ctrl+n", "next", "next", key_display="⏎/^n"),
        Binding("enter", "next", "next", show=False),
        Binding("ctrl+r", "reveal", "reveal secret"),
        Binding("ctrl+t", "demo_jwt", "demo RSA key"),
    ]
    DEMO_RSA_KEY = "(the demo's test RSA key)"

    def __init__(self, *, load_secret: bool = False) -> None:
        super().__init__()
        self.load_secret = load_secret
        # The environment the user has accepted; a saved profile's changes only after a yes.
        self.environment_name = ""

    def compose_body(self) -> Iterable[Widget]:
        draft = self.wizard.draft
        demo = self.wizard.context.demo
        existing = draft.existing is not None
        with Vertical(classes="form"):
            yield Label("Profile name", classes="field-label")
            yield Input(
                draft.profile_name,
                placeholder="e.g. acme-demo",
                id="profile-name",
                disabled=existing,
            )
            yield FieldMessage(id="profile-message")
            if demo is not None:
                yield Static(
                    f"Environment: the built-in emulator at {escape(demo.auth_server)}. The key "
                    "and secret below are its test values, held in memory for this run.",
                    classes="note",
                )
            else:
                self.environment_name = draft.environment.name
                yield Label("Environment", classes="field-label")
                with TextRadioSet(id="environment"):
                    for name, label in ENVIRONMENTS:
                        yield TextRadioButton(
                            label, value=draft.environment.name == name, name=name
                        )
                yield Static("", id="environment-choice", classes="choice-echo")
                with Vertical(id="custom-servers"):
                    yield Label("OAuth server (account server)", classes="field-label")
                    yield Input(
                        draft.environment.auth_server,
                        placeholder="e.g. http://127.0.0.1:8765",
                        id="auth-server",
                    )
                    yield Label("CLM discovery server", classes="field-label")
                    yield Input(
                        draft.environment.clm_auth_server,
                        placeholder="e.g. http://127.0.0.1:8766",
                        id="clm-auth-server",
                    )
                yield FieldMessage(id="environment-message")
            yield Label("Integration key", classes="field-label")
            yield Input(
                draft.integration_key,
                placeholder="a GUID, e.g. 3f6c0e1a-58d2-4c1e-9b2d-0a1b2c3d4e5f",
                id="integration-key",
            )
            yield FieldMessage(id="integration-key-message")
            yield Label("Secret key", classes="field-label")
            yield SecretInput(
                value=draft.secret_key, placeholder="shown once when you add it", id="secret-key"
            )
            yield FieldMessage(id="secret-key-message")
            yield Static(
                "[dim]Where: DocuSign Settings → Apps and Keys → your app. The integration key is "
                "the GUID at the top; under Secret Keys, “+ Add secret key” shows a new one "
                "once.[/dim]",
                classes="help",
            )
            with Collapsible(title="Advanced: redirect URI, PKCE, JWT", id="advanced"):
                yield Label("Redirect URI (must be registered on the key)", classes="field-label")
                yield Input(draft.redirect_uri, id="redirect-uri")
                yield FieldMessage(id="redirect-uri-message")
                yield TextCheckbox("Use PKCE (S256)", value=draft.use_pkce, id="pkce")
                yield Label("JWT integration user GUID (optional)", classes="field-label")
                yield Input(draft.jwt_user_id, placeholder="user GUID", id="jwt-user")
                yield Label("RSA private key file for JWT (optional)", classes="field-label")
                yield Input(placeholder="path to the .pem file", id="rsa-key-file")
                yield FieldMessage(id="jwt-message")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "demo_jwt":
            return self.wizard.context.demo is not None
        return True

    def action_demo_jwt(self) -> None:
        """Demo only, when asked: the demo user as JWT integration user, the emulator's key."""
        demo = self.wizard.context.demo
        if demo is None:
            return
        self.query_one("#advanced", Collapsible).collapsed = False
        self.query_one("#jwt-user", Input).value = demo.jwt_user_id
        self.query_one("#rsa-key-file", Input).value = self.DEMO_RSA_KEY
        self.query_one("#jwt-message", FieldMessage).show_note(
            "JWT with the demo user and the emulator's test RSA key (held in memory)."
        )

    def on_mount(self) -> None:
        self._sync_custom_servers()
        first_empty = next(
            (
                widget
                for widget in self.query(Input)
                if not widget.disabled
                and not widget.value
                and widget.id != "rsa-key-file"
                # not one folded away under Advanced: focus there would be invisible
                and not any(isinstance(a, Collapsible) and a.collapsed for a in widget.ancestors)
            ),
            None,
        )
        (first_empty or self.query_one("#integration-key", Input)).focus()
        if self.load_secret and not self.wizard.draft.secret_key:
            self._load_secret(self.wizard.draft.profile_name)

    @work(exclusive=True, group="keyring")
    @guarded("#secret-key-message")
    async def _load_secret(self, profile_name: str) -> None:
        secret = await self.stored_secret_key(profile_name)
        if secret:
            self._set_secret(secret)

    def _set_secret(self, secret: str) -> None:
        self.query_one("#secret-key", SecretInput).value = secret
        where = (
            "kept in memory for this run"
            if self.wizard.secrets_are_ephemeral
            else "read from the keyring"
        )
        self.query_one("#secret-key-message", FieldMessage).show_note(
            f"The stored secret key, {where}."
        )

    @on(RadioSet.Changed, "#environment")
    def _environment_chosen(self, event: RadioSet.Changed) -> None:
        chosen = event.pressed.name or "demo"
        existing = self.wizard.draft.existing
        if existing is None or chosen == self.environment_name:
            self.environment_name = chosen
            self._sync_custom_servers()
            return
        before = self.environment_name

        def change() -> None:
            self.environment_name = chosen
            self._sync_custom_servers()

        def keep() -> None:
            self.query_one("#environment", TextRadioSet).choose(before)
            self._sync_custom_servers()

        from clmwizard.screens.dialogs import ConfirmDialog

        self.confirm(
            ConfirmDialog(
                f"Change the environment of profile {existing.name} from "
                f"{environment_words(before, existing.auth_server)} to "
                f"{environment_words(chosen)}?",
                "Its saved sign-in belongs to the old environment: the next consent signs in "
                "on the new one and replaces the profile's account, hosts and tokens when it "
                "is saved. Connectors already made keep pointing at the old one.",
                yes="Change",
                no="Keep",
            ),
            change,
            keep,
        )

    @on(Input.Changed, "#auth-server")
    def _sync_custom_servers(self) -> None:
        if self.wizard.context.demo is not None:
            return
        name = self.environment_name
        self.query_one("#custom-servers").display = name == "custom"
        auth = self.query_one("#auth-server", Input).value.strip()
        self.query_one("#environment-choice", Static).update(
            "Environment: " + escape(environment_words(name, auth))
        )

    def _environment_name(self) -> str:
        if self.wizard.context.demo is not None:
            return "custom"
        return self.environment_name or "demo"

    @on(Input.Changed, "#integration-key")
    def _check_key_as_typed(self, event: Input.Changed) -> None:
        from clmwizard.docusign.keys import validate_integration_key

        message = self.query_one("#integration-key-message", FieldMessage)
        if len(event.value.strip()) < 36:
            message.clear()
            return
        try:
            validate_integration_key(event.value)
        except ClmWizardError as error:
            message.show_error(error)
        else:
            message.show_ok("A valid integration key.")

    def action_reveal(self) -> None:
        self.query_one("#secret-key", SecretInput).toggle_reveal()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_next()

    def action_next(self) -> None:
        from clmwizard.docusign.callback import parse_redirect_uri
        from clmwizard.docusign.keys import validate_integration_key, validate_secret_key
        from clmwizard.store.profiles import validate_profile_name

        draft = self.wizard.draft
        problems: list[tuple[str, ClmWizardError]] = []

        def check(message_id: str, step: object) -> object:
            try:
                return step() if callable(step) else step
            except ClmWizardError as error:
                problems.append((message_id, error))
                return None

        for message in self.query(FieldMessage):
            message.clear()
        name_input = self.query_one("#profile-name", Input)
        name = check("profile-message", lambda: validate_profile_name(name_input.value.strip()))
        if name and draft.existing is None and self.wizard.context.profiles.exists(str(name)):
            problems.append(
                (
                    "profile-message",
                    UsageError(
                        f"A profile named {name} exists already.",
                        fix="Pick another name, or go back and open that profile to re-consent.",
                    ),
                )
            )
        environment_name = self._environment_name()
        environment: object
        if self.wizard.context.demo is not None:
            environment = draft.environment
        else:
            auth = self.query_one("#auth-server", Input).value.strip() or None
            clm = self.query_one("#clm-auth-server", Input).value.strip() or None
            environment = check(
                "environment-message",
                lambda: self._environment(environment_name, auth, clm),
            )
        key = check(
            "integration-key-message",
            lambda: validate_integration_key(self.query_one("#integration-key", Input).value),
        )
        secret = check(
            "secret-key-message",
            lambda: validate_secret_key(
                self.query_one("#secret-key", SecretInput).value, str(key) if key else None
            ),
        )
        redirect_uri = self.query_one("#redirect-uri", Input).value.strip()
        check("redirect-uri-message", lambda: parse_redirect_uri(redirect_uri))
        rsa_key = check("jwt-message", self._read_rsa_key)
        if problems:
            for message_id, error in problems:
                self.query_one(f"#{message_id}", FieldMessage).show_error(error)
            if any(message_id == "redirect-uri-message" for message_id, _ in problems):
                self.query_one("#advanced", Collapsible).collapsed = False
            return
        changed = (draft.integration_key, draft.environment, draft.redirect_uri) != (
            key,
            environment,
            redirect_uri,
        )
        draft.profile_name = str(name)
        assert isinstance(environment, Environment)
        draft.environment = environment
        draft.integration_key = str(key)
        draft.secret_key = str(secret)
        draft.redirect_uri = redirect_uri
        draft.use_pkce = self.query_one("#pkce", TextCheckbox).value
        draft.jwt_user_id = self.query_one("#jwt-user", Input).value.strip()
        draft.rsa_private_key = str(rsa_key or "")
        if changed:
            draft.forget_sign_in()
        from clmwizard.flow import Next

        self.answer(Next())

    @staticmethod
    def _environment(name: str, auth: str | None, clm: str | None) -> Environment:
        from clmwizard.docusign.environments import resolve_environment

        if name != "custom":
            return resolve_environment(name)
        if not auth:
            raise UsageError(
                "Enter the OAuth server of the custom environment.",
                fix="For the emulator: the auth_server it printed, e.g. http://127.0.0.1:8765.",
                field="environment",
            )
        return resolve_environment(auth_server=auth, clm_auth_server=clm)

    def _read_rsa_key(self) -> str:
        from clmwizard.redact import register_secret

        path_text = self.query_one("#rsa-key-file", Input).value.strip()
        if not path_text:
            return ""
        demo = self.wizard.context.demo
        if demo is not None and path_text == self.DEMO_RSA_KEY:
            pem = demo.jwt_private_key()
            register_secret(pem)
            return pem
        path = Path(path_text).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(
                f"The RSA key file {path} cannot be read ({error.strerror}).",
                fix="Check the path; the key goes into the keyring, the file is left as it is.",
                field="rsa_private_key",
            ) from None
        if "PRIVATE KEY-----" not in text:
            raise UsageError(
                f"{path} does not look like an RSA private key (no PEM header).",
                fix="Use the private key DocuSign showed when you generated the RSA key pair.",
                field="rsa_private_key",
            )
        register_secret(text.strip())
        return text.strip()
