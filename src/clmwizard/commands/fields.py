"""`clmwizard fields`: the values to type into the Power Automate custom connector portal."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from clmwizard.commands.common import (
    CommandOptions,
    add_format,
    add_profile,
    open_profile,
    open_secrets,
)
from clmwizard.connector.fields import (
    BASE_URL_NAMES,
    HOST_FIELDS,
    TABS,
    FieldValue,
    action_definitions,
    connector_fields,
    fields_document,
)
from clmwizard.connector.urls import require_signed_in
from clmwizard.docusign.hosts import host_warning
from clmwizard.errors import ClmWizardError, UsageError
from clmwizard.redact import register_secret
from clmwizard.safe_text import visible
from clmwizard.store.profile import (
    CONNECTOR_NAMES,
    SECRET_KEY,
    SINGLE_FOLDER,
    BundleFolder,
    ConnectorName,
    Layout,
    Profile,
    layout_folders,
    profile_layout,
)

CLEAR_AFTER = 30.0
HIDDEN = "•" * 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_profile(parser)
    parser.add_argument(
        "--layout",
        choices=("single", "three"),
        help="the connectors to show (default: the profile's layout, as export and publish)",
    )
    parser.add_argument(
        "--connector",
        choices=("clm", "general", "upload", "download"),
        help="one connector only: clm (single layout), or general, upload, download (three)",
    )
    add_format(parser)
    parser.add_argument("--copy", metavar="FIELD", help="copy one field's value to the clipboard")
    parser.add_argument("--reveal", action="store_true", help="show the client secret")


@dataclass(frozen=True)
class FieldsOptions(CommandOptions):
    profile: str
    layout: Layout | None
    connector: BundleFolder | None
    format: str
    copy: str | None
    reveal: bool
    ephemeral: bool


def _load_secret(profile: Profile, ephemeral: bool) -> str:
    secret = open_secrets(ephemeral=ephemeral).get(profile.name, SECRET_KEY)
    if not secret:
        raise ClmWizardError(
            f"No secret key is stored for profile {profile.name!r}.",
            cause="It is saved when you sign in, and kept only in the OS keyring.",
            fix=f"Run `clmwizard login --profile {profile.name} …` or "
            f"`clmwizard rotate --profile {profile.name}` to store it again.",
            field="secret_key",
        )
    register_secret(secret)
    return secret


def _display_value(field: FieldValue, reveal: bool) -> str:
    if field.tab == "Definition":
        return f"{field.value}   ({field.note})"
    if field.secret:
        if reveal:
            return field.value or "(not stored)"
        return f"{HIDDEN}   (--reveal shows it, --copy client_secret copies it)"
    return field.value


def _definition_lines(profile: Profile, connector: BundleFolder) -> list[str]:
    """Each action's values in the portal's order (General, Import from sample, Response)."""
    lines: list[str] = []
    for definition in action_definitions(profile, connector):
        lines.append(f"    {definition.summary}  ({definition.operation_id})")
        for _, label, value in definition.values():
            first, *more = value.splitlines()
            lines.append(f"      {label:<21} {first}")
            lines.extend(f"      {'':<21} {line}" for line in more)
        if definition.note:
            lines.append(f"      {'Note':<21} {definition.note}")
    return lines


def _host_warning(profile: Profile, connector: BundleFolder) -> str | None:
    """A warning when this connector's CLM host is outside DocuSign's CLM domains."""
    if profile.clm_hosts is None:
        return None
    hosts = profile.clm_hosts
    names = CONNECTOR_NAMES if connector == SINGLE_FOLDER else (connector,)
    warnings = [host_warning(hosts.for_connector(name), profile.confirmed_hosts) for name in names]
    shown = [visible(warning) for warning in warnings if warning]
    return " ".join(dict.fromkeys(shown)) or None


LAYOUT_LINES: dict[Layout, str] = {
    "single": "Layout: one connector (one redirect URL to register, one sign-in per user); "
    "--layout three shows three.",
    "three": "Layout: three connectors, one per CLM host (three redirect URLs, three "
    "sign-ins); --layout single shows one.",
}


def render_text(
    profile: Profile,
    connectors: Sequence[BundleFolder],
    client_secret: str | None,
    reveal: bool,
    layout: Layout = "three",
) -> str:
    require_signed_in(profile)
    lines = [
        f"Power Automate custom connector fields — profile {profile.name}",
        "(Data → Custom connectors → New custom connector → Create from blank)",
        LAYOUT_LINES[layout],
    ]
    for connector in connectors:
        fields = connector_fields(profile, connector, client_secret)
        width = max(len(field.label) for field in fields)
        lines += [
            "",
            f"{connector} connector — {BASE_URL_NAMES[connector]} {_base_url(profile, connector)}",
        ]
        warning = _host_warning(profile, connector)
        if warning:
            lines.append(f"  ! {warning}")
        for tab in TABS:
            lines.append(f"  {tab}")
            if tab == "Definition":
                lines.extend(_definition_lines(profile, connector))
                continue
            for field in fields:
                if field.tab == tab:
                    value = _display_value(field, reveal)
                    lines.append(f"    {field.label:<{width}}  {value}")
    lines += [
        "",
        "Copy one value with --copy FIELD"
        + (" (e.g. --copy host --connector upload)" if len(connectors) > 1 else "")
        + "; field names: "
        + ", ".join(
            f.key
            for f in connector_fields(profile, connectors[0])
            if f.tab != "Definition" and f.key != "redirect_url"
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def _host_of(connector: BundleFolder) -> ConnectorName | None:
    return None if connector == SINGLE_FOLDER else connector


def _base_url(profile: Profile, connector: BundleFolder) -> str:
    _, urls = require_signed_in(profile)
    return urls[_host_of(connector) or "general"].origin_and_path


def _find_field(
    profile: Profile, key: str, chosen: BundleFolder | None, layout: Layout
) -> tuple[FieldValue, BundleFolder, str]:
    """The field to copy, the connector it came from, and a note when one was picked for you."""
    candidates = [chosen] if chosen else list(layout_folders(layout))
    for connector in candidates:
        for field in connector_fields(profile, connector):
            if field.key == key:
                note = ""
                if chosen is None and (key in HOST_FIELDS or field.tab == "Definition"):
                    note = (
                        f"This is the {connector} connector's value; add --connector "
                        "upload or --connector download for the others."
                        if connector == "general"
                        else ""
                    )
                return field, connector, note
    known = [f.key for f in connector_fields(profile, chosen or candidates[0])]
    where = f" of the {chosen} connector" if chosen else ""
    raise UsageError(
        f"There is no field {key!r}{where}.",
        fix="Use one of: " + ", ".join(known) + ".",
        field="copy",
    )


def _copy(options: FieldsOptions, key: str, profile: Profile) -> int:
    from clmwizard.clipboard import copy_text, schedule_clear_in_background

    layout = _layout(options, profile)
    field, connector, note = _find_field(profile, key, options.connector, layout)
    if field.key == "redirect_url":
        raise UsageError(
            "The redirect URL cannot be copied from here: Power Automate makes it.",
            cause="Each custom connector gets its own redirect URL when it is saved.",
            fix="Save the connector, copy the Redirect URL from its Security tab and add it to "
            "your integration key's redirect URIs in DocuSign (Apps and Keys).",
            field="copy",
        )
    if field.secret:
        secret = _load_secret(profile, options.ephemeral)
        copy_text(secret)
        schedule_clear_in_background(secret, CLEAR_AFTER)
        sys.stdout.write(
            f"✓ {field.label} copied — clipboard clears in {CLEAR_AFTER:g} s "
            "(if it still holds the secret).\n"
        )
        return 0
    value = field.value
    if field.tab == "Definition":  # the portal's "Import from sample" wants the full URL
        (definition,) = [
            d for d in action_definitions(profile, connector) if d.operation_id == field.key
        ]
        value = definition.url
    copy_text(value)
    sys.stdout.write(f"✓ Copied {field.label} ({connector} connector): {value}\n")
    if note:
        sys.stdout.write(f"  {note}\n")
    return 0


def _layout(options: FieldsOptions, profile: Profile) -> Layout:
    """--layout, else the layout --connector belongs to, else the profile's (what export and
    publish make)."""
    chosen = options.layout
    if chosen is None and options.connector:
        chosen = "single" if options.connector == SINGLE_FOLDER else "three"
    return chosen or profile_layout(profile)


def run(args: argparse.Namespace) -> int:
    options = FieldsOptions.from_args(args)
    _, _, profile = open_profile(options.profile)
    require_signed_in(profile)
    layout = _layout(options, profile)
    if options.connector and options.connector not in layout_folders(layout):
        other: Layout = "three" if layout == "single" else "single"
        raise UsageError(
            f"There is no {options.connector} connector in the {layout} layout.",
            cause=LAYOUT_LINES[layout],
            fix=f"Add --layout {other}, or use --connector "
            + " / ".join(layout_folders(layout))
            + ".",
            field="connector",
        )
    if options.copy:
        return _copy(options, options.copy, profile)
    connectors = (options.connector,) if options.connector else layout_folders(layout)
    secret = _load_secret(profile, options.ephemeral) if options.reveal else None
    output_format = options.format
    if output_format == "text":
        sys.stdout.write(render_text(profile, connectors, secret, options.reveal, layout))
        return 0
    document = fields_document(profile, secret, connectors=connectors)
    if output_format == "json":
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        import yaml

        sys.stdout.write(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return 0
