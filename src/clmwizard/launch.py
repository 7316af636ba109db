"""The console entry point: answers `--help` and `--version` without importing argparse.

Everything else goes to `clmwizard.cli.main`. The help text is generated from the real parser
(`scripts/generate_help.py`) and a test keeps it identical, so this fast path cannot drift.
"""

from __future__ import annotations

import sys


def main() -> int:
    argv = sys.argv[1:]
    try:
        if argv in (["--help"], ["-h"]):
            from clmwizard.help_text import TOP_LEVEL_HELP

            sys.stdout.write(TOP_LEVEL_HELP)
            sys.stdout.flush()
            return 0
        if argv == ["--version"]:
            from clmwizard import __version__

            sys.stdout.write(f"clmwizard {__version__}\n")
            sys.stdout.flush()
            return 0
    except BrokenPipeError:
        from clmwizard.pipes import reader_gone

        return reader_gone()
    from clmwizard.cli import main as cli_main

    return cli_main(argv)
