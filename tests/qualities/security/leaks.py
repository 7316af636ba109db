"""Looking for secrets where they must not be: files, captured output, logs, process arguments.

A needle is a secret in every form it could leak in: as is, URL-quoted, JSON-escaped, a 16-character
piece of its random part (a truncated leak), and for secret keys the base64 of
`integration_key:secret` (the HTTP Basic header) with and without padding.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import signal
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import pytest

from clmwizard.cli import main
from clmwizard.emulator import Emulator
from clmwizard.http import ClientFactory
from tests.support.powerplatform_fixtures import FAST_POLL


@dataclass
class Needles:
    """label → text to look for; `origin` maps each label back to the secret's kind."""

    forms: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, secret: str, integration_key: str | None = None) -> None:
        if not secret:
            return
        self.forms[f"{kind}"] = secret
        self.forms[f"{kind} (url-quoted)"] = quote(secret, safe="")
        self.forms[f"{kind} (json)"] = json.dumps(secret)[1:-1]
        random_part = secret.rsplit(".", 1)[-1]  # a token's random signature, or all of it
        if len(random_part) >= 24:
            starts = [*range(0, len(random_part) - 16, 97), len(random_part) - 16]
            for start in starts:
                self.forms[f"{kind} (piece at {start})"] = random_part[start : start + 16]
        if integration_key is not None:
            basic = base64.b64encode(f"{integration_key}:{secret}".encode()).decode()
            self.forms[f"{kind} (Basic header)"] = basic
            self.forms[f"{kind} (Basic header, unpadded)"] = basic.rstrip("=")
            self.forms[f"{kind} (Basic header, url-safe)"] = base64.urlsafe_b64encode(
                f"{integration_key}:{secret}".encode()
            ).decode()

    def add_pem(self, kind: str, pem: str) -> None:
        """A PEM key as is, JSON-escaped, and 16-character pieces of each base64 line."""
        self.forms[kind] = pem
        self.forms[f"{kind} (json)"] = json.dumps(pem)[1:-1]
        lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
        for number, line in enumerate(lines):
            for start in {0, max(0, len(line) - 16)}:
                self.forms[f"{kind} (line {number} at {start})"] = line[start : start + 16]

    def __len__(self) -> int:
        return len(self.forms)


def emulator_needles(emu: Emulator, **extra: Iterable[str]) -> Needles:
    """Every secret the emulator issued, its Power Platform's included (its two secret keys with
    their Basic header), plus `extra`."""
    needles = Needles()
    keys = {emu.secret_key, emu.spare_secret_key}
    for index, secret in enumerate(sorted(keys)):
        needles.add(f"secret key {index}", secret, emu.integration_key)
    kinds = {4: "code", 5: "access token", 6: "refresh token"}
    for index, secret in enumerate(sorted(emu.issued_secrets() - keys)):
        needles.add(f"{kind_of(secret, kinds)} {index}", secret)
    for kind, values in extra.items():
        for index, secret in enumerate(sorted(set(values))):
            needles.add(f"{kind.replace('_', ' ')} {index}", secret)
    return needles


def kind_of(token: str, kinds: Mapping[int, str]) -> str:
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return kinds.get(int(data["TokenType"]), "token")
    except (IndexError, ValueError, KeyError, TypeError):
        return "token"


def find(needles: Needles, haystacks: Mapping[str, str | bytes]) -> list[str]:
    """'<secret form> in <where>' for every hit."""
    hits = []
    for where, content in haystacks.items():
        for label, form in needles.forms.items():
            probe: str | bytes = form.encode() if isinstance(content, bytes) else form
            if probe in content:
                hits.append(f"{label} in {where}")
    return hits


def files_under(*roots: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                found[str(path)] = path.read_bytes()
    return found


def log_text(records: Iterable[logging.LogRecord]) -> dict[str, str]:
    """Each record formatted fully (message, args, exception), keyed by logger name."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    texts: dict[str, list[str]] = {}
    for record in records:
        texts.setdefault(f"log {record.name}", []).append(formatter.format(record))
    return {name: "\n".join(lines) for name, lines in texts.items()}


def process_texts(pids: Iterable[int] | None = None) -> dict[str, bytes]:
    """argv and environment of the given processes (default: every process of this user)."""
    if pids is None:
        pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    found: dict[str, bytes] = {}
    for pid in pids:
        for part in ("cmdline", "environ"):
            try:
                found[f"/proc/{pid}/{part}"] = Path(f"/proc/{pid}/{part}").read_bytes()
            except OSError:  # gone, or another user's
                continue
    return found


def assert_no_hits(needles: Needles, haystacks: Mapping[str, str | bytes]) -> None:
    hits = find(needles, haystacks)
    assert hits == [], "\n".join(hits)


def client_logs(records: Iterable[logging.LogRecord]) -> dict[str, str]:
    """`log_text` of every record but the emulator's own (it logs what it issues)."""
    return log_text(r for r in records if not r.name.startswith("clmwizard.emulator"))


@contextmanager
def clearers_seen(pids: list[int]) -> Iterator[dict[str, bytes]]:
    """The clipboard clearers' argv and environment while they still wait; stopped after."""
    try:
        yield process_texts(pids)
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGTERM)


def own_cmdline() -> dict[str, bytes]:
    """This process's arguments (its environment holds the test's own settings)."""
    key = f"/proc/{os.getpid()}/cmdline"
    return {key: process_texts([os.getpid()])[key]}


def debug_logs(caplog: pytest.LogCaptureFixture, *loggers: str) -> None:
    """DEBUG on the root logger and on each named one (a library may set its own level)."""
    caplog.set_level(logging.DEBUG)
    for name in loggers:
        caplog.set_level(logging.DEBUG, logger=name)


def recorded_clearers(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> list[int]:
    """The pids of the clipboard clearers `module` starts (through its
    schedule_clear_in_background), so their arguments and environment can be scanned."""
    pids: list[int] = []
    real_schedule = module.schedule_clear_in_background

    def schedule(value: str, after: float = 30.0) -> int:
        pid: int = real_schedule(value, after)
        pids.append(pid)
        return pid

    monkeypatch.setattr(module, "schedule_clear_in_background", schedule)
    return pids


class Run:
    """Runs `clmwizard ...` in this process and keeps everything it wrote."""

    def __init__(self, capture: pytest.CaptureFixture[str]) -> None:
        self.capture = capture
        self.outputs: dict[str, str] = {}
        self.revealed: dict[str, str] = {}

    def __call__(
        self,
        label: str,
        command: str | list[str],
        stdin: str | None = None,
        reveal: bool = False,
        client_factory: ClientFactory | None = None,
    ) -> int:
        """`command` is split on spaces (paths here have none), or given as a list."""
        argv = command.split() if isinstance(command, str) else command
        previous = sys.stdin
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            code = main(argv, client_factory=client_factory, poll_seconds=FAST_POLL)
        finally:
            sys.stdin = previous
        out, err = self.capture.readouterr()
        target = self.revealed if reveal else self.outputs
        target[f"{label} (stdout)"] = out
        target[f"{label} (stderr)"] = err
        return code

    def err(self, label: str) -> str:
        return self.outputs[f"{label} (stderr)"]


class LeakScan(Run):
    """A `Run` whose haystacks are its outputs, the logs, the files under `folder` and this
    process's arguments (the `scan` fixture: capsys, caplog, tmp_path)."""

    def __init__(
        self,
        capture: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture,
        folder: Path,
    ) -> None:
        super().__init__(capture)
        self.caplog = caplog
        self.folder = folder

    def debug_logs(self, *loggers: str) -> None:
        debug_logs(self.caplog, *loggers)

    def haystacks(self) -> dict[str, Any]:
        return {
            **self.outputs,
            **log_text(self.caplog.records),
            **files_under(self.folder),
            **own_cmdline(),
        }
