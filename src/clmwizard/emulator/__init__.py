"""A local DocuSign stand-in (placeholder docstring)."""

from clmwizard.emulator.server import Emulator

__all__ = ["Emulator"]
