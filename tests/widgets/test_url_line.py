"""A URL on a line of its own: longer than an 80-column screen, it stays one line (it runs past
the edge and scrolls sideways) instead of wrapping; a mouse selection takes it whole; a server's
escape sequences and markup stay text."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from clmwizard.widgets.url_line import UrlLine
from tests.support.pilot import plain_screen

# A consent link as long as Microsoft's (its data parameter is a few hundred characters).
LONG = "https://europe-001.consent.azure-apihub.net/login?data=" + "eyJhbGciOi" * 30 + "&end=1"


class LineApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("Sign in — o opens this link, c copies it:", id="lead")
        yield UrlLine(id="url")
        yield Static("after", id="after")


async def test_a_long_url_stays_one_line_at_80_columns_and_scrolls_sideways() -> None:
    app = LineApp()
    async with app.run_test(size=(80, 24)) as pilot:
        line = app.query_one(UrlLine)
        assert not line.display  # nothing to show: no empty line either
        line.show(LONG)
        await pilot.pause()
        rows = plain_screen(app).splitlines()
        assert rows[1] == LONG[:80]  # from column 1, not indented, not wrapped
        assert LONG[80:160] not in plain_screen(app)  # the rest is past the edge, not below
        after = next(i for i, row in enumerate(rows) if row == "after")
        assert after == 3  # the URL's row and its scrollbar's
        line.scroll_to(x=line.max_scroll_x, animate=False)  # as shift+wheel or the scrollbar
        await pilot.pause()
        assert plain_screen(app).splitlines()[1] == LONG[-80:]
        line.clear()
        await pilot.pause()
        assert not line.display and plain_screen(app).splitlines()[1] == "after"


async def test_a_mouse_selection_takes_the_url_whole() -> None:
    app = LineApp()
    async with app.run_test(size=(80, 24)) as pilot:
        line = app.query_one(UrlLine)
        line.show(LONG)
        await pilot.pause()
        await pilot.triple_click(line.query_one(Static), offset=(3, 0))
        await pilot.pause()
        assert app.screen.get_selected_text() == LONG


async def test_a_short_url_has_no_scrollbar_and_hostile_text_stays_text() -> None:
    app = LineApp()
    async with app.run_test(size=(80, 24)) as pilot:
        line = app.query_one(UrlLine)
        line.show("https://x.example/[@click=app.quit]\x1b]52;c;AAAA\x07")
        await pilot.pause()
        rows = plain_screen(app).splitlines()
        assert rows[1] == "https://x.example/[@click=app.quit]␛]52;c;AAAA␇"
        assert rows[2] == "after"
        assert line.url.endswith("\x07")  # the copy key copies what the server sent
