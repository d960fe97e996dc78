"""The generated references in docs/ must be what the code generates now."""

from __future__ import annotations

from pathlib import Path

import pytest
from tools.docgen import PAGES, commands

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_generated_page_is_up_to_date(name: str) -> None:
    committed = (DOCS / name).read_text(encoding="utf-8")
    assert committed == PAGES[name](), f"运行 python tools/docgen.py 更新 docs/{name}"


def test_every_command_has_help_and_is_documented() -> None:
    from zdxm_xl.frontends.cli import help_text

    reference = (DOCS / "cli.md").read_text(encoding="utf-8")
    for path in commands():
        text = help_text(path)
        assert "用法：" in text
        description = text.split("\n\n")[1].strip() if "\n\n" in text else ""
        assert description, f"zdxm {' '.join(path)} 没有说明"
        assert f"## {' '.join(['zdxm', *path])}\n" in reference


def test_the_public_api_is_listed_and_resolves() -> None:
    import zdxm_xl

    for name in zdxm_xl.__all__:
        assert getattr(zdxm_xl, name) is not None, name
    assert callable(zdxm_xl.merge_files) and callable(zdxm_xl.make_bulletin)
