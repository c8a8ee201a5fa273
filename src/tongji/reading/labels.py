"""Matching what people type to what the forms declare: header labels, sheet names, row names."""

from __future__ import annotations

import functools
import re

from tongji.definitions import Spec

_SPACE = re.compile(r"[\s\u3000]+")
_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９，．－＋：（）ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ",
    "0123456789,.-+:()ABCDEFGHIJKLMNOPQRSTUVWXYZ",
)

CODE_LABELS = {"代码", "指标代码", "代号"}
NAME_LABELS = {"指标名称", "项目", "指标"}
NOTE_LABELS = {"说明", "备注"}
VALUE_LABELS = {"本期数", "本期", "本年累计", "本期值", "数值"}
COVER_VALUE_LABELS = {"内容", "填报内容", "填写内容"}


@functools.cache
def _t2s():
    import opencc  # loaded only when a label is not already simplified Chinese

    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=4096)
def norm(text: str) -> str:
    """Fold spaces, full-width forms and traditional characters: 會員人數 → 会员人数."""
    s = _SPACE.sub("", text).translate(_FULLWIDTH)
    if s and not s.isascii():
        converted = _t2s().convert(s)
        s = converted if converted else s
    return s


def norm_name(text: str) -> str:
    """Row names compare without 其中: prefixes and punctuation."""
    s = norm(text)
    for prefix in ("其中:", "其中"):
        if s.startswith(prefix):
            s = s[len(prefix):]
    return s.strip(":：")


def name_index(spec: Spec) -> dict[str, dict[str, str]]:
    """sheet → {normalized row name → code}, for rows whose code cell is blank or wrong (made once per spec)."""
    return spec.derive(_name_index)


def _name_index(spec: Spec) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for form in spec.forms:
        out[form.sheet] = {norm_name(r.name): r.code for r in form.rows}
    return out
