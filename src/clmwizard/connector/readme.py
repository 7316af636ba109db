"""The README.md written beside the connector folders: import commands and the portal steps left."""

from __future__ import annotations

from collections.abc import Sequence

from clmwizard.connector.fields import BASE_URL_NAMES
from clmwizard.connector.operations import OPERATIONS, operations_for
from clmwizard.connector.properties import (
    API_DEFINITION_FILE,
    API_PROPERTIES_FILE,
    ICON_FILE,
    REDIRECT_URL,
    SETTINGS_FILE,
)
from clmwizard.connector.swagger import connector_title
from clmwizard.connector.urls import require_signed_in
from clmwizard.store.profile import CONNECTOR_NAMES, ConnectorName, Profile

SINGLE_FOLDER = "clm"


def _folder_lines(profile: Profile, layout: str) -> list[str]:
    _, urls = require_signed_in(profile)
    if layout == "single":
        return [
            f"- `{SINGLE_FOLDER}/` — one connector, **{connector_title(profile, None)}**, with all "
            f"{len(OPERATIONS)} actions. It talks to `{urls['general'].host}`; its upload and "
            "download actions are sent to the CLM upload and download hosts by `dynamichosturl` "
            "policies in `apiProperties.json`.",
        ]
    lines = []
    for connector in CONNECTOR_NAMES:
        count = len(operations_for(connector))
        lines.append(
            f"- `{connector}/` — **{connector_title(profile, connector)}**: {count} "
            f"action{'s' if count != 1 else ''} on `{urls[connector].origin_and_path}` "
            f"({BASE_URL_NAMES[connector]})."
        )
    return lines


def _commands(folders: Sequence[str], tool: str) -> list[str]:
    lines = []
    for folder in folders:
        if tool == "paconn":
            lines.append(
                f"paconn create --api-def {folder}/{API_DEFINITION_FILE} "
                f"--api-prop {folder}/{API_PROPERTIES_FILE} --icon {folder}/{ICON_FILE} "
                '--secret "$SECRET"'
            )
        else:
            lines.append(
                f"pac connector create --api-definition-file {folder}/{API_DEFINITION_FILE} "
                f"--api-properties-file {folder}/{API_PROPERTIES_FILE} "
                f"--icon-file {folder}/{ICON_FILE}"
            )
    return lines


def render_readme(profile: Profile, layout: str) -> str:
    folders: list[str] = [SINGLE_FOLDER] if layout == "single" else list(CONNECTOR_NAMES)
    account_id, _ = require_signed_in(profile)
    heartbeat_connector: ConnectorName = "general"
    heartbeat_folder = SINGLE_FOLDER if layout == "single" else heartbeat_connector
    heartbeat_title = connector_title(profile, None if layout == "single" else heartbeat_connector)
    name = profile.name
    scopes = " ".join(profile.scopes)
    lines = [
        f"# DocuSign CLM custom connector{'s' if len(folders) > 1 else ''} — profile `{name}`",
        "",
        f"Written by clmwizard from profile `{name}` ({profile.environment} environment, "
        f"account `{account_id}`, integration key `{profile.integration_key}`, "
        f"scopes `{scopes}`).",
        "No file here holds a secret: the secret key is given to paconn on the command line "
        "or typed into the portal.",
        "",
        "## What is here",
        "",
        *_folder_lines(profile, layout),
        "",
        f"Each folder holds `{API_DEFINITION_FILE}` (the actions, Swagger 2.0), "
        f"`{API_PROPERTIES_FILE}` (the DocuSign OAuth 2.0 sign-in), `{ICON_FILE}` and "
        f"`{SETTINGS_FILE}` (for `paconn --settings`).",
        "",
        "## 1. Import",
        "",
        "Run these commands from this folder. First get the secret key into a shell variable "
        "without writing it anywhere: run "
        f"`clmwizard credentials --profile {name} --copy secret_key` and paste it at the "
        "prompt below (or type it).",
        "",
        "### With paconn (`pip install paconn`)",
        "",
        "```sh",
        "paconn login",
        "read -rs SECRET   # paste the secret key, then Enter",
        *_commands(folders, "paconn"),
        "unset SECRET",
        "```",
        "",
        "paconn asks which environment to use (or add `--environment <environment GUID>`). "
        "Instead of naming the files you can run, inside a connector folder, "
        f'`paconn create --settings {SETTINGS_FILE} --secret "$SECRET"`.',
        "",
        "### With the Power Platform CLI (`pac`)",
        "",
        "```sh",
        "pac auth create --environment <environment URL or GUID>",
        *_commands(folders, "pac"),
        "```",
        "",
        "pac does not take the client secret: open each connector in Power Automate "
        "(Data → Custom connectors → Edit → Security), paste the secret key into "
        "**Client secret** and choose **Update connector**.",
        "",
        "## 2. Register the redirect URL in DocuSign (do not skip)",
        "",
        "After the connector is saved, Power Automate shows its own redirect URL on the "
        f"**Security** tab, of the form `{REDIRECT_URL}/<connector name>`. "
        "Copy it and add it to the integration key's redirect URIs in DocuSign "
        "(**Apps and Keys** → your integration key → **Edit** → Redirect URIs → Add URI → Save). "
        "Do this for every connector. Without it, signing in fails with "
        '"The redirect URI is not registered properly with DocuSign".',
        "",
        "## 3. Test with a flow",
        "",
        "1. In Power Automate create an instant cloud flow (Manually trigger a flow).",
        f"2. Add the action **List attribute groups** from **{heartbeat_title}**.",
        "3. Create the connection when asked: sign in with DocuSign and accept the consent.",
        "4. Test the flow: the action returns your CLM attribute groups.",
        "",
        "The account ID is filled in for you (a hidden parameter), so actions only ask for "
        "folder, document and workflow values.",
        "",
        "## 4. Keep the connection alive: the daily heartbeat flow",
        "",
        "DocuSign refresh tokens live about 30 days. With the `extended` scope each refresh "
        "gives a new token with a full new lifetime, so a connection that is used at least "
        "once within 30 days never expires; one left unused goes stale and must be signed in "
        "again. Flows that run rarely need a heartbeat:",
        "",
        "1. Create a scheduled cloud flow with a **Recurrence** trigger: every 1 day.",
        f"2. Add one cheap action through the same connection: **List attribute groups** "
        f"(connector folder `{heartbeat_folder}/`).",
        "3. Save it and leave it on. Use the same connection in your real flows.",
        "",
        f"`clmwizard refresh --profile {name}` does the same for clmwizard's own stored grant.",
        "",
    ]
    if profile.confirmed_hosts:
        hosts = ", ".join(f"`{host}`" for host in profile.confirmed_hosts)
        lines += [
            "## Hosts outside DocuSign's CLM domains",
            "",
            f"**Warning:** these connectors talk to {hosts}, which is not under DocuSign's CLM "
            "domains (`springcm.com`, `docusign.net`). Whoever signs in through them sends "
            "their DocuSign token there. It was confirmed by hand when this bundle was "
            "exported; import it only if your CLM admin confirms the host.",
            "",
        ]
    if "extended" not in profile.scopes:
        lines += [
            "**Warning:** this profile's scopes do not include `extended`: refresh tokens will "
            "not roll forward and the connection will expire 30 days after sign-in whatever "
            "you do. Add `extended` and sign in again.",
            "",
        ]
    return "\n".join(lines)
