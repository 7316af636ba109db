"""The command line. Parses arguments and dispatches; imports neither Textual nor httpx.

Each command lives in `clmwizard.commands.<module>` as `run(args) -> int` and is imported only
when chosen, so `clmwizard --help` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from clmwizard import __version__
from clmwizard.errors import EXIT_INTERRUPTED, ClmWizardError

if TYPE_CHECKING:
    from clmwizard.http import ClientFactory

FORMATS = ("text", "json", "yaml")

DESCRIPTION = """\
From a DocuSign integration key to a working Power Automate custom connector for DocuSign CLM.

Run without a command to open the wizard. `clmwizard --demo` tours it against a built-in
DocuSign emulator, no account needed. Secrets live in the OS keyring, never in files or argv.
"""

EPILOG = """\
environment:
  CLMWIZARD_CONFIG_DIR   folder for profiles (default: the platform's user config folder)
  CLMWIZARD_SECRET_KEY   the secret key for `login` / `rotate` (instead of the hidden prompt)
  CLMWIZARD_CLIPBOARD    auto (default) | osc52 (send copies to the terminal) | manual (show them)
  CLMWIZARD_DEBUG        any value: like --debug (tracebacks, secrets redacted)
  CLMWIZARD_MS_CLIENT_SECRET  a service principal's secret for `publish --service-principal`
  CLMWIZARD_CA_BUNDLE    extra CA certificates to trust for the Microsoft side (PEM)
  BROWSER                the browser `login` and the wizard open (see Python's webbrowser)
  TERM, TERM_PROGRAM, TMUX, WT_SESSION, SSH_TTY
                         read to guess whether the terminal honours OSC 52 copies
  DISPLAY, WAYLAND_DISPLAY  named when no system clipboard works (as over SSH)
  test only: CLMWIZARD_TEST_BROWSER_DECISION  accept | decline, for the emulator's browser
  test only: CLMWIZARD_TEST_BROWSER_CA  the emulator's CA (PEM or file) for its browser
"""


def _add_profile(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--profile", required=required, metavar="NAME", help="profile name (letters, digits, - _ .)"
    )


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser. Each command's own parser is built only when that command runs."""
    parser = argparse.ArgumentParser(
        prog="clmwizard",
        description=DESCRIPTION,
        epilog=_command_listing() + "\n" + EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"clmwizard {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks (secrets redacted) on errors"
    )
    _add_profile(parser, required=False)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run the wizard against the built-in DocuSign emulator (no account needed)",
    )
    parser.add_argument(
        "--ephemeral",
        action="store_true",
        help="keep secrets in memory for this run only (for machines without a keyring)",
    )
    parser.add_argument(
        "command", nargs="?", choices=COMMANDS, metavar="COMMAND", help="see the list below"
    )
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def _command_listing() -> str:
    width = max(len(name) for name in COMMANDS) + 2
    lines = ["commands:"]
    lines += [f"    {name:<{width}}{summary}" for name, (summary, _) in COMMANDS.items()]
    return "\n".join(lines) + "\n"


def build_command_parser(command: str) -> argparse.ArgumentParser:
    summary, add_arguments = COMMANDS[command]
    parser = argparse.ArgumentParser(prog=f"clmwizard {command}", description=summary)
    # Accepted after the command too; given before it, the top-level value stays.
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks (secrets redacted) on errors",
    )
    parser.add_argument(
        "--ephemeral",
        action="store_true",
        default=argparse.SUPPRESS,
        help="keep secrets in memory for this run only",
    )
    add_arguments(parser)
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    if args.command is None:
        if args.arguments:
            build_parser().error(f"unexpected arguments: {' '.join(args.arguments)}")
        return args
    rest = args.arguments
    del args.arguments
    return build_command_parser(args.command).parse_args(rest, namespace=args)


def _emulator_arguments(parser: argparse.ArgumentParser) -> None:
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


def _login_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "The whole sign-in flow without the wizard. The secret key comes from "
        "CLMWIZARD_SECRET_KEY, --secret-key-stdin or a hidden prompt, never from argv."
    )
    _add_profile(parser)
    parser.add_argument("--integration-key", required=True, metavar="GUID")
    parser.add_argument("--environment", choices=("demo", "production"), default="demo")
    parser.add_argument(
        "--auth-server", metavar="URL", help="OAuth origin (overrides --environment)"
    )
    parser.add_argument(
        "--clm-auth-server",
        metavar="URL",
        help="CLM discovery origin (default: authuat.springcm.com for demo, "
        "auth.springcm.com for production; unconfirmed by DocuSign's docs, so overridable)",
    )
    parser.add_argument("--account-id", metavar="GUID", help="account to use (default: default)")
    parser.add_argument(
        "--scopes",
        metavar='"S1 S2"',
        help='space-separated scopes (default: "signature spring_read spring_write extended")',
    )
    parser.add_argument(
        "--redirect-uri",
        metavar="URI",
        help="loopback redirect URI registered on the key (default http://127.0.0.1:8765/callback)",
    )
    parser.add_argument("--no-browser", action="store_true", help="print the URL only")
    parser.add_argument(
        "--timeout", type=float, default=300.0, metavar="S", help="seconds to wait for consent"
    )
    parser.add_argument(
        "--secret-key-stdin", action="store_true", help="read the secret key from stdin"
    )
    parser.add_argument(
        "--no-pkce", action="store_true", help="do not send PKCE (for servers that refuse it)"
    )
    _add_allow_host(parser)


def _fields_arguments(parser: argparse.ArgumentParser) -> None:
    _add_profile(parser)
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
    _add_format(parser)
    parser.add_argument("--copy", metavar="FIELD", help="copy one field's value to the clipboard")
    parser.add_argument("--reveal", action="store_true", help="show the client secret")


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    _add_profile(parser)
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument(
        "--layout",
        choices=("three", "single"),
        help=LAYOUT_HELP + "; default: the profile's layout (single until one is chosen)",
    )
    _add_name(parser)
    parser.add_argument("--force", action="store_true", help="replace a non-empty folder")
    _add_allow_host(parser)


def _add_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--name",
        metavar="NAME",
        help="the connector's name in Power Automate, remembered in the profile (default: from "
        'the profile\'s name, e.g. "DocuSign CLM work"; the three layout adds Upload, Download)',
    )


def _add_allow_host(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="use this CLM host although it is not under DocuSign's CLM domains (repeatable)",
    )


LAYOUT_HELP = (
    "single: one connector routing to all three CLM hosts (one redirect URL to register, one "
    "sign-in per user); three: one per host (three redirect URLs, three sign-ins)"
)


def _publish_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Sign in to Microsoft and create or update the profile's connectors in a Power "
        "Platform environment. A service principal's secret comes from "
        "CLMWIZARD_MS_CLIENT_SECRET or stdin, never argv."
    )
    _add_profile(parser)
    parser.add_argument("--environment", metavar="ENV_ID", help="Power Platform environment id")
    parser.add_argument(
        "--layout",
        choices=("three", "single"),
        help=LAYOUT_HELP + "; default: the profile's layout (single until one is chosen)",
    )
    _add_name(parser)
    parser.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    parser.add_argument(
        "--trust-server",
        action="store_true",
        help="confirm (once, recorded in the profile) a Power Apps or Flow URL that is not "
        "Microsoft's",
    )
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--device-code",
        dest="method",
        action="store_const",
        const="device_code",
        help="sign in with a code entered in any browser (default)",
    )
    how.add_argument(
        "--browser",
        dest="method",
        action="store_const",
        const="browser",
        help="sign in in a browser on this machine",
    )
    how.add_argument(
        "--service-principal",
        dest="method",
        action="store_const",
        const="service_principal",
        help="an app registration's client credentials (for scripts and pipelines)",
    )
    parser.add_argument("--tenant", metavar="T", help="tenant id or domain (default: common)")
    parser.add_argument(
        "--client-id", metavar="ID", help="app registration to sign in with (default: Azure CLI's)"
    )
    parser.add_argument(
        "--authority",
        metavar="URL",
        help="sign-in origin (default https://login.microsoftonline.com/)",
    )
    parser.add_argument(
        "--power-apps-url", metavar="URL", help="Power Apps API (default https://api.powerapps.com)"
    )
    parser.add_argument(
        "--flow-url", metavar="URL", help="Flow API (default https://api.flow.microsoft.com)"
    )


def _credentials_arguments(parser: argparse.ArgumentParser) -> None:
    _add_profile(parser)
    _add_format(parser)
    parser.add_argument("--reveal", action="store_true", help="show secrets")
    parser.add_argument("--copy", metavar="ITEM", help="copy one item to the clipboard")


def _trust_server(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust-server",
        action="store_true",
        help="confirm (once, recorded in the profile) an OAuth server that is not DocuSign's",
    )


def _refresh_arguments(parser: argparse.ArgumentParser) -> None:
    _add_profile(parser)
    _trust_server(parser)


def _rotate_arguments(parser: argparse.ArgumentParser) -> None:
    _add_profile(parser)
    _trust_server(parser)
    parser.add_argument(
        "--secret-key-stdin", action="store_true", help="read the new secret key from stdin"
    )


def _profiles_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("list", "show", "delete"), default="list")
    parser.add_argument("name", nargs="?", metavar="NAME")
    parser.add_argument("--yes", action="store_true", help="delete without asking")
    _add_format(parser)


def _doctor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="also check that this profile's servers answer",
    )


# Commands that own their flags: `clmwizard.commands.<name>` has SUMMARY and
# add_arguments(parser); cli.py only registers them (imported when that command runs).
OWNED_SUMMARIES = {
    "connect": "create the Power Automate connection and sign it in to DocuSign",
    "heartbeat": "create or update the daily heartbeat flow and run it once now",
    "status": "does it still work: grant, connectors, connections, heartbeat",
}


def _owned(command: str) -> tuple[str, Callable[[argparse.ArgumentParser], None]]:
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        importlib.import_module(_handler_module(command)).add_arguments(parser)

    return OWNED_SUMMARIES[command], add_arguments


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "emulator": ("run the local DocuSign emulator", _emulator_arguments),
    "login": ("consent, token exchange and discovery without the wizard", _login_arguments),
    "fields": ("the Power Automate connector field values", _fields_arguments),
    "export": ("write the connector bundle for paconn / pac", _export_arguments),
    "credentials": ("integration key, secret, refresh token and base URIs", _credentials_arguments),
    "refresh": ("heartbeat: refresh the grant now", _refresh_arguments),
    "jwt": ("JWT Grant: check the integration user's consent", _add_profile),
    "rotate": ("replace the secret key once the new one works", _rotate_arguments),
    "publish": ("create or update the connectors in Power Automate", _publish_arguments),
    "connect": _owned("connect"),
    "heartbeat": _owned("heartbeat"),
    "status": _owned("status"),
    "profiles": ("list, show or delete profiles", _profiles_arguments),
    "doctor": (
        "check keyring, clipboard, browser, config folder (and a profile's servers)",
        _doctor_arguments,
    ),
}


def _handler_module(command: str | None) -> str:
    return f"clmwizard.commands.{command or 'wizard'}"


def main(argv: Sequence[str] | None = None, *, client_factory: ClientFactory | None = None) -> int:
    """Run one command. `client_factory` makes every HTTP client the command uses (tests pass
    one with an httpx.MockTransport or short timeouts); by default clmwizard.http.make_client."""
    from clmwizard import hardening, interrupts, pipes, secret_env

    hardening.disable_core_dumps()
    secret_env.take_from_environment()  # before any child (browser, xclip) can inherit it
    try:
        try:
            args = parse_args(argv)
        finally:
            pipes.flush_stdout()  # a command's --help, printed before argparse exits
    except BrokenPipeError:
        return pipes.reader_gone()
    if client_factory is None:
        from clmwizard.context import default_client_factory

        client_factory = default_client_factory
    args.client_factory = client_factory
    debug = args.debug or bool(os.environ.get("CLMWIZARD_DEBUG"))
    if args.command is not None:  # the wizard's terminal belongs to Textual
        interrupts.install()
    try:
        module = importlib.import_module(_handler_module(args.command))
        if args.command is None:  # the wizard draws the terminal itself, through Textual
            result: int = module.run(args)
        else:
            with _visible_output():
                result = module.run(args)
                pipes.flush_stdout()  # a reader gone at the last line is noticed here
        held = interrupts.pending()
        return interrupts.EXIT_BASE + held if held else result
    except ClmWizardError as error:
        _report(error.render(), debug=debug)
        return error.exit_code
    except BrokenPipeError:  # the reader of stdout went away (`| head -1`): nothing to say
        return pipes.reader_gone()
    except KeyboardInterrupt as interrupt:
        signum = interrupt.signum if isinstance(interrupt, interrupts.Interrupted) else 2
        name = {2: "", 15: " (SIGTERM)", 1: " (SIGHUP)"}.get(signum, f" (signal {signum})")
        sys.stderr.write(
            f"\nInterrupted{name}. Nothing half-done was stored: a write that had begun was "
            "finished first.\n"
        )
        return EXIT_INTERRUPTED if signum == 2 else interrupts.EXIT_BASE + signum
    except Exception as error:  # a bug: say so plainly, keep secrets out
        _report(
            f"✗ Unexpected error: {type(error).__name__}: {error}\n"
            "  This is a bug in clmwizard. Run again with --debug for details.",
            debug=debug,
        )
        return 1


@contextlib.contextmanager
def _visible_output() -> Iterator[None]:
    """Every write to stdout and stderr goes through `visible`: text from a server (a user or
    account name, an error_description, a host) cannot send escape sequences to the terminal."""
    from clmwizard.safe_text import VisibleWriter

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = VisibleWriter(out), VisibleWriter(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def _report(message: str, *, debug: bool) -> None:
    """Write an error (and with --debug its traceback, without local variables) to stderr,
    secrets redacted and control characters made visible."""
    import traceback

    from clmwizard.redact import redact
    from clmwizard.safe_text import visible

    if debug:
        # format_exc never shows locals; the values in the lines it quotes are redacted.
        sys.stderr.write(visible(redact(traceback.format_exc()), keep_newlines=True))
    sys.stderr.write(visible(redact(message), keep_newlines=True) + "\n")
