"""Radio buttons, checkboxes and selection lists whose state reads as text, not only as colour.

Textual draws the same glyph on and off and tells them apart by shade, so in a monochrome
terminal, under NO_COLOR or through a screen reader every option looks chosen. These draw
`(•)` / `( )` and `[x]` / `[ ]`.

Only space (or a click) changes a choice; arrows move the highlight. `enter` is left to the
screen, where it means "next" (Textual's own widgets take it to toggle).
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.events import Mount
from textual.strip import Strip
from textual.widgets import Checkbox, OptionList, RadioButton, RadioSet, SelectionList
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import Option, OptionDoesNotExist
from textual.widgets.selection_list import Selection

RADIO_ON, RADIO_OFF = "(•)", "( )"
CHECK_ON, CHECK_OFF = "[x]", "[ ]"
# Before the highlighted item of the focused list: where arrows and space act, without colour.
CURSOR, NO_CURSOR = "›", " "

T = TypeVar("T")


MOVE = "↑↓"
CHOOSE = "choose"


class _TextToggle(ToggleButton, inherit_bindings=False):
    """Drawn BUTTON_INNER when on and BUTTON_OFF when off; space toggles, enter is the screen's."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("space", "toggle_button", CHOOSE)]

    BUTTON_LEFT = ""
    BUTTON_RIGHT = ""
    BUTTON_OFF = ""

    @property
    def _button(self) -> Content:
        marker = self.BUTTON_INNER if self.value else self.BUTTON_OFF
        return Content.styled(marker, self.get_visual_style("toggle--button"))


class TextRadioButton(RadioButton, _TextToggle):
    """A radio button drawn `(•)` when chosen and `( )` when not, after `›` while it is the
    highlighted button of a focused set."""

    BUTTON_INNER, BUTTON_OFF = RADIO_ON, RADIO_OFF

    @property
    def _button(self) -> Content:
        marked = isinstance(self.parent, RadioSet) and self.parent.has_focus
        cursor = CURSOR if marked and self.has_class("-selected") else NO_CURSOR
        return Content(cursor) + super()._button


class TextCheckbox(Checkbox, _TextToggle):
    """A checkbox drawn `[x]` when ticked and `[ ]` when not; space ticks, enter does not."""

    BUTTON_INNER, BUTTON_OFF = CHECK_ON, CHECK_OFF


class TextRadioSet(RadioSet, inherit_bindings=False):
    """A radio set of TextRadioButtons whose highlight starts on the chosen button (Textual's
    starts on the first); arrows move it, space chooses, enter is the screen's."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "next_button", "move", key_display=MOVE),
        # One key_display for all arrows: the help dialog (keys_help.key_rows) lists them once.
        Binding("right", "next_button", "move", key_display=MOVE, show=False),
        Binding("up,left", "previous_button", "move", key_display=MOVE, show=False),
        Binding("space", "toggle_button", CHOOSE),
    ]

    def _on_mount(self, _: Mount) -> None:
        # RadioSet's own mount handler runs after this one and highlights the first button.
        self.call_next(self.highlight_chosen)

    def on_focus(self) -> None:
        self.query(RadioButton).refresh()  # the › cursor comes with focus

    def on_blur(self) -> None:
        self.query(RadioButton).refresh()

    def watch__selected(self) -> None:
        super().watch__selected()
        self.query(RadioButton).refresh()

    def highlight_chosen(self) -> None:
        """Move the highlight onto the chosen button (when one is chosen)."""
        for index, button in enumerate(self.query(RadioButton)):
            if button.value:
                self._selected = index
                return

    @property
    def chosen_name(self) -> str | None:
        """The `name` of the chosen button, read from the buttons (current even before the
        set has processed a change)."""
        return next((b.name for b in self.query(RadioButton) if b.value), None)

    def choose(self, name: str | None) -> None:
        """Choose the button named `name` (None: none) without posting RadioSet.Changed, and
        move the highlight there: for a choice the program makes, not the user."""
        self._pressed_button = None
        with self.prevent(RadioSet.Changed, RadioButton.Changed):
            for button in self.query(RadioButton):
                button.value = button.name == name
                if button.value:
                    self._pressed_button = button
        self.highlight_chosen()


class LinesSelection(Selection[T], Generic[T]):
    """A selection whose prompt may span several lines (Textual's Selection keeps the first)."""

    def __init__(self, prompt: Text | str, value: T, initial_state: bool = False) -> None:
        super().__init__(prompt, value, initial_state)
        Option.__init__(self, Content.from_text(prompt))


class TextSelectionList(SelectionList[T], Generic[T], inherit_bindings=False):
    """A selection list whose items start with `[x]` when selected and `[ ]` when not; space
    ticks, arrows move, enter is the screen's."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor_down", "move", key_display=MOVE),
        Binding("up", "cursor_up", "move", key_display=MOVE, show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("space", "select", CHOOSE),
    ]

    def _get_left_gutter_width(self) -> int:
        return len(CURSOR) + len(CHECK_ON) + 1

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)
        try:  # an option may wrap over several lines: the marker goes on its first
            index, line_offset = self._lines[self.scroll_offset.y + y]
            selection = self.get_option_at_index(index)
        except (IndexError, OptionDoesNotExist):
            return line
        underlying = next(iter(line)).style or self.rich_style
        click = Style(meta={"option": index})  # a click on the marker toggles, as on the text
        if line_offset:
            return Strip(
                [Segment(" " * self._get_left_gutter_width(), style=underlying + click), *line]
            )
        chosen = selection.value in self._selected
        style_name = "selection-list--button" + ("-selected" if chosen else "")
        if self.highlighted == index:
            style_name += "-highlighted"
        marker_style = self.get_component_rich_style(style_name)
        cursor = CURSOR if self.has_focus and self.highlighted == index else NO_CURSOR
        return Strip(
            [
                Segment(cursor, style=underlying + click),
                Segment(CHECK_ON if chosen else CHECK_OFF, style=underlying + marker_style + click),
                Segment(" ", style=underlying + click),
                *line,
            ]
        )


class TextOptionList(OptionList):
    """An option list whose highlighted option starts with `›` while the list has focus."""

    def _get_left_gutter_width(self) -> int:
        return len(CURSOR) + 1

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        try:
            index, line_offset = self._lines[self.scroll_offset.y + y]
        except IndexError:
            return line
        underlying = next(iter(line)).style or self.rich_style
        marked = not line_offset and self.has_focus and self.highlighted == index
        gutter = (CURSOR if marked else NO_CURSOR) + " "
        return Strip([Segment(gutter, style=underlying), *line])

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
