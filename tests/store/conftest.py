"""The store tests get `backend` (tests/support/store_fixtures.py: the in-memory keyring, or the
real Secret Service)."""

from tests.support.store_fixtures import backend

__all__ = ["backend"]
