"""`clmwizard` and `clmwizard --demo`: open the wizard (Textual is imported only here)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from clmwizard.context import DemoSetup, WizardContext


def run(args: argparse.Namespace) -> int:
    from clmwizard.store.profiles import ProfileStore, validate_profile_name
    from clmwizard.store.secrets import open_secret_store

    if args.profile:
        validate_profile_name(args.profile)
    if args.demo:
        return _run_demo(args)
    ephemeral = bool(args.ephemeral)
    context = WizardContext(
        profiles=ProfileStore(),
        open_secrets=lambda: open_secret_store(ephemeral=ephemeral),
        initial_profile=args.profile,
    )
    return _run_app(context)


def _run_demo(args: argparse.Namespace) -> int:
    from clmwizard.emulator import Emulator
    from clmwizard.emulator.browser import follow_consent
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import MemorySecretStore

    with Emulator() as emulator, tempfile.TemporaryDirectory(prefix="clmwizard-demo-") as tmp:
        demo = DemoSetup(
            integration_key=emulator.integration_key,
            secret_key=emulator.secret_key,
            spare_secret_key=emulator.spare_secret_key,
            auth_server=emulator.auth_server,
            clm_auth_server=emulator.clm_auth_server,
            redirect_uri=emulator.redirect_uris[0],
            user_email=emulator.user_email,
            approve=lambda url: follow_consent(url, "accept"),
        )
        context = WizardContext(
            profiles=ProfileStore(Path(tmp) / "profiles"),
            open_secrets=MemorySecretStore,
            demo=demo,
            initial_profile=args.profile,
        )
        return _run_app(context)


def _run_app(context: WizardContext) -> int:
    from clmwizard.app import ClmWizardApp

    ClmWizardApp(context).run()
    return 0
