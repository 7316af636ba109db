"""GET /oauth/userinfo and the account list."""

from __future__ import annotations

import uuid

import httpx

from clmwizard.emulator import Emulator
from tests.emulator.flows import bearer, tokens


def test_userinfo_shape(emu: Emulator, client: httpx.Client) -> None:
    access = tokens(emu, client, "signature")["access_token"]
    response = client.get(f"{emu.auth_server}/oauth/userinfo", headers=bearer(access))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"sub", "name", "given_name", "family_name", "created", "email", "accounts"}
    assert body["sub"] == emu.user_id
    assert body["email"] == emu.user_email == "alex.morgan@example.com"
    assert body["name"] == emu.user_name == "Alex Morgan"
    assert (body["given_name"], body["family_name"]) == ("Alex", "Morgan")
    [account] = body["accounts"]
    assert account["account_id"] == emu.account_id
    assert uuid.UUID(account["account_id"])
    assert account["is_default"] is True
    assert account["account_name"] == "Northwind Traders"
    assert account["base_uri"] == emu.auth_server
    assert account["organization"]["organization_id"]
    assert account["organization"]["links"][0]["rel"] == "self"


def test_two_accounts_list_the_default_second(client: httpx.Client) -> None:
    with Emulator(accounts=2) as emu:
        access = tokens(emu, client)["access_token"]
        body = client.get(f"{emu.auth_server}/oauth/userinfo", headers=bearer(access)).json()
        first, second = body["accounts"]
        assert first["is_default"] is False
        assert second["is_default"] is True
        assert second["account_id"] == emu.account_id
        assert first["account_id"] != second["account_id"]
        assert "organization" not in first
        assert [a["account_id"] for a in emu.accounts] == [first["account_id"], emu.account_id]


def test_userinfo_without_a_valid_token_is_401(emu: Emulator, client: httpx.Client) -> None:
    url = f"{emu.auth_server}/oauth/userinfo"
    for headers in ({}, bearer("made-up"), {"Authorization": "Basic abc"}):
        response = client.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_refresh_token_is_not_an_access_token(emu: Emulator, client: httpx.Client) -> None:
    refresh = tokens(emu, client)["refresh_token"]
    url = f"{emu.auth_server}/oauth/userinfo"
    assert client.get(url, headers=bearer(refresh)).status_code == 401


def test_info_matches_the_properties(emu: Emulator) -> None:
    info = emu.info()
    assert info["auth_server"] == emu.auth_server
    assert info["clm_auth_server"] == emu.clm_auth_server
    assert info["clm_hosts"] == emu.clm_hosts
    assert len(set(emu.clm_hosts.values()) | {emu.auth_server}) == 4
    assert info["integration_key"] == emu.integration_key
    assert info["secret_key"] == emu.secret_key
    assert info["spare_secret_key"] == emu.spare_secret_key
    assert emu.secret_key != emu.spare_secret_key
    for value in (emu.integration_key, emu.secret_key, emu.user_id):
        assert uuid.UUID(value)
    assert info["redirect_uris"] == ["http://127.0.0.1:8765/callback"]
    assert info["account_id"] == emu.account_id
    assert {emu.secret_key, emu.spare_secret_key} <= emu.issued_secrets()


def test_each_start_has_new_keys() -> None:
    with Emulator() as one, Emulator() as two:
        assert one.integration_key != two.integration_key
        assert one.secret_key != two.secret_key
        assert one.auth_server != two.auth_server
