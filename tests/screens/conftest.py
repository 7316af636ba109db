"""The wizard tests get `demo_context` (tests/support/wizard_fixtures.py: the demo tour's
context against the emulator)."""

from tests.support.wizard_fixtures import demo_context

__all__ = ["demo_context"]
