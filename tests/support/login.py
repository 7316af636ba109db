"""The `clmwizard login` command line that points at a running emulator."""

from __future__ import annotations

from clmwizard.emulator import Emulator


def login_argv(
    emu: Emulator,
    *extra: str,
    profile: str = "acme",
    redirect_uri: str | None = None,
    timeout: float = 10,
) -> list[str]:
    """`login` against `emu` (its last registered redirect URI unless one is given)."""
    return [
        "login",
        "--profile",
        profile,
        "--integration-key",
        emu.integration_key,
        "--auth-server",
        emu.auth_server,
        "--clm-auth-server",
        emu.clm_auth_server,
        "--redirect-uri",
        redirect_uri or emu.redirect_uris[-1],
        "--timeout",
        f"{timeout:g}",
        *extra,
    ]
