"""What the process remembers about authorization codes: arrival time and whether sent."""

from __future__ import annotations

import secrets
import time

from clmwizard.docusign import codes


def test_arrival_is_noted_once_and_sending_twice_is_noticed() -> None:
    code = secrets.token_urlsafe(32)
    assert codes.received_at(code) is None
    before = time.monotonic()
    codes.note_received(code)
    first = codes.received_at(code)
    assert first is not None and before <= first <= time.monotonic()
    codes.note_received(code)  # a second delivery does not make the code younger
    assert codes.received_at(code) == first
    assert codes.note_sent(code) is False
    assert codes.note_sent(code) is True


def test_only_digests_are_kept_and_the_tables_are_bounded() -> None:
    many = [secrets.token_urlsafe(32) for _ in range(200)]
    for code in many:
        codes.note_received(code)
        codes.note_sent(code)
    assert len(codes._received) <= 64 and len(codes._sent) <= 64
    kept = " ".join([*codes._received, *codes._sent])
    assert not any(code in kept for code in many)
    assert codes.received_at(many[0]) is None and codes.received_at(many[-1]) is not None
