"""Which profile names are allowed: short, safe as a file name and as a keyring user name."""

from __future__ import annotations

import re

from clmwizard.errors import UsageError

MAX_NAME_LENGTH = 64
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

ALLOWED_NAMES = (
    "A profile name is 1 to 64 characters: letters, digits, dot, dash and underscore, "
    "starting with a letter or digit (for example `work` or `clm-prod_2`)."
)


def validate_profile_name(name: str) -> str:
    """Return `name` if it is a safe profile name; raise UsageError(field="profile") if not."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        shown = repr(name) if isinstance(name, str) and len(name) <= 80 else "that name"
        if isinstance(name, str) and len(name) > MAX_NAME_LENGTH and _NAME.fullmatch(name[:1]):
            what = f"The profile name is too long ({len(name)} characters)."
        else:
            what = f"{shown} is not a valid profile name."
        raise UsageError(what, fix=ALLOWED_NAMES, field="profile")
    return name
