"""The loopback listener over real sockets: one valid callback, strays ignored, paste, timeout."""

from __future__ import annotations

import asyncio
import os
import socket
import threading

import httpx
import pytest

from clmwizard.docusign.callback import CallbackListener, free_loopback_port, with_port
from clmwizard.errors import ClmWizardError, UsageError
from tests.docusign.helpers import loopback_redirect_uri


async def test_one_valid_callback_after_strays() -> None:
    uri = loopback_redirect_uri()
    async with CallbackListener(uri, "S1") as listener, httpx.AsyncClient() as client:
        assert listener.listening_on == uri.split("//")[1].split("/")[0]
        favicon = await client.get(uri.replace("/callback", "/favicon.ico"))
        assert favicon.status_code == 404
        wrong = await client.get(uri, params={"code": "stolen-code-1", "state": "OTHER"})
        assert wrong.status_code == 400 and "Not this sign-in" in wrong.text
        no_code = await client.get(uri, params={"state": "S1"})
        assert no_code.status_code == 400
        good = await client.get(uri, params={"code": "the-real-code", "state": "S1"})
        assert good.status_code == 200 and "return to the terminal" in good.text
        assert await listener.wait(1.0) == "the-real-code"
        again = await client.get(uri, params={"code": "second-code-2", "state": "S1"})
        assert "Already done" in again.text
        assert await listener.wait(1.0) == "the-real-code"


async def test_declined_callback_ends_the_wait_with_the_explanation() -> None:
    uri = loopback_redirect_uri()
    async with CallbackListener(uri, "S1") as listener, httpx.AsyncClient() as client:
        page = await client.get(uri, params={"error": "access_denied", "state": "S1"})
        assert "Consent declined" in page.text
        with pytest.raises(ClmWizardError, match="You declined the consent") as caught:
            await listener.wait(1.0)
    assert caught.value.code == "access_denied"


async def test_paste_from_another_thread_and_bad_paste_keeps_waiting() -> None:
    uri = loopback_redirect_uri()
    async with CallbackListener(uri, "S1") as listener:
        errors: list[Exception] = []

        def paste() -> None:
            try:
                listener.deliver_pasted("garbage garbage")
            except UsageError as error:
                errors.append(error)
            try:
                listener.deliver_pasted(f"{uri}?code=abc&state=WRONG")
            except ClmWizardError as error:
                errors.append(error)
            listener.deliver_pasted(f"{uri}?code=pasted-code-1&state=S1")

        thread = threading.Thread(target=paste)
        thread.start()
        assert await listener.wait(2.0) == "pasted-code-1"
        thread.join()
    assert [type(e).__name__ for e in errors] == ["UsageError", "ClmWizardError"]
    assert errors[1].code == "state_mismatch"  # type: ignore[attr-defined]


async def test_timeout_lists_the_likely_causes() -> None:
    uri = loopback_redirect_uri()
    async with CallbackListener(uri, "S1") as listener:
        with pytest.raises(ClmWizardError) as caught:
            await listener.wait(0.05)
    error = caught.value
    assert error.what == "DocuSign did not send you back within 0.05 seconds."
    assert f"the redirect URI {uri} is not registered" in error.cause
    assert "other environment" in error.cause and "browser never opened" in error.cause
    assert error.field == "redirect_uri"


async def port_in_use() -> tuple[int, ClmWizardError]:
    """What a listener on a port this process already holds says: (the port, its error)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ClmWizardError) as caught:
            async with CallbackListener(f"http://127.0.0.1:{port}/callback", "S1"):
                pass
    return port, caught.value


async def test_port_in_use_names_the_port_and_the_way_out() -> None:
    port, error = await port_in_use()
    assert error.field == "redirect_uri" and error.code == "port_in_use"
    assert f"Port {port} on 127.0.0.1 is already in use" in error.what
    assert f"(pid {os.getpid()}) is listening on it" in error.cause  # this test process
    assert f"http://127.0.0.1:{port + 1}/callback" in error.fix


async def test_listener_closes_its_port() -> None:
    uri = loopback_redirect_uri()
    async with CallbackListener(uri, "S1"):
        pass
    await asyncio.sleep(0)
    async with CallbackListener(uri, "S2") as again:  # the port is free again
        assert again.expected_state == "S2"


async def test_port_in_use_has_a_wizard_fix_without_flags() -> None:
    _, error = await port_in_use()
    assert "--redirect-uri" in error.render()  # the command line keeps its own advice
    shown = error.render_for_wizard()
    assert "--" not in shown and "press p" in shown and error.what in shown


async def test_port_in_use_names_the_owner_through_the_injected_seam() -> None:
    asked: list[int] = []

    def owner(port: int) -> str | None:
        asked.append(port)
        return "python3 (pid 4242)"

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ClmWizardError) as caught:
            async with CallbackListener(
                f"http://127.0.0.1:{port}/callback", "S1", port_owner=owner
            ):
                pass
    assert asked == [port]
    assert "python3 (pid 4242)" in caught.value.render()


async def test_free_loopback_port_is_bindable_and_skips_a_taken_one() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with socket.socket() as next_one:  # the first candidate after it is taken too
            try:
                next_one.bind(("127.0.0.1", taken + 1))
                next_one.listen()
            except OSError:
                pass  # taken already by someone else: all the same for the test
            port = free_loopback_port(near=taken)
            assert port not in (taken, taken + 1)
    uri = with_port(f"http://127.0.0.1:{taken}/callback", port)
    assert uri == f"http://127.0.0.1:{port}/callback"
    async with CallbackListener(uri, "S1") as listener:
        assert listener.port == port


def test_with_port_keeps_host_and_path_and_refuses_non_loopback() -> None:
    assert with_port("http://[::1]:8765/cb", 9000) == "http://[::1]:9000/cb"
    assert with_port("http://localhost/callback", 8766) == "http://localhost:8766/callback"
    with pytest.raises(UsageError):
        with_port("https://example.com/callback", 8766)
