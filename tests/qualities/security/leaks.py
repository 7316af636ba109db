"""Looking for secrets where they must not be: files, captured output, logs, process arguments.

A needle is a secret in every form it could leak in: as is, URL-quoted, JSON-escaped, a 16-character
piece of its random part (a truncated leak), and for secret keys the base64 of
`integration_key:secret` (the HTTP Basic header) with and without padding.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote


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


def emulator_needles(
    issued: Iterable[str], secret_keys: Iterable[str], integration_key: str, **extra: Iterable[str]
) -> Needles:
    """Every secret the emulator issued (secret keys with their Basic header) plus `extra`."""
    needles = Needles()
    keys = set(secret_keys)
    for index, secret in enumerate(sorted(keys)):
        needles.add(f"secret key {index}", secret, integration_key)
    kinds = {4: "code", 5: "access token", 6: "refresh token"}
    for index, secret in enumerate(sorted(set(issued) - keys)):
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
