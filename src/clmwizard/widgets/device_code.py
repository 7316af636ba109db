"""Microsoft's device code, as every screen that signs in to Microsoft shows it.

Where to enter the code, the code, the keys (c copies it, o opens the page, a approves it in the
demo) and a clock: a spinner, the time spent waiting and the code's limit. Whatever else the
screen says (signing in, signed in, failed) takes its place through `say`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from time import monotonic
from typing import TYPE_CHECKING

from textual.timer import Timer
from textual.widgets import Static

from clmwizard.safe_text import markup_escaped as escape
from clmwizard.wait_clock import SPINNER, clock

if TYPE_CHECKING:
    from clmwizard.powerplatform.signin import DeviceCode
    from clmwizard.screens.base import Wizard


class DeviceCodePanel(Static):
    """The device code and its clock while Microsoft waits for the user; a line otherwise."""

    DEFAULT_CSS = "DeviceCodePanel { height: auto; }"

    def __init__(self, text: str = "", *, lead: str = "Open", id: str | None = None) -> None:
        super().__init__(text, id=id)
        self.lead = lead  # the words before the address ("Sign in to Microsoft: open")
        self.code: DeviceCode | None = None
        self.keys = ""
        self._started = 0.0
        self._limit = 0.0
        self._frame = 0
        self._timer: Timer | None = None

    def show_code(self, code: DeviceCode, *, demo: bool = False) -> None:
        """Show `code` and start its clock."""
        self.code = code
        self._started = monotonic()
        self._limit = (code.expires_at - datetime.now(UTC)).total_seconds()
        approve = " · a approves it as the demo user" if demo else ""
        self.keys = f"c copies the code · o opens the browser{approve}"
        self._frame = 0
        if self._timer is None:
            self._timer = self.set_interval(0.25, self._tick)
        else:
            self._timer.resume()
        self._render_code()

    def say(self, text: str) -> None:
        """Show `text` (markup: the caller escapes what a server sent) instead of a code."""
        self.code = None
        if self._timer is not None:
            self._timer.pause()
        self.update(text)

    def _tick(self) -> None:
        if self.code is not None:
            self._frame = (self._frame + 1) % len(SPINNER)
            self._render_code()

    def _render_code(self) -> None:
        code = self.code
        if code is None:
            return
        elapsed = monotonic() - self._started
        self.update(
            f"{self.lead} [b]{escape(code.verification_uri)}[/b] and enter the code "
            f"[b reverse] {escape(code.user_code)} [/b reverse]\n"
            f"{SPINNER[self._frame]} Waiting for you to sign in there… {clock(elapsed)} "
            f"of {clock(self._limit)} [dim](the code works until {code.expires_at:%H:%M} UTC)"
            f"[/dim]\n[dim]{self.keys}[/dim]"
        )

    # -- what the keys do (the screen binds them) -----------------------------------------------

    def copy_code(self, wizard: Wizard) -> None:
        if self.code is not None:
            wizard.copy_value("Code", self.code.user_code)

    def open_page(self, wizard: Wizard) -> str | None:
        """Open the sign-in page; a warning to show when no browser could be opened."""
        if self.code is None:
            return None
        url = self.code.verification_uri
        if wizard.context.open_browser(url):
            return None
        return f"No browser could be opened here: open {url} on any device."


def approve_demo_code(wizard: Wizard) -> None:
    """The demo only: approve the pending device code as the demo user (a thread worker's body;
    nothing pending any more is no error)."""
    demo = wizard.context.demo
    if demo is None or demo.approve_device_code is None:
        return
    try:
        demo.approve_device_code()
    except ValueError:
        return
