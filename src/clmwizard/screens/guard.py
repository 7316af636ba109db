"""One guard for every worker that waits on a server or a thread.

A failure becomes a message beside the step (never a crash of the wizard): a ClmWizardError as
it is, anything else (a garbled answer: nested too deeply, a broken gzip body, bad JSON) in
plain words. A worker that outlives its step (the answer came back after esc, or the step moved
on) ends quietly: whatever it would show has no place any more.

    @work(exclusive=True, group="publish")
    @guarded("#env-message")
    async def _plan(self) -> None: ...

`then` names a method of the screen called after the message is shown (to leave a busy state).
Thread workers take `guarded_thread`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextlib import suppress
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from textual.css.query import NoMatches
from textual.screen import Screen

from clmwizard.errors import ClmWizardError
from clmwizard.safe_text import visible
from clmwizard.widgets.field_message import FieldMessage

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound=Screen[Any])

REPORT = (
    "Try again; if it keeps happening, run the same step from the command line with --debug "
    "and report what it says."
)


def step_is_shown(screen: Screen[Any]) -> bool:
    """The screen is still one of the app's screens (on top, or under a dialog)."""
    try:
        return screen.is_attached and screen in screen.app.screen_stack
    except Exception:  # no app any more: it is closing
        return False


def as_wizard_error(error: BaseException) -> ClmWizardError:
    """`error` in plain words: a ClmWizardError as it is, a garbled answer as what was wrong."""
    if isinstance(error, ClmWizardError):
        return error
    import httpx

    if isinstance(error, RecursionError):
        what = "An answer could not be read: it is nested too deeply."
    elif isinstance(error, httpx.DecodingError):
        what = "An answer could not be read: its compressed or encoded body is broken."
    elif isinstance(error, UnicodeError):
        what = "An answer could not be read: it is not valid text."
    elif isinstance(error, ValueError):
        what = "An answer could not be read: it is not what was expected."
    elif isinstance(error, httpx.HTTPError):
        what = "A server could not be reached or broke off its answer."
    else:
        what = "Something went wrong while waiting for an answer."
    detail = visible(str(error), limit=160)
    cause = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    return ClmWizardError(what, cause=cause, fix=REPORT, code="unexpected_answer")


def report(screen: Screen[Any], message_id: str, error: BaseException, then: str | None) -> None:
    """Show `error` in the screen's message `message_id`, if the screen is still shown."""
    if not step_is_shown(screen):
        return
    try:
        message = screen.query_one(message_id, FieldMessage)
    except NoMatches:
        return
    message.show_error(as_wizard_error(error))
    if then is not None:
        getattr(screen, then)()


def guarded(
    message_id: str, *, then: str | None = None
) -> Callable[
    [Callable[Concatenate[S, P], Coroutine[Any, Any, R]]],
    Callable[Concatenate[S, P], Coroutine[Any, Any, R | None]],
]:
    """The guard for an async worker: see the module's docstring."""

    def wrap(
        method: Callable[Concatenate[S, P], Coroutine[Any, Any, R]],
    ) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R | None]]:
        @wraps(method)
        async def run(screen: S, /, *args: P.args, **kwargs: P.kwargs) -> R | None:
            try:
                return await method(screen, *args, **kwargs)
            except Exception as error:
                report(screen, message_id, error, then)
                return None

        return run

    return wrap


def guarded_thread(
    message_id: str, *, then: str | None = None
) -> Callable[[Callable[Concatenate[S, P], R]], Callable[Concatenate[S, P], R | None]]:
    """The guard for a thread worker: the message is shown from the app's thread."""

    def wrap(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R | None]:
        @wraps(method)
        def run(screen: S, /, *args: P.args, **kwargs: P.kwargs) -> R | None:
            try:
                return method(screen, *args, **kwargs)
            except Exception as error:
                with suppress(Exception):  # the app is closing: nowhere to show it
                    screen.app.call_from_thread(report, screen, message_id, error, then)
                return None

        return run

    return wrap
