"""`python -m tests.qualities.security.textual_log_typer SECRET`: types SECRET into a
SecretInput (and pastes it into another) in a Pilot run, with whatever TEXTUAL_LOG the caller set,
and checks the handlers still saw the values."""

from __future__ import annotations

import asyncio
import sys

from textual import events, on
from textual.app import App, ComposeResult
from textual.widgets import Input

from clmwizard.widgets.secret_input import SecretInput


class Typer(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, str] = {}
        self.submitted = ""

    def compose(self) -> ComposeResult:
        yield SecretInput(id="typed")
        yield SecretInput(id="pasted")

    @on(Input.Changed)
    def changed(self, event: Input.Changed) -> None:
        self.seen[event.input.id or ""] = event.value

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.submitted = event.value


async def main(secret: str) -> None:
    app = Typer()
    async with app.run_test() as pilot:
        await pilot.click("#typed")
        await pilot.press(*secret, "enter")
        await pilot.click("#pasted")
        app.query_one("#pasted", SecretInput).post_message(events.Paste(secret))
        await pilot.pause()
        await pilot.click("#typed")  # blurs #pasted (Input.Blurred carries the value)
        await pilot.pause()
    assert app.seen == {"typed": secret, "pasted": secret}, app.seen
    assert app.submitted == secret
    print("typed and pasted", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
