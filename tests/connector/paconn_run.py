"""Run by the paconn test venv's Python (not clmwizard's): `python paconn_run.py ARGS…`.

Runs paconn 0.0.21 exactly as the `paconn` command does (its knack CLI, its parser, its
`create` and `update` and its local checks, its writing of settings.json, its prompts), with
one thing replaced: sign-in and the Power Apps API. Instead of Microsoft, an in-process stand-in
answers create and update and prints one JSON line per call (never the secret itself), and
instead of prompting for a missing environment or connector id (which needs a terminal and a
live service) it fails with exit 3 saying what paconn would have asked. Exit 2 is knack's for a
command line paconn does not accept; 1 is paconn's own error (e.g. a missing file, or the
settings.json overwrite prompt without a terminal).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from typing import Any


class PowerAppsStandIn:
    """The calls paconn's upsert makes on its PowerAppsRP."""

    icons: list[str] = []

    def validate_connector(self, payload: Any, enable_certification_rules: bool) -> str:
        if not isinstance(payload, dict) or payload.get("swagger") != "2.0":
            raise SystemExit("the stand-in expected a Swagger 2.0 document")
        return ""

    def generate_resource_storage(self, environment: str) -> dict[str, str]:
        return {"sharedAccessSignature": "https://standin.invalid/upload?sig=x"}

    def _report(self, op: str, environment: str, connector_id: str, payload: Any) -> None:
        properties = payload.get("properties", {})
        token = properties.get("connectionParameters", {}).get("token", {})
        print(
            json.dumps(
                {
                    "op": op,
                    "environment": environment,
                    "connector_id": connector_id,
                    "secret_sent": bool(token.get("oAuthSettings", {}).get("clientSecret")),
                    "has_swagger": isinstance(properties.get("openApiDefinition"), dict),
                    "display_name": properties.get("displayName"),
                    "icons": self.icons,
                    "cwd": os.getcwd(),
                }
            ),
            flush=True,
        )

    def create_connector(self, environment: str, payload: Any) -> str:
        connector_id = f"shared_standin-{uuid.uuid4().hex[:16]}"
        self._report("create", environment, connector_id, payload)
        return json.dumps({"name": connector_id})

    def update_connector(self, environment: str, connector_id: str, payload: Any) -> str:
        self._report("update", environment, connector_id, payload)
        return json.dumps({"name": connector_id})


def _no_login(settings: Any, command_context: str) -> tuple[PowerAppsStandIn, None]:
    """paconn's load_powerapps_and_flow_rp without the network: the same prompt conditions."""
    if not getattr(settings, "environment", None):
        print("paconn would prompt for the environment", file=sys.stderr)
        raise SystemExit(3)
    if command_context == "update" and not getattr(settings, "connector_id", None):
        print("paconn would prompt for the connector id", file=sys.stderr)
        raise SystemExit(3)
    return PowerAppsStandIn(), None


def _upload(sas_url: str, file_path: str) -> str:
    with open(file_path, "rb") as handle:
        if handle.read(8) != b"\x89PNG\r\n\x1a\n":
            raise SystemExit(f"{file_path} is not a PNG")
    PowerAppsStandIn.icons.append(file_path)
    return f"https://standin.invalid/{os.path.basename(file_path)}"


def main() -> int:
    import paconn.commands.create
    import paconn.commands.update
    import paconn.operations.upsert

    paconn.operations.upsert.upload_file = _upload  # type: ignore[attr-defined]
    from paconn.__main__ import ConnectorsCli, ConnectorsCliCommandsLoader
    from paconn.common.util import get_config_dir

    paconn.commands.create.load_powerapps_and_flow_rp = _no_login  # type: ignore[attr-defined]
    paconn.commands.update.load_powerapps_and_flow_rp = _no_login  # type: ignore[attr-defined]
    cli = ConnectorsCli(
        cli_name="paconn",
        commands_loader_cls=ConnectorsCliCommandsLoader,
        config_dir=get_config_dir(),
    )
    try:
        return int(cli.invoke(sys.argv[1:]))
    except SystemExit as stop:
        return int(stop.code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
