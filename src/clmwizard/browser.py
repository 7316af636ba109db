"""Opening the consent URL: which browser, and whether it can finish a DocuSign sign-in.

One place for the CLI, the wizard and `doctor`. `$BROWSER` is read at each call (Python's
webbrowser caches its first choice for the life of the process).
"""

from __future__ import annotations

import os
import shutil
import webbrowser
from dataclasses import dataclass
from typing import Literal

# Console browsers cannot run DocuSign's sign-in page (it needs JavaScript), and inside the
# wizard they would take over the terminal.
TEXT_BROWSERS = frozenset({"w3m", "lynx", "links", "links2", "elinks", "www-browser", "browsh"})


@dataclass(frozen=True)
class BrowserOutcome:
    status: Literal["opened", "none", "text", "failed"]
    name: str = ""

    @property
    def opened(self) -> bool:
        return self.status == "opened"

    def advice(self) -> str:
        """What to tell the user when the browser did not open."""
        if self.status == "none":
            return "No web browser was found here."
        if self.status == "text":
            return (
                f"The browser here is {self.name}, a text browser that cannot finish DocuSign's "
                "consent."
            )
        if self.status == "failed":
            return f"The browser ({self.name or 'default'}) could not be started."
        return ""


def current_browser() -> webbrowser.BaseBrowser | None:
    """The browser $BROWSER names now, else webbrowser's default, else None."""
    for entry in os.environ.get("BROWSER", "").split(os.pathsep):
        if entry.strip():
            try:
                return webbrowser.get(entry.strip())
            except webbrowser.Error:
                continue
    try:
        return webbrowser.get()
    except webbrowser.Error:
        return None


def browser_name(browser: webbrowser.BaseBrowser) -> str:
    return str(getattr(browser, "name", "") or type(browser).__name__)


def is_text_browser(command: str) -> bool:
    """True for w3m, lynx and the like, also behind a symlink such as www-browser."""
    first = command.split()[0] if command.split() else command
    names = {os.path.basename(first)}
    found = shutil.which(first)
    if found:
        names.add(os.path.basename(os.path.realpath(found)))
    return bool(names & TEXT_BROWSERS)


def open_in_browser(url: str) -> BrowserOutcome:
    """Open `url` in a graphical browser. Blocking (a $BROWSER command may wait): use a thread."""
    browser = current_browser()
    if browser is None:
        return BrowserOutcome("none")
    name = browser_name(browser)
    if is_text_browser(name):
        return BrowserOutcome("text", os.path.basename(name.split()[0]))
    try:
        opened = browser.open(url, new=2)
    except Exception:  # a broken $BROWSER must not end the sign-in
        opened = False
    return BrowserOutcome("opened" if opened else "failed", name)
