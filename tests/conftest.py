"""Shared fixtures. Each block below belongs to one test module; keep additions in their own block."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tongji.definitions.codes import uscc_check_char
from tongji.i18n import set_lang

os.environ["TONGJI_ENTRY_POINTS"] = "0"  # plugins pip-installed on this machine must not change the tests
os.environ.pop("TONGJI_PLUGINS_DIR", None)
os.environ.pop("TONGJI_LOAD_PLUGINS", None)


@pytest.fixture(autouse=True)
def _default_plugins():
    """A test that loads plugins gets the built-in host back afterwards."""
    from tongji import plugins

    before = plugins._host
    yield
    if plugins._host is not before:
        plugins._host = None


@pytest.fixture(autouse=True)
def _chinese(monkeypatch):
    """Every test starts in Chinese: --lang en sets a module-level language that must not leak."""
    monkeypatch.delenv("TONGJI_LANG", raising=False)
    set_lang(None)
    yield
    set_lang(None)


# --- template fixtures (tests/test_template.py) ---------------------------------------------------


def uscc(first17: str) -> str:
    """A valid 统一社会信用代码 from its first 17 characters."""
    return first17 + uscc_check_char(first17)


# 1 市, 1 区, 1 街道 (its own registry code, with a leading zero), 3 基层 (one revoked).
TEMPLATE_UNITS = {
    "city": uscc("81330100MC0000011"),
    "district": uscc("81330106MC0000021"),
    "street": "0106001",
    "g1": uscc("81330106MC0000101"),
    "g2": uscc("81330106MC0000102"),
    "g3": uscc("81330106MC0000103"),
}


def write_template_registry(folder: Path) -> Path:
    """A registry CSV as a statistician would keep it (names with a slash, one 撤销 unit)."""
    u = TEMPLATE_UNITS
    lines = [
        "单位代码,单位名称,上级代码,层级,组织类型,所在地区划代码,状态",
        f"{u['city']},示例市总工会,,市,,330100000000,正常",
        f"{u['district']},示例区总工会,{u['city']},区,,330106000000,正常",
        f"{u['street']},示例街道总工会,{u['district']},街道,,330106001000,正常",
        f"{u['g1']},甲公司（A/B厂）工会,{u['street']},基层,,330106001001,正常",
        f"{u['g2']},乙园区联合工会,{u['street']},基层,2,330106001002,正常",
        f"{u['g3']},丙公司工会,{u['street']},基层,1,330106001003,撤销",
    ]
    path = folder / "名册.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def template_registry(tmp_path) -> Path:
    return write_template_registry(tmp_path)


# --- end of template fixtures ---------------------------------------------------------------------
