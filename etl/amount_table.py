"""The amount grammar over a whole column: Polars' regex engine first, `etl.amounts` for the rest.

`amount_columns(texts)` gives, for every text of a column (row for row), the
columns the build needs from `etl.amounts.parse_amounts`: low, high, point,
per_count, approximate, marker, unit, per, error. Same values, bit for bit, far
faster:

1. *Routing.* A text goes to the Python grammar (`etl.amounts`) when it holds
   anything the compiled form below does not cover: Korean/CJK number characters
   ("2억 7천", "20여"), a non-Latin word before a number (Korean or Japanese
   lead words, qualifiers and per-unit prefixes: "약 70㎏", "1그램당 130위안"),
   control characters or line breaks, characters on which Python's and Rust's
   notions of a word character, a blank or a case differ, or more than
   `MAX_CHARS` characters.
2. *The rest* is read by `FAST_PATTERN`: the same grammar written for Polars'
   regex engine (Rust's `regex` crate, linear time by construction, so no
   possessive or atomic groups are needed), built from the same word lists.
   Where a possessive or atomic group in `etl.amounts` commits to its first
   choice, this engine tries the same choice first; the two readings could only
   part when that choice leads to no match at all, so a text this pattern does
   not match is handed to the Python grammar too, which has the last word.
3. The numbers and every rule of `etl.amounts._parse_unique` (scales, ranges,
   per-unit division, bounds from qualifiers and Korean suffixes, the error
   texts and their precedence) are Polars expressions over the captured groups.

`tests/test_amount_table.py` runs both paths on the test suite's texts, the
curated data, synthetic reports and generated texts, and requires equal output.
"""
from __future__ import annotations

import re

import polars as pl

from etl.amounts import (
    ERRORS,
    KO_RANGE_SUFFIXES,
    KO_PER_PARTICLES,
    KO_SUFFIX_QUALIFIERS,
    KO_TRAIL_WORDS,
    MAX_CHARS,
    NUMBER,
    PER_CONTAINERS,
    PREFIX_MARKERS,
    QUALIFIER_FORMS,
    QUALIFIERS,
    RANGE_SEPARATORS,
    SCALES,
    YEO,
    _KO_SCALE_CHARS,
    parse_amounts,
)

COLUMNS = {"low": pl.Float64, "high": pl.Float64, "point": pl.Float64, "per_count": pl.Float64,
           "approximate": pl.Boolean, "marker": pl.String, "unit": pl.String, "per": pl.String, "error": pl.String}

_META = set("\\.+*?()|[]{}^$#&-~")


def _escape(word: str) -> str:
    return "".join("\\" + ch if ch in _META else ch for ch in word)


def _alternation(words) -> str:
    """Longest first, as `etl.amounts._alternation`; a blank inside a word may be any run of blanks or none."""
    return "|".join(_escape(w).replace(" ", r"\s*") for w in sorted(words, key=len, reverse=True))


# Symbols a text may hold before a number and still be read here: the non-ASCII currency markers and range dashes.
_SYMBOLS = "".join(sorted({ch for word in PREFIX_MARKERS for ch in word if ord(ch) > 0x7F}
                          | {ch for word in RANGE_SEPARATORS.split("|") for ch in word if ord(ch) > 0x7F}))
# "당" and the last characters of the particles that end a Korean per-unit ("1g에 5000원"): where the Python
# grammar reads (or tries and fails to read) a per-unit before the number, it commits to that reading.
_PER_MARKS = "".join(sorted({"당"} | {particle[-1] for particle in KO_PER_PARTICLES}))
# Characters that send a text to the Python grammar (see the module docstring, point 1).
ROUTE_TO_PYTHON = "|".join([
    r"[\x00-\x08\x0A-\x1F\x7F-\x9F]",                 # control characters, line breaks
    f"[{_KO_SCALE_CHARS}{YEO}]",                     # Korean/CJK number characters
    f"[{_PER_MARKS}]",                               # a Korean per-unit mark or particle ("kg당", "1g에 ")
    rf"(?s)[^\x00-\x7F{_SYMBOLS}].*[0-9]",           # a non-Latin character before a digit
    r"[\p{M}\p{No}\p{Join_Control}]",                # word characters to Rust, not to Python (or the reverse)
    r"[\p{Pc}&&[^_]]",
    r"[\p{Alphabetic}&&[^\p{L}\p{Nl}]]",
    "[\u212a\u017f\u0130\u0131\u1e9e\u2126\u212b]",  # letters that fold to ASCII letters
])


def _fast_pattern() -> str:
    """The grammar for Polars' regex engine. Every piece of the text is captured (blanks too), so the
    offset of each number is the sum of the lengths of the groups before it (`_BEFORE`)."""
    q = _alternation(QUALIFIERS)
    ks = _alternation({**KO_SUFFIX_QUALIFIERS, **KO_RANGE_SUFFIXES})
    trail = _alternation(KO_TRAIL_WORDS)
    s = _alternation(SCALES)
    c = _alternation(PREFIX_MARKERS)
    sep = "|".join(_escape(w) for w in RANGE_SEPARATORS.split("|"))
    num = f"(?:{NUMBER})"
    ws = r"[^\S\n]"
    per_word = rf"per|an|a|for(?:{ws}+an?)?"  # etl.amounts.PER: "for a"/"for an" only before a blank (the next token)
    return (
        rf"(?i)^(?P<w0>\s*)"
        rf"(?:(?P<qual>{q})(?P<w1>\s+))?"
        rf"(?P<cur1>{c})?(?P<w2>\s*)(?P<n1>{num})(?P<w3>\s*)(?:(?P<s1>{s})\b)?"
        rf"(?:(?P<w4>\s*)(?P<sep>{sep})(?P<w5>\s*)(?P<cur2>{c})?(?P<w6>\s*)(?P<n2>{num})(?P<w7>\s*)(?:(?P<s2>{s})\b)?)?"
        rf"(?P<w8>\s*)(?P<unit>.*?)"
        rf"(?P<w9>\s*)(?:(?P<perword>\b(?:{per_word}){ws}+|/{ws}*)(?:(?P<pn>{num})(?P<pnend>-|{ws}*))?"
        rf"(?P<per>[^\s0-9](?:{ws}*\S)*))?"
        rf"\s*(?:(?P<ksuf>{ks})|(?:{trail}))?(?:{ws}*(?:(?P<ksuf2>{ks})|(?:{trail})))?"
        rf"\s*$"
    )


# The groups before each number, whose text is cut from the text itself (the other groups of a text read here
# hold no digit, so they are the same in its shape)
_BEFORE = {"n1": ["w0", "qual", "w1", "cur1", "w2"]}
_BEFORE["n2"] = _BEFORE["n1"] + ["n1", "w3", "s1", "w4", "sep", "w5", "cur2", "w6"]
_BEFORE["pn"] = _BEFORE["n2"] + ["n2", "w7", "s2", "w8", "unit", "w9", "perword"]


FAST_PATTERN = _fast_pattern()
_GROUPS = re.findall(r"\(\?P<(\w+)>", FAST_PATTERN)
_CONTAINER = rf"(?i)[^\S\n]+(?:{_alternation(PER_CONTAINERS)})$"
_BOUNDS = {**QUALIFIERS, **KO_SUFFIX_QUALIFIERS, **KO_RANGE_SUFFIXES}

def amount_columns(texts: pl.Series) -> pl.DataFrame:
    """The grammar's columns (COLUMNS) for every text of `texts`, row for row; an empty text gives nulls."""
    text = pl.col("text")
    frame = pl.DataFrame({"text": texts.cast(pl.String)}).with_columns(
        given=text.is_not_null() & (text != ""),
        routed=text.str.contains(ROUTE_TO_PYTHON) | (text.str.len_chars() > MAX_CHARS))
    here = frame["given"] & ~frame["routed"]
    if here.sum() > 0.8 * len(here):  # nearly every row: keep the rows in place (the others as nulls)
        fast = _fast(frame.select(pl.when(here).then(text)).to_series())
    else:  # a sparse column (a figure few rows give): only those rows, then back in place
        rows = here.arg_true()
        found = _fast(frame["text"].filter(here))
        fast = (pl.DataFrame({"row": pl.int_range(len(frame), dtype=rows.dtype, eager=True)})
                .join(found.with_columns(row=rows), on="row", how="left", maintain_order="left").drop("row"))
    python = frame["given"] & (frame["routed"] | fast["n1"].is_null())  # routed, or not matched here
    if not python.any():
        return fast.select(*COLUMNS)
    table = _python(texts.filter(python).unique(maintain_order=True))
    slow = frame.select(text=pl.when(python).then(text)).join(table, on="text", how="left", maintain_order="left")
    return pl.DataFrame([slow[c].zip_with(python, fast[c]) for c in COLUMNS])


def _python(texts: pl.Series) -> pl.DataFrame:
    """The Python grammar's columns for `texts`, in batches (bounds the memory of its pandas frames)."""
    parts = []
    for start in range(0, len(texts), PYTHON_BATCH):
        batch = texts.slice(start, PYTHON_BATCH)
        parsed = parse_amounts(batch.to_list()).reset_index(drop=True)
        parsed = parsed.astype({c: "float64" for c in ("low", "high", "point", "per_count")} | {"approximate": "boolean"}
                               | {c: "string" for c in ("marker", "unit", "per", "error")})
        frame = pl.from_pandas(parsed[list(COLUMNS)], nan_to_null=True)
        parts.append(frame.select(pl.Series("text", batch, dtype=pl.String),
                                  *(pl.col(c).cast(t) for c, t in COLUMNS.items())))
    return pl.concat(parts)


PYTHON_BATCH = 50_000


def _number(column: pl.Expr) -> pl.Expr:
    return column.str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False)


def _shapes(shapes: pl.LazyFrame) -> pl.LazyFrame:
    """Everything that depends on a text's shape alone, once per shape: where its numbers sit, its scale
    factors, bound, marker, unit and per-unit words, and the errors of its form.

    A shape that is not read here gets a null `n1` (its texts go to the Python grammar): no match, a digit in
    its unit or per-unit words, or a per-unit clause `etl.amounts` would read otherwise (`retreat`).
    """
    g = shapes.with_columns(g=pl.col("shape").str.extract_groups(FAST_PATTERN)).unnest("g")
    size = {name: pl.col(name).str.len_chars().fill_null(0) for name in _GROUPS}
    scales = {k: float(v) for k, v in SCALES.items()}
    is_range = pl.col("n2").is_not_null()
    f2 = pl.col("s2").str.to_lowercase().replace_strict(scales, default=1.0, return_dtype=pl.Float64)
    f1 = (pl.when(pl.col("s1").is_null() & is_range).then(f2)
          .otherwise(pl.col("s1").str.to_lowercase().replace_strict(scales, default=1.0, return_dtype=pl.Float64)))
    qual = pl.col("qual").str.to_lowercase().str.replace_all(r"\s+", "").replace_strict(QUALIFIER_FORMS, default=None)
    bound0 = qual.replace_strict(_BOUNDS, default="exact", return_dtype=pl.String)
    suf_bound = pl.coalesce("ksuf2", "ksuf").replace_strict(_BOUNDS, default="", return_dtype=pl.String)
    one_sided = bound0.is_in(["upper", "lower"])
    form_error = (  # the errors of the form, in etl.amounts' order of precedence (the last rule there wins)
        pl.when(pl.col("cur1").is_not_null() & pl.col("cur2").is_not_null()
                & (pl.col("cur1").str.to_lowercase() != pl.col("cur2").str.to_lowercase())).then(pl.lit(ERRORS["markers"]))
        .when((suf_bound != "") & one_sided & (suf_bound != bound0) & (suf_bound != "approx")).then(pl.lit(ERRORS["conflict"]))
        .when((qual == "between").fill_null(False) & ~is_range).then(pl.lit(ERRORS["between"]))
    )
    per = pl.when(pl.col("pn").is_null()).then(pl.col("per")).otherwise(pl.col("per").str.replace(_CONTAINER, ""))
    bound = pl.when((suf_bound != "") & ~one_sided).then(suf_bound).otherwise(bound0)
    digits = pl.col("unit").str.contains("1", literal=True) | pl.col("per").str.contains("1", literal=True).fill_null(False)
    # Where etl.amounts commits to a reading of the per-unit clause that then fails (its possessive and atomic
    # groups), this engine may find another one: "350-" always ends the number there ("/5-" is no price per 5),
    # and "for a" before a blank is always read as one word ("for a " is not "for" + "a").
    retreat = (
        (pl.col("pn").is_not_null() & pl.col("pnend").fill_null("").eq("") & pl.col("per").str.starts_with("-"))
        | (pl.col("perword").str.to_lowercase().str.strip_chars() == "for")
        & pl.col("per").str.contains(r"(?i)^an?(?:[^\S\n]|$)")
    ).fill_null(False)
    read = pl.col("n1").is_not_null() & ~digits & ~retreat
    return g.with_columns(n1=pl.when(read).then(pl.col("n1"))).select(
        "shape", "n1",
        *(pl.sum_horizontal(size[b] for b in before).cast(pl.Int64).alias(f"at_{name}") for name, before in _BEFORE.items()),
        *(pl.when(pl.col(name).is_not_null()).then(size[name].cast(pl.Int64)).alias(f"len_{name}") for name in _BEFORE),
        f1=f1, f2=f2, is_range=is_range, bound=bound,
        approximate=bound.is_in(["approx", "upper", "lower"]),
        form_error=form_error,
        marker=pl.coalesce("cur1", "cur2"),
        unit=pl.col("unit").str.strip_chars().str.replace_all(r"\s+", " "),
        per=per.str.strip_chars().str.to_lowercase(),
    )


def _fast(texts: pl.Series) -> pl.DataFrame:
    """The compiled grammar on `texts` (already routed; null for a text not to read here), row for row;
    rows where `n1` is null are left to the Python grammar.

    The regex runs once per *shape*: the text with every digit written as 1. The
    pattern treats all digits alike (its words hold none), so a text and its shape
    match the same way, group for group and character for character; the numbers
    are then cut from the text itself at the same offsets.
    """
    shape = texts.str.replace_many([str(d) for d in range(10)], ["1"] * 10)
    numbered = shape.cast(pl.Categorical(pl.Categories.random()))  # each distinct shape gets a number
    names, codes = numbered.dtype.categories.to_series(), numbered.to_physical()
    if not (names.gather(codes) == shape).all():  # the numbering is Polars' own: never trust it blindly
        raise RuntimeError("etl.amount_table: Polars numbered the text shapes otherwise than expected")
    shapes = _shapes(pl.DataFrame({"shape": names}).lazy()).drop("shape").collect()
    m = shapes.select(pl.all().gather(codes)).with_columns(text=texts).lazy()
    text = pl.col("text")

    def cut(name: str) -> pl.Expr:
        return text.str.slice(pl.col(f"at_{name}"), pl.col(f"len_{name}"))

    per_n = _number(cut("pn")).fill_null(1.0)
    per_div = pl.when(per_n > 0).then(per_n)  # null for a price per zero units (NaN in etl.amounts)
    m = m.with_columns(a=_number(cut("n1")) * pl.col("f1") / per_div,
                       b=_number(cut("n2")) * pl.col("f2") / per_div, per_n=per_n)
    a, b, bound = pl.col("a"), pl.col("b"), pl.col("bound")
    m = m.with_columns(point=pl.when(pl.col("is_range")).then((a + b) / 2).otherwise(a))
    error = (  # the last rule that applies wins in etl.amounts, so here the first
        pl.when(pl.col("n1").is_null()).then(None)
        .when(pl.col("form_error") == ERRORS["markers"]).then(pl.col("form_error"))
        .when(~(pl.col("per_n") > 0)).then(pl.lit(ERRORS["per_zero"]))
        .when(pl.col("form_error").is_not_null()).then(pl.col("form_error"))
        .when(pl.col("is_range") & (a > b)).then(pl.lit(ERRORS["range"]))
        .when(pl.col("point") <= 0).then(pl.lit(ERRORS["zero"]))
        .when(pl.col("point").is_null() | pl.col("point").is_nan()).then(pl.lit(ERRORS["unreadable"]))
    )
    m = m.with_columns(error=error)
    ok = pl.col("error").is_null() & pl.col("n1").is_not_null()
    return m.select(
        "n1",
        low=pl.when(ok).then(pl.when(pl.col("is_range")).then(a).when(bound == "upper").then(None).otherwise(a)),
        high=pl.when(ok).then(pl.when(pl.col("is_range")).then(b).when(bound == "lower").then(None).otherwise(a)),
        point=pl.when(ok).then(pl.col("point")),
        per_count=pl.when(ok & pl.col("per").is_not_null()).then(pl.col("per_n")),
        approximate=pl.when(pl.col("n1").is_not_null()).then(ok & pl.col("approximate")),
        marker=pl.when(ok).then(pl.col("marker")),
        unit=pl.when(ok).then(pl.col("unit")),
        per=pl.when(ok).then(pl.col("per")),
        error=pl.col("error"),
    ).collect()
