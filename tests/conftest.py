"""Shared fixtures: the real reference tables, one in-memory build of the real data, a scratch copy of data/raw.

Helpers that tests import by name stay in etl_helpers.py (paths, BASE_ROW,
normalise_one, run_etl); pytest puts tests/ on sys.path for both.
"""
from __future__ import annotations

import shutil

import pytest
from etl_helpers import RAW, REFERENCE


@pytest.fixture(scope="session")
def reference():
    """The project's reference tables, loaded once."""
    from etl.reference import load_reference

    return load_reference(REFERENCE)


@pytest.fixture(scope="session")
def real_build(tmp_path_factory):
    """(result, out): the real data built in memory once (nothing is written; `out` only names the outputs)."""
    from etl.build import build

    out = tmp_path_factory.mktemp("out")
    return build(RAW, REFERENCE, out), out


@pytest.fixture
def raw_copy(tmp_path):
    """A scratch copy of data/raw to edit."""
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    return raw
