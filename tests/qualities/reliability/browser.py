"""A person at a browser for the fault matrix: reloads the page after an error, or is slow.

Runs as $BROWSER (``python -m tests.qualities.reliability.browser URL``) or in-process (`approve`):

- ``CLMWIZARD_MATRIX_RELOADS=N``: after an error page or a failed connection, reload the consent
  URL up to N times (what a person does when a page fails once);
- ``CLMWIZARD_MATRIX_LINGER=S``: accept the consent, then wait S seconds on the emulator clock
  (advanced through its control endpoint) before the redirect reaches clmwizard, so the code
  has expired by the time it is exchanged;
- ``CLMWIZARD_MATRIX_DONE=PATH``: create PATH when finished, so a test knows every request of
  this browser has been made.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from clmwizard.emulator.browser import ConsentError, follow_consent

RELOADS = "CLMWIZARD_MATRIX_RELOADS"
LINGER = "CLMWIZARD_MATRIX_LINGER"
DONE = "CLMWIZARD_MATRIX_DONE"  # a file this creates when it has finished


def _advance_clock(consent_url: str, seconds: float) -> None:
    parts = urlsplit(consent_url)
    request = urllib.request.Request(
        f"{parts.scheme}://{parts.netloc}/_emulator/clock",
        data=json.dumps({"advance": seconds}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5.0) as answer:
        answer.read()


def approve(url: str, *, reloads: int = 0, linger: float = 0.0) -> str:
    """Accept the consent like a person would; returns the URL the browser ended on."""
    for attempt in range(reloads + 1):
        try:
            if linger:
                return _approve_slowly(url, linger)
            return follow_consent(url, "accept", timeout=5.0)
        except ConsentError:
            if attempt == reloads:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


def _approve_slowly(url: str, linger: float) -> str:
    from tests.docusign.helpers import redirect_location

    location = redirect_location(url)
    _advance_clock(url, linger)
    with urllib.request.urlopen(location, timeout=5.0) as answer:
        answer.read()
    return location


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        approve(
            args[0],
            reloads=int(os.environ.get(RELOADS, "0")),
            linger=float(os.environ.get(LINGER, "0")),
        )
    except ConsentError as error:
        sys.stderr.write(f"matrix browser: {error}\n")
        return 1
    finally:
        if os.environ.get(DONE):
            Path(os.environ[DONE]).touch()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
