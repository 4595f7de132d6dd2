"""What every reader of an export gives back: the file as text cells, and the error
that says, in Swedish, why a file cannot be read.

A :class:`Grid` holds one sheet (or CSV file) as text: columns ``c0`` … ``c{n-1}``
(String, null when the cell is empty) and ``row`` (Int32, the row number the unit
sees: the spreadsheet row, or the line on which a CSV record starts). ``column_refs``
says how the unit names each column (``"C"`` in a workbook, ``"3"`` in a CSV file).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from kvinnofrid.errors import UserFacingError


class IngestError(UserFacingError):
    """A file that cannot be read. The message (Swedish) names the file (and the sheet
    of a workbook), the problem and what to do; it never contains a personal or comment
    cell value. ``file`` is the file's path relative to the raw-data folder
    (``<round>/<name>``), for the quality summary when unreadable files are skipped."""

    def __init__(self, message: str, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file


@dataclass
class Grid:
    """A sheet or CSV file as text cells: columns c0…c{n-1} (String) plus ``row``."""

    format: str
    frame: pl.DataFrame
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    column_refs: list[str] | None = None  # how the unit names column i: "C" (xlsx) or "3" (csv)
    # what the reader found besides the export (sheets, hidden state): issues of the file
    notes: list[dict] = field(default_factory=list)
    sheet_hidden: bool = False
    sheets: list[str] = field(default_factory=list)  # every sheet of the workbook, in order

    def ref(self, i: int) -> str:
        return self.column_refs[i] if self.column_refs and i < len(self.column_refs) else str(i + 1)

    @property
    def cell_columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != "row"]

    def others(self) -> str:
        """`` Ingen av flikarna (A, B) har dem.`` for a workbook of several sheets, else ``""``."""
        if len(self.sheets) < 2:
            return ""
        return f" Ingen av arbetsbokens flikar ({', '.join(self.sheets)}) har dem."

    def where(self) -> str:
        """How a message names the place: ``, fliken "Blad1"`` for a workbook, else ``""``."""
        return f', fliken "{self.sheet}"' if self.sheet is not None else ""


def cell_name(i: int) -> str:
    return f"c{i}"


def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """A → 0, Z → 25, AA → 26."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + (ord(ch) - ord("A") + 1)
    return index - 1
