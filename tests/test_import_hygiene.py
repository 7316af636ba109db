"""The layer rule as a test: the core never loads Textual or rich, the emulator never the core.

Each module is imported in a fresh interpreter, as harlequin's import-hygiene test does, so an
import hidden behind another module's import is caught too.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "clmwizard"
CORE_PACKAGES = ("docusign", "connector", "store", "powerplatform")
CORE_MODULES = ("draft", "context", "flow")
UI_LIBRARIES = ("textual", "rich")


def _modules_under(package: str) -> list[str]:
    folder = PACKAGE / package
    if not folder.is_dir():
        return []
    names = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append("clmwizard." + ".".join(parts))
    return names


def _core_modules() -> list[str]:
    names = [name for package in CORE_PACKAGES for name in _modules_under(package)]
    names += [f"clmwizard.{name}" for name in CORE_MODULES if (PACKAGE / f"{name}.py").exists()]
    return names


def _loaded_after_import(module: str) -> list[str]:
    probe = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.splitlines()[-1])
    return loaded


def test_the_core_is_found() -> None:
    found = _core_modules()
    assert "clmwizard.docusign.session" in found
    assert "clmwizard.store.profiles" in found
    assert "clmwizard.connector.bundle" in found
    assert "clmwizard.draft" in found and "clmwizard.context" in found


@pytest.mark.parametrize("module", _core_modules())
def test_core_module_loads_no_ui_library(module: str) -> None:
    loaded = _loaded_after_import(module)
    ui = [name for name in loaded if name.split(".")[0] in UI_LIBRARIES]
    assert ui == [], f"{module} loads {ui[:5]}"


def _client_core_imports(path: Path) -> list[str]:
    """Every import of a client-core package in a file, at any depth (lazy imports too)."""
    core = tuple(f"clmwizard.{package}" for package in CORE_PACKAGES)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found += [name for name in names if name.startswith(core)]
    return found


@pytest.mark.parametrize("module", _modules_under("emulator"))
def test_emulator_module_imports_nothing_from_the_client_core(module: str) -> None:
    path = PACKAGE.joinpath(*module.split(".")[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    assert _client_core_imports(path) == []
    loaded = _loaded_after_import(module)
    core = [
        name for name in loaded if name.startswith(tuple(f"clmwizard.{p}" for p in CORE_PACKAGES))
    ]
    assert core == [], f"{module} loads {core}"


SHARED_SCREEN_MODULES = {
    "clmwizard.screens.base",
    "clmwizard.screens.device_code_keys",  # Microsoft's device-code sign-in and its keys
    "clmwizard.screens.dialogs",
    "clmwizard.screens.guard",  # the one guard every worker of a step runs under
    "clmwizard.screens.platform_step",  # Connect's and Heartbeat's base: sign-in, clock, guard
    "clmwizard.screens.rotation",  # the rotation checklist: a dialog over the start screen
}


@pytest.mark.parametrize("module", _modules_under("screens"))
def test_a_step_screen_imports_no_other_step_nor_the_app(module: str) -> None:
    """The order lives in flow.py: a screen neither imports another step's screen nor app.py."""
    path = PACKAGE.joinpath(*module.split(".")[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    pushed: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr.startswith("push_screen")
            and node.args
            and isinstance(node.args[0], ast.Call)
            and isinstance(node.args[0].func, ast.Name)
        ):
            pushed.append(node.args[0].func.id)
    screens = {name for name in imported if name.startswith("clmwizard.screens.")}
    assert screens - SHARED_SCREEN_MODULES - {module} == set()
    assert "clmwizard.app" not in imported
    from clmwizard.screens import dialogs, rotation

    def is_dialog(name: str) -> bool:
        return any(isinstance(getattr(m, name, None), type) for m in (dialogs, rotation))

    assert all(is_dialog(name) for name in pushed), pushed


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("module", _modules_under("screens") + _modules_under("widgets"))
def test_a_screen_never_imports_a_command(module: str) -> None:
    """Screens and commands both ask and show; what decides lives in the core, which both
    import (harlequin-style import rules). A screen importing a command is a decision in the
    wrong place."""
    path = PACKAGE.joinpath(*module.split(".")[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    commands = sorted(
        name
        for name in _imports(path)
        if name == "clmwizard.commands" or name.startswith("clmwizard.commands.")
    )
    assert commands == [], f"{module} imports {commands}"
