"""DocuSign's answers for the wizard tests that stand in for it with an httpx.MockTransport."""

from __future__ import annotations

import httpx

from clmwizard.store.profile import ClmHosts


def account_answer(hosts: ClmHosts) -> httpx.Response:
    """CLM's account answer (what discovery reads), naming `hosts`."""
    body = {
        "ApiBaseUrl": hosts.general,
        "ApiBaseUploadUrl": hosts.upload,
        "ApiBaseDownloadUrl": hosts.download,
    }
    return httpx.Response(200, json=body)
