"""The one error type every layer raises: what happened, the likely cause, and the fix.

Messages are the product: each says what happened, why it probably happened and what to do,
in plain words. They never contain a secret (see `clmwizard.redact`).
"""

from __future__ import annotations

from collections.abc import Sequence

# Exit codes shared by every command.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_GRANT_DEAD = 3  # the refresh token no longer works: consent again
EXIT_KEYRING = 4  # secrets cannot be stored or read safely
EXIT_NETWORK = 5  # a server could not be reached or kept failing
EXIT_INTERRUPTED = 130


class ClmWizardError(Exception):
    """An error a user can act on.

    `field` names the input the error concerns (e.g. "secret_key", "integration_key",
    "redirect_uri", "scopes") so a screen can show the message next to it.
    """

    exit_code: int = EXIT_ERROR

    def __init__(
        self,
        what: str,
        *,
        cause: str = "",
        fix: str = "",
        field: str | None = None,
        code: str | None = None,
        wizard_cause: str = "",
        wizard_fix: str = "",
    ) -> None:
        super().__init__(what)
        self.what = what
        self.cause = cause
        self.fix = fix
        self.field = field
        self.code = code  # e.g. the OAuth error code, for tests and --debug
        # The same advice in terms of the wizard's own controls (where `fix` names a flag).
        self.wizard_cause = wizard_cause
        self.wizard_fix = wizard_fix

    def render(self) -> str:
        """The message as lines: what, then the cause and the fix indented beneath.

        Each part may quote a server (an `error_description`, a host): control characters and
        escape sequences in it are made visible, never sent to the terminal.
        """
        from clmwizard.safe_text import visible

        lines = [f"✗ {visible(self.what)}"]
        lines.extend(f"  {visible(part)}" for part in (self.cause, self.fix) if part)
        return "\n".join(lines)

    def render_for_wizard(self) -> str:
        """The message as the wizard shows it: its own controls instead of command-line flags."""
        lines = [f"✗ {self.what}"]
        parts = (self.wizard_cause or self.cause, self.wizard_fix or self.fix)
        lines.extend(f"  {part}" for part in parts if part)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class UsageError(ClmWizardError):
    """Bad input on the command line or in a form field."""

    exit_code = EXIT_USAGE


class NetworkError(ClmWizardError):
    """A server could not be reached, timed out, or kept failing."""

    exit_code = EXIT_NETWORK


class GrantDeadError(ClmWizardError):
    """The stored grant (refresh token) is dead: the user must consent again."""

    exit_code = EXIT_GRANT_DEAD


class KeyringError(ClmWizardError):
    """Secrets cannot be stored or read safely."""

    exit_code = EXIT_KEYRING


def first_few(items: Sequence[object], most: int) -> str:
    """The first `most` items for an error's cause, joined by "; ", and how many more there are."""
    listing = "; ".join(str(item) for item in items[:most])
    return listing + (f" (and {len(items) - most} more)" if len(items) > most else "")
