"""Portal field values, per connector and tab, from a profile."""

from __future__ import annotations

import json

import pytest

from clmwizard.connector.fields import (
    DEFINITION_ORDER,
    REDIRECT_INSTRUCTION,
    action_definitions,
    connector_fields,
    fields_document,
)
from clmwizard.connector.operations import operations_for
from clmwizard.errors import ClmWizardError
from clmwizard.store.profile import ClmHosts, Profile
from tests.support.connector_profiles import ACCOUNT_ID, INTEGRATION_KEY, SECRET_KEY, make_profile


def _values(profile: Profile, connector: str, secret: str | None = None) -> dict[str, str]:
    return {f.key: f.value for f in connector_fields(profile, connector, secret)}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("connector", "host"),
    [
        ("general", "apiuatna11.springcm.com"),
        ("upload", "apiuploaduatna11.springcm.com"),
        ("download", "apidownloaduatna11.springcm.com"),
    ],
)
def test_general_tab_per_connector(profile: Profile, connector: str, host: str) -> None:
    values = _values(profile, connector)
    assert (values["scheme"], values["host"], values["base_url"]) == ("HTTPS", host, "/")


def test_security_tab_is_the_same_for_every_connector(profile: Profile) -> None:
    security = {
        connector: [
            (f.key, f.label, f.value, f.secret)
            for f in connector_fields(profile, connector)
            if f.tab == "Security"
        ]
        for connector in ("general", "upload", "download")
    }
    assert security["general"] == security["upload"] == security["download"]
    assert security["general"] == [
        ("auth_type", "Authentication type", "OAuth 2.0", False),
        ("identity_provider", "Identity Provider", "Generic Oauth 2", False),
        ("client_id", "Client id", INTEGRATION_KEY, False),
        ("client_secret", "Client secret", "", True),
        (
            "authorization_url",
            "Authorization URL",
            "https://account-d.docusign.com/oauth/auth",
            False,
        ),
        ("token_url", "Token URL", "https://account-d.docusign.com/oauth/token", False),
        ("refresh_url", "Refresh URL", "https://account-d.docusign.com/oauth/token", False),
        ("scope", "Scope", "signature spring_read spring_write extended", False),
        ("redirect_url", "Redirect URL", REDIRECT_INSTRUCTION, False),
    ]


def test_redirect_url_field_explains_the_registration(profile: Profile) -> None:
    (field,) = [f for f in connector_fields(profile, "general") if f.key == "redirect_url"]
    assert "after you save" in field.value and "redirect URIs in DocuSign" in field.value
    assert "https://global.consent.azure-apim.net/redirect/" in field.note


def test_client_secret_value_only_when_given(profile: Profile) -> None:
    assert _values(profile, "general", SECRET_KEY)["client_secret"] == SECRET_KEY
    assert _values(profile, "general")["client_secret"] == ""


def test_definition_tab_lists_the_connectors_actions(profile: Profile) -> None:
    for connector in ("general", "upload", "download"):
        definition = [f for f in connector_fields(profile, connector) if f.tab == "Definition"]
        operations = operations_for(connector)  # type: ignore[arg-type]
        assert [(f.label, f.value, f.note) for f in definition] == [
            (op.summary, f"{op.method} {op.path}", op.operation_id) for op in operations
        ]
    upload = [f for f in connector_fields(profile, "upload") if f.tab == "Definition"]
    assert [f.value for f in upload] == [
        "POST /v2/{AccountId}/folders/{FolderId}/documents",
        "POST /v2/{AccountId}/documents/{DocumentId}",
        "POST /v2/{AccountId}/folders/{FolderId}/documents",
    ]


def test_every_action_has_each_definition_value_in_the_portals_order(profile: Profile) -> None:
    for connector in ("general", "upload", "download"):
        definitions = action_definitions(profile, connector)  # type: ignore[arg-type]
        assert [d.operation_id for d in definitions] == [
            op.operation_id
            for op in operations_for(connector)  # type: ignore[arg-type]
        ]
        for definition, operation in zip(
            definitions,
            operations_for(connector),  # type: ignore[arg-type]
            strict=True,
        ):
            keys = [key for key, _, _ in definition.values()]
            assert keys == [k for k in DEFINITION_ORDER if k in keys]
            assert keys[:6] == [
                "summary",
                "description",
                "operation_id",
                "visibility",
                "verb",
                "url",
            ]
            assert definition.summary == operation.summary
            assert definition.verb == operation.method
            host = {"general": "apiuatna11", "upload": "apiuploaduatna11"}.get(
                connector, "apidownloaduatna11"
            )
            assert definition.url.startswith(f"https://{host}.springcm.com/v2/{{AccountId}}/")
            has_body = any(p.location == "body" for p in operation.parameters)
            assert bool(definition.request_body) == has_body
            assert definition.response_body or operation.response is None


def test_samples_are_json_shaped_like_the_schemas(profile: Profile) -> None:
    by_id = {d.operation_id: d for d in action_definitions(profile, "general")}
    start = json.loads(by_id["StartDocLauncherTask"].request_body)
    assert start["DataType"] == "xml" and set(start["DocLauncherConfiguration"]) == {"Href"}
    document = json.loads(by_id["GetDocument"].response_body)
    assert {"Name", "AttributeGroups", "Href", "Lock"} <= set(document)
    assert document["Lock"]["CheckInHref"].startswith("https://")
    listing = json.loads(by_id["ListFolderDocuments"].response_body)
    assert listing["Items"][0]["Name"] == "text" and listing["Total"] == 0
    assert by_id["GetDocument"].url.endswith("?expand=AttributeGroups,Path,ParentFolder,Lock")
    assert by_id["GetFolderByPath"].url.split("?")[1].startswith("path=/Contracts&expand=")
    assert by_id["DeleteDocument"].response_body == ""
    assert by_id["CreateFolder"].headers == "Content-Type: application/json"
    upload = {d.operation_id: d for d in action_definitions(profile, "upload")}
    assert "file's bytes" in upload["UploadDocument"].request_body
    multipart = json.loads(upload["UploadDocuments"].request_body)
    assert set(multipart) == {"$content-type", "$multipart"}


def test_base_url_follows_a_path_and_a_loopback_host_keeps_http() -> None:
    profile = make_profile(
        clm_hosts=ClmHosts(
            "https://apiuatna11.springcm.com/",
            "https://apiuatna11.springcm.com/content/",
            "http://127.0.0.1:40003/content",
        )
    )
    assert _values(profile, "upload")["base_url"] == "/content"
    assert _values(profile, "upload")["host"] == "apiuatna11.springcm.com"
    download = _values(profile, "download")
    assert (download["scheme"], download["host"], download["base_url"]) == (
        "HTTP",
        "127.0.0.1:40003",
        "/content",
    )


def test_fields_document_shape_and_secret_only_when_given(profile: Profile) -> None:
    document = fields_document(profile, None)
    assert list(document) == ["general", "upload", "download"]
    general = document["general"]
    assert {
        key: general[key]
        for key in ("scheme", "host", "base_url", "identity_provider", "client_id", "scope")
    } == {
        "scheme": "HTTPS",
        "host": "apiuatna11.springcm.com",
        "base_url": "/",
        "identity_provider": "Generic Oauth 2",
        "client_id": INTEGRATION_KEY,
        "scope": "signature spring_read spring_write extended",
    }
    assert general["authorization_url"].endswith("/oauth/auth")
    assert general["token_url"] == general["refresh_url"]
    assert "client_secret" not in general
    first = general["actions"][0]
    assert {k: first[k] for k in ("operation_id", "summary", "method", "path")} == {
        "operation_id": "ListAttributeGroups",
        "summary": "List attribute groups",
        "method": "GET",
        "path": "/v2/{AccountId}/attributegroups",
    }
    assert {*DEFINITION_ORDER, "note"} <= set(first)
    assert first["url"] == "https://apiuatna11.springcm.com/v2/{AccountId}/attributegroups" + (
        "?expand=Attributes"
    )
    assert first["visibility"] == "important" and first["request_body"] == ""
    revealed = fields_document(profile, SECRET_KEY, connectors=("upload",))
    assert list(revealed) == ["upload"]
    assert revealed["upload"]["client_secret"] == SECRET_KEY


def test_profile_without_discovery_gets_a_clear_message() -> None:
    profile = make_profile(clm_hosts=None)
    with pytest.raises(ClmWizardError) as caught:
        connector_fields(profile, "general")
    assert "no CLM account yet" in caught.value.what
    assert "clmwizard login --profile acme-demo" in caught.value.fix
    assert "wizard" in caught.value.fix


def test_a_broken_base_url_names_the_connector() -> None:
    profile = make_profile(
        clm_hosts=ClmHosts("https://apiuatna11.springcm.com", "apiupload.example", "https://x")
    )
    with pytest.raises(ClmWizardError) as caught:
        connector_fields(profile, "general")
    assert caught.value.field == "clm_hosts.upload"
    assert ACCOUNT_ID not in str(caught.value)
