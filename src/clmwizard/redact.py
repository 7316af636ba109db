"""Keep secrets out of logs, tracebacks and error text.

Every secret the program handles (secret keys, codes, tokens, PKCE verifiers, RSA keys) is
registered here as soon as it is read or received; `redact()` replaces each registered value in
any text before it is shown or logged.
"""

from __future__ import annotations

import threading

_MIN_LENGTH = 6  # shorter strings would redact ordinary words
_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so `redact` hides it from now on."""
    if value and len(value) >= _MIN_LENGTH:
        with _lock:
            _secrets.add(value)


def forget_secrets() -> None:
    """Forget every registered secret (tests start each case as a new process would)."""
    with _lock:
        _secrets.clear()


def redact(text: str) -> str:
    """Return `text` with every registered secret replaced by a marker."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return text


def mask(value: str | None, *, visible: int = 0) -> str:
    """A fixed-width mask for a secret on screen; never reveals its length."""
    if not value:
        return "(none)"
    tail = value[-visible:] if visible else ""
    return "•" * 16 + tail
