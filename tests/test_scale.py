"""Scale: pint is called once per distinct unit, never once per row.

Not a timing test: it counts calls into pint's registry (a spy on the
registry's parsing and conversion entry points) for 2,000 and 4,000
synthetic rows -- with all caches cleared first -- and requires the same
count. A per-row pint call would double it.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from devtools import synth
from etl import units
from etl.build import build

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"
SPIED = ("parse_units", "parse_units_as_container", "parse_expression", "_convert", "_get_dimensionality")


@pytest.fixture
def pint_spy(monkeypatch):
    """Count calls into the package registry's parse/convert methods (pint's own entry points)."""
    calls: Counter = Counter()
    registry_class = type(units.ureg)
    for name in SPIED:
        original = getattr(registry_class, name)

        def spy(self, *args, __name=name, __original=original, **kwargs):
            calls[__name] += 1
            return __original(self, *args, **kwargs)

        monkeypatch.setattr(registry_class, name, spy)
    return calls


def _clear_caches():
    units.kg_factor.cache_clear()
    units.is_counted.cache_clear()
    units.UnitRegistryCounter.calls = 0


def _pint_calls(rows: int, tmp_path: Path, spy: Counter) -> tuple[int, int]:
    raw = tmp_path / f"raw-{rows}"
    synth.write(raw, synth.generate(rows, seed=11))  # before clearing: synth itself asks pint for factors
    _clear_caches()
    spy.clear()
    result = build(raw, REFERENCE, tmp_path / f"out-{rows}")
    assert result.rejected_rows == 0 and result.written_rows == rows
    return sum(spy.values()), units.UnitRegistryCounter.calls


def test_the_spy_sees_pint_calls(pint_spy):
    """The instrument works: ten Quantity conversions are at least ten counted calls."""
    for _ in range(10):
        units.ureg.Quantity(1.0, "gram").to(units.ureg.kilogram)
    assert sum(pint_spy.values()) >= 10


def test_pint_calls_do_not_grow_with_rows(tmp_path, pint_spy):
    small, small_lookups = _pint_calls(2000, tmp_path, pint_spy)
    large, large_lookups = _pint_calls(4000, tmp_path, pint_spy)
    assert small > 0
    assert large == small, f"pint calls grew with the rows: {small} for 2,000 rows, {large} for 4,000"
    assert large_lookups == small_lookups
    # one factor look-up per distinct unit of units.csv (the reference check) and no more
    distinct = len({line.split(",")[1] for line in (REFERENCE / "units.csv").read_text().splitlines()[1:] if line})
    assert small_lookups <= distinct
    assert small < 2000 / 4  # far fewer pint calls than rows
