"""Keep secrets out of core dumps: no core file, and (Linux) not dumpable nor ptrace-able by
other processes of the user, as ssh-agent and gpg-agent do. Best effort, silent where the
platform has no such switch."""

from __future__ import annotations

import contextlib
import sys

PR_SET_DUMPABLE = 4


def disable_core_dumps() -> None:
    if sys.platform == "win32":
        return  # no core files there; Windows Error Reporting dumps are a system setting
    else:
        import resource

        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if sys.platform == "linux":
            with contextlib.suppress(OSError, AttributeError):
                import ctypes

                libc = ctypes.CDLL(None, use_errno=True)
                libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
