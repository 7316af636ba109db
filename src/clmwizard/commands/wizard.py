"""`clmwizard` and `clmwizard --demo`: open the wizard (Textual is imported only here)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from clmwizard.commands import common
from clmwizard.commands.common import CommandOptions
from clmwizard.context import DemoSetup, WizardContext, demo_microsoft

if TYPE_CHECKING:
    from clmwizard.http import ClientFactory
    from clmwizard.store.secrets import SecretStore


@dataclass(frozen=True)
class WizardOptions(CommandOptions):
    """The top-level flags (the wizard has no parser of its own: `clmwizard [--demo] …`)."""

    profile: str | None
    demo: bool
    ephemeral: bool
    client_factory: ClientFactory
    poll_seconds: float


def run(args: argparse.Namespace) -> int:
    from clmwizard.store.profiles import validate_profile_name

    options = WizardOptions.from_args(args)
    if options.profile:
        validate_profile_name(options.profile)
    if options.demo:
        return _run_demo(options)
    return _run_app(build_context(options))


def build_context(options: WizardOptions) -> WizardContext:
    """The wizard's context for a real account: profiles on disk, secrets in the keyring."""
    from clmwizard.store.profiles import ProfileStore

    ephemeral = options.ephemeral

    def open_secrets() -> SecretStore:  # called in a worker: keyring loads off the first frame
        return common.open_secrets(ephemeral=ephemeral)

    return WizardContext(
        profiles=ProfileStore(),
        open_secrets=open_secrets,
        initial_profile=options.profile,
        client_factory=options.client_factory,
        poll_seconds=options.poll_seconds,
    )


def _run_demo(options: WizardOptions) -> int:
    from clmwizard.emulator import Emulator
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import MemorySecretStore

    with Emulator() as emulator, tempfile.TemporaryDirectory(prefix="clmwizard-demo-") as tmp:
        ca_file = Path(tmp) / "emulator-ca.pem"  # the emulator's CA, trusted by this run only
        ca_file.write_text(emulator.power_platform.ca_cert, encoding="ascii")
        emulator.power_platform.set_policies(device_code_interval=1)
        microsoft = demo_microsoft(emulator, str(ca_file))
        context = WizardContext(
            profiles=ProfileStore(Path(tmp) / "profiles"),
            open_secrets=MemorySecretStore,
            demo=DemoSetup.from_emulator(emulator),
            initial_profile=options.profile,
            client_factory=options.client_factory,
            poll_seconds=options.poll_seconds,
            microsoft=lambda: microsoft,
        )
        return _run_app(context)


def _run_app(context: WizardContext) -> int:
    from clmwizard.app import ClmWizardApp, closing_text

    app = ClmWizardApp(context)
    app.run()
    summary = closing_text(app)  # printed once the screen is gone: nothing vanishes with it
    if summary:
        try:
            sys.stdout.write("\n" + summary)
            sys.stdout.flush()
        except BrokenPipeError:
            from clmwizard.pipes import reader_gone

            return reader_gone()
    return app.return_code or 0  # 1 after a crash
