"""The one way to run checks: ruff over the code, as part of the tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff 未安装：请用 pip install -e \".[test]\" 安装测试依赖")
    result = subprocess.run([ruff, "check", "src", "tests", "benchmarks"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_core_type_checks() -> None:
    mypy = shutil.which("mypy")
    if mypy is None:
        pytest.fail("mypy 未安装：请用 pip install -e \".[test]\" 安装测试依赖")
    result = subprocess.run([mypy], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
