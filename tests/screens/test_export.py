"""The Export step's result: the absolute folder it wrote, and next-step commands in lines
short enough to copy as they are at 80 columns."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static

from clmwizard.context import WizardContext
from clmwizard.screens.export import ExportScreen
from clmwizard.screens.fields import FieldsScreen
from clmwizard.widgets.field_message import FieldMessage
from tests.support.demo_tour import complete_demo_sign_in
from tests.support.pilot import make_app, until


async def test_export_names_the_absolute_folder_and_commands_fit_80_columns(
    demo_context: WizardContext, tmp_path: Path
) -> None:
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await complete_demo_sign_in(pilot, app)
        await until(pilot, lambda: app.screen.query_one("#host-general", Input).value != "")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FieldsScreen))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        # The folder field holds a relative path (the working folder is tmp_path).
        assert not Path(app.screen.query_one("#out-dir", Input).value).is_absolute()
        await pilot.press("enter")
        message = app.screen.query_one("#out-message", FieldMessage)
        await until(pilot, lambda: "Wrote" in message.text)
        folder = (tmp_path / "demo-connector").resolve()
        assert message.text.endswith(f"(single layout) to\n{folder}")  # the path on its own line
        # At 80×24 the next steps are brought into view: the last line is on screen.
        result = app.screen.query_one("#export-result", Static)
        body = app.screen.query_one("#body")
        await until(
            pilot,
            lambda: result.region.height > 3 and result.region.bottom <= body.region.bottom,
        )
        result = app.screen.query_one("#export-result", Static)
        lines = str(result.render()).splitlines()
        assert f"       cd {folder / 'clm'}" in lines  # one connector: the default layout
        commands = [line for line in lines if "paconn" in line or "--api-prop" in line]
        assert commands[0].rstrip().endswith("\\")  # continued, not wrapped by the terminal
        width = result.content_region.width
        assert all(len(line) <= width for line in commands), (width, commands)
        assert any(str(folder / "README.md") in line for line in lines)
