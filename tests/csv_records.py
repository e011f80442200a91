"""The records of a CSV exactly as the file spells them, for byte-exact expectations in tests."""
from __future__ import annotations

import csv
import io
from pathlib import Path


def records_of(text: str) -> tuple[str, list[str]]:
    """The header and each data record of CSV text, with their own quoting and line ends."""
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text, newline=""))
    records, start = [], 0
    for _ in reader:
        records.append("".join(lines[start:reader.line_num]))
        start = reader.line_num
    return records[0], records[1:]


def file_records(path: Path) -> tuple[str, list[str]]:
    """records_of() for a UTF-8 file."""
    return records_of(path.read_bytes().decode("utf-8"))
