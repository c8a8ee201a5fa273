"""Code formats: 统一社会信用代码 (GB 32100-2015), 报告期, 统计用区划代码."""

from __future__ import annotations

import re

from tongji.errors import TongjiError

SUMMARY, BENJI = "0", "9"  # 组织类型 (FM05) of a summary workbook and of a 本级 one
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PERIOD = re.compile(r"^(\d{4})(?:Q([1-4])|-(0[1-9]|1[0-2]))?$")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    """True for an 18-character code whose check character is right."""
    if len(code) != 18 or any(c not in USCC_CHARS for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def normalize_period(text: str) -> str | None:
    """'2025', '2025Q2', '2025-06' (also '2025q2', '2025年') → canonical form, or None."""
    s = text.strip().upper().replace("年", "").replace("年报", "")
    return s if _PERIOD.match(s) else None


def canonical_period(period: str) -> str:
    """The period in canonical form; a malformed one (2025年第五季度) is the user's mistake, said in Chinese."""
    canonical = normalize_period(str(period))
    if not canonical:
        raise TongjiError("period-invalid", period=period)
    return canonical


def previous_period(period: str) -> str:
    """The same period a year before: 2025 → 2024, 2025Q2 → 2024Q2, 2025-06 → 2024-06."""
    canonical = canonical_period(period)
    return f"{int(canonical[:4]) - 1}{canonical[4:]}"


def area_prefix(area: str) -> str:
    """The significant part of a 12-digit 区划代码: 330106001000 → 330106001 (a 街道's area)."""
    a = area.strip()
    for size in (2, 4, 6, 9, 12):
        if a[size:].strip("0") == "":
            return a[:size]
    return a
