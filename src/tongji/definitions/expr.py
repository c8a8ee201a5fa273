"""A small grammar for rules and indicators: arithmetic over indicator codes, never `eval`.

    check   := sum [CMP sum]          CMP: <= >= < > = ≈ (also ≤ ≥ ==)
    sum     := term (('+' | '-') term)*
    term    := unary (('*' | '/') unary)*
    unary   := '-' unary | atom
    atom    := NUMBER ['%'] | NAME | 'abs' '(' sum ')' | 'prev' '(' CODE ')' | '(' sum ')'

A NAME is an indicator code (HY03) or a parameter from the rule file (留成比例). `prev(JF21)` is last period's
value of a code, from last period's summary: a rule using it is a cross-period check, run only when rollup is
given the previous period (`--previous`). Its message quotes last period's value as {上期JF21}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

CODE = re.compile(r"^[A-Z]{2}\d{2}$")
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?%?)|(?P<name>[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff]*)"
    r"|(?P<op><=|>=|==|≤|≥|≈|[-+*/()<>=]))"
)
_CMP = {"<=": "<=", "≤": "<=", ">=": ">=", "≥": ">=", "<": "<", ">": ">", "=": "=", "==": "=", "≈": "≈"}


class ExprError(ValueError):
    """A rule or indicator expression that does not parse; `pos` is the character offset."""

    def __init__(self, message: tuple[str, str], text: str, pos: int):
        zh, en = message
        super().__init__(f"{zh}：“{text}”（第 {pos + 1} 个字符）")
        self.en = f"{en}: {text!r} (position {pos + 1})"
        self.pos = pos


@dataclass(frozen=True)
class Node:
    op: str  # "num", "name", "prev", "neg", "abs", "+", "-", "*", "/"
    args: tuple = ()
    value: float | str | None = None


@dataclass
class Expr:
    text: str
    left: Node
    cmp: str | None = None
    right: Node | None = None
    names: list[str] = field(default_factory=list)
    previous: list[str] = field(default_factory=list)  # the codes read through prev(): last period's values

    @property
    def codes(self) -> list[str]:
        return [n for n in self.names if CODE.match(n)]

    def terms(self) -> int:
        """How many code terms take part: amount comparisons allow 0.01 元 per term."""
        return max(len(self.codes), 1)


def parse(text: str) -> Expr:
    tokens = _tokenize(text)
    p = _Parser(text, tokens)
    left = p.sum()
    cmp = right = None
    if p.peek() in _CMP:
        cmp = _CMP[p.take()]
        right = p.sum()
    if p.i < len(tokens):
        raise ExprError(("多余的内容", "unexpected text"), text, tokens[p.i][1])
    names: list[str] = []
    previous: list[str] = []
    for node in (left, right):
        _collect(node, names, previous)
    return Expr(text, left, cmp, right, names, previous)


def _tokenize(text: str) -> list[tuple[str, int]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(("无法识别的字符", "a character the grammar does not know"), text, pos)
        tokens.append((m.group(m.lastgroup), m.start(m.lastgroup)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str, tokens: list[tuple[str, int]]):
        self.text, self.tokens, self.i = text, tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        if self.i >= len(self.tokens):
            raise ExprError(("表达式不完整", "the expression is incomplete"), self.text, len(self.text))
        tok, pos = self.tokens[self.i]
        if expected is not None and tok != expected:
            raise ExprError((f"此处应为 {expected!r}", f"expected {expected!r} here"), self.text, pos)
        self.i += 1
        return tok

    def sum(self) -> Node:
        node = self.term()
        while self.peek() in ("+", "-"):
            node = Node(self.take(), (node, self.term()))
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/"):
            node = Node(self.take(), (node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return Node("neg", (self.unary(),))
        return self.atom()

    def atom(self) -> Node:
        pos = self.tokens[self.i][1] if self.i < len(self.tokens) else len(self.text)
        tok = self.take()
        if tok == "(":
            node = self.sum()
            self.take(")")
            return node
        if tok[0].isdigit():
            return Node("num", value=float(tok[:-1]) / 100 if tok.endswith("%") else float(tok))
        if tok == "abs" and self.peek() == "(":
            self.take("(")
            node = self.sum()
            self.take(")")
            return Node("abs", (node,))
        if tok == "prev" and self.peek() == "(":
            self.take("(")
            at = self.tokens[self.i][1] if self.i < len(self.tokens) else len(self.text)
            code = self.take()
            if not CODE.match(code):
                raise ExprError(("prev( ) 中应为一个指标代码，如 prev(JF21)",
                                 "prev( ) takes one indicator code, like prev(JF21)"), self.text, at)
            self.take(")")
            return Node("prev", value=code)
        if tok in _CMP or tok in "+-*/)":
            raise ExprError(("此处应为指标代码、数字或括号", "expected an indicator code, a number or a bracket here"),
                            self.text, pos)
        return Node("name", value=tok)


def _collect(node: Node | None, out: list[str], previous: list[str]) -> None:
    if node is None:
        return
    if node.op == "name" and node.value not in out:
        out.append(node.value)
    if node.op == "prev" and node.value not in previous:
        previous.append(node.value)
    for arg in node.args:
        _collect(arg, out, previous)


def previous_column(code: str) -> str:
    """The column holding last period's value of `code` in the frame a cross-period rule is evaluated on."""
    return f"prev_{code}"


def to_polars(node: Node, params: dict[str, float]) -> pl.Expr:
    """Compile a parsed side to a polars expression over a frame with one column per code."""
    if node.op == "num":
        return pl.lit(node.value, dtype=pl.Float64)
    if node.op == "name":
        if node.value in params:
            return pl.lit(float(params[node.value]), dtype=pl.Float64)
        return pl.col(node.value)
    if node.op == "prev":
        return pl.col(previous_column(node.value))
    if node.op == "neg":
        return -to_polars(node.args[0], params)
    if node.op == "abs":
        return to_polars(node.args[0], params).abs()
    a, b = (to_polars(x, params) for x in node.args)
    if node.op == "/":  # by zero: no value (a rule is then not judged, a rate is blank), never inf or NaN
        return pl.when(b != 0).then(a / b)
    return {"+": a + b, "-": a - b, "*": a * b}[node.op]
