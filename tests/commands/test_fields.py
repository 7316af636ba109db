"""`clmwizard fields` and `clmwizard export` through the real command line."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from clmwizard import clipboard
from clmwizard.cli import main
from clmwizard.store.profile import Profile
from clmwizard.store.profiles import ProfileStore
from tests.support.connector_profiles import INTEGRATION_KEY, make_profile
from tests.support.connector_profiles import SECRET_KEY as SECRET_VALUE
from tests.support.keyrings import MemoryKeyring

NAME = "acme-demo"


@pytest.fixture
def clip(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    record: dict[str, Any] = {"copied": [], "clear": []}
    monkeypatch.setattr(clipboard, "copy_text", record["copied"].append)
    monkeypatch.setattr(
        clipboard,
        "schedule_clear_in_background",
        lambda value, after=30.0: record["clear"].append((value, after)) or 4242,
    )
    return record


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fields_text_is_tab_by_tab_with_the_secret_masked(
    saved: Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "fields", "--profile", NAME, "--layout", "three")
    assert (code, err) == (0, "")
    assert SECRET_VALUE not in out
    lines = out.splitlines()
    assert "general connector — ApiBaseUrl https://apiuatna11.springcm.com" in lines
    assert "upload connector — ApiBaseUploadUrl https://apiuploaduatna11.springcm.com" in lines
    assert (
        "download connector — ApiBaseDownloadUrl https://apidownloaduatna11.springcm.com" in lines
    )
    host_line = next(line for line in lines if line.strip().startswith("Host "))
    secret_line = next(line for line in lines if line.strip().startswith("Client secret"))
    assert host_line.endswith("apiuatna11.springcm.com")
    assert "••••••••••••••••" in secret_line and "--reveal" in secret_line
    # aligned: every value of the general connector starts in the same column
    column = host_line.index("apiuatna11")
    assert secret_line.index("•") == column
    assert lines[lines.index("  General") + 1].startswith("    Connector name  ")
    assert lines[lines.index("  General") + 1].endswith("CLM acme-demo")
    assert lines[lines.index("  General") + 2].startswith("    Scheme")
    # The Definition tab: each action's values in the portal's order, one per line.
    start = lines.index("    List attribute groups  (ListAttributeGroups)")
    labels = [line[6:27].strip() for line in lines[start + 1 : start + 8]]
    assert labels == [
        "Summary",
        "Description",
        "Operation ID",
        "Visibility",
        "Verb",
        "URL",
        "Response body sample",
    ]
    assert lines[start + 6].endswith(
        "https://apiuatna11.springcm.com/v2/{AccountId}/attributegroups?expand=Attributes"
    )
    pdf = lines.index("    Download as PDF  (DownloadDocumentPdf)")
    assert any("Accept: application/pdf" in line for line in lines[pdf : pdf + 9])


def test_fields_warn_beside_a_host_outside_docusign(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    from clmwizard.store.profile import ClmHosts

    profile = make_profile(
        clm_hosts=ClmHosts(
            general="https://clm.evil.example",
            upload="https://apiuploaduatna11.springcm.com",
            download="https://clm2.evil.example",
        ),
        confirmed_hosts=["clm.evil.example"],
    )
    ProfileStore().save(profile)
    code, out, err = _run(capsys, "fields", "--profile", NAME, "--layout", "three")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    general = lines.index(next(line for line in lines if line.startswith("general connector")))
    assert lines[general + 1] == (
        "  ! clm.evil.example is outside DocuSign's CLM domains (springcm.com, docusign.net) "
        "(confirmed by you)."
    )
    upload = lines.index(next(line for line in lines if line.startswith("upload connector")))
    assert not lines[upload + 1].startswith("  !")
    download = lines.index(next(line for line in lines if line.startswith("download connector")))
    assert lines[download + 1].startswith("  ! clm2.evil.example is outside")
    assert lines[download + 1].endswith("(NOT confirmed).")


def test_fields_reveal_shows_the_secret(saved: Profile, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "fields", "--profile", NAME, "--connector", "upload", "--reveal")
    assert code == 0
    assert SECRET_VALUE in out
    assert "general connector" not in out and "upload connector" in out


def test_fields_json_has_the_secret_only_when_revealed(
    saved: Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys, "fields", "--profile", NAME, "--format", "json", "--layout", "three"
    )
    document = json.loads(out)
    assert code == 0
    assert list(document) == ["general", "upload", "download"]
    assert document["upload"]["host"] == "apiuploaduatna11.springcm.com"
    assert document["general"]["client_id"] == INTEGRATION_KEY
    assert all("client_secret" not in entry for entry in document.values())
    pdf = next(a for a in document["download"]["actions"] if a["summary"] == "Download as PDF")
    assert pdf["url"] == (
        "https://apidownloaduatna11.springcm.com/v2/{AccountId}/documents/{DocumentId}/pdf"
    )
    assert pdf["headers"] == "Accept: application/pdf" and pdf["verb"] == "GET"
    assert "Route request" in pdf["note"]
    assert SECRET_VALUE not in out
    _, revealed, _ = _run(
        capsys, "fields", "--profile", NAME, "--format", "json", "--reveal", "--layout", "three"
    )
    assert json.loads(revealed)["download"]["client_secret"] == SECRET_VALUE


def test_fields_follow_the_profiles_layout_one_connector_by_default(
    saved: Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    """A profile that exports and publishes one connector shows one connector's fields."""
    code, out, _ = _run(capsys, "fields", "--profile", NAME, "--format", "json")
    document = json.loads(out)
    assert (code, list(document)) == (0, ["clm"])
    clm = document["clm"]
    assert clm["host"] == "apiuatna11.springcm.com"
    assert clm["connector_name"] == "CLM acme-demo"
    upload = next(a for a in clm["actions"] if a["operation_id"] == "UploadDocument")
    assert "Set host URL" in upload["note"] and "apiuploaduatna11.springcm.com" in upload["note"]
    code, text, _ = _run(capsys, "fields", "--profile", NAME)
    assert code == 0 and "Layout: one connector" in text
    assert [line for line in text.splitlines() if line.endswith("springcm.com")][:1] == [
        "clm connector — ApiBaseUrl https://apiuatna11.springcm.com"
    ]
    assert "upload connector" not in text and "--connector upload" not in text
    # A profile whose layout is three shows three; --layout overrides either way.
    ProfileStore().update(NAME, lambda profile: setattr(profile, "layout", "three"))
    _, three, _ = _run(capsys, "fields", "--profile", NAME, "--format", "json")
    assert list(json.loads(three)) == ["general", "upload", "download"]
    _, single, _ = _run(
        capsys, "fields", "--profile", NAME, "--format", "json", "--layout", "single"
    )
    assert list(json.loads(single)) == ["clm"]
    code, _, err = _run(
        capsys, "fields", "--profile", NAME, "--layout", "single", "--connector", "upload"
    )
    assert code == 2 and "no upload connector in the single layout" in err


def test_fields_yaml_matches_json(saved: Profile, capsys: pytest.CaptureFixture[str]) -> None:
    _, as_json, _ = _run(capsys, "fields", "--profile", NAME, "--format", "json")
    _, as_yaml, _ = _run(capsys, "fields", "--profile", NAME, "--format", "yaml")
    assert yaml.safe_load(as_yaml) == json.loads(as_json)


def test_copy_a_host_field_defaults_to_general_and_says_so(
    saved: Profile, capsys: pytest.CaptureFixture[str], clip: dict[str, Any]
) -> None:
    code, out, _ = _run(capsys, "fields", "--profile", NAME, "--copy", "host", "--layout", "three")
    assert code == 0
    assert clip["copied"] == ["apiuatna11.springcm.com"]
    assert "general connector" in out and "--connector upload" in out
    _run(capsys, "fields", "--profile", NAME, "--copy", "host", "--connector", "download")
    assert clip["copied"][-1] == "apidownloaduatna11.springcm.com"
    assert clip["clear"] == []


def test_copy_an_action_copies_its_full_url(
    saved: Profile, capsys: pytest.CaptureFixture[str], clip: dict[str, Any]
) -> None:
    code, _, _ = _run(
        capsys, "fields", "--profile", NAME, "--copy", "UploadDocument", "--layout", "three"
    )
    assert code == 0
    assert clip["copied"] == [
        "https://apiuploaduatna11.springcm.com/v2/{AccountId}/folders/{FolderId}/documents"
        "?name=Contract.pdf"
    ]


def test_copy_the_client_secret_schedules_the_clear(
    saved: Profile, capsys: pytest.CaptureFixture[str], clip: dict[str, Any]
) -> None:
    code, out, err = _run(capsys, "fields", "--profile", NAME, "--copy", "client_secret")
    assert code == 0
    assert clip["copied"] == [SECRET_VALUE]
    assert clip["clear"] == [(SECRET_VALUE, 30.0)]
    assert "clipboard clears in 30 s" in out
    assert SECRET_VALUE not in out + err


def test_copy_refuses_the_redirect_url_and_unknown_fields(
    saved: Profile, capsys: pytest.CaptureFixture[str], clip: dict[str, Any]
) -> None:
    code, _, err = _run(capsys, "fields", "--profile", NAME, "--copy", "redirect_url")
    assert code == 2
    assert "Power Automate makes it" in err and "Apps and Keys" in err
    code, _, err = _run(capsys, "fields", "--profile", NAME, "--copy", "hostname")
    assert code == 2
    assert "There is no field 'hostname'" in err and "client_id" in err
    assert clip["copied"] == []


def test_fields_of_a_profile_not_signed_in(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    ProfileStore().save(make_profile(clm_hosts=None, account_id=None))
    code, out, err = _run(capsys, "fields", "--profile", NAME)
    assert code == 1 and out == ""
    assert "has no CLM account yet" in err
    assert f"clmwizard login --profile {NAME}" in err


def test_fields_missing_secret_when_revealing(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    ProfileStore().save(make_profile())
    code, _, err = _run(capsys, "fields", "--profile", NAME, "--reveal")
    assert code == 1
    assert "No secret key is stored" in err and "clmwizard rotate" in err
