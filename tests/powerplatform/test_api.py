"""The Power Apps API client's answers to failures: plain words for 401, 403, 404, 429, 5xx;
retries where they are safe; bounded, validated answers."""

from __future__ import annotations

import httpx
import pytest

from clmwizard.errors import ClmWizardError, NetworkError
from clmwizard.powerplatform.api import PowerAppsApi, findings_from, validate_environment_id
from tests.powerplatform.fake import FLOW, OID, POWER_APPS, FakePowerPlatform


def api_for(fake: FakePowerPlatform, token: str | None = None) -> PowerAppsApi:
    return PowerAppsApi(
        fake.client(),
        token or fake.token,
        OID,
        power_apps_url=POWER_APPS,
        flow_url=FLOW,
        backoff=0.01,
        retry_after_cap=0.05,
    )


async def test_environments_are_listed() -> None:
    fake = FakePowerPlatform(environments=["env-one", "env-two"])
    found = await api_for(fake).list_environments()
    assert [e.environment_id for e in found] == ["env-one", "env-two"]


async def test_a_refused_token_is_401_in_plain_words() -> None:
    with pytest.raises(ClmWizardError) as caught:
        await api_for(FakePowerPlatform(), "wrong-token").list_environments()
    assert caught.value.code == "http_401" and "Sign in again" in caught.value.fix


async def test_403_names_the_maker_role() -> None:
    fake = FakePowerPlatform()
    fake.fail("POST", "generateResourceStorage", 403, count=1)
    with pytest.raises(ClmWizardError) as caught:
        await api_for(fake).generate_storage("env-one")
    assert caught.value.code == "no_maker_role" and "Environment Maker" in caught.value.cause


async def test_an_unknown_environment_is_404_in_plain_words() -> None:
    with pytest.raises(ClmWizardError) as caught:
        await api_for(FakePowerPlatform()).list_connectors("env-nope")
    assert caught.value.code == "unknown_environment" and "env-nope" in caught.value.what


async def test_429_is_retried_after_retry_after_then_reported() -> None:
    fake = FakePowerPlatform()
    fake.fail("GET", "/apis", 429, count=1, retry_after="1")
    assert await api_for(fake).list_connectors("env-one") == []
    fake.fail("GET", "/apis", 429, count=10, retry_after="7")
    with pytest.raises(NetworkError) as caught:
        await api_for(fake).list_connectors("env-one")
    assert caught.value.code == "http_429" and "7 s" in caught.value.cause


async def test_5xx_is_retried_for_reads_but_never_for_create() -> None:
    fake = FakePowerPlatform()
    fake.fail("GET", "/apis", 503, count=2)
    assert await api_for(fake).list_connectors("env-one") == []
    fake.fail("POST", "/apis", 502, count=1)
    with pytest.raises(NetworkError):
        await api_for(fake).create_connector("env-one", {"properties": {}})
    assert len(fake.calls("POST", "/apis")) == 1


async def test_malformed_and_hostile_answers_are_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "generateResourceStorage" in request.url.path:
            return httpx.Response(200, json={"sharedAccessSignature": "http://evil.test/c?x"})
        return httpx.Response(200, json={"value": [{"name": "../../etc"}, {"name": "ok_1"}]})

    api = PowerAppsApi(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        "t",
        OID,
        power_apps_url=POWER_APPS,
        flow_url=FLOW,
    )
    with pytest.raises(NetworkError):
        await api.generate_storage("env-one")
    assert [c.connector_id for c in await api.list_connectors("env-one")] == ["ok_1"]
    with pytest.raises(ClmWizardError):
        validate_environment_id("env one'; drop")


def test_validation_answers_become_classified_findings() -> None:
    def levels(text: str) -> list[tuple[str, str]]:
        return [(f.level, f.text) for f in findings_from(text)]

    assert levels("line one\n\nline two") == [("unknown", "line one"), ("unknown", "line two")]
    assert levels('"Error: host: bad.\\r\\nWarning: paths./x.get: long."') == [
        ("error", "Error: host: bad."),
        ("warning", "Warning: paths./x.get: long."),
    ]
    assert levels('{"errors": [{"path": "/paths/x", "message": "bad"}]}') == [
        ("unknown", "/paths/x: bad")
    ]
    assert levels(
        '[{"level": "Warning", "operationId": "ListFolders", "message": "summary is long"},'
        ' {"severity": "Error", "message": "no host"}, 42]'
    ) == [
        ("warning", "ListFolders: summary is long"),
        ("error", "no host"),
        ("unknown", "42"),
    ]


def _paged(pages: list[dict[str, object]]) -> PowerAppsApi:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "IsCustomApi eq 'True'" in request.url.params["$filter"]
        index = int(request.url.params.get("$skiptoken", "0"))
        return httpx.Response(200, json=pages[index])

    return PowerAppsApi(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        "t",
        OID,
        power_apps_url=POWER_APPS,
        flow_url=FLOW,
    )


def _link(host: str, index: int) -> str:
    return (
        f"{host}/providers/Microsoft.PowerApps/apis?api-version=2016-11-01&%24filter="
        f"environment+eq+%27env-one%27+and+IsCustomApi+eq+%27True%27&%24skiptoken={index}"
    )


async def test_the_list_follows_next_link_on_its_own_host_only() -> None:
    managed = {"name": "shared_x", "properties": {"isCustomApi": False, "displayName": "X"}}
    pages: list[dict[str, object]] = [
        {"value": [managed], "nextLink": _link(POWER_APPS, 1)},
        {"value": [{"name": "shared_mine", "properties": {"isCustomApi": True}}]},
    ]
    found = await _paged(pages).list_connectors("env-one")
    assert [c.connector_id for c in found] == ["shared_mine"]  # managed ones left out
    pages[0]["nextLink"] = _link("https://evil.test", 1)
    with pytest.raises(NetworkError) as caught:
        await _paged(pages).list_connectors("env-one")
    assert caught.value.code == "catalogue_incomplete" and "own host" in caught.value.what
    endless = [{"value": [], "nextLink": _link(POWER_APPS, i + 1)} for i in range(60)]
    with pytest.raises(NetworkError) as caught:
        await _paged(endless).list_connectors("env-one")
    assert caught.value.code == "catalogue_incomplete" and "pages" in caught.value.what
    broken: list[dict[str, object]] = [{"value": [], "nextLink": _link(POWER_APPS, 1)}, {}]
    with pytest.raises(NetworkError) as caught:
        await _paged(broken).list_connectors("env-one")
    assert caught.value.code == "malformed"
