"""GET /oauth/userinfo and the account list."""

from __future__ import annotations

import uuid

import httpx

from clmwizard.emulator import Emulator
from tests.emulator.flows import bearer, tokens


def test_userinfo_shape(emulator: Emulator, client: httpx.Client) -> None:
    access = tokens(emulator, client, "signature")["access_token"]
    response = client.get(f"{emulator.auth_server}/oauth/userinfo", headers=bearer(access))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"sub", "name", "given_name", "family_name", "created", "email", "accounts"}
    assert body["sub"] == emulator.user_id
    assert body["email"] == emulator.user_email == "alex.morgan@example.com"
    assert body["name"] == emulator.user_name == "Alex Morgan"
    assert (body["given_name"], body["family_name"]) == ("Alex", "Morgan")
    [account] = body["accounts"]
    assert account["account_id"] == emulator.account_id
    assert uuid.UUID(account["account_id"])
    assert account["is_default"] is True
    assert account["account_name"] == "Northwind Traders"
    assert account["base_uri"] == emulator.auth_server
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


def test_userinfo_without_a_valid_token_is_401(emulator: Emulator, client: httpx.Client) -> None:
    url = f"{emulator.auth_server}/oauth/userinfo"
    for headers in ({}, bearer("made-up"), {"Authorization": "Basic abc"}):
        response = client.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_refresh_token_is_not_an_access_token(emulator: Emulator, client: httpx.Client) -> None:
    refresh = tokens(emulator, client)["refresh_token"]
    url = f"{emulator.auth_server}/oauth/userinfo"
    assert client.get(url, headers=bearer(refresh)).status_code == 401


def test_info_matches_the_properties(emulator: Emulator) -> None:
    info = emulator.info()
    assert info["auth_server"] == emulator.auth_server
    assert info["clm_auth_server"] == emulator.clm_auth_server
    assert info["clm_hosts"] == emulator.clm_hosts
    assert len(set(emulator.clm_hosts.values()) | {emulator.auth_server}) == 4
    assert info["integration_key"] == emulator.integration_key
    assert info["secret_key"] == emulator.secret_key
    assert info["spare_secret_key"] == emulator.spare_secret_key
    assert emulator.secret_key != emulator.spare_secret_key
    for value in (emulator.integration_key, emulator.secret_key, emulator.user_id):
        assert uuid.UUID(value)
    assert info["redirect_uris"] == ["http://127.0.0.1:8765/callback"]
    assert info["account_id"] == emulator.account_id
    assert {emulator.secret_key, emulator.spare_secret_key} <= emulator.issued_secrets()


def test_each_start_has_new_keys() -> None:
    with Emulator() as one, Emulator() as two:
        assert one.integration_key != two.integration_key
        assert one.secret_key != two.secret_key
        assert one.auth_server != two.auth_server
