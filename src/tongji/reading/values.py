"""Turn the text of every value cell into a number, vectorised over the stacked table.

Pitfall 1: the original text stays in `raw` for messages; `value` is what the text shows.
A value typed as text ("1,234", "１２３", " 56 ") is read as the number it shows, with a notice.
"""

from __future__ import annotations

import polars as pl

from tongji.definitions import Spec

_FW_FROM = list("０１２３４５６７８９，．－＋") + ["\u3000", "\xa0", "\u2212"]  # U+2212 −: pasted from Word or a PDF
_FW_TO = list("0123456789,.-+") + [" ", " ", "-"]
# [0-9], not \d: the regex engine's \d also matches full-width digits, which must get a notice. No exponent: a
# number cell never reads as 1.5e2 (the reader writes its digits out), so that is text: read with a notice like
# "1,234" when it writes out every digit of its whole part (1.2345678E+07), else with a warning (sci-number): it
# looks like a display pasted with its last digits cut (12,345,678 shown as 1.23E+07 in a narrow column)
_PLAIN_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
_MANTISSA = r"^[-+]?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"
_THOUSANDS = r"^[-+]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"
YES = ["是", "1", "y", "yes", "√", "✓", "true", "有"]
NO = ["否", "0", "n", "no", "×", "✗", "x", "false", "无"]
ANSWERS = [w for w in YES + NO if not w.isdigit()]  # the words of a 是/否 answer, not the digits of a count


def kinds(spec: Spec) -> dict[str, str]:
    return {r.code: r.kind for f in spec.forms for r in f.rows}


def yes_no_codes(spec: Spec) -> list[str]:
    return [r.code for f in spec.forms for r in f.rows if r.yes_no]


PARSE_ISSUES = pl.Enum(["cell-error", "bad-flag", "not-a-number", "implausible-number", "sci-number",
                        "text-number"])
# The largest value a cell of each kind can plausibly hold, even in a national summary ([config] of
# schemas/forms.toml; the defaults here stand for a spec without it).
# NaN, infinity and 1E+308 are read by the number parser but no statistic holds them, and sums of them break.
LIMITS = {"count": ("数值上限_人数", 1e9), "flag": ("数值上限_人数", 1e9), "amount": ("数值上限_金额", 1e13)}


def limits(spec: Spec) -> dict[str, float]:
    return {kind: spec.params.get(name, default) for kind, (name, default) in LIMITS.items()}


def clean_text() -> pl.Expr:
    """The raw text with full-width characters made plain and spaces trimmed; null when blank."""
    return pl.col("raw").str.replace_many(_FW_FROM, _FW_TO).str.strip_chars().replace("", None)


def _digits_cut() -> pl.Expr:
    """Text in scientific notation with fewer significant digits than the whole part of its value has (1.23E+07,
    1e3): the rest were never written. Null (no) for any other text."""
    written = (pl.col("text").str.extract(_MANTISSA).str.replace(".", "", literal=True)
               .str.strip_chars_start("0").str.len_chars())
    whole = pl.col("value").abs().floor().cast(pl.Int64, strict=False).cast(pl.Utf8).str.len_chars()
    # asked only of text with an e: the string work costs 0.13 s a million cells, the test for an e a tenth of it
    return pl.when(pl.col("text").str.contains("[eE]")).then((pl.col("value").abs() >= 1) & (written < whole))


def parse_values(cells: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """Add `kind`, `value` (Float64) and `parse_issue` (rule id or null).

    Columns are added, never joined on, and the cleaned text is dropped once used: the stacked table has a row
    per cell of every workbook (8 million at 100,000 units), and each column of it costs over 100 MB."""
    text = clean_text()
    by_code = kinds(spec)
    kind = pl.col("code").replace_strict(by_code, default=None, return_dtype=pl.Enum(sorted(set(by_code.values()))))
    df = cells.with_columns(kind.alias("kind"), text.alias("text"))
    numeric = pl.col("kind").is_in(["count", "amount"])
    unthousand = (
        pl.when(pl.col("text").str.contains(_THOUSANDS)).then(pl.col("text").str.replace_all(",", ""))
        .otherwise(pl.col("text")).str.replace(r"^\+", "")
    )
    flag_text = pl.col("text").str.to_lowercase()
    # a summary's flags are counts of units; a grassroots workbook's are 是/否
    counted = pl.col("summary") if "summary" in cells.columns else pl.lit(False)
    flag = (pl.when(flag_text.is_in(YES)).then(1.0).when(flag_text.is_in(NO)).then(0.0)
            .when(counted).then(unthousand.cast(pl.Float64, strict=False)))
    # a count of covered units that a 单独基层工会 answers 是/否 (JH04 建立职代会制度的单位): 1 or 0
    answered = pl.col("code").is_in(yes_no_codes(spec)) & flag_text.is_in(ANSWERS)
    limit = pl.col("kind").cast(pl.Utf8).replace_strict(limits(spec), default=None, return_dtype=pl.Float64)
    df = df.with_columns(
        pl.when(pl.col("error").is_not_null()).then(None)
        .when(pl.col("text").is_null()).then(0.0)
        .when(answered).then(pl.when(flag_text.is_in(YES)).then(1.0).otherwise(0.0))
        .when(numeric).then(unthousand.cast(pl.Float64, strict=False))
        .when(pl.col("kind") == "flag").then(flag)
        .otherwise(None)
        .alias("value")
    )
    implausible = (pl.col("value").is_nan() | (pl.col("value").abs() > limit)).fill_null(False)
    df = df.with_columns(pl.when(implausible).then(None).otherwise(pl.col("value")).alias("value"),
                         implausible.alias("implausible"))
    is_num_kind = numeric | (pl.col("kind") == "flag")
    issue = (
        pl.when(pl.col("error").is_not_null()).then(pl.lit("cell-error"))
        .when(pl.col("text").is_null() | ~is_num_kind).then(None)
        .when(pl.col("implausible")).then(pl.lit("implausible-number"))
        .when(pl.col("value").is_null() & (pl.col("kind") == "flag")).then(pl.lit("bad-flag"))
        .when(pl.col("value").is_null()).then(pl.lit("not-a-number"))
        .when(numeric & _digits_cut()).then(pl.lit("sci-number"))
        .when(numeric & ~answered & ~pl.col("raw").str.contains(_PLAIN_NUMBER)).then(pl.lit("text-number"))
    )
    return df.with_columns(issue.cast(PARSE_ISSUES).alias("parse_issue")).drop("text", "implausible")
