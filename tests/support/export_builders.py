"""Small raw export files built inside tests (xlsx via xlsxwriter, csv as plain bytes).

A table is a header (list of header texts) and rows (lists of cell values). For xlsx,
cell values keep their Python type (``date``/``datetime`` become Excel date cells,
numbers number cells, ``bool`` boolean cells, ``None`` an empty cell); for csv every
value is written with ``str`` (``None`` → empty field).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter

Row = Sequence[Any]


def write_xlsx(
    path: Path,
    header: Row,
    rows: Sequence[Row],
    *,
    title_rows: Sequence[Row] = (),
    sheet: str = "Blad1",
    sheets_before: Sequence[tuple[str, Sequence[Row]]] = (),
    blank_rows_after: int = 0,
    sheets_after: Sequence[tuple[str, Sequence[Row]]] = (),
    hidden: Sequence[str] = (),
    date_1904: bool = False,
) -> Path:
    """Write one workbook: optional other sheets first, then ``sheet`` with title rows,
    the header and the rows (``None`` rows are left empty), then ``sheets_after``. The
    sheets named in ``hidden`` are hidden; ``date_1904``: the Mac's 1904 date system."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"date_1904": date_1904})
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})

    def put(ws: Any, r: int, values: Row | None) -> None:
        if values is None:
            return
        for c, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, datetime):
                ws.write_datetime(r, c, value, datetime_format)
            elif isinstance(value, date):
                ws.write_datetime(r, c, datetime(value.year, value.month, value.day), date_format)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))

    for name, other_rows in sheets_before:
        ws = wb.add_worksheet(name)
        for r, values in enumerate(other_rows):
            put(ws, r, values)
    ws = wb.add_worksheet(sheet)
    for r, values in enumerate([*title_rows, header, *rows]):
        put(ws, r, values)
    for name, other_rows in sheets_after:
        other = wb.add_worksheet(name)
        for r, values in enumerate(other_rows):
            put(other, r, values)
    for worksheet in wb.worksheets():
        if worksheet.name in hidden:
            worksheet.hide()
    del blank_rows_after  # trailing empty rows are simply not written (nothing to store)
    wb.close()
    return path


def patch_sheet_xml(path: Path, change: Callable[[bytes], bytes], out: Path | None = None, part: int = 1) -> Path:
    """Rewrite the XML of one worksheet part (``xl/worksheets/sheet<part>.xml``) of a
    workbook, the way another program would have written it; in place unless ``out``."""
    target = out or path
    with zipfile.ZipFile(path) as book:
        items = [(info, book.read(info.filename)) for info in book.infolist()]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as book:
        for info, data in items:
            book.writestr(info, change(data) if info.filename == f"xl/worksheets/sheet{part}.xml" else data)
    return target


def csv_bytes(
    header: Row,
    rows: Sequence[Row | None],
    *,
    delimiter: str = ";",
    encoding: str = "utf-8",
    newline: str = "\r\n",
    title_rows: Sequence[Row] = (),
) -> bytes:
    """A CSV file as bytes; ``None`` rows become empty lines; ``utf-8-sig`` adds a BOM."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
    # like Excel, quote every field with a line break (the csv module leaves a bare "\r"
    # unquoted when the line terminator is "\n")
    quote_all = csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_ALL)
    for values in [*title_rows, header, *rows]:
        if values is None:
            buffer.write(newline)
            continue
        fields = ["" if v is None else str(v) for v in values]
        (quote_all if any("\r" in f or "\n" in f for f in fields) else writer).writerow(fields)
    return buffer.getvalue().encode(encoding)


def write_csv(path: Path, header: Row, rows: Sequence[Row | None], **options: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(header, rows, **options))
    return path
