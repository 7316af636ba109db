"""The Microsoft sign-in of a screen that shows Microsoft's device code in a DeviceCodePanel:
the sign-in itself (a cached one silently) and the keys c (copy the code), o (open the page)
and a (approve it, in the demo only)."""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.binding import Binding
from textual.screen import Screen

from clmwizard.screens.guard import guarded_thread
from clmwizard.widgets.device_code import DeviceCodePanel, approve_demo_code
from clmwizard.widgets.field_message import FieldMessage

if TYPE_CHECKING:
    from clmwizard.powerplatform.settings import MicrosoftSettings
    from clmwizard.powerplatform.signin import DeviceCode, MicrosoftSignIn
    from clmwizard.screens.base import Wizard
    from clmwizard.store.secrets import SecretStore


def device_code_bindings(*, show: bool = True) -> list[Binding]:
    return [
        Binding("c", "copy_code", "copy code", show=show),
        Binding("o", "open_browser", "open browser", show=show),
        Binding("a", "approve", "approve (demo)", show=show),
    ]


def device_code_key_enabled(action: str, *, waiting: bool, wizard: Wizard) -> bool | None:
    """Whether a device-code key works now (`waiting`: a code is shown); None: not one of them."""
    if action in ("copy_code", "open_browser"):
        return waiting
    if action == "approve":
        demo = wizard.context.demo
        return waiting and demo is not None and demo.approve_device_code is not None
    return None


def _approve(screen: Screen[Any]) -> None:
    approve_demo_code(cast("Wizard", screen.app))


class DeviceCodeKeys:
    """Mixed into a screen with a DeviceCodePanel (`SIGNIN_PANEL`) and a FieldMessage
    (`SIGNIN_MESSAGE`) for what the keys could not do; the screen sets `code` and `_cancel`.
    Not a Screen itself: Textual's CSS follows only a screen's first DOM base."""

    SIGNIN_PANEL = "#signin"
    SIGNIN_MESSAGE = "#signin-message"
    code: DeviceCode | None
    _cancel: threading.Event

    @property
    def _screen(self) -> Screen[Any]:
        return cast("Screen[Any]", self)

    @property
    def _wizard(self) -> Wizard:
        return cast("Wizard", self._screen.app)

    @property
    def signin_panel(self) -> DeviceCodePanel:
        return self._screen.query_one(self.SIGNIN_PANEL, DeviceCodePanel)

    async def device_code_sign_in(
        self,
        settings: MicrosoftSettings,
        secrets: SecretStore,
        profile: str,
        *,
        allow_cached: bool = True,
    ) -> MicrosoftSignIn:
        """Sign `profile` in to Microsoft, showing the device code when one is needed."""
        from clmwizard.powerplatform.signin import sign_in_device_code

        async with self._wizard.context.client_factory(ca_bundle=settings.ca_bundle) as http:
            return await sign_in_device_code(
                settings,
                secrets,
                profile,
                http,
                lambda code: self._screen.app.call_from_thread(self._show_code, code),
                cancel=self._cancel,
                allow_cached=allow_cached,
            )

    def _show_code(self, code: DeviceCode) -> None:
        if not self._screen.is_attached:
            return
        self.code = code
        self.signin_panel.show_code(code, demo=self._wizard.context.demo is not None)
        self._screen.refresh_bindings()

    def action_copy_code(self) -> None:
        self.signin_panel.copy_code(self._wizard)

    def action_open_browser(self) -> None:
        warning = self.signin_panel.open_page(self._wizard)
        if warning is not None:
            self._screen.query_one(self.SIGNIN_MESSAGE, FieldMessage).show_warning(warning)

    def action_approve(self) -> None:
        approve = guarded_thread(self.SIGNIN_MESSAGE)(_approve)
        self._screen.run_worker(partial(approve, self._screen), thread=True, group="demo-approve")
