"""`clmwizard emulator`: run the local DocuSign emulator until interrupted."""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import sys
import threading
from dataclasses import dataclass
from types import FrameType

from clmwizard.commands.common import CommandOptions
from clmwizard.emulator import Emulator
from clmwizard.emulator.server import is_loopback
from clmwizard.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run a local stand-in for DocuSign's account server and the CLM hosts. "
        "The first stdout line is a JSON object with the servers and test secrets."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
    parser.add_argument("--port", type=int, default=0, help="auth server port (0 = any free)")
    parser.add_argument(
        "--auto-consent",
        action="store_true",
        help="treat the user as signed in and consented: /oauth/auth redirects at once",
    )
    parser.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        metavar="URI",
        help="register an extra redirect URI on the integration key (repeatable)",
    )
    parser.add_argument(
        "--accounts", type=int, default=1, help="how many accounts the user has (default 1)"
    )
    parser.add_argument(
        "--auto-register-redirects",
        action="store_true",
        help="register each published connector's redirect URL on the integration key at once "
        "(tests and demos; at DocuSign the user registers it)",
    )


@dataclass(frozen=True)
class EmulatorOptions(CommandOptions):
    host: str
    port: int
    auto_consent: bool
    redirect_uris: list[str]
    accounts: int
    auto_register_redirects: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> EmulatorOptions:
        return cls.from_flags(args, redirect_uris=list(args.redirect_uri))


def _log_request(origin: str, method: str, path: str, status: int) -> None:
    outcome = "dropped" if status == 0 else str(status)
    sys.stderr.write(f"[{origin}] {method} {path} {outcome}\n")
    sys.stderr.flush()


def _power_platform_lines(emulator: Emulator) -> str:
    pp = emulator.power_platform
    return (
        f"  Entra ID (TLS):         {pp.authority}\n"
        f"  Power Apps API (TLS):   {pp.power_apps_url}\n"
        f"  Flow API (TLS):         {pp.flow_url}\n"
        f"  Consent service (TLS):  {pp.consent_url}\n"
        "  Trust only the ca_cert of the JSON line for these; it is made for this start.\n"
    )


def _stop_when_stdout_closes(stop: threading.Event) -> None:
    """`clmwizard emulator | head -1`: when the reader of the JSON line goes away, stop, as a
    command writing to it would. Only where poll(2) reports a pipe's closed read end."""
    import select

    try:
        fd = sys.stdout.fileno()
        if not hasattr(select, "poll") or not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
    except (OSError, ValueError):
        return
    poller = select.poll()
    poller.register(fd, 0)  # no events asked: POLLERR and POLLHUP are always reported

    def watch() -> None:
        while not stop.is_set():
            if poller.poll(500):
                stop.set()

    threading.Thread(target=watch, daemon=True, name="stdout-watch").start()


def run(args: argparse.Namespace) -> int:
    options = EmulatorOptions.from_args(args)
    if not is_loopback(options.host):
        raise UsageError(
            f"The emulator refuses to listen on {options.host}: only on this computer.",
            cause="It hands out test secret keys and tokens to anyone who can reach it.",
            fix="Use --host 127.0.0.1 (the default), ::1 or localhost.",
            field="host",
        )
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        emulator = Emulator(
            host=options.host,
            port=options.port,
            auto_consent=options.auto_consent,
            redirect_uris=options.redirect_uris,
            accounts=options.accounts,
            on_request=_log_request,
            auto_register_redirects=options.auto_register_redirects,
        )
        with emulator:
            sys.stdout.write(json.dumps(emulator.info()) + "\n")
            sys.stdout.flush()
            _stop_when_stdout_closes(stop)
            sys.stderr.write(
                "clmwizard DocuSign emulator: a local stand-in for DocuSign's account server\n"
                f"  OAuth (account server): {emulator.auth_server}\n"
                f"  CLM discovery:          {emulator.clm_auth_server}\n"
                f"  CLM hosts:              {', '.join(emulator.clm_hosts.values())}\n"
                f"{_power_platform_lines(emulator)}"
                "The keys and secrets above are test values that only work here.\n"
                f"Consent as {emulator.user_email}"
                f"{' (auto-consent on)' if options.auto_consent else ''}. Ctrl+C stops it.\n"
            )
            sys.stderr.flush()
            while not stop.wait(0.5):
                pass
        sys.stderr.write("Emulator stopped.\n")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
