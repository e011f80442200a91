"""`etl.csvio.csv_text` writes exactly the bytes pandas' `to_csv` writes, only faster.

pandas itself is the oracle: every frame here is written both ways and the
bytes compared. The frames cover what the output table holds (floats of every
magnitude, nullable integers, booleans, text with commas, quotes, line breaks
and non-ASCII) and more.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl import csvio
from etl.csvio import csv_text
from etl_helpers import DATA
from etl.columns import COLUMNS


def pandas_csv(frame: pd.DataFrame, header: bool = True) -> bytes:
    return frame.to_csv(index=False, header=header, lineterminator="\n").encode("utf-8")


def test_the_published_table_is_written_byte_for_byte():
    types = {"string": "string", "number": "float64", "integer": "Int64", "boolean": "bool"}
    text_columns = [c.name for c in COLUMNS if c.type == "string"]
    frame = pd.read_csv(DATA / "seizures.csv", dtype={c: "string" for c in text_columns}, keep_default_na=False,
                        na_values={c.name: [""] for c in COLUMNS if c.type != "string"})
    frame = frame.astype({c.name: types[c.type] for c in COLUMNS})
    assert csv_text(frame) == pandas_csv(frame) == (DATA / "seizures.csv").read_bytes()


EDGE_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1e-4, 9.9999e-5, 1.5e-5, 5e-324, 1e-320, 123.456, 99999.99,
               1e9, 9999999999.0, 9999999999.99, 1e10, 12345678901.25, 1e15, 1e16, 1.7976931348623157e308,
               0.30000000000000004, 2.675, 1/3, math.pi * 1e8, math.inf, -math.inf, math.nan, 17866232.45]


def test_float_notation_matches_python_repr_at_every_boundary():
    frame = pd.DataFrame({"x": EDGE_FLOATS, "y": [-v for v in EDGE_FLOATS]})
    assert csv_text(frame) == pandas_csv(frame)


def test_many_random_floats_of_every_magnitude():
    rng = np.random.default_rng(7)
    values = np.exp(rng.uniform(np.log(1e-12), np.log(1e20), 200_000))
    frame = pd.DataFrame({"raw": values, "cents": np.round(values, 2), "whole": np.round(values),
                          "neg": -np.round(values, 4)})
    frame.loc[rng.random(len(frame)) < 0.2, "cents"] = np.nan
    assert csv_text(frame) == pandas_csv(frame)


def test_text_is_quoted_only_where_the_csv_module_quotes_it():
    cells = ["plain", "a,b", 'say "hi"', "two\nlines", "carriage\rreturn", "", None, " padded ", "'=1+2",
             "₩19.8 billion", "ünïcödé, too", '"', ",", "\n", "tab\tinside"]
    frame = pd.DataFrame({"text": pd.array(cells, dtype="string"), "n": range(len(cells))})
    assert csv_text(frame) == pandas_csv(frame)


def test_integers_booleans_and_missing_values():
    frame = pd.DataFrame({
        "count": pd.array([1, None, 0, 123456, -5], dtype="Int64"),
        "flag": [True, False, True, False, True],
        "text": pd.array(["a", None, "", "b", "c"], dtype="string"),
    })
    assert csv_text(frame) == pandas_csv(frame)
    assert csv_text(frame, header=False) == pandas_csv(frame, header=False)


def test_chunks_of_rows_join_seamlessly(monkeypatch):
    monkeypatch.setattr(csvio, "FAST_ROWS", 3)
    frame = pd.DataFrame({"x": np.arange(10) / 7, "t": pd.array([f"r{i},x" for i in range(10)], dtype="string")})
    assert csv_text(frame) == pandas_csv(frame)
    assert csv_text(frame.iloc[4:9]) == pandas_csv(frame.iloc[4:9])  # a slice of a bigger frame


def test_what_it_does_not_handle_goes_to_pandas():
    lone = pd.DataFrame({"only": pd.array(["", "a", None], dtype="string")})  # the csv module quotes a lone empty cell
    mixed = pd.DataFrame({"obj": ["a", 1, None], "when": pd.to_datetime(["2020-01-01", None, "2021-05-06"])})
    empty = pd.DataFrame({"a": pd.array([], dtype="string"), "b": np.array([], dtype=float)})
    for frame in (lone, mixed, empty):
        assert csv_text(frame) == pandas_csv(frame)


texts = st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
                  st.sampled_from(["", ",", '"', "\n", "a,b", 'q"q', "x\ny"]))
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(1e-5, 1e11).map(lambda v: round(v, 2)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(texts, floats, st.one_of(st.none(), st.integers(-10**12, 10**12)), st.booleans()),
                min_size=0, max_size=20))
def test_any_frame_of_the_supported_types(rows):
    frame = pd.DataFrame({
        "text": pd.array([r[0] for r in rows], dtype="string"),
        "number": np.array([r[1] for r in rows], dtype="float64"),
        "count": pd.array([r[2] for r in rows], dtype="Int64"),
        "flag": np.array([r[3] for r in rows], dtype=bool),
    })
    assert csv_text(frame) == pandas_csv(frame)
