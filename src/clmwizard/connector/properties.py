"""Build apiProperties.json and paconn's settings.json for a connector folder.

The client secret is never written: paconn takes it with `--secret`, the portal on its
Security tab.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clmwizard.connector.operations import Operation, swagger_paths
from clmwizard.connector.urls import require_signed_in
from clmwizard.store.profile import ConnectorName, Profile

# DocuSign's brand purple; certification refuses #007ee5 and #ffffff.
ICON_BRAND_COLOR = "#4c00ff"
PUBLISHER = "clmwizard"
# With redirectMode GlobalPerConnector the platform replaces this by the connector's own URL
# (https://global.consent.azure-apim.net/redirect/<connector name>) when the connector is saved.
REDIRECT_URL = "https://global.consent.azure-apim.net/redirect"
REDIRECT_MODE = "GlobalPerConnector"
API_DEFINITION_FILE = "apiDefinition.swagger.json"
API_PROPERTIES_FILE = "apiProperties.json"
ICON_FILE = "icon.png"
SETTINGS_FILE = "settings.json"
POWERAPPS_URL = "https://api.powerapps.com"
POWERAPPS_API_VERSION = "2016-11-01"


def oauth_urls(profile: Profile) -> tuple[str, str]:
    """(authorization URL, token URL); the token URL is also the refresh URL."""
    origin = profile.auth_server.rstrip("/")
    return f"{origin}/oauth/auth", f"{origin}/oauth/token"


def _routing(
    profile: Profile, routed: Sequence[tuple[ConnectorName, Sequence[Operation]]]
) -> list[dict[str, Any]]:
    _, urls = require_signed_in(profile)
    instances = []
    for connector, operations in routed:
        instances.append(
            {
                "templateId": "dynamichosturl",
                "title": f"Send {connector} calls to the CLM {connector} host",
                "parameters": {
                    "x-ms-apimTemplateParameter.urlTemplate": urls[connector].origin_and_path,
                    "x-ms-apimTemplate-operationName": [op.operation_id for op in operations],
                },
            }
        )
    return instances


def _rewrites(operations: Sequence[Operation]) -> list[dict[str, Any]]:
    """One routerequesttoendpoint policy per action whose swagger path is an alias of a CLM
    path another action already uses (one URL, several actions: download formats, uploads).
    unconfirmed: that newPath fills {Name} from the action's parameters of that name."""
    placed = swagger_paths(operations)
    return [
        {
            "templateId": "routerequesttoendpoint",
            "title": f"Send {op.operation_id} to {op.method} {op.path}",
            "parameters": {
                "x-ms-apimTemplateParameter.newPath": op.path,
                "x-ms-apimTemplateParameter.httpMethod": op.method,
                "x-ms-apimTemplate-operationName": [op.operation_id],
            },
        }
        for op in operations
        if placed[op.operation_id] != op.path
    ]


def build_api_properties(
    profile: Profile,
    routed: Sequence[tuple[ConnectorName, Sequence[Operation]]] = (),
    operations: Sequence[Operation] = (),
) -> dict[str, Any]:
    """apiProperties.json; `routed` lists operations sent to another host (single layout),
    `operations` the connector's actions (aliased ones get a path-rewrite policy)."""
    authorization_url, token_url = oauth_urls(profile)
    properties: dict[str, Any] = {
        "connectionParameters": {
            "token": {
                "type": "oauthSetting",
                "oAuthSettings": {
                    "identityProvider": "oauth2",
                    "clientId": profile.integration_key,
                    "scopes": list(profile.scopes),
                    "redirectMode": REDIRECT_MODE,
                    "redirectUrl": REDIRECT_URL,
                    "properties": {"IsFirstParty": "False", "IsOnbehalfofLoginSupported": False},
                    "customParameters": {
                        "authorizationUrl": {"value": authorization_url},
                        "tokenUrl": {"value": token_url},
                        "refreshUrl": {"value": token_url},
                    },
                },
                "uiDefinition": {
                    "displayName": "Sign in with DocuSign",
                    "description": "The DocuSign account whose CLM data the connection uses.",
                    "tooltip": "Provide a DocuSign user with access to CLM.",
                    "constraints": {"required": "true"},
                },
            }
        },
        "iconBrandColor": ICON_BRAND_COLOR,
        "capabilities": [],
        "publisher": PUBLISHER,
    }
    policies = [*(_routing(profile, routed) if routed else []), *_rewrites(operations)]
    if policies:
        properties["policyTemplateInstances"] = policies
    return {"properties": properties}


def build_settings() -> dict[str, Any]:
    """paconn's settings.json. `connectorId` and `environment` are left out on purpose: paconn
    asks for the environment (or takes `--environment`), and a new connector has no id yet."""
    return {
        "apiDefinition": API_DEFINITION_FILE,
        "apiProperties": API_PROPERTIES_FILE,
        "icon": ICON_FILE,
        "powerAppsUrl": POWERAPPS_URL,
        "powerAppsApiVersion": POWERAPPS_API_VERSION,
    }
