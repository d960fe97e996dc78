"""The layers of docs/架构.md hold: import contracts (import-linter, configured in
pyproject.toml) and the one gate for files from outside."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "zdxm_xl"
LINT = ("from importlinter.cli import lint_imports_command; import sys; "
        "sys.exit(lint_imports_command())")


def lint_imports(folder: Path, source: Path) -> subprocess.CompletedProcess[str]:
    """import-linter with the project's contracts over the package found in ``source``."""
    return subprocess.run([sys.executable, "-c", LINT, "--no-cache"], cwd=folder,
                          env={"PYTHONPATH": str(source), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, check=False)


def test_the_import_contracts_hold() -> None:
    result = lint_imports(ROOT, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 kept, 0 broken" in result.stdout, result.stdout


@pytest.mark.slow
def test_a_broken_layer_fails_the_contracts(tmp_path: Path) -> None:
    copy = tmp_path / "src" / "zdxm_xl"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (copy / "core" / "money.py").open("a", encoding="utf-8") as handle:
        handle.write("\nimport openpyxl  # noqa: E402,F401\n")
    with (copy / "frontends" / "cli.py").open("a", encoding="utf-8") as handle:
        handle.write("\nfrom .addin import handlers  # noqa: E402,F401\n")
    with (copy / "core" / "cells.py").open("a", encoding="utf-8") as handle:
        handle.write("\nfrom . import periods  # noqa: E402,F401\n")  # periods imports cells
    with (copy / "reports" / "progress.py").open("a", encoding="utf-8") as handle:
        handle.write("\nfrom .. import merge  # noqa: E402,F401\n")  # reports above operations
    result = lint_imports(tmp_path, tmp_path / "src")
    assert result.returncode == 1
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert broken == [
        "Front ends over operations over reports over the gate and the books over core BROKEN",
        "The command line and the add-in's runtime never import each other BROKEN",
        "core imports no file format, front end or network library BROKEN",
        "No import circle between the modules of any package BROKEN",
    ], result.stdout
    assert "zdxm_xl.core.money -> openpyxl" in result.stdout


# Calls that open a file's bytes as a workbook, a zip, an OLE container or an encrypted file.
OPENERS = {"load_workbook", "from_path", "ZipFile", "OleFileIO", "OfficeFile", "DocxTemplate"}
# Where such a call may stand, and why: checks/ is the gate for every file from outside.
ALLOWED = {
    "checks": "the gate: returns, plan tables and mail attachments from outside",
    "books": "the master workbook, the office's own file",
    "reports/xltemplate.py": "the 通报 template, the office's own file",
    "reports/bulletins.py": "the 简报 template, the office's own file",
    "frontends/addin/build.py": "writes the add-in's own package",
    "demo": "plays the units filling their forms",
}


def _allowed(path: Path) -> bool:
    relative = path.relative_to(SRC).as_posix()
    return any(relative == place or relative.startswith(place + "/") for place in ALLOWED)


def test_only_the_gate_opens_files_from_outside() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                    node.func.id if isinstance(node.func, ast.Name) else ""
                if name in OPENERS and not _allowed(path):
                    found.append(f"{path.relative_to(SRC)}:{node.lineno} {name}")
    assert found == []


def test_the_layers_are_drawn_in_the_docs() -> None:
    page = (ROOT / "docs" / "架构.md").read_text(encoding="utf-8")
    for layer in ("core/", "books/", "checks/", "reports/", "mail/", "frontends/", "demo/"):
        assert layer in page
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/架构.md" in readme
