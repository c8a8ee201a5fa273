"""Code formats: 统一社会信用代码 (GB 32100-2015), 报告期, 统计用区划代码."""

from __future__ import annotations

import re
import unicodedata

import polars as pl

from tongji.errors import TongjiError

SUMMARY, BENJI = "0", "9"  # 组织类型 (FM05) of a summary workbook and of a 本级 one
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PERIOD = re.compile(r"^([0-9]{4})(?:Q([1-4])|-(0[1-9]|1[0-2]))?$")
# a template version is year.number (checking/cover.py compares it so): 2027.01 is 2027.1, not another version
_VERSION_ZEROS = r"^([0-9]{4})\.0+([0-9]+)$"


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    """True for an 18-character code whose check character is right."""
    if len(code) != 18 or any(c not in USCC_CHARS for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def uscc_valid_expr(code: pl.Expr) -> pl.Expr:
    """uscc_valid over a column, in polars: a chunk's covers hold hundreds of codes (null stays null)."""
    shape = code.str.contains(f"^[{USCC_CHARS}]{{18}}$")
    return shape & (code.str.slice(17, 1) == _check_char(code, USCC_CHARS, _USCC_WEIGHTS, _uscc_char))


def _uscc_char(total: pl.Expr) -> pl.Expr:
    return ((31 - total % 31) % 31).replace_strict(dict(enumerate(USCC_CHARS)), return_dtype=pl.Utf8)


def _check_char(code: pl.Expr, chars: str, weights: tuple[int, ...], make) -> pl.Expr:
    """The check character `make(total)` of the weighted sum of `code`'s first len(weights) characters (each
    character's value is its place in `chars`; one not in it counts 0, and the shape test fails it)."""
    value = {c: i for i, c in enumerate(chars)}
    total = pl.sum_horizontal([code.str.slice(i, 1).replace_strict(value, default=0, return_dtype=pl.Int64) * w
                               for i, w in enumerate(weights)])
    return make(total)


def normalize_period(text: str) -> str | None:
    """'2025', '2025Q2', '2025-06' (also '2025q2', '2025年', '2025年报', '2025年度', full-width ２０２５) → canonical
    form, or None. Full-width digits are made plain, as a cover's are when it is read (so its period compares
    equal); digits of other scripts are not digits of a period."""
    s = unicodedata.normalize("NFKC", text).strip().upper()
    s = s.removesuffix("年报").removesuffix("年度").replace("年", "")
    return s if _PERIOD.match(s) else None


def canonical_version(text: object) -> str:
    """A template version (FM12) as tongji writes it: 2027.01 → 2027.1; full-width digits made plain."""
    return re.sub(_VERSION_ZEROS, r"\1.\2", unicodedata.normalize("NFKC", str(text)).strip())


def canonical_version_expr(text: pl.Expr) -> pl.Expr:
    """canonical_version over a column of cleaned cover text."""
    return text.str.replace(_VERSION_ZEROS, "${1}.${2}")


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


def period_span(last: str, now: str) -> str:
    """How last period's report stands to this one's, for the cross-period rules that need one: 上年末 when it is
    the end of the year before (2024 for 2025, 2024Q4 for 2025Q2, 2024-12 for 2025-06), 本年 when it is an earlier
    period of the same year (2025Q1 for 2025Q2), else "" (the same quarter a year before, say)."""
    if last[:4] == now[:4] and last < now:
        return "本年"
    if int(last[:4]) == int(now[:4]) - 1 and (len(last) == 4 or last[4:] in ("Q4", "-12")):
        return "上年末"
    return ""


def area_prefix(area: str) -> str:
    """The significant part of a 12-digit 区划代码: 330106001000 → 330106001 (a 街道's area)."""
    a = area.strip()
    for size in (2, 4, 6, 9, 12):
        if a[size:].strip("0") == "":
            return a[:size]
    return a


ORG_CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # GB 11714: digits, then A = 10 … Z = 35
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
UNION_PREFIXES = ("81", "89")  # 登记管理部门 8 工会; 机构类别 1 基层工会, 9 其他


def org_code_check_char(first8: str) -> str:
    """The check character of a GB 11714 organisation code (positions 9–17 of a 统一社会信用代码)."""
    total = sum(ORG_CODE_CHARS.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def org_code_valid(uscc: str) -> bool:
    """True when positions 9–17 of an 18-character code are an organisation code with the right check char."""
    body = uscc[8:17]
    if len(uscc) != 18 or any(c not in ORG_CODE_CHARS for c in body[:8]):
        return False
    return org_code_check_char(body[:8]) == body[8]


def org_code_valid_expr(code: pl.Expr) -> pl.Expr:
    """org_code_valid over a column, in polars (null stays null)."""
    shape = (code.str.len_chars() == 18) & code.str.slice(8, 8).str.contains(f"^[{ORG_CODE_CHARS}]{{8}}$")
    return shape & (code.str.slice(16, 1) == _check_char(code.str.slice(8, 8), ORG_CODE_CHARS, _ORG_WEIGHTS,
                                                          _org_char))


def _org_char(total: pl.Expr) -> pl.Expr:
    chars = {check: {10: "X", 11: "0"}.get(check, str(check)) for check in range(1, 12)}
    return (11 - total % 11).replace_strict(chars, return_dtype=pl.Utf8)


def make_uscc(prefix: str, area: str, org8: str) -> str:
    """A valid 统一社会信用代码: 2-character prefix (81 a grassroots union), 6-digit area, an 8-character
    organisation code body; both check characters computed."""
    first17 = f"{prefix}{area}{org8}{org_code_check_char(org8)}"
    return first17 + uscc_check_char(first17)


def area_level_ok(area: str) -> bool:
    """Digits 7–9 of a 12-digit 统计用区划代码 name a 乡级 unit of a known type: 000 (none), 001–099 街道,
    100–199 镇, 200–299 乡, 400–599 farms, parks and similar; 300–399 and 600–999 are not used."""
    if len(area) != 12 or not area.isdecimal():  # isdigit() would take ² and int() then fail
        return True  # bad-area says what is wrong with it
    town = int(area[6:9])
    return town < 300 or 400 <= town < 600


def area_level_ok_expr(area: pl.Expr) -> pl.Expr:
    """area_level_ok over a column, in polars; a code of other digits than 0-9 (rare) goes to area_level_ok."""
    ascii_digits = area.str.contains(r"^[0-9]{12}$")
    town = area.str.slice(6, 3).cast(pl.Int32, strict=False)
    plain = area.str.contains(r"^[\x00-\x7f]*$")  # no other digit: not 12 digits is ok (bad-area says why)
    other = pl.when(~plain).then(area).map_elements(area_level_ok, return_dtype=pl.Boolean)
    return (pl.when(ascii_digits).then((town < 300) | ((town >= 400) & (town < 600)))
            .when(plain).then(pl.lit(True)).otherwise(other))


# 国民经济行业分类 (GB/T 4754-2017): each 门类 letter and the last two-digit 大类 it holds (01–05 are A, …)
_SECTION_ENDS = (("A", 5), ("B", 12), ("C", 43), ("D", 46), ("E", 50), ("F", 52), ("G", 60), ("H", 62), ("I", 65),
                 ("J", 69), ("K", 70), ("L", 72), ("M", 75), ("N", 79), ("O", 82), ("P", 83), ("Q", 85), ("R", 90),
                 ("S", 96), ("T", 97))
DIVISION_SECTION = {f"{d:02d}": letter for i, (letter, last) in enumerate(_SECTION_ENDS)
                    for d in range((_SECTION_ENDS[i - 1][1] + 1) if i else 1, last + 1)}


def industry_with_section(text: pl.Expr) -> pl.Expr:
    """An industry code given without its 门类 letter (1311, 13) with the letter its 大类 belongs to (C1311, C13):
    grouped by 门类, the unit then counts under C rather than 未分类. Any other text stays as it is."""
    section = text.str.slice(0, 2).replace_strict(DIVISION_SECTION, default=None, return_dtype=pl.Utf8)
    bare = text.str.contains(r"^[0-9]{2,4}(?:\s|$)") & section.is_not_null()
    return pl.when(bare).then(section + text).otherwise(text)


def form_lapse_date(text: str):
    """The last day a form's 有效期至 mark covers: 2027年12月 → 2027-12-31; None when it cannot be read."""
    import calendar
    import datetime as dt

    found = re.match(r"^\s*(\d{4})\s*[年.\-/]\s*(\d{1,2})(?:\s*[月.\-/]\s*(\d{1,2}))?", text or "")
    if not found:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12:
        return None
    day = int(found.group(3)) if found.group(3) else calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))
