"""Cleaning text from workbooks and registries before it reaches a file or the terminal.

A unit name or a 说明 note is whatever a submitter typed or pasted: control characters, terminal escape
sequences, something that looks like a formula. Outputs must stay inert and well formed whatever it holds.

The patterns are plain strings that mean the same to Python's `re` and to polars (Rust regex), so the
openpyxl cells and the XML that summary.py splices in clean a name the same way.
"""

from __future__ import annotations

import re

from rich.markup import escape

# ESC [ … final byte (colours, cursor moves), ESC ] … BEL or ESC \ (window titles, hyperlinks)
ESCAPE_SEQUENCE = r"\x1B\[[0-?]*[ -/]*[@-~]|\x1B\][^\x07\x1B]*(?:\x07|\x1B\\)?"
# what XML 1.0 forbids outright (tab, newline and carriage return are allowed)
XML_ILLEGAL = r"[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]"
# what a terminal acts on: C0 but tab and newline, DEL, C1 (0x9B is a one-byte ESC [), bidi overrides
TERMINAL_CONTROL = r"[\x00-\x08\x0B-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]"
# a spreadsheet program computes a cell that starts with one of these (OWASP, "CSV injection"), also after
# blanks it skips (spaces, the full-width space, line ends) and in the full-width forms a Chinese input method
# types (＝ ＋ － ＠), which some spreadsheet programs take as = + - @
FORMULA_START = r"^(?:[\t\r]|\s*[=+\-@＝＋－＠])"
# ... but a plain number starting with - or + is a number, not a formula, and stays as it is
PLAIN_NUMBER = r"^[ \u3000]*[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$"

# lone surrogates can reach a Python str (never a polars one) from a damaged workbook; XML cannot hold them
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPE_SEQUENCE = re.compile(ESCAPE_SEQUENCE)
_XML_ILLEGAL = re.compile(XML_ILLEGAL)
_TERMINAL_CONTROL = re.compile(TERMINAL_CONTROL)
_FORMULA_START = re.compile(FORMULA_START)
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)


def xml_safe(text: str) -> str:
    """Text an xlsx can hold: escape sequences and XML-illegal characters removed, line ends made "\\n".

    openpyxl refuses such characters (IllegalCharacterError) and XML written by hand would be corrupt.
    A removed sequence leaves what the submitter saw: "\\x1b[31m红\\x1b[0m" becomes "红". An XML parser
    reads a raw CR as a newline anyway; doing it here makes every sheet and every reader agree."""
    text = _SURROGATE.sub("", _XML_ILLEGAL.sub("", _ESCAPE_SEQUENCE.sub("", text)))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def formula_like(text: str) -> bool:
    """Text a spreadsheet program would take for a formula (or a number) once a user edits its cell: written with
    the cell style's quotePrefix, Excel's leading apostrophe, it stays text."""
    return text[:1] in ("=", "+", "-", "@")


def csv_safe(text: str) -> str:
    """A CSV cell that a spreadsheet program shows as text: one that could start a formula gets a leading
    single quote (OWASP's advice); a plain number such as "-200.5" is left alone."""
    if _FORMULA_START.match(text) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def terminal_safe(text: str) -> str:
    """Text to print through rich: escape sequences and control characters removed, markup escaped,
    so a name cannot recolour the terminal, move its cursor, or break a table with "[/oops]"."""
    return escape(_TERMINAL_CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text)))
