"""A closed standard output (`clmwizard … | head -1`) ends a command quietly, as `cat` does."""

from __future__ import annotations

import os
import sys

EXIT_READER_GONE = 141  # 128 + SIGPIPE: what a shell reports for a command its reader left


def reader_gone() -> int:
    """Stop writing to the closed standard output and give the exit code for it.

    Standard output is pointed at the null device, so the interpreter's last flush of what is
    still buffered cannot fail again ("Exception ignored … BrokenPipeError").
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
    return EXIT_READER_GONE


def flush_stdout() -> None:
    """Flush standard output now, so a closed pipe is noticed while the command can say so."""
    for stream in (sys.stdout, sys.__stdout__):
        if stream is not None:
            stream.flush()
