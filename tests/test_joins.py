"""The Arrow-run look-ups (`isin_text`, `take_by_key`) answer exactly what pandas' own would."""
from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.normalise import isin_text, take_by_key

words = st.one_of(st.sampled_from(["", "KR", "kr", "a b", "₩", "s0001", "Ünï"]), st.text(max_size=4))


@settings(max_examples=200, deadline=None)
@given(st.lists(words, max_size=30), st.lists(words, max_size=10))
def test_isin_text_is_pandas_isin(cells, values):
    texts = pd.Series(cells, dtype="string", index=range(100, 100 + len(cells)))
    expected = texts.isin(values).astype(bool)
    pd.testing.assert_series_equal(isin_text(texts, values), expected)
    pd.testing.assert_series_equal(isin_text(texts, pd.Series(values, dtype="string")), expected)


@settings(max_examples=200, deadline=None)
@given(st.lists(words, max_size=30), st.lists(st.tuples(words, st.text(max_size=3)), max_size=10))
def test_take_by_key_is_a_left_join_where_the_first_duplicate_wins(keys, rows):
    table = pd.DataFrame({"key": pd.array([k for k, _ in rows], dtype="string"),
                          "value": pd.array([v for _, v in rows], dtype="string")})
    got = take_by_key(pd.Series(keys, dtype="string"), table, "key", ["value"])
    first = {}
    for k, v in rows:
        first.setdefault(k, v)
    assert got["value"].tolist() == [first.get(k, pd.NA) for k in keys]
