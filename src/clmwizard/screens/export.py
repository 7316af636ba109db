"""Step 7: write the connector bundle, then say what to do next."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from textual import on, work
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, RadioSet, Static

from clmwizard.errors import ClmWizardError
from clmwizard.safe_text import markup_escaped as escape
from clmwizard.screens.base import WizardScreen
from clmwizard.screens.dialogs import ConfirmDialog
from clmwizard.screens.guard import guarded
from clmwizard.store.profile import Profile
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.toggles import TextRadioButton, TextRadioSet

LAYOUTS = (
    ("single", "One connector (uploads and downloads routed to their hosts)"),
    ("three", "Three connectors, one per CLM host (general, upload, download)"),
)
# The chosen layout in one line with its cost.
LAYOUT_WORDS = {
    "three": "three connectors — three redirect URLs to register, three sign-ins per user",
    "single": "one connector — one redirect URL to register, one sign-in per user",
}


def clock_time() -> str:
    return datetime.now().strftime("%H:%M:%S")


def shown_path(path: Path) -> Path:
    """A path relative to the working folder when it lies inside it: shorter to read and type."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


class ExportScreen(WizardScreen):
    STEP = "Export"
    BINDINGS = [
        Binding("ctrl+s", "export", "export", key_display="⏎/^s"),
        Binding("enter", "export", "export", show=False),
        Binding("ctrl+p", "publish", "publish (optional)"),
        Binding("ctrl+q", "app.quit", "quit"),
    ]

    def __init__(self, profile: Profile) -> None:
        super().__init__()
        self.profile = profile

    def compose_body(self) -> Iterable[Widget]:
        from clmwizard.connector.bundle import default_export_dir
        from clmwizard.connector.swagger import connector_name
        from clmwizard.store.profile import profile_layout

        layout = profile_layout(self.profile)
        with Vertical(classes="form"):
            yield Label("Folder", classes="field-label")
            yield Input(str(shown_path(default_export_dir(self.profile))), id="out-dir")
            yield FieldMessage(id="out-message")
            yield Label("Connector name in Power Automate", classes="field-label")
            yield Input(connector_name(self.profile), id="connector-name")
            yield FieldMessage(id="name-message")
            yield Label("Layout", classes="field-label")
            with TextRadioSet(id="layout"):
                for name, label in LAYOUTS:
                    yield TextRadioButton(label, value=name == layout, name=name)
            yield Static(
                f"Layout: {LAYOUT_WORDS[layout]}", id="layout-choice", classes="choice-echo"
            )
        yield Static(
            "  Press [b]enter[/b] to write the bundle. No secret goes into it.",
            id="export-hint",
        )
        yield Static("", id="export-result")

    def on_mount(self) -> None:
        self.query_one("#out-dir", Input).focus()

    def _layout(self) -> str:
        return self.query_one("#layout", TextRadioSet).chosen_name or "single"

    @on(RadioSet.Changed, "#layout")
    def _layout_chosen(self) -> None:
        layout = self._layout()
        self.profile.layout = layout  # type: ignore[assignment]  # Fields and Publish follow it
        self.query_one("#layout-choice", Static).update(f"Layout: {LAYOUT_WORDS[layout]}")

    @on(Input.Submitted, "#connector-name")
    def _name_submitted(self) -> None:
        self.action_export()

    def action_publish(self) -> None:
        """On to Publish (optional: esc there comes back)."""
        from clmwizard.flow import Next

        self.answer(Next())

    @on(Input.Submitted, "#out-dir")
    def action_export(self) -> None:
        self._export(force=False)

    @work(exclusive=True, group="export")
    @guarded("#out-message")
    async def _export(self, *, force: bool) -> None:
        from clmwizard.connector.bundle import export_bundle
        from clmwizard.connector.swagger import check_connector_name

        out_text = self.query_one("#out-dir", Input).value.strip()
        layout = self._layout()
        message = self.query_one("#out-message", FieldMessage)
        name_message = self.query_one("#name-message", FieldMessage)
        if not out_text:
            message.show_error("Choose a folder to write to.")
            return
        try:
            name = check_connector_name(self.query_one("#connector-name", Input).value)
        except ClmWizardError as error:
            name_message.show_error(error)
            self.query_one("#connector-name", Input).focus()
            return
        name_message.clear()
        self.profile.connector_name = name
        out_dir = Path(out_text).expanduser()
        try:
            result = await asyncio.to_thread(
                export_bundle,
                self.profile,
                out_dir,
                layout=layout,  # type: ignore[arg-type]
                force=force,
            )
        except ClmWizardError as error:
            if error.code == "out_not_empty" and not force:
                self._ask_overwrite(out_dir, error.what)
            else:
                message.show_error(error)
            return
        await asyncio.to_thread(self._record_export, out_dir, layout, name)
        self._show_result(result)

    def _record_export(self, out_dir: Path, layout: str, name: str) -> None:
        """Blocking (the profile file): run in a thread. Remembers the layout and the name."""
        from clmwizard.draft import now_utc
        from clmwizard.store.profile import ExportRecord

        record = ExportRecord(path=str(out_dir.resolve()), layout=layout, at=now_utc())  # type: ignore[arg-type]

        def remember(profile: Profile) -> None:
            profile.exports.append(record)
            profile.layout = record.layout
            profile.connector_name = name

        # The bundle is written; a failed history entry must not turn that into an error.
        with contextlib.suppress(ClmWizardError):
            self.wizard.context.profiles.update(self.profile.name, remember)

    def _ask_overwrite(self, out_dir: Path, found: str) -> None:
        self.confirm(
            ConfirmDialog(
                f"{found} Replace it?",
                "The old contents are removed only after the new bundle is written in full.",
                yes="Replace",
            ),
            lambda: self._export(force=True),
            lambda: self.query_one("#out-message", FieldMessage).show_note(
                f"Kept {out_dir} as it was; nothing was written. Choose another folder, "
                "or press enter again to replace it."
            ),
        )

    def _show_result(self, result: object) -> None:
        self.query_one("#export-hint", Static).update(
            "  Written. Press [b]enter[/b] again to rewrite it (it asks before replacing)."
        )
        from clmwizard.connector.bundle import ExportResult

        assert isinstance(result, ExportResult)
        out_dir = written_folder(result.out_dir)
        at = clock_time()
        self.query_one("#out-message", FieldMessage).show_ok(
            f"Wrote {len(result.files)} files at {at} ({result.layout} layout) to\n{out_dir}"
        )
        name = self.profile.name
        first = result.connectors[0]
        if self.wizard.context.demo is not None:
            secret_hint = "(in the demo the secret is the emulator's test value: r on Fields)"
        else:
            secret_hint = f"(the secret: clmwizard credentials --profile {name} --copy secret_key)"
        # Short lines, each a whole command or a continued one: a line wrapped by the terminal
        # at 80 columns cannot be copied and pasted as it is.
        commands = "\n".join(
            f"       {line}"
            for line in (
                f"cd {escape(shlex.quote(str(out_dir / first)))}",
                "paconn create --api-def apiDefinition.swagger.json \\",
                "  --api-prop apiProperties.json --icon icon.png --secret …",
                secret_hint,
            )
        )
        plural = "s" if len(result.connectors) > 1 else ""
        self.query_one("#export-result", Static).update(
            "\n[b]Next steps[/b]\n"
            f"  1. Create the connector{plural}, e.g. for {escape(first)}:\n"
            f"{commands}\n"
            "  2. In Power Automate, open the connector's Security tab, copy its Redirect URL and "
            "add it to your integration key's redirect URIs in DocuSign (Apps and Keys).\n"
            "  3. Connect and keep it alive (once published): the wizard's Connect and Heartbeat "
            f"steps, or [b]clmwizard connect / heartbeat / status --profile {escape(name)}[/b].\n"
            f"  [dim]Everything is in {escape(str(out_dir / 'README.md'))}[/dim]\n"
            "  Or let clmwizard do steps 1 and 2: [b]ctrl+p[/b] publishes to Power Automate "
            "(optional). [dim]esc back · ctrl+q quit[/dim]"
        )
        # At 80×24 the steps are below the fold: bring them into view.
        steps = self.query_one("#export-result", Static)
        self.call_after_refresh(steps.scroll_visible, animate=False)


def written_folder(path: Path) -> Path:
    """The folder a bundle went to, absolute: the one to find it in, from any folder."""
    return path.expanduser().resolve()
