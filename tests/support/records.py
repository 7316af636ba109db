"""A publication record as `clmwizard publish` stores it, for tests that start after publishing:
the public cloud's defaults unless a test names what differs."""

from __future__ import annotations

from typing import Any

from clmwizard.store.profile import PublishedConnector, PublishRecord

AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # the public client id publish signs in with
# What publish stores when a user signs in with its defaults (the public client, any tenant).
PUBLIC_CLIENT = {
    "authority": "https://login.microsoftonline.com/",
    "tenant": "common",
    "client_id": AZURE_CLI,
}


def publish_record(*connectors: PublishedConnector, **changes: Any) -> PublishRecord:
    """`PublishRecord` of `connectors` in environment Default-1234 (layout single) of the public
    cloud; `changes` are its other fields (`environment_id="env-one"`, `tenant=…`, `at=…`)."""
    fields: dict[str, Any] = {
        "environment_id": "Default-1234",
        "layout": "single",
        "power_apps_url": "https://api.powerapps.com",
        "authority": "https://login.microsoftonline.com",
        "tenant": "organizations",
        "client_id": "client",
        **changes,
    }
    return PublishRecord(connectors=list(connectors), **fields)
