"""A text marker on the focused field, readable without colour (NO_COLOR, monochrome, plain
text captures): the field's label reads "› Folder" while the field has focus.

The field itself shows a heavier bar (wizard.tcss) and a list's highlighted item its own "›"
(widgets/toggles.py); this marks which field the bar belongs to in words.
"""

from __future__ import annotations

from typing import Any

from textual.widget import Widget
from textual.widgets import Button, Label

MARK = "› "
LABEL_CLASS = "field-label"


def field_label(widget: Widget) -> Label | None:
    """The `field-label` Label just above `widget` among its siblings (None when another widget
    that takes focus comes between, or there is none)."""
    parent = widget.parent
    if parent is None:
        return None
    siblings = list(parent.children)
    for sibling in reversed(siblings[: siblings.index(widget)]):
        if isinstance(sibling, Label) and sibling.has_class(LABEL_CLASS):
            return sibling
        if sibling.focusable or any(child.focusable for child in sibling.query("*")):
            return None
    return None


def mark_focus(widget: Widget, focused: bool) -> None:
    """Put the marker on (or take it off) the label of `widget`, or of the field it sits in
    (a radio button's set)."""
    label = field_label(widget)
    if label is None and widget.parent is not None and isinstance(widget.parent, Widget):
        label = field_label(widget.parent)
    if label is None:
        return
    text = label.content
    if not isinstance(text, str):
        return
    bare = text.removeprefix(MARK)
    label.update(MARK + bare if focused else bare)
    label.set_class(focused, "-focused-field")


class MarkedButton(Button):
    """A button whose label reads "› Replace (y)" while it has focus: which button enter
    presses, without colour."""

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self._bare = label

    def on_focus(self) -> None:
        self.label = MARK + self._bare

    def on_blur(self) -> None:
        self.label = self._bare
