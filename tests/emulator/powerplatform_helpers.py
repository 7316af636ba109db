"""Clients that trust the emulator's per-start CA: a requests session for MSAL, httpx, paths."""

from __future__ import annotations

import base64
import json
import ssl
from pathlib import Path
from typing import Any

import httpx

from clmwizard.emulator import Emulator

POWER_APPS_SCOPE = "https://service.powerapps.com/.default"


def ca_file(emu: Emulator, folder: Path) -> Path:
    path = folder / "emulator-ca.pem"
    path.write_text(emu.power_platform.ca_cert, encoding="ascii")
    return path


def msal_http_client(emu: Emulator, folder: Path) -> Any:
    """A requests session that trusts only the emulator's CA. trust_env off, because this
    machine's REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE would override `verify`."""
    import requests

    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca_file(emu, folder))
    return session


def httpx_client(emu: Emulator) -> httpx.Client:
    context = ssl.create_default_context(cadata=emu.power_platform.ca_cert)
    return httpx.Client(verify=context, timeout=10.0, trust_env=False)


def claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def service_principal_token(emu: Emulator, client: httpx.Client) -> str:
    pp = emu.power_platform
    response = client.post(
        f"{pp.authority}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": pp.client_id,
            "client_secret": pp.client_secret,
            "scope": POWER_APPS_SCOPE,
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def swagger(title: str = "Northwind Contracts") -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {
            "title": title,
            "description": "Reads and files contracts in the Northwind contract repository.",
            "version": "1.0",
        },
        "host": "apiuatna11.springcm.com",
        "basePath": "/",
        "schemes": ["https"],
        "paths": {
            "/v2/{AccountId}/folders": {
                "get": {
                    "operationId": "ListFolders",
                    "summary": "List folders",
                    "description": "Lists the folders of the account.",
                    "parameters": [
                        {
                            "name": "AccountId",
                            "in": "path",
                            "required": True,
                            "type": "string",
                            "x-ms-summary": "Account id",
                            "description": "The CLM account id.",
                        }
                    ],
                    "responses": {"200": {"description": "OK"}},
                }
            }
        },
    }


def api_properties(secret: str | None = "s3cret-value") -> dict[str, Any]:
    oauth: dict[str, Any] = {
        "identityProvider": "oauth2",
        "clientId": "3f6c0e1a-5d4b-4c2a-8e7f-1a2b3c4d9b2d",
        "scopes": ["spring_read", "spring_write", "extended"],
        "redirectMode": "GlobalPerConnector",
        "redirectUrl": "https://global.consent.azure-apim.net/redirect",
        "properties": {"IsFirstParty": "False", "IsOnbehalfofLoginSupported": False},
        "customParameters": {
            "authorizationUrl": {"value": "https://account-d.docusign.com/oauth/auth"},
            "tokenUrl": {"value": "https://account-d.docusign.com/oauth/token"},
            "refreshUrl": {"value": "https://account-d.docusign.com/oauth/token"},
        },
    }
    if secret is not None:
        oauth["clientSecret"] = secret
    return {
        "connectionParameters": {
            "token": {
                "type": "oauthSetting",
                "oAuthSettings": oauth,
                "uiDefinition": {
                    "displayName": "Login",
                    "description": "Sign in to DocuSign",
                    "tooltip": "Sign in",
                    "constraints": {"required": "true"},
                },
            }
        },
        "iconBrandColor": "#4c00ff",
        "capabilities": [],
    }
