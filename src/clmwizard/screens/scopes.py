"""Step 2: which scopes to ask for — presets, or a checklist with each scope's purpose."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Label, RadioSet, SelectionList, Static

from clmwizard.docusign.scopes import CATALOGUE, PRESETS, Scope, scope_warnings
from clmwizard.screens.base import WizardScreen
from clmwizard.widgets.field_message import FieldMessage
from clmwizard.widgets.toggles import (
    LinesSelection,
    TextRadioButton,
    TextRadioSet,
    TextSelectionList,
)

CUSTOM = "custom"
CUSTOM_DESCRIPTION = "Custom: tick the scopes below."


def scopes_words(scopes: list[str]) -> str:
    """The choice in words: "Scopes: 4 chosen, extended kept"."""
    count = f"{len(scopes)} chosen" if scopes else "none chosen"
    extended = "extended kept" if "extended" in scopes else "extended NOT chosen"
    return f"Scopes: {count}, {extended}"


NAME_WIDTH = 22
PURPOSE_WIDTH = 47  # what fits beside the name (and the › cursor) at 80 columns


def _scope_row(scope: Scope) -> Text:
    """The scope's name, then its purpose wrapped under itself (never cut at 80 columns)."""
    import textwrap

    purpose = scope.purpose + (" (unconfirmed)" if scope.unconfirmed else "")
    lines = textwrap.wrap(purpose, PURPOSE_WIDTH) or [""]
    indent = "\n" + " " * (NAME_WIDTH + 1)
    return Text(f"{scope.name:<{NAME_WIDTH}} " + indent.join(lines))


class ScopesScreen(WizardScreen):
    STEP = "Scopes"
    BINDINGS = [
        Binding("enter", "next", "next"),
        Binding("ctrl+n", "next", "next", show=False),
    ]

    def compose_body(self) -> Iterable[Widget]:
        chosen = set(self.wizard.draft.scopes)
        preset_key = self._preset_for(chosen)
        yield Label("Preset", classes="field-label")
        with TextRadioSet(id="preset"):
            for preset in PRESETS:
                yield TextRadioButton(preset.label, value=preset.key == preset_key, name=preset.key)
            yield TextRadioButton(
                "Custom: tick scopes below", value=preset_key == CUSTOM, name=CUSTOM
            )
        yield FieldMessage(id="scopes-message")
        yield Label("Scopes", classes="field-label")
        yield Static("", id="scopes-choice", classes="choice-echo")
        yield TextSelectionList[str](
            *(
                LinesSelection(_scope_row(scope), scope.name, scope.name in chosen)
                for scope in CATALOGUE
            ),
            id="scopes",
        )

    def on_mount(self) -> None:
        self._show_warnings()
        self.query_one("#preset", TextRadioSet).focus()

    @staticmethod
    def _preset_for(scopes: set[str]) -> str:
        for preset in PRESETS:
            if set(preset.scopes) == scopes:
                return preset.key
        return CUSTOM

    @on(RadioSet.Changed, "#preset")
    def _preset_chosen(self, event: RadioSet.Changed) -> None:
        key = event.pressed.name
        preset = next((p for p in PRESETS if p.key == key), None)
        if preset is not None:
            selection = self.query_one("#scopes", TextSelectionList)
            with selection.prevent(SelectionList.SelectedChanged):
                selection.deselect_all()
                for name in preset.scopes:
                    selection.select(name)
            self.wizard.draft.scopes = list(preset.scopes)
        self._show_warnings()

    @on(SelectionList.SelectedChanged, "#scopes")
    def _scopes_ticked(self) -> None:
        from clmwizard.docusign.scopes import parse_scopes

        selected = self.query_one("#scopes", TextSelectionList).selected
        self.wizard.draft.scopes = parse_scopes(selected) if selected else []
        self.query_one("#preset", TextRadioSet).choose(
            self._preset_for(set(self.wizard.draft.scopes))
        )
        self._show_warnings()

    def _show_warnings(self) -> None:
        message = self.query_one("#scopes-message", FieldMessage)
        scopes = self.wizard.draft.scopes
        self.query_one("#scopes-choice", Static).update(Text(scopes_words(scopes)))
        if not scopes:
            message.show_error("Pick at least one scope.")
            return
        warnings = scope_warnings(scopes)
        chosen = self.query_one("#preset", TextRadioSet).chosen_name
        preset = next((p for p in PRESETS if p.key == chosen), None)
        summary = (preset.description if preset else CUSTOM_DESCRIPTION) + "\n  "
        if warnings:
            message.show_warning(summary + "\n  ".join(warnings))
        else:
            message.show_ok(summary + "Asking for: " + " ".join(scopes))

    def action_next(self) -> None:
        if not self.wizard.draft.scopes:
            self._show_warnings()
            return
        from clmwizard.flow import Next

        self.answer(Next())
