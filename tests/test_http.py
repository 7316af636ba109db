"""The HTTP layer (clmwizard.http): the GET retry honours CLM's rate-limit headers
(X-RateLimit-Reset, a date), capped."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from clmwizard import http as http_layer
from clmwizard.http import get_with_retry, rate_limit_reset_seconds, retry_delay


@pytest.fixture(autouse=True)
def _fast_backoff(fast_backoff: None) -> None:
    """Retries wait milliseconds, not seconds."""


def _http_date(epoch: float) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, UTC), usegmt=True)


def test_reset_dates_in_each_form_are_read() -> None:
    now = 1_800_000_000.0
    assert rate_limit_reset_seconds(_http_date(now + 30), now) == 30
    iso = datetime.fromtimestamp(now + 12.5, UTC).isoformat()
    assert rate_limit_reset_seconds(iso, now) == 12.5
    assert rate_limit_reset_seconds(str(int(now + 7)), now) == 7
    assert rate_limit_reset_seconds("soon", now) is None
    assert rate_limit_reset_seconds("", now) is None
    assert rate_limit_reset_seconds("2027-01-15T08:00:30", now) is None  # no zone: unreadable


def _limited(reset: str) -> httpx.Response:
    return httpx.Response(429, headers={"X-RateLimit-Limit": "6250", "X-RateLimit-Reset": reset})


def test_a_far_reset_is_capped_and_a_past_one_falls_back_to_backoff() -> None:
    now = time.time()
    assert retry_delay(_limited(_http_date(now + 3600)), 0) == http_layer.RETRY_AFTER_CAP
    assert retry_delay(_limited(_http_date(now - 60)), 0) == http_layer.BACKOFF_SECONDS
    assert retry_delay(_limited("garbage"), 1) == http_layer.BACKOFF_SECONDS * 2


async def test_get_waits_until_the_rate_limit_resets() -> None:
    calls: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return _limited(_http_date(time.time() + 2))
        return httpx.Response(200, json={"ok": True})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        response = await get_with_retry(client, "https://apina11.springcm.com/v2/x", headers={})
    assert response.status_code == 200
    assert len(calls) == 2
    # fast_backoff makes the backoff 10 ms and the cap 50 ms: the reset date,
    # 1 to 2 s away, makes the retry wait the whole cap instead of the backoff.
    assert http_layer.BACKOFF_SECONDS < 0.04 < http_layer.RETRY_AFTER_CAP
    assert calls[1] - calls[0] >= 0.045


def test_a_trust_store_is_built_once_per_bundle_and_again_when_its_file_changes(
    tmp_path: Path,
) -> None:
    from clmwizard.emulator.powerplatform.tls import make_tls
    from clmwizard.errors import UsageError

    pem = make_tls([]).ca_pem
    assert http_layer.ssl_context(pem) is http_layer.ssl_context(pem)
    bundle = tmp_path / "ca.pem"
    bundle.write_text(pem, encoding="ascii")
    first = http_layer.ssl_context(str(bundle))
    assert http_layer.ssl_context(str(bundle)) is first
    bundle.write_text(pem + "\n", encoding="ascii")
    assert http_layer.ssl_context(str(bundle)) is not first
    missing = str(tmp_path / "gone.pem")
    for _ in range(2):
        with pytest.raises(UsageError, match="Could not read the CA bundle"):
            http_layer.ssl_context(missing)
    assert http_layer._default_context() is http_layer._default_context()
