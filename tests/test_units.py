"""Masses through the pint registry, including pint's traps, and counted units."""
import math
import shutil

import pytest
from etl_helpers import REFERENCE, messages, normalise_one

from etl import units
from etl.errors import InputProblems
from etl.reference import load_reference

LB = 0.45359237  # kilograms in an avoirdupois pound, by definition


@pytest.mark.parametrize(
    "quantity, kg, low, high",
    [
        ("5 kilos", 5, 5, 5),  # pint alone reads "kilos" as kilo-seconds
        ("1 kilo", 1, 1, 1),  # pint alone reads "kilo" as a bare prefix
        ("6-8 kg", 7, 6, 8),  # pint alone reads this as 6 - 8 = -2 kg
        ("15 kgs", 15, 15, 15),
        ("5.95 kg", 5.95, 5.95, 5.95),
        ("125 kilograms", 125, 125, 125),
        ("450 grams", 0.45, 0.45, 0.45),
        ("500 g", 0.5, 0.5, 0.5),
        ("685 mg", 0.000685, 0.000685, 0.000685),
        ("1 lb", LB, LB, LB),
        ("880 pounds", 880 * LB, 880 * LB, 880 * LB),
        ("77 lbs", 77 * LB, 77 * LB, 77 * LB),
        ("2 tonnes", 2000, 2000, 2000),
        ("3 metric tons", 3000, 3000, 3000),
        ("1 short ton", 2000 * LB, 2000 * LB, 2000 * LB),  # the US ton only when the text says so
        ("1 long ton", 2240 * LB, 2240 * LB, 2240 * LB),
        ("5 tons [metric]", 5000, 5000, 5000),  # a bare "tons" with the curator's note of which ton
        ("2 tons [short]", 4000 * LB, 4000 * LB, 4000 * LB),
        ("1 ton [long]", 2240 * LB, 2240 * LB, 2240 * LB),
        ("nearly 125 kilograms", 125, None, 125),
        ("more than 330 pounds", 330 * LB, 330 * LB, None),
    ],
)
def test_masses_in_kilograms(quantity, kg, low, high):
    row, problems = normalise_one(quantity=quantity)
    assert messages(problems) == []
    assert math.isclose(row["quantity_kg"], round(kg, 6), rel_tol=1e-9)
    for column, want in (("quantity_kg_low", low), ("quantity_kg_high", high)):
        if want is None:
            assert math.isnan(row[column])
        else:
            assert math.isclose(row[column], round(want, 6), rel_tol=1e-9)


def test_pint_traps_are_real():
    """The traps the spelling table avoids do exist in pint itself."""
    assert str(units.ureg.Quantity("5 kilos").units) == "kilosecond"
    assert math.isclose(units.ureg.Quantity(1, "ton").to("kg").magnitude, 907.18474)


@pytest.mark.parametrize(
    "quantity, message",
    [
        ("5 tons", "quantity: cannot read '5 tons' as a mass: a bare 'tons' may be metric, short (US) or long; "
                   "write 'tons [metric]', 'tons [short]' or 'tons [long]'"),
        ("1 ton", "quantity: cannot read '1 ton' as a mass: a bare 'tons' may be metric, short (US) or long; "
                  "write 'tons [metric]', 'tons [short]' or 'tons [long]'"),
        ("3 sacks", "quantity: cannot read '3 sacks' as a mass: unknown unit 'sacks'"),
        ("5 seconds", "quantity: cannot read '5 seconds' as a mass: unknown unit 'seconds'"),
        ("12", "quantity: cannot read '12' as a mass: no unit"),
        ("$5 million", "quantity: cannot read '$5 million' as a mass: it is money"),
        ("5 kg per bag", "quantity: cannot read '5 kg per bag' as a mass: a quantity is not quoted per unit"),
    ],
)
def test_unreadable_masses_are_errors(quantity, message):
    row, problems = normalise_one(quantity=quantity)
    assert messages(problems) == [message]


@pytest.mark.parametrize("quantity, count, unit", [("2,000 tablets", 2000, "tablet"), ("506,000 pills", 506000, "tablet"), ("198 packets", 198, "drug_packet"), ("3 bags", 3, "drug_bag")])
def test_counts_stay_counts(quantity, count, unit):
    row, problems = normalise_one(quantity=quantity)
    assert messages(problems) == []
    assert row["quantity_count"] == count and row["quantity_count_unit"] == unit
    assert math.isnan(row["quantity_kg"])


def test_counted_unit_is_never_a_mass():
    with pytest.raises(Exception, match="tablet"):
        units.kg_factor("tablet")


def test_units_table_entry_that_is_not_a_mass_is_refused(tmp_path):
    """Every spelling the table calls a mass is checked to be one by pint at load time."""
    ref = tmp_path / "reference"
    shutil.copytree(REFERENCE, ref)
    with open(ref / "units.csv", "a") as fh:
        fh.write("secs,second,mass,\n")
    with pytest.raises(InputProblems) as info:
        load_reference(ref)
    [problem] = info.value.problems
    assert problem.column == "pint_unit"
    assert problem.line == sum(1 for _ in open(ref / "units.csv"))
    assert problem.message.startswith("pint cannot use 'second' as a mass: Cannot convert from 'second'")
