"""The bundle README's import commands, run as written by bash with real paconn 0.0.21.

paconn (Microsoft's, nobody here wrote it) lives in its own venv, `.venv-paconn`, which
scripts/test creates; it is never a dependency of clmwizard. `paconn_run.py` runs paconn's own
CLI with only sign-in, the Power Apps API and the icon upload replaced by a local stand-in, so
every README line goes through paconn's real parser, checks, prompts and settings.json writing.
Each command runs without a terminal (stdin is a pipe), as in a script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from clmwizard.connector.bundle import build_bundle, export_bundle
from tests.support.connector_profiles import make_profile

ROOT = Path(__file__).resolve().parents[2]
PACONN_PYTHON = Path(
    os.environ.get("CLMWIZARD_PACONN_PYTHON", str(ROOT / ".venv-paconn" / "bin" / "python"))
)
RUNNER = Path(__file__).with_name("paconn_run.py")
ENVIRONMENT = "Default-2b7f0c4e-1a9d-4e3b-8c6f-5d0a7e9b1c24"
SECRET = "not-the-real-secret-0042"


@pytest.fixture(scope="module")
def paconn_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    if not PACONN_PYTHON.is_file():
        pytest.fail(
            f"paconn's test venv is missing ({PACONN_PYTHON}). Run the tests with scripts/test, "
            "which installs paconn 0.0.21 into .venv-paconn, or set CLMWIZARD_PACONN_PYTHON."
        )
    version = subprocess.run(
        [str(PACONN_PYTHON), "-c", "import importlib.metadata as m; print(m.version('paconn'))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert version == "0.0.21", f"the README is written for paconn 0.0.21, found {version}"
    bin_dir = tmp_path_factory.mktemp("paconn-bin")
    shim = bin_dir / "paconn"
    shim.write_text(f'#!/bin/sh\nexec "{PACONN_PYTHON}" "{RUNNER}" "$@"\n')
    shim.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


def _blocks(readme: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in readme.splitlines():
        if line.startswith("```sh"):
            current = []
        elif line.startswith("```") and current is not None:
            blocks.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def _block(readme: str, marker: str) -> list[str]:
    (block,) = [block for block in _blocks(readme) if any(marker in line for line in block)]
    return block


def _bash(
    lines: list[str], cwd: Path, path: str, stdin: str, **env: str
) -> tuple[int, list[dict[str, Any]], str]:
    """The lines as one bash script, stdin a pipe (no terminal); the stand-in's calls."""
    result = subprocess.run(
        ["bash", "-e", "-c", "\n".join(lines)],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": path, "HOME": str(cwd.parent), "LANG": "C.UTF-8", **env},
    )
    calls = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert SECRET not in result.stdout + result.stderr
    return result.returncode, calls, result.stderr


def _without_login(block: list[str]) -> list[str]:
    assert block[0] == "paconn login"  # device-code sign-in: the stand-in needs none
    return block[1:]


@pytest.mark.parametrize("layout", ["three", "single"])
def test_readme_create_then_re_export_then_update_as_written(
    paconn_path: str, tmp_path: Path, layout: str
) -> None:
    profile = make_profile()
    out = tmp_path / "bundle"
    result = export_bundle(profile, out, layout=layout)  # type: ignore[arg-type]
    folders = list(result.connectors)
    readme = (out / "README.md").read_text()

    create = _without_login(_block(readme, "paconn create"))
    code, calls, err = _bash(create, out, paconn_path, f"{ENVIRONMENT}\n{SECRET}\n")
    assert code == 0, err
    assert [call["op"] for call in calls] == ["create"] * len(folders)
    assert [Path(call["cwd"]).name for call in calls] == folders
    for call in calls:
        assert call["environment"] == ENVIRONMENT and call["secret_sent"] and call["has_swagger"]
        assert call["icons"] == ["icon.png"]
    ids = {}
    for folder, call in zip(folders, calls, strict=True):
        settings = json.loads((out / folder / "settings.json").read_text())
        assert (settings["connectorId"], settings["environment"]) == (
            call["connector_id"],
            ENVIRONMENT,
        )
        ids[folder] = call["connector_id"]
    assert len(set(ids.values())) == len(folders)
    assert not (out / "settings.json").exists()  # nothing written beside the folders

    export_bundle(profile, out, layout=layout, force=True)  # type: ignore[arg-type]
    update = _block(readme, "paconn update --settings")
    code, calls, err = _bash(update, out, paconn_path, f"{SECRET}\n")
    assert code == 0, err
    assert [(call["op"], call["connector_id"]) for call in calls] == [
        ("update", ids[folder]) for folder in folders
    ]
    assert all(call["environment"] == ENVIRONMENT and call["secret_sent"] for call in calls)

    by_id = _block(readme, "--cid")
    code, calls, err = _bash(
        by_id, out, paconn_path, f"{ids[folders[0]]}\n{SECRET}\n", PP_ENV=ENVIRONMENT
    )
    assert code == 0, err
    assert [(call["op"], call["connector_id"]) for call in calls] == [("update", ids[folders[0]])]


def test_the_harness_rejects_what_paconn_rejects(paconn_path: str, tmp_path: Path) -> None:
    """The old README's lines fail here as they fail for users: the harness can say no."""
    out = tmp_path / "bundle"
    for relative, data in build_bundle(make_profile()).items():
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_bytes(data)
    old = [
        f"paconn create --api-def {folder}/apiDefinition.swagger.json --api-prop "
        f'{folder}/apiProperties.json --icon {folder}/icon.png --secret "$SECRET"'
        for folder in ("general", "upload")
    ]
    code, calls, err = _bash(old[:1], out, paconn_path, "", SECRET=SECRET)
    assert code == 3 and "prompt for the environment" in err and calls == []
    with_env = [f'{line} -e "{ENVIRONMENT}"' for line in old]
    code, calls, err = _bash(with_env, out, paconn_path, "", SECRET=SECRET)
    # the second create collides on the settings.json the first wrote in the current folder:
    # paconn fails without a terminal, after its connector was created
    assert code == 1 and "NoTTY" in err
    assert [call["op"] for call in calls] == ["create", "create"]
    wrong_flag = [old[0].replace('--secret "$SECRET"', f"--environment {ENVIRONMENT}")]
    code, calls, err = _bash(wrong_flag, out, paconn_path, "", SECRET=SECRET)
    assert code == 2 and "unrecognized arguments: --environment" in err and calls == []
    no_id = ['(cd general && paconn update -e "$PP_ENV" --api-def apiDefinition.swagger.json)']
    code, _, err = _bash(no_id, out, paconn_path, "", PP_ENV=ENVIRONMENT)
    assert code == 3 and "prompt for the connector id" in err


def test_paconn_is_not_a_runtime_dependency() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    dependencies = pyproject.split("dependencies", 1)[1].split("]", 1)[0]
    assert "paconn" not in dependencies
    assert "paconn" not in sys.modules
