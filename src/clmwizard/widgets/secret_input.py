"""An Input for secrets: masked until revealed, Ctrl+C / Ctrl+X never copy its text, and its
messages never show the text in Textual's log.

Textual logs every message it dispatches (to TEXTUAL_LOG and the devtools console) by its repr:
`Input.Changed`, `Submitted` and `Blurred` carry the whole value, each `Key` one typed
character, a `Paste` the pasted text. A SecretInput posts Changed / Submitted / Blurred
subclasses whose repr hides the value, and turns the Key and Paste events it receives into
subclasses that do the same, before they are logged.
Handlers see the same classes (subclasses, same handler names) and the same values.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar, cast

from textual import events
from textual.message import Message
from textual.widgets import Input

HIDDEN = "<hidden>"
M = TypeVar("M", bound=Message)


def _hidden_repr(message: Message) -> str:
    return f"{type(message).__mro__[1].__name__}(<secret input: value {HIDDEN}>)"


def _hidden(original: type[M]) -> type[M]:
    """A subclass of message class `original` whose repr and str hide the value. Textual names
    handlers after the class: it keeps the original's handler name and namespace."""
    hidden = cast(
        "type[M]",
        type(
            f"_Hidden{original.__name__}",
            (original,),
            {"__slots__": (), "__repr__": _hidden_repr, "__str__": _hidden_repr},
        ),
    )
    hidden.handler_name = original.handler_name
    hidden.namespace = original.namespace
    return hidden


_QUIET_EVENTS: dict[type[Message], type[Message]] = {
    events.Key: _hidden(events.Key),
    events.Paste: _hidden(events.Paste),
}


class SecretInput(Input):
    Changed: ClassVar[type[Input.Changed]] = _hidden(Input.Changed)
    Submitted: ClassVar[type[Input.Submitted]] = _hidden(Input.Submitted)
    Blurred: ClassVar[type[Input.Blurred]] = _hidden(Input.Blurred)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(password=True, **kwargs)  # type: ignore[arg-type]

    async def _on_message(self, message: Message) -> None:
        quiet = _QUIET_EVENTS.get(type(message))
        if quiet is not None:
            message.__class__ = quiet
        await super()._on_message(message)

    def toggle_reveal(self) -> None:
        self.password = not self.password

    def action_copy(self) -> None:
        self._refuse_copy()

    def action_cut(self) -> None:
        self._refuse_copy()

    def _refuse_copy(self) -> None:
        self.app.notify(
            "Secrets are not copied from the input. Use the copy keys on the fields screen: "
            "they clear the clipboard after a short time.",
            severity="warning",
        )
