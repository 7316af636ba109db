from tests.store.factories import backend

__all__ = ["backend"]
