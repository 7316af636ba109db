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
from clmwizard.store.profile import SINGLE_FOLDER as SINGLE_FOLDER


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


# What DocuSign's CLM documentation does not settle; the bundle makes one choice for each.
UNCONFIRMED = (
    "Paging parameter names: the actions send `offset` / `limit`; some CLM endpoints may read "
    "`pageSortParams.offset` / `pageSortParams.limit` instead. The `Next` link of every page "
    "works either way.",
    "What `Accept` Power Automate sends on its own: each download action sends its own "
    "(`native`, `application/pdf`, `text/plain`) as a hidden header.",
    "The `systemFolder` parameter name of **Get a system folder** (seen in third-party code).",
    "Several actions share one CLM URL (the download formats, the two folder uploads, and in "
    "the single layout Get a document and Download the original file). Swagger allows one "
    "action per path, so the extra ones carry an alias path and a `routerequesttoendpoint` "
    "policy sends them to the real one; that the policy fills `{DocumentId}` in its new "
    "path is unconfirmed.",
    "The answers of Delete a document, Stop a workflow, Cancel a check-out and Check out a "
    "document, the status a signal answers with, and the full search body.",
)


def _action_lines(layout: str) -> list[str]:
    lines = ["## The actions", ""]
    for connector in CONNECTOR_NAMES:
        where = f"`{SINGLE_FOLDER}/`" if layout == "single" else f"`{connector}/`"
        if layout == "single" and connector != "general":
            where += ", sent to its host by `dynamichosturl`"
        lines += [f"{connector.capitalize()} host ({where}):", ""]
        lines += [
            f"- **{op.summary}** (`{op.operation_id}`): `{op.method} {op.path}`"
            for op in operations_for(connector)
        ]
        lines.append("")
    lines += ["Not confirmed by DocuSign's documentation (each is a choice you can check):", ""]
    lines += [f"- {fact}" for fact in UNCONFIRMED]
    lines.append("")
    return lines


ENVIRONMENT_VARIABLE = "PP_ENV"
SECRET_VARIABLE = "SECRET"
CONNECTOR_VARIABLE = "CONNECTOR_ID"


def paconn_create(folder: str) -> str:
    """One `paconn create`, run inside the connector folder so paconn writes that folder's own
    settings.json (`-w`: over the one clmwizard wrote, without asking)."""
    return (
        f'(cd {folder} && paconn create -e "${ENVIRONMENT_VARIABLE}" '
        f"--api-def {API_DEFINITION_FILE} --api-prop {API_PROPERTIES_FILE} --icon {ICON_FILE} "
        f'--secret "${SECRET_VARIABLE}" -w)'
    )


def paconn_update(folder: str) -> str:
    """A `paconn update` from the folder's settings.json, which holds the connectorId and
    environment paconn wrote at create (kept by a re-export)."""
    return (
        f'(cd {folder} && paconn update --settings {SETTINGS_FILE} --secret "${SECRET_VARIABLE}")'
    )


def paconn_update_by_id(folder: str) -> str:
    return (
        f'(cd {folder} && paconn update -e "${ENVIRONMENT_VARIABLE}" --cid "${CONNECTOR_VARIABLE}" '
        f"--api-def {API_DEFINITION_FILE} --api-prop {API_PROPERTIES_FILE} --icon {ICON_FILE} "
        f'--secret "${SECRET_VARIABLE}")'
    )


def _pac_files(folder: str) -> str:
    return (
        f"--api-definition-file {folder}/{API_DEFINITION_FILE} "
        f"--api-properties-file {folder}/{API_PROPERTIES_FILE} --icon-file {folder}/{ICON_FILE}"
    )


def _import_section(folders: Sequence[str], name: str) -> list[str]:
    env = f"${ENVIRONMENT_VARIABLE}"
    first = folders[0]
    each = "Each command runs inside its" if len(folders) > 1 else "The command runs inside the"
    return [
        "## 1. Import",
        "",
        "Run every command below from this folder (the one holding this README), in a shell "
        "such as bash or zsh. Each command works as written, with or without a terminal.",
        "",
        "### Install paconn",
        "",
        "paconn is Microsoft's connector CLI (version 0.0.21). A system Python on Debian or "
        "Ubuntu refuses `pip install` (PEP 668), so install it into its own environment:",
        "",
        "```sh",
        "python3 -m venv ~/.venvs/paconn && ~/.venvs/paconn/bin/pip install paconn",
        'export PATH="$HOME/.venvs/paconn/bin:$PATH"',
        "```",
        "",
        "(or `pipx install paconn`). paconn pulls in about 50 packages; keep them out of other "
        "projects' environments.",
        "",
        "### Create the connectors with paconn",
        "",
        f"`{ENVIRONMENT_VARIABLE}` holds the Power Platform environment's id (Power Platform admin "
        "center → Environments → your environment → Environment ID, e.g. "
        "`Default-<tenant id>`). The secret key goes into a shell variable without being "
        f"written anywhere: run `clmwizard credentials --profile {name} --copy secret_key` and "
        "paste it at the `read` prompt. Without a terminal (a script), `read` takes the first "
        "line of standard input, so pipe the secret in from your secret store instead.",
        "",
        "```sh",
        "paconn login",
        f"read -r {ENVIRONMENT_VARIABLE}   # paste the environment id, then Enter",
        f"read -rs {SECRET_VARIABLE}   # paste the secret key, then Enter",
        *(paconn_create(folder) for folder in folders),
        f"unset {SECRET_VARIABLE}",
        "```",
        "",
        f"{each} connector folder, so paconn writes that folder's own `{SETTINGS_FILE}` "
        "(with the new connector's `connectorId` and the `environment`), and `-w` lets it "
        "replace the one clmwizard wrote without asking: without a terminal paconn cannot ask "
        "and would fail after the connector was created (a second run would then create a "
        "duplicate). Run each command once; if one fails, check in Power Automate whether "
        "that connector exists before running it again.",
        "",
        "paconn takes the secret only on its command line (`--secret`): while a command runs, "
        "any user of this computer can read it in the process list (`ps`). Run it on a "
        "computer only you use, or use pac below and paste the secret into the portal.",
        "",
        "### Update the connectors after a later export",
        "",
        f"`clmwizard export --profile {name} --out <this folder> --force` rewrites the files "
        f"and keeps each `{SETTINGS_FILE}`'s `connectorId` and `environment`, so update the "
        "existing connectors instead of creating new ones:",
        "",
        "```sh",
        f"read -rs {SECRET_VARIABLE}   # paste the secret key, then Enter",
        *(paconn_update(folder) for folder in folders),
        f"unset {SECRET_VARIABLE}",
        "```",
        "",
        f"`--settings` takes the environment and the connector id from `{SETTINGS_FILE}` "
        "(paconn then ignores `-e` and the file flags). For a connector created another way "
        f"(the portal, pac) the folder's `{SETTINGS_FILE}` has no id: give the id and the "
        "environment on the command line instead, e.g.",
        "",
        "```sh",
        f"read -r {CONNECTOR_VARIABLE}   # paste the connector id, then Enter",
        f"read -rs {SECRET_VARIABLE}",
        paconn_update_by_id(first),
        f"unset {SECRET_VARIABLE}",
        "```",
        "",
        "paconn's `update` does not change the connector's title.",
        "",
        "### Or with the Power Platform CLI (`pac`)",
        "",
        "```sh",
        f'pac auth create --environment "{env}"',
        *(f'pac connector create --environment "{env}" {_pac_files(folder)}' for folder in folders),
        "```",
        "",
        f'After a later export: `pac connector update --environment "{env}" --connector-id '
        f'"${CONNECTOR_VARIABLE}" {_pac_files(first)}` for each folder '
        "(`pac connector list` shows the ids; pac's flags are as Microsoft documents them, "
        "not checked by clmwizard's tests). "
        "pac does not take the client secret: open each connector in Power Automate "
        "(Data → Custom connectors → Edit → Security), paste the secret key into "
        "**Client secret** and choose **Update connector**.",
        "",
    ]


def _rotation_section(folders: Sequence[str], name: str) -> list[str]:
    """What to do after `clmwizard rotate` (or the wizard's s): every connector gets the new
    secret key before the old one is deleted in DocuSign."""
    each = "each connector" if len(folders) > 1 else "the connector"
    lines = [
        "## After a secret rotation",
        "",
        "DocuSign shows a secret key once. After `clmwizard rotate` (or `s` in the wizard) "
        "proved the new one, give it to every connector **before** deleting the old one:",
        "",
        f"1. Copy the new secret key: `clmwizard credentials --profile {name} --copy secret_key`.",
        "2. Connectors clmwizard published (`clmwizard publish`) are updated by the rotation "
        f"itself; rerun `clmwizard rotate --profile {name}` with the same new secret to finish "
        f"any it could not reach. For {each} you created yourself, either in the portal: "
        "make.powerautomate.com → **Data** → **Custom connectors** → the connector → **Edit** "
        "→ **Security** → **Client secret**: paste the new secret key → **Update connector**; "
        "or with paconn (the `settings.json` paconn wrote at create holds the connector id):",
        "",
        "   ```bash",
        *(f"   {paconn_update(folder)}" for folder in folders),
        "   ```",
        "",
        "3. Test a flow that uses each connector (e.g. **List attribute groups**) **more than "
        "8 hours after** updating it: a connection sends the client secret only when it "
        "refreshes its DocuSign sign-in, once its access token (8 hours) has run out, so an "
        "earlier run may not use the new secret at all (`clmwizard status` watches the "
        "heartbeat's runs for this).",
        "4. Only then delete the **old** secret key in DocuSign (Apps and Keys → your app → "
        "Secret Keys). Until then both keys work.",
        "",
    ]
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
        f"`{SETTINGS_FILE}` (paconn's settings; paconn adds the connector's id to it).",
        "",
        *_action_lines(layout),
        *_import_section(folders, name),
        "## 2. Register the redirect URL in DocuSign (do not skip)",
        "",
        "After the connector is saved, Power Automate shows its own redirect URL on the "
        f"**Security** tab, of the form `{REDIRECT_URL}/<connector name>`. "
        "Copy it and add it to the integration key's redirect URIs in DocuSign "
        "(**Apps and Keys** → your integration key → **Edit** → Redirect URIs → Add URI → Save). "
        "Do this for every connector. Without it, signing in fails with "
        '"The redirect URI is not registered properly with DocuSign".',
        "",
        "`clmwizard publish` asks DocuSign about each redirect URL, but before anyone signs in "
        "DocuSign can only say when a URL is NOT registered (its own error text); for any "
        "other URL it shows its sign-in page, so the check then says it could not tell. The "
        "first sign-in through the connector (creating the connection in step 3) is the proof.",
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
        *_rotation_section(folders, name),
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
