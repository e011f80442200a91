"""The project's exceptions and the `Problem` record that every check reports.

Library code raises or collects these; the command line turns them into one
line each (`FILE:LINE: COLUMN: message`) and an exit code.
"""
from __future__ import annotations

from dataclasses import dataclass


class EtlError(Exception):
    """Base class of every error this package raises on purpose."""


class AmountError(EtlError, ValueError):
    """A text cannot be read as an amount (number, range, qualifier, unit)."""

    def __init__(self, text: str, reason: str):
        self.text = text
        self.reason = reason
        super().__init__(f"cannot read {text!r} as an amount: {reason}")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one cell (or one file), located for a curator."""

    file: str
    line: int  # 1-based physical line in the file; 0 when the problem is the whole file
    column: str  # column name, or "-" for a file-level problem
    message: str
    severity: str = "error"  # "error" rejects the row; "warning" is reported only

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {self.column}: {prefix}{self.message}"


class InputProblems(EtlError):
    """Raised when input files have errors; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the input")
