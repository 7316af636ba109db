"""The platform after publishing, driven with plain httpx as any client would: connector bodies
built from a bundle `clmwizard export` wrote (the product's output) the way paconn sends them,
connections, consent links and flows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from clmwizard.cli import main
from clmwizard.emulator import Emulator
from clmwizard.emulator.browser import LinkOutcome, follow_consent_link
from tests.emulator.powerplatform_helpers import httpx_client

V = {"api-version": "2016-11-01"}
APIS = "/providers/Microsoft.PowerApps/apis"
POWER_APPS = "https://service.powerapps.com/.default"
FLOW = "https://service.flow.microsoft.com/.default"


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
def tls_client(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx_client(emu) as client:
        yield client
