"""The emulated platform driven with plain httpx (and requests, for MSAL) as any client would:
clients that trust the emulator's per-start CA, tokens, connector bodies built from a bundle
`clmwizard export` wrote (the product's output) the way paconn sends them, connections, consent
links and flows."""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msal
import pytest

from clmwizard.cli import main
from clmwizard.emulator import Emulator
from clmwizard.emulator.browser import LinkOutcome, follow_consent_link

V = {"api-version": "2016-11-01"}
APIS = "/providers/Microsoft.PowerApps/apis"
POWER_APPS = "https://service.powerapps.com/.default"
FLOW = "https://service.flow.microsoft.com/.default"


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


def public_app(emu: Emulator, folder: Path) -> msal.PublicClientApplication:
    """An MSAL public client as the Azure CLI's client id (paconn's default), trusting the
    emulator's CA."""
    pp = emu.power_platform
    return msal.PublicClientApplication(
        pp.public_client_id,
        authority=pp.authority,
        instance_discovery=False,
        http_client=msal_http_client(emu, folder),
    )


@contextmanager
def emulator_command(*args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """`clmwizard emulator --port 0 ARGS` as a user runs it: the process and its JSON line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "clmwizard", "emulator", "--port", "0", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        yield process, json.loads(first)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def device_code_sign_in(
    emu: Emulator, folder: Path
) -> tuple[msal.PublicClientApplication, dict[str, Any]]:
    """The user signs in with MSAL's device code for the Power Apps scope, approved at once:
    the app (its cache holds the account) and the token answer."""
    app = public_app(emu, folder)
    flow = app.initiate_device_flow(scopes=[POWER_APPS])
    emu.power_platform.approve_device_code(flow["user_code"])
    result: dict[str, Any] = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    return app, result


def stop(process: subprocess.Popen[str], sig: int) -> tuple[int, str, str]:
    process.send_signal(sig)
    out, err = process.communicate(timeout=10)
    return process.returncode, out, err


def httpx_client(emu: Emulator) -> httpx.Client:
    context = ssl.create_default_context(cadata=emu.power_platform.ca_cert)
    return httpx.Client(verify=context, timeout=10.0, trust_env=False)


def claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


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


def export_bundle(folder: Path, layout: str, profile: str = "acme") -> Path:
    out = folder / f"bundle-{layout}"
    assert main(["export", "--profile", profile, "--out", str(out), "--layout", layout]) == 0
    return out


def connector_body(folder: Path, environment: str, secret: str) -> dict[str, Any]:
    """What paconn's create sends for one bundle folder (reference: "The Power Apps API")."""
    properties = json.loads((folder / "apiProperties.json").read_text("utf-8"))["properties"]
    swagger = json.loads((folder / "apiDefinition.swagger.json").read_text("utf-8"))
    properties["connectionParameters"]["token"]["oAuthSettings"]["clientSecret"] = secret
    scheme = swagger["schemes"][0]
    properties.update(
        {
            "openApiDefinition": swagger,
            "backendService": {"serviceUrl": f"{scheme}://{swagger['host']}{swagger['basePath']}"},
            "environment": {"name": environment},
            "displayName": swagger["info"]["title"],
            "description": swagger["info"]["description"],
            "iconUri": "",
            "scriptDefinitionUrl": "",
        }
    )
    return {"properties": properties}


def recurrence_definition(operation: str = "ListAttributeGroups", every: str = "Day") -> Any:
    return {
        "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/"
        "2016-06-01/workflowdefinition.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "$connections": {"defaultValue": {}, "type": "Object"},
            "$authentication": {"defaultValue": {}, "type": "SecureObject"},
        },
        "triggers": {
            "Recurrence": {"type": "Recurrence", "recurrence": {"frequency": every, "interval": 1}}
        },
        "actions": {
            "List_attribute_groups": {
                "type": "OpenApiConnection",
                "runAfter": {},
                "inputs": {
                    "host": {
                        "connectionName": "shared_clm",
                        "operationId": operation,
                        "apiId": "/providers/Microsoft.PowerApps/apis/CONNECTOR",
                    },
                    "parameters": {},
                    "authentication": "@parameters('$authentication')",
                },
            }
        },
    }


@dataclass
class Tenant:
    """One principal's calls to the Power Apps and Flow APIs of the emulator."""

    emu: Emulator
    http: httpx.Client
    power_apps_token: str
    flow_token: str
    environment: str
    made: list[str] = field(default_factory=list)

    def renew(self) -> None:
        """Fresh Microsoft tokens (they live an hour: a clock jump outlives them)."""
        self.power_apps_token = principal_token(self.emu, self.http, POWER_APPS)
        self.flow_token = principal_token(self.emu, self.http, FLOW)

    def pa(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        params = {**V, "$filter": f"environment eq '{self.environment}'"}
        params.update(kwargs.pop("params", {}))
        return self.http.request(
            method,
            f"{self.emu.power_platform.power_apps_url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.power_apps_token}"},
            **kwargs,
        )

    def flows(self, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
        params = {**V, **kwargs.pop("params", {})}
        base = f"/providers/Microsoft.ProcessSimple/environments/{self.environment}/flows"
        token = kwargs.pop("token", self.flow_token)
        return self.http.request(
            method,
            f"{self.emu.power_platform.flow_url}{base}{path}",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            **kwargs,
        )

    def publish(self, folder: Path, secret: str | None = None) -> dict[str, Any]:
        body = connector_body(folder, self.environment, secret or self.emu.secret_key)
        response = self.pa("POST", APIS, json=body)
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def connection(self, connector_id: str, name: str | None = None) -> str:
        name = name or uuid.uuid4().hex
        body = {
            "properties": {
                "displayName": "CLM heartbeat",
                "environment": {
                    "id": f"/providers/Microsoft.PowerApps/environments/{self.environment}",
                    "name": self.environment,
                },
                "connectionParameters": {},
            }
        }
        response = self.pa("PUT", f"{APIS}/{connector_id}/connections/{name}", json=body)
        assert response.status_code == 201, response.text
        return name

    def status(self, connector_id: str, name: str) -> dict[str, Any]:
        response = self.pa("GET", f"{APIS}/{connector_id}/connections/{name}")
        assert response.status_code == 200, response.text
        statuses: list[dict[str, Any]] = response.json()["properties"]["statuses"]
        return statuses[0]

    def consent_link(self, connector_id: str, name: str) -> str:
        response = self.pa(
            "POST", f"{APIS}/{connector_id}/connections/{name}/getConsentLink", json={}
        )
        assert response.status_code == 200, response.text
        link: str = response.json()["consentLink"]
        return link

    def sign_in(self, connector_id: str, name: str, decision: str = "accept") -> LinkOutcome:
        link = self.consent_link(connector_id, name)
        return follow_consent_link(
            link,
            "decline" if decision == "decline" else "accept",
            ca_cert=self.emu.power_platform.ca_cert,
        )

    def heartbeat(self, connector_id: str, connection: str, **changes: Any) -> httpx.Response:
        definition = recurrence_definition(**changes)
        definition["actions"]["List_attribute_groups"]["inputs"]["host"]["apiId"] = (
            f"/providers/Microsoft.PowerApps/apis/{connector_id}"
        )
        body = {
            "properties": {
                "displayName": "CLM heartbeat",
                "state": "Started",
                "definition": definition,
                "connectionReferences": {
                    "shared_clm": {
                        "connectionName": connection,
                        "source": "Invoker",
                        "id": f"/providers/Microsoft.PowerApps/apis/{connector_id}",
                    }
                },
            }
        }
        return self.flows("POST", json=body)


def principal_token(emu: Emulator, client: httpx.Client, scope: str) -> str:
    pp = emu.power_platform
    response = client.post(
        f"{pp.authority}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": pp.client_id,
            "client_secret": pp.client_secret,
            "scope": scope,
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def user_token(emu: Emulator, client: httpx.Client, scope: str) -> str:
    """The emulated user's token through the device code flow (approved at once)."""
    pp = emu.power_platform
    pp.set_policies(auto_approve_device_codes=True, device_code_interval=0)
    started = client.post(
        f"{pp.authority}/oauth2/v2.0/devicecode",
        data={"client_id": pp.public_client_id, "scope": f"{scope} offline_access"},
    )
    assert started.status_code == 200, started.text
    answer = client.post(
        f"{pp.authority}/oauth2/v2.0/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": pp.public_client_id,
            "device_code": started.json()["device_code"],
        },
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def tenant_of(emu: Emulator, client: httpx.Client) -> Tenant:
    return Tenant(
        emu,
        client,
        principal_token(emu, client, POWER_APPS),
        principal_token(emu, client, FLOW),
        emu.power_platform.default_environment,
    )


@pytest.fixture
def tenant(emu: Emulator, signed_in: Callable[..., None]) -> Iterator[Tenant]:
    """After `clmwizard login`: the tenant's tokens and a client that trusts the emulator (for a
    module whose `redirect_uri` is a loopback one, as login needs)."""
    signed_in()
    with httpx_client(emu) as client:
        yield tenant_of(emu, client)
