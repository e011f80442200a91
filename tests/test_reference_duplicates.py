"""A spelling, marker, drug synonym or place listed twice in the reference tables is an error naming the
second line, not a silent 'the later row wins' (a union merge of two curators' rows once left such pairs)."""
import shutil

import pytest

from etl.errors import InputProblems
from etl.reference import load_reference
from etl_helpers import REFERENCE


@pytest.mark.parametrize(("name", "extra", "message"), [
    ("drugs.csv", "Philopon,methamphetamine,same spelling in capitals\n", "'philopon' is listed twice"),
    ("places.csv", "Dandong,CN,40.10,124.30,city,a second centre for the same place\n", "'dandong' is listed twice"),
    ("units.csv", None, "is listed twice"),
])
def test_a_reference_row_listed_twice_is_an_error(tmp_path, name, extra, message):
    ref = tmp_path / "reference"
    shutil.copytree(REFERENCE, ref)
    path = ref / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines) + (extra or lines[1]), encoding="utf-8")
    with pytest.raises(InputProblems) as err:
        load_reference(ref)
    shown = [str(p) for p in err.value.problems]
    assert len(shown) == 1 and message in shown[0]
    assert shown[0].startswith(f"{path}:{len(lines) + 1}: ")
