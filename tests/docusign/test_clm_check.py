"""One authenticated CLM call after discovery, against the emulator's general host."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from clmwizard.docusign.clm_check import ClmAnswer, list_attribute_groups
from clmwizard.emulator import Emulator
from clmwizard.errors import ClmWizardError
from clmwizard.http import make_client
from tests.emulator.flows import tokens
from tests.support.ports import free_port


def call(general: str, account_id: str, token: str) -> ClmAnswer:
    async def run() -> ClmAnswer:
        async with make_client(timeout=3.0) as client:
            return await list_attribute_groups(client, general, account_id, token)

    return asyncio.run(run())


def token_with(emu: Emulator, scope: str) -> str:
    with httpx.Client(timeout=5.0) as client:
        return str(tokens(emu, client, scope)["access_token"])


def test_clm_answers_with_its_count(emu: Emulator) -> None:
    token = token_with(emu, "signature spring_read spring_write extended")
    answer = call(emu.clm_hosts["general"], emu.account_id, token)
    with httpx.Client() as client:
        listed = client.get(
            f"{emu.clm_hosts['general']}/v2/{emu.account_id}/attributegroups",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    assert answer.groups == listed["Total"] > 0
    assert answer.describe().startswith(f"CLM answered: {answer.groups} attribute groups")


def test_a_token_without_spring_scopes_names_the_scopes(emu: Emulator) -> None:
    token = token_with(emu, "signature extended")
    with pytest.raises(ClmWizardError) as caught:
        call(emu.clm_hosts["general"], emu.account_id, token)
    assert caught.value.code == "clm_401" and "spring_read" in caught.value.fix


def test_another_account_is_named(emu: Emulator) -> None:
    token = token_with(emu, "signature spring_read spring_write extended")
    with pytest.raises(ClmWizardError) as caught:
        call(emu.clm_hosts["general"], "11111111-2222-3333-4444-555555555555", token)
    assert caught.value.code in ("clm_404", "clm_403", "clm_401")


def test_an_unreachable_host_is_named() -> None:
    with pytest.raises(ClmWizardError) as caught:
        call(f"http://127.0.0.1:{free_port()}", "a", "t")
    assert caught.value.what.startswith("CLM did not answer") and caught.value.field == "clm_hosts"


@pytest.mark.parametrize(
    ("answer", "code"),
    [(httpx.Response(403, json={}), "clm_403"), (httpx.Response(200, text="<html>"), None)],
)
def test_refusals_and_odd_answers(answer: httpx.Response, code: str | None) -> None:
    async def run() -> ClmAnswer:
        transport = httpx.MockTransport(lambda request: answer)
        async with httpx.AsyncClient(transport=transport) as client:
            return await list_attribute_groups(client, "https://api.example", "a", "t")

    with pytest.raises(ClmWizardError) as caught:
        asyncio.run(run())
    if code:
        assert caught.value.code == code
