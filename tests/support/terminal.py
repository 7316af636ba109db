"""A child process in a pseudo-terminal (a real terminal to Textual), everything it writes kept."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path


class PtyProcess:
    """`argv` in a pseudo-terminal of `columns` × `lines` (the terminal's size, COLUMNS and
    LINES, TERM=xterm-256color) with `env` (this process's environment by default); a reader
    thread keeps everything it writes in `output`. `finish()` waits for it; leaving a `with`
    block, or `close()`, kills it if it still runs."""

    def __init__(
        self,
        argv: list[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        columns: int = 100,
        lines: int = 32,
    ) -> None:
        import pty

        size = {"TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines)}
        self.leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**(os.environ if env is None else env), **size},
            stdin=follower,
            stdout=follower,
            stderr=follower,
        )
        os.close(follower)
        self.output = bytearray()
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.leader], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.leader, 65536)
                except OSError:  # the child closed the terminal
                    return
                if not chunk:
                    return
                self.output.extend(chunk)
            elif self.process.poll() is not None:
                return

    def text(self) -> str:
        return self.output.decode("utf-8", "replace")

    def wait_for(self, condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
        """Until `condition()`; fails, with the end of the output, if the child exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {what} (exit {self.process.poll()}): {self.text()[-1500:]}")

    def screen_has(self, text: str) -> bool:
        return text.encode() in self.output

    def wait_for_text(self, text: str, timeout: float = 30.0) -> None:
        self.wait_for(lambda: self.screen_has(text), repr(text), timeout)

    def press(self, keys: str) -> None:
        os.write(self.leader, keys.encode())

    def finish(self, timeout: float = 30.0) -> int:
        """Its exit code once it exits by itself within `timeout` (else it is killed)."""
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.close()

    def close(self) -> None:
        """Kill it if it still runs; stop reading; close the terminal (once)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        if not self._closed:
            self._closed = True
            os.close(self.leader)

    def __enter__(self) -> PtyProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
