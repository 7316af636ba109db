"""Radio buttons, checkboxes and selection lists whose state reads as text, not only as colour.

Textual draws the same glyph on and off and tells them apart by shade, so in a monochrome
terminal, under NO_COLOR or through a screen reader every option looks chosen. These draw
`(•)` / `( )` and `[x]` / `[ ]`.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, OptionList, RadioButton, SelectionList
from textual.widgets.option_list import OptionDoesNotExist

RADIO_ON, RADIO_OFF = "(•)", "( )"
CHECK_ON, CHECK_OFF = "[x]", "[ ]"

T = TypeVar("T")


def _marker(button: RadioButton | Checkbox, on: str, off: str) -> Content:
    return Content.styled(on if button.value else off, button.get_visual_style("toggle--button"))


class TextRadioButton(RadioButton):
    """A radio button drawn `(•)` when chosen and `( )` when not."""

    BUTTON_LEFT = ""
    BUTTON_INNER = RADIO_ON
    BUTTON_RIGHT = ""

    @property
    def _button(self) -> Content:
        return _marker(self, RADIO_ON, RADIO_OFF)


class TextCheckbox(Checkbox):
    """A checkbox drawn `[x]` when ticked and `[ ]` when not."""

    BUTTON_LEFT = ""
    BUTTON_INNER = CHECK_ON
    BUTTON_RIGHT = ""

    @property
    def _button(self) -> Content:
        return _marker(self, CHECK_ON, CHECK_OFF)


class TextSelectionList(SelectionList[T], Generic[T]):
    """A selection list whose items start with `[x]` when selected and `[ ]` when not."""

    def _get_left_gutter_width(self) -> int:
        return len(CHECK_ON) + 1

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)
        _, scroll_y = self.scroll_offset
        index = scroll_y + y
        try:
            selection = self.get_option_at_index(index)
        except OptionDoesNotExist:
            return line
        chosen = selection.value in self._selected
        style_name = "selection-list--button" + ("-selected" if chosen else "")
        if self.highlighted == index:
            style_name += "-highlighted"
        underlying = next(iter(line)).style or self.rich_style
        marker_style = self.get_component_rich_style(style_name)
        click = Style(meta={"option": index})  # a click on the marker toggles, as on the text
        return Strip(
            [
                Segment(CHECK_ON if chosen else CHECK_OFF, style=underlying + marker_style + click),
                Segment(" ", style=underlying + click),
                *line,
            ]
        )
