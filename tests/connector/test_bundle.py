"""The exported bundle: golden files, determinism, and safe, atomic writing.

Golden files live in tests/connector/golden/<layout>/. After a deliberate change to the
bundle, regenerate them with

    CLMWIZARD_UPDATE_GOLDEN=1 .venv/bin/pytest tests/connector/test_bundle.py

and review the diff before committing.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from clmwizard.connector import bundle
from clmwizard.connector.bundle import build_bundle, default_export_dir, export_bundle
from clmwizard.connector.operations import OPERATIONS
from clmwizard.connector.ownership import MARK_FILE
from clmwizard.errors import ClmWizardError
from clmwizard.store.profile import ClmHosts, Profile
from tests.support.connector_profiles import make_profile

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CLMWIZARD_UPDATE_GOLDEN") == "1"


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("layout", ["three", "single"])
def test_bundle_matches_golden_files(layout: str) -> None:
    files = build_bundle(make_profile(), layout)  # type: ignore[arg-type]
    folder = GOLDEN / layout
    if UPDATE:
        shutil.rmtree(folder, ignore_errors=True)
        for relative, data in files.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_bytes(data)
    golden = _tree(folder)
    assert sorted(golden) == sorted(files)
    for relative, data in files.items():
        assert data == golden[relative], f"{relative} differs from the golden file"


def test_three_layout_has_one_folder_per_host() -> None:
    files = build_bundle(make_profile())
    assert sorted(files) == sorted(
        [
            f"{connector}/{name}"
            for connector in ("general", "upload", "download")
            for name in (
                "apiDefinition.swagger.json",
                "apiProperties.json",
                "settings.json",
                "icon.png",
            )
        ]
        + ["README.md"]
    )
    hosts = {
        connector: json.loads(files[f"{connector}/apiDefinition.swagger.json"])["host"]
        for connector in ("general", "upload", "download")
    }
    assert hosts == {
        "general": "apiuatna11.springcm.com",
        "upload": "apiuploaduatna11.springcm.com",
        "download": "apidownloaduatna11.springcm.com",
    }


def test_single_layout_routes_upload_and_download_to_their_hosts() -> None:
    profile = make_profile(
        clm_hosts=ClmHosts(
            "https://apiuatna11.springcm.com/",
            "https://apiuatna11.springcm.com/content/",
            "https://apidownloaduatna11.springcm.com",
        )
    )
    files = build_bundle(profile, "single")
    swagger = json.loads(files["clm/apiDefinition.swagger.json"])
    assert (swagger["host"], swagger["basePath"], swagger["schemes"]) == (
        "apiuatna11.springcm.com",
        "/",
        ["https"],
    )
    assert len([op for item in swagger["paths"].values() for op in item]) == len(OPERATIONS)
    policies = json.loads(files["clm/apiProperties.json"])["properties"]["policyTemplateInstances"]
    assert [
        (
            p["templateId"],
            p["parameters"]["x-ms-apimTemplateParameter.urlTemplate"],
            p["parameters"]["x-ms-apimTemplate-operationName"],
        )
        for p in policies
        if p["templateId"] == "dynamichosturl"
    ] == [
        (
            "dynamichosturl",
            "https://apiuatna11.springcm.com/content",
            ["UploadDocument", "UploadNewVersion", "UploadDocuments"],
        ),
        (
            "dynamichosturl",
            "https://apidownloaduatna11.springcm.com",
            [
                "DownloadDocument",
                "DownloadDocumentPdf",
                "DownloadDocumentText",
                "DownloadDocumentVersion",
            ],
        ),
    ]
    # Every upload-host and download-host action is routed; no general one is.
    routed = {
        name
        for p in policies
        if p["templateId"] == "dynamichosturl"
        for name in p["parameters"]["x-ms-apimTemplate-operationName"]
    }
    assert routed == {op.operation_id for op in OPERATIONS if op.connector != "general"}
    assert "dynamichosturl" in files["README.md"].decode()


def test_base_path_follows_the_url_path_and_loopback_keeps_http() -> None:
    profile = make_profile(
        environment="custom",
        auth_server="http://127.0.0.1:8765",
        clm_hosts=ClmHosts(
            "http://127.0.0.1:40001/",
            "http://127.0.0.1:40002/content/",
            "http://127.0.0.1:40003/",
        ),
    )
    files = build_bundle(profile)
    upload = json.loads(files["upload/apiDefinition.swagger.json"])
    assert (upload["host"], upload["basePath"], upload["schemes"]) == (
        "127.0.0.1:40002",
        "/content",
        ["http"],
    )
    assert upload["info"]["title"] == "CLM acme-demo Upload"
    security = upload["securityDefinitions"]["oauth2-auth"]
    assert security["authorizationUrl"] == "http://127.0.0.1:8765/oauth/auth"


def test_api_properties_carry_the_oauth_settings_without_secret() -> None:
    files = build_bundle(make_profile())
    properties = json.loads(files["upload/apiProperties.json"])["properties"]
    settings = properties["connectionParameters"]["token"]["oAuthSettings"]
    assert settings["identityProvider"] == "oauth2"
    assert settings["redirectMode"] == "GlobalPerConnector"
    assert settings["scopes"] == ["signature", "spring_read", "spring_write", "extended"]
    assert settings["properties"] == {"IsFirstParty": "False", "IsOnbehalfofLoginSupported": False}
    assert settings["customParameters"]["refreshUrl"] == {
        "value": "https://account-d.docusign.com/oauth/token"
    }
    assert "clientSecret" not in settings
    assert "stackOwner" not in properties
    assert properties["capabilities"] == []
    settings_json = json.loads(files["upload/settings.json"])
    assert settings_json == {
        "apiDefinition": "apiDefinition.swagger.json",
        "apiProperties": "apiProperties.json",
        "icon": "icon.png",
        "powerAppsUrl": "https://api.powerapps.com",
        "powerAppsApiVersion": "2016-11-01",
    }


def test_json_is_ascii_pretty_and_newline_terminated() -> None:
    for name, data in build_bundle(make_profile()).items():
        if name.endswith(".json"):
            assert data.isascii(), name  # paconn reads it in the system encoding
            assert data.endswith(b"}\n")
            assert data.decode("utf-8") == json.dumps(json.loads(data), indent=2) + "\n"


def test_icon_is_a_real_png() -> None:
    data = build_bundle(make_profile())["general/icon.png"]
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (width, height, depth, colour) == (230, 230, 8, 2)
    idat_length = struct.unpack(">I", data[33:37])[0]
    assert data[37:41] == b"IDAT"
    pixels = zlib.decompress(data[41 : 41 + idat_length])
    assert len(pixels) == 230 * (1 + 230 * 3)
    assert pixels[1:4] == bytes.fromhex("4c00ff")  # the brand colour in the corner


def test_readme_has_the_import_commands_and_the_remaining_steps() -> None:
    readme = build_bundle(make_profile())["README.md"].decode()
    assert (
        '(cd upload && paconn create -e "$PP_ENV" --api-def apiDefinition.swagger.json '
        '--api-prop apiProperties.json --icon icon.png --secret "$SECRET" -w)' in readme
    )
    assert '(cd upload && paconn update --settings settings.json --secret "$SECRET")' in readme
    assert "visible" in readme or "process list" in readme
    assert (
        'pac connector create --environment "$PP_ENV" '
        "--api-definition-file download/apiDefinition.swagger.json "
        "--api-properties-file download/apiProperties.json --icon-file download/icon.png"
    ) in readme
    assert "clmwizard credentials --profile acme-demo --copy secret_key" in readme
    assert "Apps and Keys" in readme and "redirect URIs" in readme
    assert "Recurrence" in readme and "List attribute groups" in readme
    assert "`extended`" in readme and "30 days" in readme
    assert "Warning" not in readme
    no_extended = build_bundle(make_profile(scopes=["signature", "spring_read"]))["README.md"]
    assert b"do not include `extended`" in no_extended


def test_same_profile_same_bytes(tmp_path: Path) -> None:
    first = export_bundle(make_profile(), tmp_path / "a")
    second = export_bundle(make_profile(), tmp_path / "b")
    assert _tree(first.out_dir) == _tree(second.out_dir)
    assert len(first.files) == 13
    assert first.connectors == ("general", "upload", "download")


def test_default_export_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_export_dir(make_profile()) == tmp_path / "acme-demo-connector"


# --- writing safely ----------------------------------------------------------------------


def _bundle(folder: Path) -> dict[str, bytes]:
    """The bundle's files without the mark (which lists them)."""
    tree = _tree(folder)
    assert json.loads(tree.pop(MARK_FILE))["files"] == sorted(tree)
    return tree


def _old_folder(path: Path) -> dict[str, bytes]:
    """A bundle as the previous clmwizard wrote it (no mark), with paconn's ids in one folder."""
    for relative, data in build_bundle(make_profile(), "single").items():
        (path / relative).parent.mkdir(parents=True, exist_ok=True)
        (path / relative).write_bytes(data)
    return _tree(path)


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_refuses_own_bundle_without_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = _old_folder(out)
    with pytest.raises(ClmWizardError) as caught:
        export_bundle(make_profile(), out)
    assert (caught.value.field, caught.value.code) == ("out", "out_not_empty")
    assert "is not empty" in caught.value.what
    assert "earlier clmwizard wrote" in caught.value.what
    assert "--force" in caught.value.fix
    assert _tree(out) == before
    assert _leftovers(tmp_path) == []


def test_writes_into_an_empty_existing_folder(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    result = export_bundle(make_profile(), tmp_path / "out", layout="single")
    assert sorted(_tree(tmp_path / "out")) == [
        MARK_FILE,
        "README.md",
        "clm/apiDefinition.swagger.json",
        "clm/apiProperties.json",
        "clm/icon.png",
        "clm/settings.json",
    ]
    assert result.layout == "single" and result.connectors == ("clm",)
    assert len(result.files) == 5


def test_force_replaces_an_old_version_bundle(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _old_folder(out)
    export_bundle(make_profile(), out, force=True)
    assert _bundle(out) == build_bundle(make_profile())
    assert _leftovers(tmp_path) == []


def test_force_replaces_its_own_marked_bundle(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_bundle(make_profile(), out, layout="single")
    export_bundle(make_profile(), out, force=True)
    assert _bundle(out) == build_bundle(make_profile())
    assert _leftovers(tmp_path) == []


def test_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")
    with pytest.raises(ClmWizardError) as caught:
        export_bundle(make_profile(), tmp_path / "out", force=True)
    assert caught.value.field == "out" and "is not a folder" in caught.value.what


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_interrupted_export_leaves_no_half_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    out = tmp_path / "out"
    before = _old_folder(out)
    written: list[Path] = []
    real_write = bundle._write_file

    def failing_write(path: Path, data: bytes) -> None:
        if len(written) == 4:
            raise failure
        real_write(path, data)
        written.append(path)

    monkeypatch.setattr(bundle, "_write_file", failing_write)
    with pytest.raises((ClmWizardError, KeyboardInterrupt)) as caught:
        export_bundle(make_profile(), out, force=True)
    if isinstance(failure, OSError):
        assert isinstance(caught.value, ClmWizardError)
        assert caught.value.code == "write_failed"
        assert "No space left on device" in caught.value.cause
        assert "nothing was left half-written" in caught.value.fix
    assert len(written) == 4
    assert _tree(out) == before
    assert _leftovers(tmp_path) == []


def test_failed_final_rename_restores_the_old_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    before = _old_folder(out)
    real_rename = os.rename

    def rename(source: str | Path, target: str | Path) -> None:
        if Path(source).name.startswith(".out.new-"):
            raise OSError(13, "Permission denied")
        real_rename(source, target)

    monkeypatch.setattr(bundle.os, "rename", rename)
    with pytest.raises(ClmWizardError):
        export_bundle(make_profile(), out, force=True)
    monkeypatch.undo()
    assert _tree(out) == before
    assert _leftovers(tmp_path) == []


def test_export_of_a_profile_without_discovery_explains(tmp_path: Path) -> None:
    profile: Profile = make_profile(clm_hosts=None, account_id=None)
    with pytest.raises(ClmWizardError) as caught:
        export_bundle(profile, tmp_path / "out")
    assert "clmwizard login" in caught.value.fix
    assert not (tmp_path / "out").exists()
