"""One table sheet of a workbook, laid out as gptables lays it out, written straight
with xlsxwriter.

gptables' ``GPWorksheet.write_gptable`` builds a pandas frame of format dictionaries
and fills it row by row, for every table: about 25 ms a sheet however small the table.
Every municipality's workbooks are 316 × 20 sheets, so that was about a fifth of the
comparison reports' CPU time (docs/developers.md). This module writes the same cells
with the same formats in the same order, without pandas: the workbook's bytes are
those gptables writes (tests/unit/reporting/test_table_sheet.py compares them).

What gptables does and this keeps, for the tables this project writes:

* the title (A1), the lines under it, the instructions and the source, one per row,
  in the theme's formats; then the table: a header row and the data rows, marked as
  an Excel table (no autofilter, no style) named ``name``;
* the first ``labels`` columns are row labels (the theme's index formats, left
  aligned); a column of numbers is right aligned, a column with text left aligned,
  where the codes in brackets (``[d]``, ``[not 1]``) count as no value;
* a cell is a number, a text, or a link (``{text: url}``); the number formats of
  ``formats`` apply to a column's data cells; widths fit the longest line of a column;
* a blank cell, or one without a letter or a digit, is refused (the guidance wants a
  code that the notes explain).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from xlsxwriter.utility import cell_autofit_width

# gptables' test for a shorthand code ("usually a few letters in square brackets"): a
# cell holding one counts as no value when the column's alignment is chosen.
_CODE = re.compile(r"\[[\w\s]+\]")
_SOME_LETTER_OR_DIGIT = re.compile(r"[a-zA-Z0-9]")


@dataclass(frozen=True)
class TableSheet:
    name: str  # the Excel table's name
    title: str
    lines: Sequence[str]  # under the title
    instructions: str
    source: str | None
    columns: Mapping[str, Sequence[Any]]  # header → cells
    formats: Mapping[str, str]  # header → number format of its data cells
    labels: int  # the first columns that label the rows


def write_table_sheet(wb: Any, ws: Any, table: TableSheet) -> None:
    """Write ``table`` on the empty sheet ``ws`` of the gptables workbook ``wb`` (its
    theme and its cache of formats)."""
    headers = list(table.columns)
    rows = [list(r) for r in zip(*table.columns.values(), strict=True)]
    _check_cells(table.name, headers, rows)
    theme = wb.theme
    texts = [(table.title, theme.title_format)]
    texts += [(line, theme.subtitle_format) for line in table.lines]
    texts += [(table.instructions, theme.instructions_format), (table.source, theme.source_format)]
    row = _write_texts(wb, ws, texts)
    heading, cells = _formats(theme, table, headers, rows)
    for col, header in enumerate(headers):
        ws.write(row, col, header, wb.add_format(heading[col]))
    for k, values in enumerate(rows, start=row + 1):
        for col, value in enumerate(values):
            _write_cell(wb, ws, k, col, value, cells[col])
    for col, width in enumerate(_widths(headers, rows, heading, cells)):
        ws.set_column_pixels(col, col, width)
    columns = [{"header": h, "header_format": wb.add_format(heading[c])} for c, h in enumerate(headers)]
    options = {"header_row": True, "autofilter": False, "columns": columns, "style": None, "name": table.name}
    ws.add_table(row, 0, row + len(rows), len(headers) - 1, options)


def _write_texts(wb: Any, ws: Any, texts: Sequence[tuple[str | None, dict[str, Any]]]) -> int:
    """The texts above the table, one per row, the empty ones left out; returns the
    table's first row, which gptables counts as a row for every text given, written or
    empty."""
    row = 0
    for text, fmt in texts:
        if text:
            ws.write(row, 0, text, wb.add_format(fmt))
            row += 1
    return sum(text is not None for text, _ in texts)


def _check_cells(name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """gptables' refusals: a blank cell, or a cell without a letter or a digit."""
    for k, values in enumerate(rows, start=1):
        for header, value in zip(headers, values, strict=True):
            if problem := _cell_problem(value):
                raise ValueError(f"table {name}, row {k}, column {header!r}: {problem}; give a code")


def _cell_problem(value: Any) -> str | None:
    if _is_blank(value):
        return "blank cell"
    return None if _SOME_LETTER_OR_DIGIT.search(str(value)) else "no letter or digit"


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def _formats(
    theme: Any, table: TableSheet, headers: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(header format, data cell format) of every column, merged in gptables' order:
    the theme's format, the column's alignment, the column's number format."""
    index_formats = [theme.index_1_format, theme.index_2_format, theme.index_3_format]
    heading, cells = [], []
    for col, header in enumerate(headers):
        label = col < table.labels
        align = {"align": "left" if label or not _is_numeric([r[col] for r in rows], col) else "right"}
        heading.append({**theme.column_heading_format, **align})
        base = index_formats[col] if label else theme.data_format
        number = {"num_format": table.formats[header]} if header in table.formats else {}
        cells.append({**base, **align, **number})
    return heading, cells


def _is_numeric(values: Sequence[Any], col: int) -> bool:
    """A column of numbers, as pandas infers it for gptables: codes in brackets count as
    no value, and a column of codes only is text. The first column never is one
    (gptables' rule for a table with no row labels)."""
    present = [v for v in values if not (isinstance(v, str) and _CODE.search(v))]
    return col > 0 and bool(present) and all(isinstance(v, int | float) for v in present)


def _write_cell(wb: Any, ws: Any, row: int, col: int, value: Any, fmt: dict[str, Any]) -> None:
    if isinstance(value, dict):
        (text, url), *_ = value.items()
        ws.write_url(row, col, url, wb.add_format({**fmt, "underline": True, "font_color": "blue"}), text)
    else:
        ws.write(row, col, value, wb.add_format(fmt))


def _widths(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    heading: Sequence[Mapping[str, Any]],
    cells: Sequence[Mapping[str, Any]],
) -> list[int]:
    """Each column's width in pixels: its longest line, scaled as gptables scales it."""
    widths = []
    for col, header in enumerate(headers):
        values = _as_pandas_holds([r[col] for r in rows])
        widths.append(max(_width(v, fmt) for v, fmt in [(header, heading[col]), *((v, cells[col]) for v in values)]))
    return widths


def _as_pandas_holds(values: list[Any]) -> list[Any]:
    """A column of integers and decimals only is a float column in gptables' frame: its
    integers are measured as ``1234567.0``."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    return [float(v) for v in values] if numbers and any(isinstance(v, float) for v in values) else values


def _width(value: Any, fmt: Mapping[str, Any]) -> int:
    text = "\n".join(value) if isinstance(value, dict) else str(value)
    line = max(text.split("\n"), key=len)
    upper = sum(1 for c in line if c.isupper()) / len(line) if line else 0
    scale = (fmt.get("font_size", 11) / 11) * (1.1 if fmt.get("bold") else 1.0) * (1.0 + 0.15 * upper)
    return math.ceil(cell_autofit_width(line) * scale)
