"""The command line. Parses arguments and dispatches; imports neither Textual nor httpx.

Each command lives in `clmwizard.commands.<name>`: `add_arguments(parser)` for its own flags and
`run(args) -> int`, which builds the command's options object first. A module is imported only
when its command is parsed; `clmwizard [COMMAND] --help` is answered before that, from the
generated help_text (clmwizard.launch).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from clmwizard import __version__
from clmwizard.about import DESCRIPTION, EPILOG
from clmwizard.commands.common import add_profile
from clmwizard.errors import EXIT_INTERRUPTED, ClmWizardError

if TYPE_CHECKING:
    from clmwizard.http import ClientFactory


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
    add_profile(parser, required=False)
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
    summary, module = COMMANDS[command]
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
    importlib.import_module(module).add_arguments(parser)
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


# name → (summary, module). The module (`add_arguments(parser)` for its flags, `run(args)`) is
# imported only when its command runs, so `clmwizard --help` loads none of them.
COMMANDS: dict[str, tuple[str, str]] = {
    "emulator": ("run the local DocuSign emulator", "clmwizard.commands.emulator"),
    "login": (
        "consent, token exchange and discovery without the wizard",
        "clmwizard.commands.login",
    ),
    "fields": ("the Power Automate connector field values", "clmwizard.commands.fields"),
    "export": ("write the connector bundle for paconn / pac", "clmwizard.commands.export"),
    "credentials": (
        "integration key, secret, refresh token and base URIs",
        "clmwizard.commands.credentials",
    ),
    "refresh": ("heartbeat: refresh the grant now", "clmwizard.commands.refresh"),
    "jwt": ("JWT Grant: check the integration user's consent", "clmwizard.commands.jwt"),
    "rotate": ("replace the secret key once the new one works", "clmwizard.commands.rotate"),
    "publish": (
        "create or update the connectors in Power Automate",
        "clmwizard.commands.publish",
    ),
    "connect": (
        "create the Power Automate connection and sign it in to DocuSign",
        "clmwizard.commands.connect",
    ),
    "heartbeat": (
        "create or update the daily heartbeat flow and run it once now",
        "clmwizard.commands.heartbeat",
    ),
    "status": (
        "does it still work: grant, connectors, connections, heartbeat",
        "clmwizard.commands.status",
    ),
    "profiles": ("list, show or delete profiles", "clmwizard.commands.profiles"),
    "doctor": (
        "check keyring, clipboard, browser, config folder (and a profile's servers)",
        "clmwizard.commands.doctor",
    ),
}
WIZARD = "clmwizard.commands.wizard"


def main(
    argv: Sequence[str] | None = None,
    *,
    client_factory: ClientFactory | None = None,
    poll_seconds: float | None = None,
) -> int:
    """Run one command. `client_factory` makes every HTTP client the command uses (tests pass
    one with an httpx.MockTransport or short timeouts); by default clmwizard.http.make_client.
    `poll_seconds`: how often a wait asks the Power Platform (tests ask faster than the 2 s)."""
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
    args.poll_seconds = poll_seconds
    debug = args.debug or bool(os.environ.get("CLMWIZARD_DEBUG"))
    if args.command is not None:  # the wizard's terminal belongs to Textual
        interrupts.install()
    try:
        module = importlib.import_module(COMMANDS[args.command][1] if args.command else WIZARD)
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
