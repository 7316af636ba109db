"""Child process for bench: start an app headless, exit right after its first frame.

Usage: python benchmarks/_first_frame.py wizard|bare
"""

from __future__ import annotations

import sys


def main(mode: str) -> None:
    if mode == "bare":
        from textual.app import App, ComposeResult
        from textual.widgets import Footer, Static

        class Bare(App[None]):
            def compose(self) -> ComposeResult:
                yield Static("Hello")
                yield Footer()

        app: App[None] = Bare()
    else:
        import argparse
        import os
        import tempfile

        from clmwizard.app import ClmWizardApp
        from clmwizard.commands.wizard import build_context

        # The same start-up path as `clmwizard`, on an empty config folder.
        os.environ["CLMWIZARD_CONFIG_DIR"] = tempfile.mkdtemp(prefix="clmwizard-bench-")
        args = argparse.Namespace(profile=None, demo=False, ephemeral=False)
        app = ClmWizardApp(build_context(args))

    async def exit_after_first_frame(pilot: object) -> None:
        app.exit()

    app.run(headless=True, size=(100, 32), auto_pilot=exit_after_first_frame)  # type: ignore[arg-type]


if __name__ == "__main__":
    main(sys.argv[1])
