"""Renders docs/reliability.md from the matrix the tests run.

.venv/bin/python -m tests.qualities.reliability.render           # print it
.venv/bin/python -m tests.qualities.reliability.render --write   # write docs/reliability.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from clmwizard import http as http_layer
from tests.qualities.reliability.matrix import (
    CELLS,
    FAULTS,
    LOCAL_CELLS,
    LOCAL_FAULTS,
    LOCAL_STEPS,
    LOCAL_STORED,
    STEPS,
    STORED,
    SURFACES,
    Cell,
    Outcome,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "reliability.md"
REGENERATE = ".venv/bin/python -m tests.qualities.reliability.render --write"

# The product's own settings (captured at import, before any test patches them).
BACKOFF = http_layer.BACKOFF_SECONDS
RETRY_AFTER_CAP = http_layer.RETRY_AFTER_CAP
TIMEOUT = http_layer.DOCUSIGN_TIMEOUT
GET_STEPS = ("userinfo", "discovery", "clm")

INTRO = f"""\
# Reliability: the fault matrix

Every network step of a sign-in and of the later heartbeat, crossed with every fault the
emulator can inject, through both the command line and the wizard. Each cell below is a test in
`tests/qualities/reliability/` that runs the real client against the emulator over loopback
sockets and checks four things: the message (what happened, the likely cause, the fix; the
quoted words must appear), the exit code (`1` error, `2` usage, `3` grant dead, `5` network),
how many requests reached the server (a retry where it is safe, never a resent code or refresh
token), and what was stored (the profile YAML and the keyring items, compared before and after).
No cell may show a traceback. The cells are declared once, as data, in
`tests/qualities/reliability/matrix.py`; the tests are parametrized from it and this page is
rendered from it, and a test fails when the page and the data differ.

Run it: `.venv/bin/pytest tests/qualities/reliability` (about a minute). After changing the matrix,
regenerate this page: `{REGENERATE}`.

The tests shorten the client timeout ({TIMEOUT:g} s in the product) to half a second and the
backoff to milliseconds; the faults are real (the emulator sleeps, answers 5xx or 429, closes the
socket, sends truncated JSON, drips its answer a byte at a time, or labels garbage as gzip).
Every request also has a total deadline (the connect plus the read timeout, at least 2 s), so a
dripping answer ends like a slow one. Transient faults strike once; "HTTP 500 on every request"
strikes until cleared.
"""

NOTES = f"""\
## Notes

**What is retried, and why.** The idempotent GETs (userinfo, CLM discovery, CLM calls) go
through one helper, `clmwizard.http.get_with_retry`: a timeout, a dropped or refused
connection, HTTP 429 and HTTP 5xx are retried, four attempts in all, waiting {BACKOFF:g} s
doubled each time, or the server's `Retry-After` when longer (capped at {RETRY_AFTER_CAP:g} s).
A malformed answer is not retried: a proxy or captive portal that sent it would send it again.
The Power Apps API's calls follow the same policy (`clmwizard.http.send_with_retry`), except that
creating a connector is never retried after a 5xx or a broken connection: it may exist already.

**The token endpoint is never resent.** The code exchange, the refresh and the rotation POST
`/oauth/token` once. Only a connection that never opened is tried a second time (nothing reached
DocuSign then). An authorization code works once, so after a timeout, a dropped connection or a
5xx the message says to sign in again and that clmwizard does not resend it. A 429 from the token
endpoint is not retried either: DocuSign's limits are per hour, so waiting seconds rarely helps;
the message says to wait a few minutes.

**A refresh whose answer was lost.** A refresh token works once. If DocuSign handled a refresh
and its answer never arrived (the "latency beyond the timeout" cells: the emulator handles the
request after the client gave up), DocuSign has already replaced the stored refresh token and the
new one is lost with the answer. clmwizard keeps the old token (nothing is stored half), does not
resend it, and says that the token may be used up: resending a used refresh token cannot bring
the lost one back, and servers that detect a reused refresh token may revoke the whole grant. The
next `clmwizard refresh` then reports a dead grant (exit 3) and names the lost answer among the
causes; only a new consent (`clmwizard login`) helps. The client cannot tell whether a request
that timed out or lost its connection was handled, so timeouts, dropped connections and
malformed 200 answers to a refresh all carry that warning. A 5xx or 429 answer means DocuSign
refused or failed the request without issuing tokens, so the stored token is normally still
good and trying again works, as the "tried again" column shows. (The emulator's dropped
connections and malformed answers strike before it handles the request, so trying again works
there too; on a real network it may not.) Whether DocuSign itself invalidates a used refresh
token at once is unconfirmed; the emulator assumes it does, the safe assumption. A rotation
proves the new secret key with a refresh, so all of this holds for it too, and its messages add
that the stored secret key is still in use.

**Revoked secret keys.** In the exchange and refresh rows the revoked secret is the one in use;
in the rotate row it is the stored (old) one, and the rotation to a new secret works: that is the
fix the refresh message names (`clmwizard rotate`).

**Nothing stored half.** A sign-in stores the secrets and the profile only after the exchange,
userinfo and discovery answered; a refresh or rotation stores nothing unless DocuSign answered
with new tokens. One deliberate exception: when CLM discovery fails in `clmwizard login`, the
sign-in itself (tokens, account) is stored without CLM hosts and the message says so and how to
enter the hosts (`clmwizard --profile NAME`); the wizard instead stays on the discovery step,
where the hosts can be typed in, and stores nothing until they are saved.

**Exit codes.** A malformed discovery answer exits 1, not 5: it usually means the discovery
server address (`--clm-auth-server`) points at the wrong service, which the fix names.

**CLM calls.** clmwizard makes no CLM call of its own besides discovery: Power Automate calls
the CLM operations through the exported connector. The CLM row therefore tests the HTTP core's
`get_json_with_retry` (what any clmwizard CLM call would use) listing attribute groups on the
emulator's general host with the access token of a real sign-in. Revoking consent or the secret
key does not stop such calls: the access token lives on until it expires (8 hours).

**The consent wait.** The faults strike the browser's requests to `/oauth/auth`; clmwizard's
loopback listener only sees whether DocuSign sends the browser back. A person reloads a page that
failed once (the tests' browser stand-in reloads up to twice); when the page keeps failing, or is
too slow, the wait ends after `--timeout` (the wizard's consent timeout) with the likely causes.
"""


def _requests(step: str, count: int) -> str:
    if step == "consent":
        return f"{count} (page reloaded)" if count > 1 else str(count)
    if step in GET_STEPS:
        return f"{count} (retried)" if count > 1 else f"{count}"
    return f"{count} (never resent)"


def _says(outcome: Outcome) -> str:
    return ", ".join(f"“{fragment}”" for fragment in outcome.says) or "—"


def _result(cell: Cell, outcome: Outcome) -> str:
    if outcome.ok:
        return "recovers" if cell.fault not in ("revoked_consent", "revoked_secret") else "works"
    return "stops with the message" if cell.surface == "wizard" else "fails with the message"


def _again(outcome: Outcome) -> str:
    again = outcome.again
    if again is None:
        return "—"
    exit_code = "" if again.exit is None else f"exit {again.exit}: "
    word = "works" if again.ok else "fails"
    return f"{exit_code}{word}{'; ' + _says(again) if again.says else ''}"


def _overview_cell(step: str, fault: str) -> str:
    parts = []
    for cell in CELLS:
        if cell.step != step or cell.fault != fault or cell.outcome is None:
            continue
        outcome = cell.outcome
        mark = "✓" if outcome.ok else "✗"
        code = "" if outcome.exit is None else f" {outcome.exit}"
        parts.append(f"{SURFACES[cell.surface]} {mark}{code}")
    return " · ".join(parts) or "n/a"


def overview() -> list[str]:
    lines = [
        "## Overview",
        "",
        "✓ the step succeeds (after a retry where one is safe), ✗ it stops with a message; the "
        "number is the CLI's exit code. n/a: the fault cannot happen in that step (see the step's "
        "table for why).",
        "",
        "| step | " + " | ".join(FAULTS) + " |",
        "|---|" + "---|" * len(FAULTS),
    ]
    for step in STEPS:
        row = [_overview_cell(step, fault) for fault in FAULTS]
        lines.append(f"| {step} | " + " | ".join(row) + " |")
    lines.append("")
    lines.append("Faults: " + "; ".join(f"`{key}` {text}" for key, text in FAULTS.items()) + ".")
    return lines


def step_table(step: str) -> list[str]:
    lines = [f"### {STEPS[step]}", ""]
    step_cells = [cell for cell in CELLS if cell.step == step]
    # A surface for which the whole step is n/a for one reason gets a sentence, not rows.
    whole: dict[str, list[str]] = {}
    for surface in SURFACES:
        mine = [cell for cell in step_cells if cell.surface == surface]
        reasons = {cell.na for cell in mine}
        if mine and len(reasons) == 1 and all(cell.outcome is None for cell in mine):
            whole.setdefault(reasons.pop(), []).append(surface)
    for reason, surfaces in whole.items():
        names = " and ".join(SURFACES[surface] for surface in surfaces)
        lines.extend([f"{names}: n/a, {reason}.", ""])
    skipped = {surface for surfaces in whole.values() for surface in surfaces}
    header = "| fault | surface | result | exit | requests | stored | the message says |"
    lines.extend([header + " tried again |", "|---|---|---|---|---|---|---|---|"])
    for fault in FAULTS:
        cells = [c for c in step_cells if c.fault == fault and c.surface not in skipped]
        reasons: dict[str, list[str]] = {}
        for cell in cells:
            if cell.outcome is None:
                reasons.setdefault(cell.na, []).append(SURFACES[cell.surface])
        for reason, surfaces in reasons.items():
            lines.append(f"| {fault} | {' and '.join(surfaces)} | n/a: {reason} | | | | | |")
        for cell in cells:
            outcome = cell.outcome
            if outcome is None:
                continue
            exit_code = "—" if outcome.exit is None else str(outcome.exit)
            lines.append(
                f"| {fault} | {SURFACES[cell.surface]} | {_result(cell, outcome)} | {exit_code} | "
                f"{_requests(step, outcome.requests)} | {STORED[outcome.stored]} | "
                f"{_says(outcome)} | {_again(outcome)} |"
            )
    return [*lines, ""]


def render() -> str:
    lines = [INTRO, *overview(), "", "## Step by step", ""]
    lines.append(
        "“requests” counts what reached the emulator for that step; “tried again” is the "
        "same command run once more after the fault is gone (for the wizard: the same key)."
    )
    lines.append("")
    for step in STEPS:
        lines.extend(step_table(step))
    lines.extend(local_tables())
    lines.extend(microsoft_table())
    lines.append(NOTES)
    return "\n".join(lines).rstrip() + "\n"


LOCAL_INTRO = """\
## This computer: a second run, stopping signals, the disk

Faults that strike this computer rather than a server, from `LOCAL_CELLS` in the same file and
run by `tests/qualities/reliability/test_local_matrix.py`. CLI rows run `python -m clmwizard` in
child processes against the real Secret Service and an emulator that revokes the whole grant when a
used refresh token comes back (theft detection, as many OAuth servers do; whether DocuSign does
is unconfirmed); core rows call the session functions the CLI and the wizard share, with a
profile store whose writer fails as the disk would. `tests/qualities/crash/` repeats the signal
rows before every durable step, and the concurrency rows 20 times and more.

Every read-then-write of a profile's tokens (refresh, rotation, sign-in storage, delete) holds
the profile's grant lock (`.NAME.grant-lock` beside the profile; a run waits up to 8 s, then
names the process holding it), so two runs take turns and the second uses the token the first
stored. SIGTERM and SIGHUP stop the CLI like Ctrl-C, but never between DocuSign's answer and the
keyring write that stores the new refresh token: they are held until the writes are done, then
the command exits 128 + the signal number. kill -9 cannot be held: a kill between DocuSign's
answer and that one keyring write still loses the grant (tests/qualities/crash/test_kill9.py).
The process then ends without the interpreter's final clean-up (`launch.leave`): a keyring call
runs in a daemon thread, and stopping it there (inside `cryptography`'s Rust code) once turned
the exit into an abort (SIGABRT) instead of 128 + the signal.
"""


def local_tables() -> list[str]:
    lines = [LOCAL_INTRO]
    header = "| fault | surface | result | exit | stored | the message says |"
    for step, title in LOCAL_STEPS.items():
        cells = [cell for cell in LOCAL_CELLS if cell.step == step]
        lines.extend([f"### {title}", "", header, "|---|---|---|---|---|---|"])
        for cell in cells:
            result = "works" if cell.ok else "stops with the message"
            says = ", ".join(f"“{fragment}”" for fragment in cell.says)
            lines.append(
                f"| {cell.fault} | {'CLI' if cell.surface == 'cli' else 'core'} | {result} | "
                f"{cell.exit} | {LOCAL_STORED[cell.stored]} | {says} |"
            )
        lines.append("")
    lines.append(
        "Local faults: " + "; ".join(f"`{key}` {text}" for key, text in LOCAL_FAULTS.items()) + "."
    )
    lines.append("")
    return lines


MICROSOFT_INTRO = """\
## The Microsoft side, `jwt` and the redirect check: a hostile server

What a broken or hostile server answers on the Microsoft side (the Power Apps and Flow APIs, the
icon's blob storage, Entra ID as MSAL reads it: discovery and token), and on the two DocuSign
requests publishing and `jwt` add (the JWT Grant's token, the redirect check's `/oauth/auth`),
from `tests/qualities/security/test_hostile_microsoft.py`: the emulator's Power Platform over
TLS on loopback, a client timeout of half a second (so a total deadline of 2 s). Every answer is
read through `clmwizard.http.send`: at most 8 MB from the Power Apps API, 1 MB from Entra and
DocuSign, 2 MB of the redirect check's page. Each cell is a plain error (the code, exit 5) that
names the service, within the deadline and under 100 MB of peak memory; no traceback. MSAL gets
only bounded JSON (a redirect, HTML or text never reaches it, so it never logs a body), and its
log records lose tracebacks and are cut short. An absurd `expires_in` (1e20, negative, text)
from Entra or DocuSign is clamped to at most a day instead.
"""


def microsoft_table() -> list[str]:
    from tests.qualities.security.test_hostile_microsoft import (
        ATTACKS,
        CASES,
        PUBLISH_ATTACKS,
        REDIRECT_ATTACKS,
        TARGETS,
        outcome,
    )

    cases = {tuple(case.values) for case in CASES}
    lines = [MICROSOFT_INTRO, "| request | " + " | ".join(ATTACKS) + " |"]
    lines.append("|---" * (len(ATTACKS) + 1) + "|")
    for target in TARGETS:
        cells = [
            f"✗ 5 `{outcome(target, attack)}`" if (target, attack) in cases else "n/a"
            for attack in ATTACKS
        ]
        lines.append(f"| {target} | " + " | ".join(cells) + " |")
    redirect = ["“could not tell”" if a in REDIRECT_ATTACKS else "n/a" for a in ATTACKS]
    lines.append("| redirect check | " + " | ".join(redirect) + " |")
    publish = ["CLI ✗ 5" if a in PUBLISH_ATTACKS else "—" for a in ATTACKS]
    lines.append("| `publish` (Entra token) | " + " | ".join(publish) + " |")
    lines.extend(
        [
            "",
            "n/a: a blob upload's answer (empty) is never parsed, so only its size and encoding "
            "matter; the redirect check expects HTML and judges a redirect, so only size, time "
            "and encoding can break it. —: not run through the command line.",
            "",
        ]
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args == ["--write"]:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
