"""The wizard tests get `demo_context` (tests/support/wizard_fixtures.py: the demo tour's
context against the emulator) and `world` (a real account's context, secrets in memory; the
snapshot tests have their own)."""

from tests.support.wizard_fixtures import demo_context, world

__all__ = ["demo_context", "world"]
