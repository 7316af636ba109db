"""What a screen shows, as plain text: what a monochrome terminal or a screen reader gets."""

from __future__ import annotations

from textual.app import App


def plain_screen(app: App[object]) -> str:
    """The screen as a monochrome terminal shows it: text only, no styles."""
    lines = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip).rstrip() for strip in lines)
