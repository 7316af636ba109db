"""Step 6: every value the Power Automate portal asks for, connector by connector, tab by tab."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from textual import work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from clmwizard.connector.fields import ActionDefinition, FieldValue, connector_fields
from clmwizard.errors import ClmWizardError
from clmwizard.screens.base import WizardScreen
from clmwizard.screens.guard import guarded
from clmwizard.store.profile import (
    CONNECTOR_NAMES,
    SINGLE_FOLDER,
    BundleFolder,
    Layout,
    Profile,
    layout_folders,
    profile_layout,
)
from clmwizard.widgets.copy_table import CopyItem, CopyTable
from clmwizard.widgets.field_message import FieldMessage

TABS = ("General", "Security", "Definition")
# The layout in one line with its cost, and the key that changes it.
LAYOUT_LINES: dict[Layout, str] = {
    "single": "Layout: one connector (one redirect URL, one sign-in per user) · [b]^l[/b] three",
    "three": "Layout: three connectors (three redirect URLs, three sign-ins) · [b]^l[/b] one",
}


class FieldsScreen(WizardScreen):
    STEP = "Fields"
    BINDINGS = [
        Binding("left", "connector(-1)", "connector", key_display="←/→"),
        Binding("right", "connector(1)", "connector", show=False),
        # Named on the layout line; not a letter: the copy keys use every letter but r.
        Binding("ctrl+l", "layout", "layout", show=False),
        Binding("tab", "tab(1)", "next tab", priority=True),
        Binding("shift+tab", "tab(-1)", "previous tab", show=False, priority=True),
        Binding("r", "reveal", "reveal"),
        Binding("enter", "export", "export"),
        Binding("1", "copy('1')", "copy/open", key_display="1–9…"),
        *(Binding(key, f"copy('{key}')", show=False) for key in CopyTable.HOTKEYS[1:]),
    ]

    def __init__(self, profile: Profile) -> None:
        super().__init__()
        self.profile = profile
        self.connector: BundleFolder = layout_folders(profile_layout(profile))[0]
        self.tab = "Security"
        self.client_secret: str | None = None
        self.revealed = False

    def compose_body(self) -> Iterable[Widget]:
        yield Static("", id="layout-line")
        yield Static("", id="selector")
        yield FieldMessage(id="host-warning")
        yield CopyTable([], id="field-table")
        yield FieldMessage(id="fields-message")

    def on_mount(self) -> None:
        draft_secret = self.wizard.draft.secret_key
        if draft_secret:
            self.client_secret = draft_secret
        else:
            self._load_secret()
        self._render_table()

    @work(exclusive=True, group="keyring")
    @guarded("#fields-message")
    async def _load_secret(self) -> None:
        self.client_secret = await self.stored_secret_key(self.profile.name)
        self._render_table()

    def _items(self) -> list[CopyItem]:
        if self.tab == "Definition":
            return [
                CopyItem(
                    key=action.operation_id,
                    label=action.summary,
                    value=f"{action.verb} {action.url}",
                    note=action.operation_id,
                    verb="open",
                )
                for action in self._actions()
            ]
        values: list[FieldValue] = connector_fields(
            self.profile, self.connector, self.client_secret
        )
        return [
            CopyItem(
                key=value.key,
                label=value.label,
                value=value.value,
                secret=value.secret,
                note=value.note,
                copyable=bool(value.value) and value.key != "redirect_url",
            )
            for value in values
            if value.tab == self.tab
        ]

    def _actions(self) -> list[ActionDefinition]:
        from clmwizard.connector.fields import action_definitions

        return action_definitions(self.profile, self.connector)

    @property
    def connectors(self) -> tuple[BundleFolder, ...]:
        return layout_folders(profile_layout(self.profile))

    def _render_table(self) -> None:
        # The chosen connector and tab read without colour too: ›name‹ besides the reverse video.
        connectors = "  ".join(
            f"[reverse b]›{name}‹[/]" if name == self.connector else f" {name} "
            for name in self.connectors
        )
        tabs = "  ".join(
            f"[reverse b]›{tab}‹[/]" if tab == self.tab else f" {tab} " for tab in TABS
        )
        self.query_one("#layout-line", Static).update(LAYOUT_LINES[profile_layout(self.profile)])
        self.query_one("#selector", Static).update(f"{connectors}  [dim]│[/dim]  {tabs}")
        self.query_one("#field-table", CopyTable).set_items(self._items())
        self._show_host_warning()

    def _show_host_warning(self) -> None:
        """A CLM host outside DocuSign's domains, said in text beside the connector's fields."""
        from clmwizard.docusign.hosts import host_warning

        message = self.query_one("#host-warning", FieldMessage)
        hosts = self.profile.clm_hosts
        names = CONNECTOR_NAMES if self.connector == SINGLE_FOLDER else (self.connector,)
        warnings = (
            [
                host_warning(hosts.for_connector(name), self.profile.confirmed_hosts)
                for name in names
            ]
            if hosts is not None
            else []
        )
        warning = " ".join(dict.fromkeys(w for w in warnings if w))
        if warning:
            message.show_warning(warning)
        else:
            message.clear()

    def action_connector(self, step: int) -> None:
        connectors = self.connectors
        index = (connectors.index(self.connector) + step) % len(connectors)
        self.connector = connectors[index]
        self._render_table()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # One connector: nothing to switch to (and no footer entry).
        return not (action == "connector" and len(self.connectors) == 1)

    def action_layout(self) -> None:
        """One connector ⇄ three: what Export and Publish make too (saved with the profile)."""
        layout: Layout = "three" if profile_layout(self.profile) == "single" else "single"
        self.profile.layout = layout
        self.connector = self.connectors[0]
        self._save_layout(layout)
        self.refresh_bindings()
        self._render_table()

    @work(group="profile-layout")
    async def _save_layout(self, layout: Layout) -> None:
        def save(profile: Profile) -> None:
            profile.layout = layout

        try:
            await asyncio.to_thread(self.wizard.context.profiles.update, self.profile.name, save)
        except ClmWizardError as error:
            self.query_one("#fields-message", FieldMessage).show_error(error)

    def action_tab(self, step: int) -> None:
        self.tab = TABS[(TABS.index(self.tab) + step) % len(TABS)]
        self._render_table()

    def action_reveal(self) -> None:
        self.revealed = not self.revealed
        self.query_one("#field-table", CopyTable).set_revealed(self.revealed)

    def action_copy(self, hotkey: str) -> None:
        item = self.query_one("#field-table", CopyTable).item_for_hotkey(hotkey)
        if item is None:
            return
        if self.tab == "Definition":
            from clmwizard.screens.dialogs import ActionValuesDialog

            action = next(a for a in self._actions() if a.operation_id == item.key)
            self.app.push_screen(ActionValuesDialog(action))
        else:
            self.wizard.copy_value(item.label, item.value, secret=item.secret)

    def action_export(self) -> None:
        from clmwizard.flow import Next

        self.answer(Next())
