"""The wizard tests get `demo_context` (tests/support/wizard_fixtures.py: the demo tour's
context against the emulator), `world` (a real account's context, secrets in memory; the
snapshot tests have their own) and `publish_context` (tests/support/demo_tour.py: the demo
context with the emulator's Microsoft settings, for the Power Platform steps)."""

from tests.support.demo_tour import publish_context
from tests.support.wizard_fixtures import demo_context, world

__all__ = ["demo_context", "publish_context", "world"]
