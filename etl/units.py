"""The package's single pint `UnitRegistry` and unit look-ups.

Source texts are never handed to pint: a spelling table
(`data/reference/units.csv`) maps each written spelling ("kilos", "kgs", "㎏")
to a pint unit name, which sidesteps pint's traps ("kilos" = kilo-seconds,
"kilo" = a prefix, "6-8 kg" = a subtraction, "ton" = the US short ton).
Pint is then asked once per distinct unit for its factor to kilograms.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pint

DEFINITIONS = Path(__file__).with_name("units.txt")

ureg = pint.UnitRegistry(on_redefinition="raise")
ureg.load_definitions(str(DEFINITIONS))

MASS = ureg.kilogram.dimensionality


class UnitRegistryCounter:
    """Counts factor look-ups, so tests can prove pint is not called per row."""

    calls = 0


@lru_cache(maxsize=None)
def kg_factor(pint_unit: str) -> float:
    """Kilograms in one `pint_unit`; raises if the unit is not a mass."""
    UnitRegistryCounter.calls += 1
    quantity = ureg.Quantity(1.0, pint_unit)
    if quantity.dimensionality != MASS:
        raise pint.DimensionalityError(pint_unit, "kilogram", quantity.dimensionality, MASS)
    return float(quantity.to(ureg.kilogram).magnitude)


@lru_cache(maxsize=None)
def is_counted(pint_unit: str) -> bool:
    """True for counted units (tablets, bags): their own dimension, never a mass."""
    UnitRegistryCounter.calls += 1
    dims = ureg.Quantity(1.0, pint_unit).dimensionality
    return dims != MASS and len(dims) == 1 and next(iter(dims)).strip("[]") in COUNT_DIMENSIONS


COUNT_DIMENSIONS = {"tablet", "capsule", "bag", "packet"}
