"""Damaged workbooks, made by mutating good ones: validate() never raises, never crashes the process, and
gives every file a verdict (issue 9). Bytes are flipped, cut and spliced in the file itself and inside
the XML parts of its zip, where hostile snippets (a far cell, an unknown entity, …) are also put in."""

from __future__ import annotations

import io
import tempfile
import zipfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tongji

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "2025"
FUZZ = settings(max_examples=8, deadline=None, database=None)  # 48 files a test, a few seconds

mutation = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("cut"), st.floats(0, 1, exclude_max=True), st.just(b"")),
    st.tuples(st.just("splice"), st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=64)),
)
HOSTILE = [
    b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', b'<c r="XFD7"><v>1</v></c>', b"&bogus;",
    b"<c><v>1</v></c>" * 400, b'<dimension ref="A1:XFD1048576"/>', b'<c r="A1" t="s"><v>99999999</v></c>',
    b'<c r="ZZZZZZZZZZ1"><v>1</v></c>', b"\xff\xfe\x00", b"<![CDATA[", b'<row r="-5">', b'<c r="A0"><v>1</v></c>',
]


def mutate(data: bytes, ops: list[tuple[str, float, bytes]]) -> bytes:
    out = bytearray(data)
    for op, where, payload in ops:
        at = int(where * len(out)) if out else 0
        if op == "flip":
            out[at:at + len(payload)] = payload
        elif op == "cut":
            del out[at:]
        else:
            out[at:at] = payload
    return bytes(out)


@cache
def template() -> bytes:
    return next(iter(sorted(SAMPLES.rglob("*.xlsx")))).read_bytes()


@cache
def old_workbook() -> bytes:
    xlwt = pytest.importorskip("xlwt")
    from test_hostile_files import make_xls

    with tempfile.TemporaryDirectory() as tmp:
        return make_xls(Path(tmp) / "a.xls", lambda s: s["会员"].write(40, 3, xlwt.Formula("1+2"))).read_bytes()


def verdicts(files: list[bytes], suffix: str) -> None:
    """Validate the files as one batch (a batch costs little more than one file): a verdict for each."""
    with tempfile.TemporaryDirectory() as tmp:
        for i, data in enumerate(files):
            (Path(tmp) / f"unit{i}{suffix}").write_bytes(data)
        report = tongji.validate([tmp])
    assert report.workbooks.height == len(files)
    assert set(report.workbooks["status"]) <= {"通过", "有警告", "退回"}


BATCH = st.lists(st.lists(mutation, min_size=1, max_size=4), min_size=6, max_size=6)


@FUZZ
@given(BATCH)
def test_mutated_xlsx_bytes(batch):
    verdicts([mutate(template(), ops) for ops in batch], ".xlsx")


def mutated_part(data) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(template()))
    names = src.namelist()
    target = data.draw(st.sampled_from(names))
    ops = data.draw(st.lists(mutation, max_size=3))
    snippet = data.draw(st.none() | st.tuples(st.sampled_from(HOSTILE), st.floats(0, 1, exclude_max=True)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for name in names:
            body = src.read(name)
            if name == target:
                body = mutate(body, ops)
                if snippet:
                    at = int(snippet[1] * len(body))
                    body = body[:at] + snippet[0] + body[at:]
            out.writestr(name, body)
    return buf.getvalue()


@FUZZ
@given(st.data())
def test_mutated_xml_inside_the_zip(data):
    verdicts([mutated_part(data) for _ in range(6)], ".xlsx")


@FUZZ
@given(BATCH)
def test_mutated_xls_bytes(batch):
    verdicts([mutate(old_workbook(), ops) for ops in batch], ".xls")
