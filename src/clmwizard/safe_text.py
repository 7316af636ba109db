"""Server-provided text made safe to show: control characters and escape sequences made visible.

A user or account name, an `error_description` or a discovery value comes from a server and
may carry terminal escape sequences (OSC 52 sets the clipboard, OSC 0 retitles the terminal,
CSI moves the cursor) or bidi overrides that reorder what is shown. `visible` turns every such
character into a visible stand-in, so the text is shown, never obeyed. `markup_escaped` also
keeps Textual/Rich markup in the text from being interpreted. No Textual or rich import here.
"""

from __future__ import annotations

import io
import re
from typing import TextIO

# Bidi embeddings, overrides and isolates, marks, and line/paragraph separators.
_FORMATTING = frozenset(
    [0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
_C0_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)}  # ␀ … ␛ … ␟
_DEL_PICTURE = "\u2421"  # ␡
_TRAILING_BACKSLASHES = re.compile(r"\\+$")


def _stand_in(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return _C0_PICTURES[code]
    if code == 0x7F:
        return _DEL_PICTURE
    if 0x80 <= code <= 0x9F:
        return f"\\x{code:02x}"
    return f"<U+{code:04X}>"


def _is_unsafe(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F or code in _FORMATTING


def visible(
    text: object, *, keep_newlines: bool = False, keep_tabs: bool = False, limit: int | None = None
) -> str:
    """`text` with every control character, escape sequence and bidi control made visible.

    ESC becomes ␛ (so `ESC ] 52 ; c ; … BEL` shows as `␛]52;c;…␇`), other C0 controls their
    control pictures, DEL ␡, C1 controls `\\x9b`, bidi controls `<U+202E>`. With
    `keep_newlines`, "\\n" stays (for multi-line messages), with `keep_tabs` "\\t". `limit`
    cuts long text with "…".
    """
    kept = ("\n" if keep_newlines else "") + ("\t" if keep_tabs else "")
    value = str(text)
    if limit is not None and len(value) > limit:
        value = value[: max(limit - 1, 0)] + "…"
    if not any(_is_unsafe(char) for char in value):
        return value
    return "".join(
        char if not _is_unsafe(char) or char in kept else _stand_in(char) for char in value
    )


def markup_escaped(text: object, *, keep_newlines: bool = False) -> str:
    """`visible(text)` escaped for insertion into Textual (or Rich) markup.

    Every "[" is escaped (Textual's own `escape` leaves `[$var]` and `[ …]` alone), and a
    trailing backslash is kept from escaping the markup that follows.
    """
    value = visible(text, keep_newlines=keep_newlines).replace("[", "\\[")
    return _TRAILING_BACKSLASHES.sub(lambda match: match.group(0) + "\u200b", value)


class VisibleWriter(io.TextIOBase):
    """A text stream that writes through `visible` (newlines and tabs kept) to another one.

    The CLI writes its output through it, so no string from a server reaches the terminal raw,
    whichever print it takes.
    """

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self._target = target

    def write(self, text: str) -> int:
        self._target.write(visible(text, keep_newlines=True, keep_tabs=True))
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return self._target.isatty()

    def fileno(self) -> int:
        return self._target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._target, "encoding", "utf-8") or "utf-8"

    @property
    def target(self) -> TextIO:
        return self._target
