"""The fault matrix as data: every (step, fault, surface) cell and what it must show.

The tests in this folder are parametrized from `CELLS`;
`tests.qualities.reliability.render` turns the same data into docs/reliability.md, so
the document says exactly what the tests prove.
"""

from __future__ import annotations

from dataclasses import dataclass

from clmwizard.errors import EXIT_ERROR, EXIT_GRANT_DEAD, EXIT_NETWORK, EXIT_OK

# -- the axes -------------------------------------------------------------------------------

STEPS: dict[str, str] = {
    "consent": "Consent wait (loopback listener)",
    "exchange": "Code exchange (POST /oauth/token)",
    "userinfo": "Userinfo (GET /oauth/userinfo)",
    "discovery": "CLM discovery (GET /api/v2/{account}/account)",
    "refresh": "Refresh (POST /oauth/token, refresh_token)",
    "rotate": "Rotate (refresh with the new secret key)",
    "clm": "CLM calls (GET {ApiBaseUrl}/v2/{account}/attributegroups)",
}

FAULTS: dict[str, str] = {
    "latency": "latency beyond the timeout (once)",
    "5xx_once": "HTTP 503 once, then success",
    "5xx_always": "HTTP 500 on every request",
    "drop": "dropped connection (once)",
    "malformed": "malformed JSON (HTTP 200, truncated body)",
    "429": "HTTP 429 with Retry-After (once)",
    "expired_code": "expired authorization code",
    "revoked_consent": "consent revoked",
    "revoked_secret": "secret key revoked",
    "drip": "answer sent one byte every 0.2 s (within the read timeout, beyond the total)",
    "bad_gzip": "gzip-encoded answer that does not decompress",
}

SURFACES: dict[str, str] = {
    "cli": "CLI",
    "wizard": "wizard",
    "core": "HTTP core",
}

# Where each step's requests go on the emulator: (origin, path prefix).
TARGETS: dict[str, tuple[str, str]] = {
    "consent": ("auth", "/oauth/auth"),
    "exchange": ("auth", "/oauth/token"),
    "userinfo": ("auth", "/oauth/userinfo"),
    "discovery": ("clm_auth", "/api/v2/"),
    "refresh": ("auth", "/oauth/token"),
    "rotate": ("auth", "/oauth/token"),
    "clm": ("general", "/v2/"),
}

# What is stored after the cell, checked against the profile YAML and the keyring.
STORED: dict[str, str] = {
    "nothing": "nothing stored",
    "complete": "profile and secrets stored",
    "no_hosts": "sign-in stored without CLM hosts (the message says so)",
    "unchanged": "profile and keyring unchanged",
    "updated": "new tokens stored",
    "rotated": "new secret and tokens stored",
    "none": "nothing to store",
}


@dataclass(frozen=True)
class Outcome:
    """What a cell must show.

    `exit` is the CLI's exit code; the wizard has none (it stays on the step and shows the
    message), so wizard outcomes leave it None and use `ok` for "the flow carried on".
    `says` are fragments the message must contain; `requests` counts the requests the step's
    endpoint received (1 = sent once, never resent); `stored` is a key of STORED.
    """

    ok: bool
    says: tuple[str, ...]
    requests: int
    stored: str
    exit: int | None = None
    # The same command run once more with the fault gone: what a user who retries sees.
    again: Outcome | None = None


@dataclass(frozen=True)
class Cell:
    step: str
    fault: str
    surface: str
    outcome: Outcome | None = None
    na: str = ""

    @property
    def id(self) -> str:
        return f"{self.step}-{self.fault}-{self.surface}"


def _cells() -> list[Cell]:
    cells: list[Cell] = []

    def both(step: str, fault: str, cli: Outcome, wizard: Outcome) -> None:
        cells.append(Cell(step, fault, "cli", cli))
        cells.append(Cell(step, fault, "wizard", wizard))

    def same(step: str, fault: str, outcome: Outcome) -> None:
        """One outcome for both surfaces; the wizard has no exit code."""
        cli = outcome
        wizard = Outcome(
            outcome.ok,
            tuple(s for s in outcome.says if not s.startswith("✓")),
            outcome.requests,
            outcome.stored,
            again=None
            if outcome.again is None
            else Outcome(
                outcome.again.ok,
                tuple(s for s in outcome.again.says if not s.startswith("✓")),
                outcome.again.requests,
                outcome.again.stored,
            ),
        )
        both(step, fault, cli, wizard)

    def na(
        step: str, fault: str, reason: str, surfaces: tuple[str, ...] = ("cli", "wizard")
    ) -> None:
        cells.extend(Cell(step, fault, surface, na=reason) for surface in surfaces)

    signed_in = "✓ Signed in as"
    resent = "does not resend it"

    # -- consent wait: the browser's requests to /oauth/auth; the listener waits -----------------
    timed_out = "DocuSign did not send you back within"
    same(
        "consent", "latency", Outcome(False, (timed_out, "redirect URI"), 2, "nothing", EXIT_ERROR)
    )
    # Each count includes clmwizard's own consent check, one request before the browser's.
    for fault in ("5xx_once", "drop", "429"):  # the person reloads the failed page
        same("consent", fault, Outcome(True, (signed_in,), 3, "complete", EXIT_OK))
    same("consent", "5xx_always", Outcome(False, (timed_out,), 4, "nothing", EXIT_ERROR))
    na(
        "consent",
        "malformed",
        "the consent page is HTML in the browser; this step reads no JSON",
    )
    for fault in ("drip", "bad_gzip"):
        na("consent", fault, "the consent page goes to the browser; clmwizard reads none of it")
    na("consent", "expired_code", "a code expires between consent and exchange: see the exchange")
    same("consent", "revoked_consent", Outcome(True, (signed_in,), 2, "complete", EXIT_OK))
    na("consent", "revoked_secret", "the secret key is first used by the exchange: see there")

    # -- code exchange: never resent ------------------------------------------------------------
    same(
        "exchange",
        "latency",
        Outcome(False, ("did not answer in time", resent), 1, "nothing", EXIT_NETWORK),
    )
    same(
        "exchange",
        "5xx_once",
        Outcome(False, ("failed while issuing tokens (HTTP 503)", resent), 1, "nothing", 5),
    )
    same(
        "exchange",
        "5xx_always",
        Outcome(False, ("failed while issuing tokens (HTTP 500)", resent), 1, "nothing", 5),
    )
    same(
        "exchange",
        "drop",
        Outcome(False, ("broke before an answer arrived", resent), 1, "nothing", EXIT_NETWORK),
    )
    same(
        "exchange",
        "malformed",
        Outcome(False, ("not the expected JSON", "proxy"), 1, "nothing", EXIT_NETWORK),
    )
    same(
        "exchange",
        "drip",
        Outcome(False, ("did not answer in time", resent), 1, "nothing", EXIT_NETWORK),
    )
    same(
        "exchange",
        "bad_gzip",
        Outcome(False, ("does not decompress", resent), 1, "nothing", EXIT_NETWORK),
    )
    same(
        "exchange",
        "429",
        Outcome(False, ("too many", "HTTP 429", "Wait a few minutes"), 1, "nothing", 5),
    )
    same(
        "exchange",
        "expired_code",
        Outcome(False, ("authorization code expired", "Sign in again"), 1, "nothing", EXIT_ERROR),
    )
    na(
        "exchange",
        "revoked_consent",
        "consent is given seconds before the exchange; a revocation before it: see consent",
    )
    same(
        "exchange",
        "revoked_secret",
        Outcome(False, ("secret key is wrong", "Secret Keys"), 1, "nothing", EXIT_ERROR),
    )

    # -- idempotent GETs: retried with backoff --------------------------------------------------
    access_lives = "revoking consent kills refresh tokens; the new access token lives on (8 h)"
    bearer_only = "a bearer-token call: the secret key is not sent"
    code_only = "only the authorization code expires within minutes: see the exchange"
    for step, kept in (("userinfo", "nothing"), ("discovery", "no_hosts")):
        ok = Outcome(True, (signed_in,), 2, "complete", EXIT_OK)
        for fault in ("latency", "5xx_once", "drop", "429", "drip"):
            same(step, fault, ok)
        hand = ("enter them by hand",) if step == "discovery" else ()
        saved = ("sign-in itself is saved",) if step == "discovery" else ()
        both(
            step,
            "bad_gzip",
            Outcome(False, ("does not decompress", *hand, *saved), 1, kept, EXIT_NETWORK),
            Outcome(False, ("does not decompress", *hand), 1, "nothing"),
        )
        both(
            step,
            "5xx_always",
            Outcome(False, ("kept failing (HTTP 500)", *hand, *saved), 4, kept, EXIT_NETWORK),
            Outcome(False, ("kept failing (HTTP 500)", *hand), 4, "nothing"),
        )
        both(
            step,
            "malformed",
            Outcome(
                False,
                ("not the expected JSON", *hand, *saved),
                1,
                kept,
                EXIT_ERROR if step == "discovery" else EXIT_NETWORK,
            ),
            Outcome(False, ("not the expected JSON", *hand), 1, "nothing"),
        )
        na(step, "expired_code", code_only)
        na(step, "revoked_consent", access_lives)
        na(step, "revoked_secret", bearer_only)

    # -- refresh and rotate: one POST, never resent ---------------------------------------------
    lost = "used up the stored refresh token"
    dead_after_loss = Outcome(
        False, ("no longer accepts the grant", "answer was lost"), 1, "unchanged", EXIT_GRANT_DEAD
    )
    for step in ("refresh", "rotate"):
        done = (
            Outcome(True, ("✓ Refreshed acme",), 1, "updated", EXIT_OK)
            if step == "refresh"
            else Outcome(True, ("✓ The new secret key works",), 1, "rotated", EXIT_OK)
        )
        unchanged = ("Nothing changed",) if step == "rotate" else ()

        def failed(
            *says: str, again: Outcome | None = None, extra: tuple[str, ...] = unchanged
        ) -> Outcome:
            return Outcome(False, (*says, *extra), 1, "unchanged", EXIT_NETWORK, again)

        same(step, "latency", failed("did not answer in time", lost, again=dead_after_loss))
        same(
            step,
            "5xx_once",
            failed("failed while issuing tokens (HTTP 503)", "try again", again=done),
        )
        same(step, "5xx_always", failed("failed while issuing tokens (HTTP 500)"))
        same(step, "drop", failed("broke before an answer arrived", lost, again=done))
        same(step, "malformed", failed("not the expected JSON", lost))
        # DocuSign has answered (the refresh token is used up) before the answer goes wrong.
        same(step, "drip", failed("did not answer in time", lost, again=dead_after_loss))
        same(step, "bad_gzip", failed("does not decompress", lost, again=dead_after_loss))
        same(step, "429", failed("too many", "HTTP 429", again=done))
        na(step, "expired_code", code_only)
        same(
            step,
            "revoked_consent",
            Outcome(
                False,
                ("consent was probably revoked", "clmwizard login --profile acme"),
                1,
                "unchanged",
                EXIT_GRANT_DEAD,
            ),
        )
    same(
        "refresh",
        "revoked_secret",
        Outcome(
            False,
            ("refused the stored secret key", "clmwizard rotate --profile acme"),
            1,
            "unchanged",
            EXIT_GRANT_DEAD,
        ),
    )
    same(
        "rotate", "revoked_secret", Outcome(True, ("✓ The new secret key works",), 1, "rotated", 0)
    )

    # -- CLM calls: the HTTP core's GET helper --------------------------------------------------
    no_clm = (
        "clmwizard makes no CLM call besides discovery (Power Automate calls the operations "
        "through the exported connector); the HTTP core rows prove the GET helper such a call "
        "would use"
    )
    for fault in FAULTS:
        na("clm", fault, no_clm)
    listed = Outcome(True, ("attribute groups",), 2, "none", EXIT_OK)
    for fault in ("latency", "5xx_once", "drop", "429", "drip"):
        cells.append(Cell("clm", fault, "core", listed))
    cells.append(
        Cell(
            "clm",
            "bad_gzip",
            "core",
            Outcome(False, ("does not decompress",), 1, "none", EXIT_NETWORK),
        )
    )
    cells.append(
        Cell(
            "clm",
            "5xx_always",
            "core",
            Outcome(False, ("kept failing (HTTP 500)",), 4, "none", EXIT_NETWORK),
        )
    )
    cells.append(
        Cell(
            "clm",
            "malformed",
            "core",
            Outcome(False, ("not the expected JSON",), 1, "none", EXIT_NETWORK),
        )
    )
    cells.append(Cell("clm", "expired_code", "core", na=code_only))
    lives = Outcome(True, ("attribute groups",), 1, "none", EXIT_OK)
    cells.append(Cell("clm", "revoked_consent", "core", lives))
    cells.append(Cell("clm", "revoked_secret", "core", lives))
    return cells


CELLS: list[Cell] = _cells()


def cells_for(surface: str) -> list[Cell]:
    """The cells of one surface that make sense (n/a cells are only documented)."""
    return [cell for cell in CELLS if cell.surface == surface and cell.outcome is not None]


# -- local faults: a second run, stopping signals and the disk -------------------------------
# Kept apart from the network grid above (CELLS): these faults strike this computer, not a
# server, and not every step has them. tests/qualities/reliability/test_local_matrix.py runs
# every row; tests/qualities/crash/ repeats the signal and concurrency rows at every durable step
# and 20+ times.

LOCAL_FAULTS: dict[str, str] = {
    "concurrent": "a second clmwizard run on the same profile at the same moment, against a "
    "server that revokes the whole grant when a used refresh token comes back",
    "sigterm": "SIGTERM (cron, systemd or a container runtime stopping it) just after "
    "DocuSign answered, before the new refresh token is stored",
    "sighup": "SIGHUP (the terminal closed) at the same moment",
    "disk_full": "no space left on the disk when the profile is written",
    "read_only": "the profile folder is read-only when the profile is written",
}

LOCAL_STEPS: dict[str, str] = {
    "login": "Sign-in storage (keyring items, then the profile)",
    "refresh": "Refresh (the heartbeat)",
    "rotate": "Rotate (prove the new secret, store it)",
}

LOCAL_STORED: dict[str, str] = {
    "updated": "new tokens stored; the profile's dates updated",
    "rotated": "new secret and tokens stored; the profile updated",
    "unchanged": "keyring and profile as before the run",
    "keyring_only": "new tokens in the keyring (the grant is alive); profile dates a run behind",
    "rotated_keyring_only": "new secret and tokens in the keyring, in use; profile a run behind",
}


@dataclass(frozen=True)
class LocalCell:
    step: str
    fault: str
    surface: str  # "cli": child processes and the real Secret Service; "core": session calls
    ok: bool
    says: tuple[str, ...]
    stored: str  # a key of LOCAL_STORED
    exit: int

    @property
    def id(self) -> str:
        return f"{self.step}-{self.fault}-{self.surface}"


def _local_cells() -> list[LocalCell]:
    cells: list[LocalCell] = []
    refreshed, rotated = "✓ Refreshed acme", "✓ The new secret key works"
    cells.append(LocalCell("refresh", "concurrent", "cli", True, (refreshed,), "updated", 0))
    cells.append(LocalCell("rotate", "concurrent", "cli", True, (rotated,), "rotated", 0))
    for fault, number in (("sigterm", 15), ("sighup", 1)):
        name = f"Interrupted (SIG{fault[3:].upper()})"
        cells.append(LocalCell("refresh", fault, "cli", False, (name,), "updated", 128 + number))
        cells.append(LocalCell("rotate", fault, "cli", False, (name,), "rotated", 128 + number))
    for fault, fix in (("disk_full", "Free some space"), ("read_only", "chmod 700")):
        cells.append(
            LocalCell(
                "login",
                fault,
                "core",
                False,
                ("The sign-in worked", "could not be saved", fix, "Nothing changed"),
                "unchanged",
                EXIT_ERROR,
            )
        )
        cells.append(
            LocalCell(
                "refresh",
                fault,
                "core",
                False,
                ("new tokens are stored", "grant is alive", fix, "clmwizard refresh --profile"),
                "keyring_only",
                EXIT_ERROR,
            )
        )
        cells.append(
            LocalCell(
                "rotate",
                fault,
                "core",
                False,
                ("new secret key is stored and in use", "could not be updated", fix),
                "rotated_keyring_only",
                EXIT_ERROR,
            )
        )
    return cells


LOCAL_CELLS: list[LocalCell] = _local_cells()
