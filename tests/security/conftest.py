"""The emulator fixtures of the sign-in areas, for the hostile-server tests."""

from __future__ import annotations

from tests.support.signin_fixtures import emu, fast_backoff, redirect_uri

__all__ = ["emu", "fast_backoff", "redirect_uri"]
