"""`clmwizard export` through the real command line entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clmwizard.store.profile import Profile
from clmwizard.store.profiles import ProfileStore
from tests.support.cli import Cli
from tests.support.connector_profiles import ACCESS_TOKEN as ACCESS_VALUE
from tests.support.connector_profiles import REFRESH_TOKEN as REFRESH_VALUE
from tests.support.connector_profiles import SECRET_KEY as SECRET_VALUE

NAME = "acme-demo"


def test_export_writes_the_bundle_and_records_it(saved: Profile, cli: Cli, tmp_path: Path) -> None:
    out_dir = tmp_path / "bundle"
    code, out, err = cli("export", "--profile", NAME, "--out", str(out_dir), "--layout", "three")
    assert (code, err) == (0, "")
    assert f"✓ Wrote 13 files to {out_dir}" in out
    assert "    general/apiDefinition.swagger.json" in out
    assert "Next steps" in out and "Redirect URL" in out and "heartbeat" in out
    assert f"Or let clmwizard do all three: `clmwizard publish --profile {NAME}`, then " in out
    assert f'(cd {out_dir}/general && paconn create -e "$PP_ENV" --api-def ' in out
    assert (out_dir / "download" / "icon.png").is_file()
    (record,) = ProfileStore().load(NAME).exports
    assert (record.path, record.layout) == (str(out_dir.resolve()), "three")
    assert record.at.tzinfo is not None


def test_export_refuses_then_forces(saved: Profile, cli: Cli, tmp_path: Path) -> None:
    out_dir = tmp_path / "bundle"
    code, _, _ = cli("export", "--profile", NAME, "--out", str(out_dir), "--layout", "three")
    assert code == 0
    code, out, err = cli("export", "--profile", NAME, "--out", str(out_dir), "--layout", "single")
    assert code == 1 and out == ""
    assert "is not empty: it holds a connector bundle clmwizard wrote" in err and "--force" in err
    assert (out_dir / "general").is_dir()
    assert [r.layout for r in ProfileStore().load(NAME).exports] == ["three"]
    code, out, _ = cli(
        "export", "--profile", NAME, "--out", str(out_dir), "--layout", "single", "--force"
    )
    assert code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == [
        ".clmwizard-bundle.json",
        "README.md",
        "clm",
    ]
    assert [r.layout for r in ProfileStore().load(NAME).exports] == ["three", "single"]


@pytest.mark.parametrize("layout", ["three", "single"])
def test_no_secret_in_any_exported_byte(
    saved: Profile, cli: Cli, tmp_path: Path, layout: str
) -> None:
    out_dir = tmp_path / "bundle"
    code, out, err = cli("export", "--profile", NAME, "--out", str(out_dir), "--layout", layout)
    assert code == 0
    secrets = [SECRET_VALUE, REFRESH_VALUE, ACCESS_VALUE]
    files = [path for path in out_dir.rglob("*") if path.is_file()]
    assert len(files) == (13 if layout == "three" else 5) + 1  # and the mark
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, path
            assert json.dumps(secret)[1:-1].encode() not in data, path
        assert b"clientSecret" not in data and b'"client_secret"' not in data
    for secret in secrets:
        assert secret not in out + err
