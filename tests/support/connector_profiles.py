"""The connector tests' fixed signed-in profile, our own conformance schemas and (only when asked
for) Microsoft's schemas."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clmwizard.store.profile import ClmHosts, Profile

# Our own rules for the exported files, in our own words: the suite needs nothing else.
OWN_SCHEMA_DIR = Path(__file__).resolve().parents[1] / "connector" / "schemas"
# An extra check against Microsoft's published schemas runs only when this names their folder
# (.ci/run sets it when ../shared/reference/powerplatform-schemas exists); without it the
# module is not collected at all (tests/connector/conftest.py), so nothing is ever skipped.
MS_SCHEMAS_ENV = "CLMWIZARD_MS_SCHEMAS"

INTEGRATION_KEY = "3f6c0e1a-5d4b-4c2a-8e7f-1a2b3c4d9b2d"
ACCOUNT_ID = "7d2c1b0a-9e8f-4a6b-8c5d-0e1f2a3b4c5d"
SECRET_KEY = "sk-5e1a9c77-4f2b-4d7e-9a3c-SECRET-0042"
REFRESH_TOKEN = "rt-eyJ0eXAiOiJNVCIsImFsZyI6IlJTMjU2In0-REFRESH"
ACCESS_TOKEN = "at-eyJ0eXAiOiJNVCIsImFsZyI6IlJTMjU2In0-ACCESS"


def make_profile(**changes: Any) -> Profile:
    profile = Profile(
        name="acme-demo",
        environment="demo",
        auth_server="https://account-d.docusign.com",
        clm_auth_server="https://authuat.springcm.com",
        integration_key=INTEGRATION_KEY,
        scopes=["signature", "spring_read", "spring_write", "extended"],
        redirect_uri="http://127.0.0.1:8765/callback",
        user_id="0c9b8a7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d",
        user_email="admin@acme.example",
        user_name="Ada Admin",
        account_id=ACCOUNT_ID,
        account_name="Acme Demo",
        esign_base_uri="https://demo.docusign.net",
        clm_hosts=ClmHosts(
            "https://apiuatna11.springcm.com/",
            "https://apiuploaduatna11.springcm.com",
            "https://apidownloaduatna11.springcm.com",
        ),
        consented_at=datetime(2024, 10, 1, 12, 0, tzinfo=UTC),
    )
    for key, value in changes.items():
        setattr(profile, key, value)
    return profile


# Host shapes a bundle must survive: plain hosts, a host with a /content path, loopback http.
SCHEMA_PROFILES = {
    "demo": make_profile(),
    "content-path": make_profile(
        clm_hosts=ClmHosts(
            "https://apiuatna11.springcm.com/",
            "https://apiuatna11.springcm.com/content/",
            "https://apiuatna11.springcm.com/content",
        )
    ),
    "loopback": make_profile(
        environment="custom",
        auth_server="http://127.0.0.1:8765",
        clm_hosts=ClmHosts(
            "http://127.0.0.1:40001", "http://127.0.0.1:40002", "http://127.0.0.1:40003"
        ),
    ),
}


def strip_json_comments(text: str) -> str:
    """Remove // and /* */ comments outside JSON strings (URLs keep their //)."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        char = text[i]
        if in_string:
            out.append(char)
            if char == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if char == '"':
                in_string = False
            i += 1
        elif char == '"':
            in_string = True
            out.append(char)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end == -1 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end == -1 else end + 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def own_schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((OWN_SCHEMA_DIR / name).read_text())
    return loaded


def ms_schema_dir() -> Path:
    folder = os.environ.get(MS_SCHEMAS_ENV)
    if not folder:
        raise RuntimeError(f"set {MS_SCHEMAS_ENV} to the folder of Microsoft's schemas")
    return Path(folder)


def load_schema(name: str) -> dict[str, Any]:
    """One of Microsoft's schemas, comment-stripped (only with CLMWIZARD_MS_SCHEMAS set)."""
    text = (ms_schema_dir() / name).read_text()
    loaded: dict[str, Any] = json.loads(strip_json_comments(text))
    return loaded


def patched_api_properties_schema() -> dict[str, Any]:
    """Microsoft's schema with its one known staleness fixed: GlobalPerConnector redirects.

    The schema was last changed in 2020; `GlobalPerConnector` is what the platform now requires.
    Only that enum is extended.
    """
    schema = load_schema("paconn-apiProperties.schema.json")
    redirect_mode = schema["definitions"]["oAuthSettings"]["properties"]["redirectMode"]
    assert redirect_mode["enum"] == ["Global", "Direct"], "the schema changed: review the patch"
    redirect_mode["enum"] = [*redirect_mode["enum"], "GlobalPerConnector"]
    return schema
