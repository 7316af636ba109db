"""The wizard tests get `demo_context` (tests/support/wizard_fixtures.py: the demo tour's
context against the emulator), `world` (a real account's context, secrets in memory; the
snapshot tests have their own) and `publish_context` (tests/support/demo_tour.py: the demo
context with the emulator's Microsoft settings, for the Power Platform steps; its demo user
approves each device code at once, and `codes_wait` makes it wait until the code shows)."""

from tests.support.demo_tour import codes_wait, publish_context
from tests.support.wizard_fixtures import demo_context, world

__all__ = ["codes_wait", "demo_context", "publish_context", "world"]
